"""Refusals and the error envelope of each public protocol.

A data-plane function raises ``Refusal(status, message, field=..., code=...)``; the route's
protocol turns it into the body its SDKs expect:

- ``STATSIG``: ``{"status", "message", "errors": [{"property", "message"}]}`` (``errors`` only
  when a field is named), the shape of Statsig's HTTP API and the console API;
- ``STATSIG_EVENTS``: ``{"success": false, "status", "message"}``, what ``log_event`` answers;
- ``POSTHOG``: ``{"type", "code", "detail", "attr"}``, PostHog's Django error shape.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import InterfaceError, OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

# What a storage backend being down raises: writes then answer 503 with Retry-After.
BACKEND_OUTAGES: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    RedisConnectionError,
    RedisTimeoutError,
)
RETRY_AFTER_SECONDS = 5
UNAVAILABLE_MESSAGE = (
    "A storage backend is unavailable right now. Nothing was changed; retry after the time in "
    "the Retry-After header."
)


class Refusal(Exception):
    """A 4xx (or 503) answer: ``field`` names the input at fault (``errors`` lists several,
    each ``{"property", "message"}``), ``code`` is PostHog's error code (derived from the status
    when not given), ``headers`` go on the response."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        field: str | None = None,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
        errors: list[dict[str, str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field
        if errors is None and field is not None:
            errors = [{"property": field, "message": message}]
        self.errors = errors
        self.code = code
        self.headers = dict(headers or {})


def unavailable() -> Refusal:
    return Refusal(
        503,
        UNAVAILABLE_MESSAGE,
        code="service_unavailable",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


@dataclass(frozen=True, slots=True)
class Protocol:
    name: str
    body: Callable[[Refusal], dict[str, Any]]


def _statsig(refusal: Refusal) -> dict[str, Any]:
    body: dict[str, Any] = {"status": refusal.status, "message": refusal.message}
    if refusal.errors:
        body["errors"] = refusal.errors
    return body


def _statsig_events(refusal: Refusal) -> dict[str, Any]:
    return {"success": False, **_statsig(refusal)}


_POSTHOG_CODES = {
    401: "invalid_api_key",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_encoding",
    503: "service_unavailable",
}


def _posthog_type(status: int) -> str:
    if status == 401:
        return "authentication_error"
    if status in (404, 405):
        return "invalid_request"
    if status >= 500:
        return "server_error"
    return "validation_error"


def _posthog(refusal: Refusal) -> dict[str, Any]:
    return {
        "type": _posthog_type(refusal.status),
        "code": refusal.code or _POSTHOG_CODES.get(refusal.status, "invalid_payload"),
        "detail": refusal.message,
        "attr": refusal.field,
    }


STATSIG = Protocol("statsig", _statsig)
STATSIG_EVENTS = Protocol("statsig_events", _statsig_events)
POSTHOG = Protocol("posthog", _posthog)
