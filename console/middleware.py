"""Django's side of the public-endpoint rules the data plane's dispatcher (``console.wire``)
applies to its own routes: a failing database or cache answers 503 with ``Retry-After`` instead
of a traceback, and the console API answers an unknown path or method, or a server error, in
JSON, never HTML. Every
HTML page carries a strict Content-Security-Policy."""

from __future__ import annotations

import logging
import secrets

from django.http import HttpRequest, HttpResponse, JsonResponse

from console.wire import BACKEND_OUTAGES, RETRY_AFTER_SECONDS, cors_headers
from console.wire.errors import UNAVAILABLE_MESSAGE

API_PREFIX = "/console/v1/"

logger = logging.getLogger(__name__)


def service_unavailable() -> JsonResponse:
    response = JsonResponse({"status": 503, "message": UNAVAILABLE_MESSAGE}, status=503)
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


class JsonApiErrorsMiddleware:
    """Django's 404 (and a 405 without a body) for a path under ``/console/v1/`` becomes the
    console API's JSON error, with CORS headers so a browser can read it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code not in (404, 405) or not request.path.startswith(API_PREFIX):
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        if response.status_code == 404:
            message = f"No endpoint at {request.path[:200]}."
        else:
            message = f"Method {request.method} is not allowed here."
        replaced = JsonResponse(
            {"status": response.status_code, "message": message}, status=response.status_code
        )
        if response.has_header("Allow"):
            replaced["Allow"] = response["Allow"]
        for name, value in cors_headers(request.META):
            replaced[name] = value
        return replaced

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """A bug under ``/console/v1/`` answers the API's JSON error (logged with its traceback),
        never Django's HTML page; outages are left to ServiceUnavailableMiddleware (503)."""
        if not request.path.startswith(API_PREFIX) or isinstance(exception, BACKEND_OUTAGES):
            return None
        logger.error("console API error path=%s", request.path[:200], exc_info=exception)
        response = JsonResponse(
            {"status": 500, "message": "Internal server error. The error was logged."}, status=500
        )
        for name, value in cors_headers(request.META):
            response[name] = value
        return response


CONSOLE_CSP = (
    "default-src 'self'; script-src 'self' 'nonce-{nonce}'; "
    "style-src 'self' 'nonce-{nonce}'; style-src-elem 'self' 'nonce-{nonce}'; "
    # Progress bars and a few layouts set widths in style attributes; no inline <style> or
    # script runs without the nonce.
    "style-src-attr 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)


class ContentSecurityPolicyMiddleware:
    """A strict Content-Security-Policy on every HTML page: scripts and style elements only from
    this origin or carrying the request's nonce (``request.csp_nonce``, for htmx's indicator
    styles). A view that needs another policy (the API docs page) sets its own header."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.csp_nonce = secrets.token_urlsafe(16)
        response = self.get_response(request)
        if response.has_header("Content-Security-Policy"):
            return response
        if response.get("Content-Type", "").startswith("text/html"):
            response["Content-Security-Policy"] = CONSOLE_CSP.format(nonce=request.csp_nonce)
        return response
