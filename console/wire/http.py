"""The request and response of a data-plane function: plain objects over the WSGI environ, no
framework. ``Request`` parses only what a function asks for (query, body, JSON); ``Response``
holds a status, headers and bytes (or an iterable of bytes for a stream)."""

from __future__ import annotations

from collections.abc import Iterable
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

import orjson
from django.conf import settings

from console.keycache import ResolvedKey
from console.wire import bodies
from console.wire.errors import Refusal
from console.wire.keys import KEY_HEADER, KeyPolicy, require_key

JSON = "application/json"
_KEY_ENVIRON = "HTTP_" + KEY_HEADER.replace("-", "_")
NOT_AN_OBJECT = "The request body must be a JSON object."

STATUS_LINES = {status.value: f"{status.value} {status.phrase}" for status in HTTPStatus}


def is_secure(environ: dict[str, Any]) -> bool:
    """HTTPS, directly or (with ``SECURE_PROXY_SSL_HEADER``) behind a TLS proxy."""
    if environ.get("wsgi.url_scheme") == "https":
        return True
    proxy = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy:
        header, value = proxy
        return environ.get(header, "").split(",")[0].strip() == value
    return False


class Request:
    __slots__ = ("_body", "_query", "environ", "method", "params", "path")

    def __init__(self, environ: dict[str, Any], path: str, params: dict[str, str]) -> None:
        self.environ = environ
        self.method: str = environ.get("REQUEST_METHOD", "GET")
        self.path = path
        self.params = params
        self._query: dict[str, str] | None = None
        self._body: bytes | None = None

    def header(self, name: str, default: str = "") -> str:
        upper = name.upper().replace("-", "_")
        if upper in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            return self.environ.get(upper) or default
        return self.environ.get("HTTP_" + upper, default)

    @property
    def content_type(self) -> str:
        return (self.environ.get("CONTENT_TYPE") or "").split(";", 1)[0].strip().lower()

    @property
    def query(self) -> dict[str, str]:
        """Query parameters, the last value of each (as Django's ``QueryDict.get``)."""
        if self._query is None:
            raw = self.environ.get("QUERY_STRING", "")
            if not raw.isascii():
                raw = raw.encode("latin-1").decode("utf-8", "replace")
            self._query = dict(parse_qsl(raw, keep_blank_values=True)) if raw else {}
        return self._query

    @property
    def is_secure(self) -> bool:
        return is_secure(self.environ)

    @property
    def host(self) -> str:
        host = self.environ.get("HTTP_HOST")
        if host:
            return host
        host = self.environ.get("SERVER_NAME", "")
        port = self.environ.get("SERVER_PORT", "")
        default = "443" if self.is_secure else "80"
        return f"{host}:{port}" if port and port != default else host

    def absolute_url(self, path: str) -> str:
        return f"{'https' if self.is_secure else 'http'}://{self.host}{path}"

    @property
    def remote_addr(self) -> str | None:
        return self.environ.get("REMOTE_ADDR") or None

    def key(self, policy: KeyPolicy, secret: str | None = None) -> ResolvedKey:
        """The caller's key (``STATSIG-API-KEY`` unless ``secret`` is given), or a 401."""
        return require_key(secret if secret is not None else self.environ.get(_KEY_ENVIRON), policy)

    def raw_body(self, limit: int) -> bytes:
        """The body as sent (413 over ``limit``), before any ``Content-Encoding`` is undone."""
        return bodies.read_stream(self.environ, limit)

    def body(self, limit: int) -> bytes:
        """The body with its ``Content-Encoding`` undone; 413 over ``limit`` before or after."""
        if self._body is None:
            raw = bodies.read_stream(self.environ, limit)
            self._body = bodies.decode(raw, self.environ.get("HTTP_CONTENT_ENCODING", ""), limit)
        return self._body

    def json(self, limit: int) -> Any:
        return bodies.loads(self.body(limit))

    def json_object(self, limit: int) -> dict[str, Any]:
        """The body as a JSON object; an empty body is ``{}``."""
        raw = self.body(limit)
        if not raw.strip():
            return {}
        body = bodies.loads(raw)
        if not isinstance(body, dict):
            raise Refusal(400, NOT_AN_OBJECT, code="invalid_payload")
        return body


class Response:
    """``body`` is bytes, or an iterable of bytes (then set ``Content-Length`` yourself)."""

    __slots__ = ("body", "headers", "status")

    def __init__(
        self,
        body: bytes | Iterable[bytes] = b"",
        *,
        status: int = 200,
        content_type: str | None = JSON,
        headers: Iterable[tuple[str, str]] = (),
    ) -> None:
        self.status = status
        self.body = body
        self.headers: list[tuple[str, str]] = []
        if content_type is not None:
            self.headers.append(("Content-Type", content_type))
        self.headers.extend(headers)

    def header(self, name: str) -> str | None:
        lower = name.lower()
        for key, value in self.headers:
            if key.lower() == lower:
                return value
        return None


def dumps(data: Any) -> bytes:
    return orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS)


def json_response(
    data: Any, *, status: int = 200, headers: Iterable[tuple[str, str]] = ()
) -> Response:
    return Response(dumps(data), status=status, headers=headers)
