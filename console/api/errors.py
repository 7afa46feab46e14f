"""One exception handler turns every error into the console API's wire shape:
``{"status": <code>, "message": "...", "errors": [{"property": "...", "message": "..."}]}``."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from rest_framework import exceptions as drf
from rest_framework.response import Response

from console.errors import DomainError

MESSAGES = {
    400: "Invalid request. Please check the request input and try again.",
    401: "Unauthorized.",
    403: "Forbidden resource",
    404: "Not Found. The requested resource could not be found.",
    405: "Method not allowed.",
    413: "Request body is too large.",
    415: "Unsupported media type: send a JSON body with Content-Type: application/json.",
    429: "Too many requests. Slow down and retry after the time in the Retry-After header.",
}


def flatten_errors(detail: Any, prefix: str = "") -> list[dict[str, str]]:
    """DRF's nested error detail as a flat list of property paths like
    ``rules[0].conditions[1].operator``."""
    if isinstance(detail, dict):
        out: list[dict[str, str]] = []
        for key, value in detail.items():
            if key == "non_field_errors":
                name = prefix
            elif isinstance(key, int):  # ListField/DictField errors are keyed by position
                name = f"{prefix}[{key}]"
            else:
                name = f"{prefix}.{key}" if prefix else key
            out.extend(flatten_errors(value, name))
        return out
    if isinstance(detail, list):
        if all(isinstance(item, str | drf.ErrorDetail) for item in detail):
            return [{"property": prefix, "message": str(item)} for item in detail]
        out = []
        for index, item in enumerate(detail):
            if item:
                out.extend(flatten_errors(item, f"{prefix}[{index}]"))
        return out
    return [{"property": prefix, "message": str(detail)}]


def error_response(
    status: int,
    message: str | None = None,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {"status": status, "message": message or MESSAGES.get(status, "")}
    if errors:
        body["errors"] = errors
    return Response(body, status=status, headers=headers)


def console_exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, DomainError):
        return error_response(
            exc.status_code, exc.message, [error.as_dict() for error in exc.errors]
        )
    if isinstance(exc, Http404):
        return error_response(404)
    if isinstance(exc, drf.ValidationError):
        errors = flatten_errors(exc.detail)
        message = MESSAGES[400]
        if errors:
            first = errors[0]
            message = (
                f"{first['property']}: {first['message']}"
                if first["property"]
                else first["message"]
            )
        return error_response(400, message, errors)
    if isinstance(exc, drf.ParseError):
        return error_response(400, f"Malformed JSON body: {exc.detail}")
    if isinstance(exc, drf.UnsupportedMediaType):
        return error_response(415)
    if isinstance(exc, drf.MethodNotAllowed):
        return error_response(405, f"Method {context['request'].method} is not allowed here.")
    if isinstance(exc, drf.Throttled):
        wait = int(exc.wait or 1)
        return error_response(429, headers={"Retry-After": str(max(wait, 1))})
    if isinstance(exc, drf.AuthenticationFailed | drf.NotAuthenticated):
        return error_response(401, str(exc.detail))
    if isinstance(exc, drf.PermissionDenied):
        return error_response(403, str(exc.detail))
    if isinstance(exc, drf.NotFound):
        return error_response(404, str(exc.detail))
    if isinstance(exc, drf.APIException):
        return error_response(exc.status_code, str(exc.detail))
    return None
