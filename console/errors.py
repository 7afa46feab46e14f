"""The domain's one error hierarchy. Services raise these; the console API, the SDK endpoints
and the browser views each turn them into their own wire or form shape in one place."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldError:
    property: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"property": self.property, "message": self.message}


class DomainError(Exception):
    status_code = 400
    default_message = "Invalid request. Please check the request input and try again."

    def __init__(self, message: str | None = None, *, errors: list[FieldError] | None = None):
        self.message = message or self.default_message
        self.errors = list(errors or [])
        super().__init__(self.message)


class ValidationError(DomainError):
    """Bad input: names the offending fields."""

    @classmethod
    def for_field(cls, prop: str, message: str) -> ValidationError:
        return cls(message, errors=[FieldError(prop, message)])


class NotFound(DomainError):
    status_code = 404
    default_message = "Not Found. The requested resource could not be found."


class PermissionDenied(DomainError):
    status_code = 403
    default_message = (
        "Forbidden. The request was valid, but the server is refusing action. "
        "You might not have the necessary permissions to access the resource."
    )


class Conflict(DomainError):
    status_code = 409
    default_message = "The resource was changed by someone else. Reload it and try again."
