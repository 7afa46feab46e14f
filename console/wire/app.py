"""One WSGI application for the whole product: the data-plane routes are answered here, by
plain functions ``handler(request: Request) -> Response``, with nothing of Django's request
machinery in between; every other path goes to Django unchanged.

What the dispatcher does for every data-plane route, so no function does it again: the Host
check and the HTTPS redirect (as Django's ``ALLOWED_HOSTS`` and ``SecurityMiddleware``), the
method check (405 naming the allowed methods), CORS and preflights on routes a browser SDK
calls, the security headers Django's middleware adds, the error envelope of the route's
protocol for a ``Refusal``, 503 with ``Retry-After`` when PostgreSQL or Redis is down, a JSON 500
for a bug, and Django's database connection hygiene around routes that use the database
(``close_old_connections``, called as such: sending Django's request signals, whose receivers
include it, cost about 19 µs a request, some 6 % of a 200-flag ``/flags`` answer in process).
Unknown paths under ``/v1/`` and ``/v2/`` get a JSON 404 (with CORS), never HTML.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import close_old_connections
from django.http.request import validate_host

from console.log_secrets import masked
from console.wire.errors import BACKEND_OUTAGES, STATSIG, Protocol, Refusal, unavailable
from console.wire.http import STATUS_LINES, Request, Response, dumps, is_secure

logger = logging.getLogger(__name__)
access_logger = logging.getLogger("console.access")

Handler = Callable[[Request], Response]
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

OWNED_PREFIXES = ("/v1/", "/v2/")
PREFLIGHT_MAX_AGE = "86400"
DEFAULT_ALLOWED_HEADERS = "Content-Type"
_PARAM = re.compile(r"\{(\w+)\}")
_NO_PARAMS: dict[str, str] = {}


def loggable_path(path: str) -> str:
    return masked(path)


@dataclass(frozen=True, slots=True)
class Route:
    """``path`` is exact (``/v1/check_gate``) or has ``{name}`` segments, handed to the function
    as ``request.params["name"]``. ``trailing_slash`` also answers ``path + "/"`` (PostHog's
    routes). ``cors``: a browser SDK calls it (preflights answered, CORS headers on every
    answer). ``database``: the function uses the database beyond the key lookup, so Django's
    connection hygiene (``close_old_connections``) runs around it. ``method_note`` ends the 405
    message (what the caller may have wanted instead)."""

    path: str
    handler: Handler
    methods: tuple[str, ...] = ("POST",)
    protocol: Protocol = STATSIG
    cors: bool = False
    database: bool = False
    trailing_slash: bool = False
    method_note: str = ""

    def paths(self) -> list[str]:
        base = self.path.rstrip("/") or "/"
        return [base, base + "/"] if self.trailing_slash else [self.path]


def _pattern(path: str) -> re.Pattern[str]:
    parts = _PARAM.split(path)
    regex = "".join(
        re.escape(part) if index % 2 == 0 else f"(?P<{part}>[^/]+?)"
        for index, part in enumerate(parts)
    )
    return re.compile(f"^{regex}$")


def _security_headers() -> list[tuple[str, str]]:
    """What SecurityMiddleware and XFrameOptionsMiddleware add to every Django response."""
    headers = []
    if settings.SECURE_CONTENT_TYPE_NOSNIFF:
        headers.append(("X-Content-Type-Options", "nosniff"))
    if settings.SECURE_REFERRER_POLICY:
        policy = settings.SECURE_REFERRER_POLICY
        if not isinstance(policy, str):
            policy = ",".join(policy)
        headers.append(("Referrer-Policy", policy))
    if settings.SECURE_CROSS_ORIGIN_OPENER_POLICY:
        headers.append(("Cross-Origin-Opener-Policy", settings.SECURE_CROSS_ORIGIN_OPENER_POLICY))
    headers.append(("X-Frame-Options", getattr(settings, "X_FRAME_OPTIONS", "DENY")))
    return headers


def _hsts_header() -> tuple[str, str] | None:
    if not settings.SECURE_HSTS_SECONDS:
        return None
    value = f"max-age={settings.SECURE_HSTS_SECONDS}"
    if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
        value += "; includeSubDomains"
    if settings.SECURE_HSTS_PRELOAD:
        value += "; preload"
    return ("Strict-Transport-Security", value)


def cors_headers(environ: dict[str, Any]) -> list[tuple[str, str]]:
    origin = environ.get("HTTP_ORIGIN")
    if not origin:
        return [("Access-Control-Allow-Origin", "*")]
    return [
        ("Access-Control-Allow-Origin", origin),
        ("Access-Control-Allow-Credentials", "true"),
        ("Vary", "Origin"),
    ]


def error_response(protocol: Protocol, refusal: Refusal) -> Response:
    return Response(
        dumps(protocol.body(refusal)), status=refusal.status, headers=refusal.headers.items()
    )


class _Finishing:
    """A response body that runs the connection hygiene when the server closes it, after the
    last chunk (a streamed body may still read the database)."""

    __slots__ = ("_chunks",)

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._chunks)

    def close(self) -> None:
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()
        close_old_connections()


class Application:
    def __init__(
        self, routes: Iterable[Route], fallback: WSGIApp, *, access_log: bool | None = None
    ) -> None:
        self.fallback = fallback
        self._exact: dict[str, Route] = {}
        self._patterns: list[tuple[re.Pattern[str], Route]] = []
        for route in routes:
            for path in route.paths():
                if "{" in path:
                    self._patterns.append((_pattern(path), route))
                elif path in self._exact:
                    raise ValueError(f"two data-plane routes for {path}")
                else:
                    self._exact[path] = route
        self.access_log = settings.ACCESS_LOG if access_log is None else access_log
        self._security = _security_headers()
        self._hsts = _hsts_header()
        self._redirect = settings.SECURE_SSL_REDIRECT
        self._redirect_exempt = [re.compile(r) for r in settings.SECURE_REDIRECT_EXEMPT]
        self._hosts: dict[str, bool] = {}

    def route_for(self, path: str) -> tuple[Route | None, dict[str, str]]:
        route = self._exact.get(path)
        if route is not None:
            return route, _NO_PARAMS
        for pattern, candidate in self._patterns:
            match = pattern.match(path)
            if match is not None:
                return candidate, match.groupdict()
        return None, _NO_PARAMS

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]):
        if self.access_log:
            return self._logged(environ, start_response)
        return self._dispatch(environ, start_response)

    def _dispatch(self, environ: dict[str, Any], start_response: Callable[..., Any]):
        path = environ.get("PATH_INFO") or "/"
        route, params = self.route_for(path)
        if route is None:
            if not path.startswith(OWNED_PREFIXES):
                return self.fallback(environ, start_response)
            refusal = Refusal(404, f"No endpoint at {loggable_path(path)[:200]}.")
            response = error_response(STATSIG, refusal)
            response.headers.extend(cors_headers(environ))
            return self._send(start_response, response, environ)
        request = Request(environ, path, params)
        response = self._answer(route, request)
        if route.cors:
            response.headers.extend(cors_headers(environ))
        if route.database and request.method in route.methods:
            if isinstance(response.body, bytes):
                close_old_connections()
            else:
                response.body = _Finishing(response.body)
        return self._send(start_response, response, environ)

    def _answer(self, route: Route, request: Request) -> Response:
        if not self._host_allowed(request.host):
            return error_response(route.protocol, Refusal(400, "Invalid Host header."))
        if self._redirect and not request.is_secure:
            relative = request.path.lstrip("/")
            if not any(pattern.search(relative) for pattern in self._redirect_exempt):
                return self._to_https(request)
        method = request.method
        if method not in route.methods:
            if method == "OPTIONS" and route.cors:
                return self._preflight(route, request)
            return error_response(route.protocol, self._wrong_method(route, method))
        if route.database:
            close_old_connections()
        try:
            return route.handler(request)
        except Refusal as refusal:
            return error_response(route.protocol, refusal)
        except BACKEND_OUTAGES as exc:
            logger.warning(
                "backend unavailable path=%s error=%s",
                loggable_path(request.path),
                type(exc).__name__,
            )
            # As at the end of a Django request: a broken connection is dropped, so the next
            # request opens a new one once the database is back.
            if not route.database:
                close_old_connections()
            return error_response(route.protocol, unavailable())
        except Exception:
            logger.exception("data plane: unhandled error path=%s", loggable_path(request.path))
            return error_response(route.protocol, Refusal(500, "Internal server error."))

    def _host_allowed(self, host: str) -> bool:
        allowed = self._hosts.get(host)
        if allowed is None:
            domain = host.rsplit(":", 1)[0] if not host.endswith("]") else host
            allowed = validate_host(domain.lower(), settings.ALLOWED_HOSTS)
            if allowed:
                self._hosts[host] = True
        return allowed

    def _to_https(self, request: Request) -> Response:
        host = settings.SECURE_SSL_HOST or request.host
        query = request.environ.get("QUERY_STRING")
        location = f"https://{host}{request.path}" + (f"?{query}" if query else "")
        return Response(
            b"",
            status=301,
            content_type="text/html; charset=utf-8",
            headers=[("Location", location)],
        )

    @staticmethod
    def _wrong_method(route: Route, method: str) -> Refusal:
        allowed = [m for m in route.methods if m not in ("HEAD", "OPTIONS")]
        note = f" {route.method_note}" if route.method_note else ""
        return Refusal(
            405,
            f"Method {method[:20]} is not allowed here; use {' or '.join(allowed)}.{note}",
            code="method_not_allowed",
            headers={"Allow": ", ".join(route.methods)},
        )

    @staticmethod
    def _preflight(route: Route, request: Request) -> Response:
        methods = ", ".join(dict.fromkeys((*route.methods, "OPTIONS")))
        requested = request.header("Access-Control-Request-Headers") or DEFAULT_ALLOWED_HEADERS
        return Response(
            b"",
            status=204,
            content_type=None,
            headers=[
                ("Access-Control-Allow-Methods", methods),
                ("Access-Control-Allow-Headers", requested),
                ("Access-Control-Max-Age", PREFLIGHT_MAX_AGE),
            ],
        )

    def _send(self, start_response: Callable[..., Any], response: Response, environ):
        headers = response.headers
        headers.extend(self._security)
        if self._hsts is not None and is_secure(environ):
            headers.append(self._hsts)
        body = response.body
        if isinstance(body, bytes):
            if response.status not in (204, 304):
                headers.append(("Content-Length", str(len(body))))
            start_response(STATUS_LINES[response.status], headers)
            return [body]
        start_response(STATUS_LINES[response.status], headers)
        return body

    def _logged(self, environ: dict[str, Any], start_response: Callable[..., Any]):
        started = time.perf_counter()
        status: list[str] = []

        def recording_start_response(line: str, headers, exc_info=None):
            status.append(line)
            return start_response(line, headers, exc_info)

        result = self._dispatch(environ, recording_start_response)
        access_logger.info(
            "%s %s %s %.1fms",
            environ.get("REQUEST_METHOD", ""),
            loggable_path(environ.get("PATH_INFO") or "/"),
            status[0].split(" ", 1)[0] if status else "-",
            (time.perf_counter() - started) * 1000,
        )
        return result
