"""A test client for the production WSGI application (``console.wsgi.application``), so tests of
the data plane go through its dispatcher exactly as a server's requests do (the Django test
client would go straight to Django's URL resolver, where no data-plane route is).

Requests run in the test's thread and database transaction; like Django's own test client, it
keeps Django's connection hygiene (``close_old_connections``) from closing that connection at the
request's start and end.
Responses look like Django's test responses (``status_code``, ``json()``, ``response[name]``,
``content``), so tests read the same whichever client answered.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch

from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from werkzeug.test import Client

from console.wire import app as wire_app

HOST = "testserver"


class WireResponse:
    def __init__(self, status_code: int, headers: list[tuple[str, str]], content: bytes) -> None:
        self.status_code = status_code
        self.headers = dict(headers)
        self._lower = {name.lower(): value for name, value in headers}
        self.header_list = headers
        self.content = content
        self.streaming = False

    def __getitem__(self, name: str) -> str:
        return self._lower[name.lower()]

    def get(self, name: str, default: str | None = None) -> str | None:
        return self._lower.get(name.lower(), default)

    def has_header(self, name: str) -> bool:
        return name.lower() in self._lower

    def __contains__(self, name: str) -> bool:
        return self.has_header(name)

    def json(self) -> Any:
        return json.loads(self.content)


@contextmanager
def _connection_kept() -> Iterator[None]:
    """Django's views run the hygiene through the request signals, the data-plane dispatcher
    calls it itself: both are switched off for the request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        with patch.object(wire_app, "close_old_connections", _keep_connections):
            yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _keep_connections() -> None:
    pass


class WireClient:
    def __init__(self) -> None:
        from console.wsgi import application

        self.application = application
        self._client = Client(application)

    def handles(self, path: str) -> bool:
        """Whether the dispatcher answers ``path`` itself (rather than handing it to Django)."""
        from console.wire.app import OWNED_PREFIXES

        path = path.split("?", 1)[0]
        return self.application.route_for(path)[0] is not None or path.startswith(OWNED_PREFIXES)

    def request(
        self,
        method: str,
        path: str,
        *,
        data: bytes | str | None = None,
        content_type: str | None = None,
        headers: dict[str, str] | None = None,
        secure: bool = False,
    ) -> WireResponse:
        all_headers = dict(headers or {})
        if content_type is not None and data is not None:
            all_headers["Content-Type"] = content_type
        with _connection_kept():
            response = self._client.open(
                path,
                method=method,
                data=data,
                headers=all_headers,
                base_url=f"{'https' if secure else 'http'}://{HOST}",
                # What every server sets, and Django's test client too.
                environ_base={"REMOTE_ADDR": "127.0.0.1"},
                buffered=True,
            )
            content = response.get_data()
            response.close()
        return WireResponse(response.status_code, list(response.headers.items()), content)

    def get(self, path: str, **kwargs) -> WireResponse:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs) -> WireResponse:
        return self.request("POST", path, **kwargs)
