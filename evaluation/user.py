"""The user an evaluation is about, built from the wire shape of a Statsig user."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_ID_TYPES = (str, int, float)


class InvalidUserError(ValueError):
    """The user object cannot be evaluated; ``field`` names the offending part."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True, slots=True)
class EvaluationUser:
    """A user as the evaluator reads it. Build it with ``from_dict`` so that ids are stringified
    the way the SDK does; the other attributes are kept exactly as given, because conditions
    compare them with the SDK's own coercions."""

    user_id: str | None = None
    email: Any = None
    ip: Any = None
    user_agent: Any = None
    country: Any = None
    locale: Any = None
    app_version: Any = None
    custom: Mapping[str, Any] | None = None
    private_attributes: Mapping[str, Any] | None = None
    custom_ids: Mapping[str, str] | None = None
    statsig_environment: Mapping[str, Any] | None = None

    @classmethod
    def from_dict(cls, data: Any) -> EvaluationUser:
        """``data`` is a Statsig user object (``userID``, ``customIDs``, ``custom``, ...)."""
        if not isinstance(data, Mapping):
            raise InvalidUserError("user", "must be an object.")
        user_id = data.get("userID")
        if user_id is not None and (
            isinstance(user_id, bool) or not isinstance(user_id, _ID_TYPES)
        ):
            raise InvalidUserError("userID", "must be a string or a number.")
        custom_ids = _custom_ids(data.get("customIDs"))
        # The SDK tests truthiness before stringifying, so userID 0 or "" counts as absent.
        if not user_id and not custom_ids:
            raise InvalidUserError("userID", "a userID or at least one customID is required.")
        return cls(
            user_id=None if user_id is None else str(user_id),
            email=data.get("email"),
            ip=data.get("ip"),
            user_agent=data.get("userAgent"),
            country=data.get("country"),
            locale=data.get("locale"),
            app_version=data.get("appVersion"),
            custom=_object_or_none(data, "custom"),
            private_attributes=_object_or_none(data, "privateAttributes"),
            custom_ids=custom_ids,
            statsig_environment=_object_or_none(data, "statsigEnvironment"),
        )


def _custom_ids(raw: Any) -> dict[str, str] | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise InvalidUserError("customIDs", "must be an object.")
    for id_type, value in raw.items():
        if isinstance(value, bool) or not isinstance(value, _ID_TYPES):
            raise InvalidUserError(f"customIDs.{id_type}", "must be a string or a number.")
    return {str(id_type): str(value) for id_type, value in raw.items()}


def _object_or_none(data: Mapping[str, Any], key: str) -> Mapping[str, Any] | None:
    value = data.get(key)
    if value is not None and not isinstance(value, Mapping):
        raise InvalidUserError(key, "must be an object.")
    return value
