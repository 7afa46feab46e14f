"""Fixtures for the console API tests: a client bound to a project's console key."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import ApiClient, World

RESPECT_REVIEWS = {"x-respect-review-settings": "true"}


class ConsoleClient:
    """``api`` with the world's console key (and optionally the review header) on every call."""

    def __init__(self, api: ApiClient, world: World):
        self.api = api
        self.world = world
        self.key = world.keys["console"]

    def _call(self, method: str, path: str, body: Any = None, *, reviews: bool = False, **kw):
        headers = {**(RESPECT_REVIEWS if reviews else {}), **kw.pop("headers", {})}
        return self.api.request(
            method, f"/console/v1/{path.lstrip('/')}", body, key=self.key, headers=headers, **kw
        )

    def get(self, path: str, **kw):
        return self._call("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw):
        return self._call("POST", path, {} if body is None else body, **kw)

    def put(self, path: str, body: Any = None, **kw):
        return self._call("PUT", path, {} if body is None else body, **kw)

    def patch(self, path: str, body: Any = None, **kw):
        return self._call("PATCH", path, {} if body is None else body, **kw)

    def delete(self, path: str, body: Any = None, **kw):
        return self._call("DELETE", path, body, **kw)


@pytest.fixture
def capi(api, world) -> ConsoleClient:
    return ConsoleClient(api, world)


@pytest.fixture
def other_capi(api, other_world) -> ConsoleClient:
    return ConsoleClient(api, other_world)
