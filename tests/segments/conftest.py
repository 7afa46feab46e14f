"""Helpers for the segments tests: a console-API client bound to a world's console key."""

from __future__ import annotations

from typing import Any

import pytest

from console.models import ApiKey, ApiKeyKind
from segments.idlists import forget_all

BASE = "/console/v1"
# The rules of a rule-based segment of the company's staff.
STAFF_RULES = [
    {
        "name": "Staff",
        "passPercentage": 100,
        "conditions": [
            {"type": "email", "operator": "str_ends_with_any", "targetValue": ["@example.com"]}
        ],
    }
]


@pytest.fixture(autouse=True)
def _fresh_id_lists():
    """Each test starts without in-memory id lists or rulesets of earlier tests."""
    from ruleset import load as ruleset_load

    forget_all()
    ruleset_load.forget_loaded()
    yield
    forget_all()
    ruleset_load.forget_loaded()


class ConsoleApi:
    def __init__(self, api, secret: str):
        self.api = api
        self.secret = secret

    def call(self, method: str, path: str, body: Any = None, **kwargs):
        return self.api.request(method, f"{BASE}{path}", body, key=self.secret, **kwargs)

    def get(self, path: str, **kwargs):
        return self.call("GET", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs):
        return self.call("POST", path, body, **kwargs)

    def put(self, path: str, body: Any = None, **kwargs):
        return self.call("PUT", path, body, **kwargs)

    def patch(self, path: str, body: Any = None, **kwargs):
        return self.call("PATCH", path, body, **kwargs)

    def delete(self, path: str, body: Any = None, **kwargs):
        return self.call("DELETE", path, body, **kwargs)


@pytest.fixture
def capi(api, world) -> ConsoleApi:
    return ConsoleApi(api, world.keys["console"])


@pytest.fixture
def console_key_id(world) -> str:
    return ApiKey.objects.get(project=world.project, kind=ApiKeyKind.CONSOLE).public_id


def create_segment(capi: ConsoleApi, **body: Any) -> dict[str, Any]:
    response = capi.post("/segments", body)
    assert response.status_code == 201, response.json()
    return response.json()["data"]


def id_list(capi: ConsoleApi, name: str, ids: list[str] | None = None) -> dict[str, Any]:
    data = create_segment(capi, name=name, type="id_list")
    if ids:
        response = capi.patch(f"/segments/{data['id']}/id_list", {"ids": ids})
        assert response.status_code == 200, response.json()
    return data
