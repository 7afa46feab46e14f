"""A fuzz sweep over every console API endpoint (found through the URL resolver) with the inputs
that once answered 500: NUL characters, lone UTF-16 surrogates, NaN and Infinity, integers past
JSON's 4,300 digits, nesting 600 deep, a time condition of 0001-01-01 and ``?page=10^19``. Every
answer is a 4xx or a success, never a 5xx, and always JSON."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from console.models import ApiKey, ApiKeyKind
from tests.console.api.endpoints import console_endpoints, path_values, sample_body, seed_entities

DEEP = 600
HUGE_INTEGER = "9" * 5000
NAN_TOKENS = ("NaN", "Infinity", "-Infinity")
BUDGET_SECONDS = 60
PAGE_QUERIES = [
    "page=10000000000000000000",
    "page=10000000000000000000&limit=10000000000000000000",
    "page=-1&limit=0",
    "page=NaN",
    "limit=1e400",
    "page=%00",
]
TIME_CONDITIONS = [
    {"type": "time", "operator": "after", "targetValue": "0001-01-01"},
    {"type": "time", "operator": "before", "targetValue": -62135596800000},
    {"type": "time", "operator": "on", "targetValue": 10**20},
]


def _map_leaves(value: Any, leaf) -> Any:
    if isinstance(value, dict):
        return {k: _map_leaves(v, leaf) for k, v in value.items()}
    if isinstance(value, list):
        return [_map_leaves(v, leaf) for v in value]
    return leaf(value)


def _deep(leaf: Any) -> Any:
    value = leaf
    for _ in range(DEEP):
        value = [value]
    return value


def _dumps(body: Any) -> bytes:
    return json.dumps(body, allow_nan=True).encode()


def _poisoned_bodies(body: Any) -> dict[str, bytes]:
    """Raw bodies: the valid one with one kind of poison in every leaf of that kind."""

    def strings(poison: str):
        return lambda v: (v + poison) if isinstance(v, str) else v

    def numbers(poison: float):
        return lambda v: poison if isinstance(v, int | float) and not isinstance(v, bool) else v

    nested = (
        {k: (_deep(float("nan")) if isinstance(v, dict | list) else v) for k, v in body.items()}
        if isinstance(body, dict)
        else _deep(float("nan"))
    )
    bodies = {
        "nul in strings": _dumps(_map_leaves(body, strings("\x00"))),
        # json.dumps writes the lone surrogate as the escape "\ud800": valid JSON text
        "lone surrogate in strings": _dumps(_map_leaves(body, strings("\ud800"))),
        "nan numbers": _dumps(_map_leaves(body, numbers(float("nan")))),
        "infinite numbers": _dumps(_map_leaves(body, numbers(float("inf")))),
        "nested 600 with nan": _dumps(nested),
        "nan everywhere": _dumps(_map_leaves(body, lambda v: float("nan"))),
        "lone surrogate everywhere": _dumps(_map_leaves(body, lambda v: "\udfff")),
        "deep body": _dumps(_deep("x")),
        "bare nan": b"NaN",
    }
    huge = _dumps(_map_leaves(body, numbers(7))).replace(b"7", HUGE_INTEGER.encode())
    bodies["huge integers"] = huge
    if (isinstance(body, dict) and "rules" in body) or "conditions" in json.dumps(body):
        for index, condition in enumerate(TIME_CONDITIONS):
            bodies[f"time condition {index}"] = _dumps(_with_condition(body, condition))
    return bodies


def _with_condition(body: Any, condition: dict) -> Any:
    if isinstance(body, dict):
        if "conditions" in body:
            return {**body, "conditions": [condition]}
        return {k: _with_condition(v, condition) for k, v in body.items()}
    if isinstance(body, list):
        return [_with_condition(v, condition) for v in body]
    return body


def _assert_answer(response, label: str) -> None:
    assert response.status_code < 500, (label, response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json"), (
        label,
        response["Content-Type"],
    )


@pytest.fixture
def fuzz_world(world, settings):
    # Hundreds of mutations in a few seconds: past the per-project rate limit on purpose.
    settings.CONSOLE_API_MUTATIONS_PER_WINDOW = 1_000_000
    values = seed_entities(world)
    # Key routes get the server key: mutating them must not retire the key this sweep uses.
    values["key_id"] = ApiKey.objects.get(project=world.project, kind=ApiKeyKind.SERVER).public_id
    return values


def test_every_console_endpoint__poisoned_input__never_5xx(api, world, fuzz_world):
    started = time.monotonic()
    key = world.keys["console"]
    endpoints = console_endpoints()
    assert len(endpoints) > 50
    for endpoint in endpoints:
        path = endpoint.path(path_values(endpoint, fuzz_world))
        if endpoint.method == "get":
            for query in PAGE_QUERIES:
                response = api.get(f"{path}?{query}", key=key)
                _assert_answer(response, f"{endpoint} ?{query}")
            continue
        body = sample_body(endpoint, fuzz_world)
        for case, raw in _poisoned_bodies(body).items():
            response = api.request(endpoint.method.upper(), path, raw=raw, key=key)
            _assert_answer(response, f"{endpoint} {case}")
    assert time.monotonic() - started < BUDGET_SECONDS


def test_poisoned_path_segment__never_5xx(api, world, fuzz_world):
    key = world.keys["console"]
    for endpoint in console_endpoints():
        if not endpoint.params or endpoint.method != "get":
            continue
        values = dict.fromkeys(endpoint.params, "x%00%ED%A0%80" + "9" * 40)
        response = api.get(endpoint.path(values), key=key)
        _assert_answer(response, str(endpoint))


def test_console_api__unexpected_error__500_in_json(world, monkeypatch):
    from django.test import Client

    from console.api import keys as key_views

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(key_views.selectors, "api_key_list", broken)
    client = Client(raise_request_exception=False)

    response = client.get("/console/v1/keys", headers={"STATSIG-API-KEY": world.keys["console"]})

    assert response.status_code == 500
    assert response.json() == {
        "status": 500,
        "message": "Internal server error. The error was logged.",
    }
