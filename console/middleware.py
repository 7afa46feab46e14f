"""Keeps a failing database or cache from turning into a traceback: writes and ingestion answer
503 with ``Retry-After``, while evaluation endpoints keep answering from memory."""

from __future__ import annotations

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5

try:
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    BACKEND_OUTAGES: tuple[type[BaseException], ...] = (
        OperationalError,
        InterfaceError,
        RedisConnectionError,
        RedisTimeoutError,
    )
except ImportError:  # pragma: no cover - redis is a dependency
    BACKEND_OUTAGES = (OperationalError, InterfaceError)


def service_unavailable() -> JsonResponse:
    response = JsonResponse(
        {
            "status": 503,
            "message": "A storage backend is unavailable right now. Nothing was changed; "
            "retry after the time in the Retry-After header.",
        },
        status=503,
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class ServiceUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, BACKEND_OUTAGES):
            logger.warning(
                "backend unavailable path=%s error=%s", request.path, type(exception).__name__
            )
            return service_unavailable()
        return None
