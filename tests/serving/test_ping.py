"""``/v1/ping``: the cheapest answer behind the same key check as the SDK endpoints."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext


def test_ping__server_key__ok_without_sql_after_warm_up(api, world):
    # Given a server key already used once (resolved and cached by the process)
    key = world.keys["server"]
    api.get("/v1/ping", key=key)

    # When it pings, by GET and by POST with a JSON body
    with CaptureQueriesContext(connection) as queries:
        got = api.get("/v1/ping", key=key)
        posted = api.post("/v1/ping", raw=b'{"user": {"userID": "a"}}', key=key)

    # Then both answer {"ok": true} and no query was made
    assert (got.status_code, got.json()) == (200, {"ok": True})
    assert (posted.status_code, posted.json()) == (200, {"ok": True})
    assert len(queries) == 0


@pytest.mark.parametrize(
    ("key", "status"), [(None, 401), ("console", 401), ("client", 200), ("wrong", 401)]
)
def test_ping__key_kinds__only_evaluating_keys(api, world, key, status):
    # Given a key of some kind (or none)
    secret = None if key is None else world.keys.get(key, "secret-not-a-real-key")

    # When it pings
    response = api.get("/v1/ping", key=secret)

    # Then only server and client keys are accepted, with a JSON answer either way
    assert response.status_code == status
    assert response.json()["ok" if status == 200 else "message"]


def test_ping__bad_body_and_method__json_4xx(api, world):
    key = world.keys["server"]
    malformed = api.post("/v1/ping", raw=b"{nope", key=key)
    deleted = api.delete("/v1/ping", key=key)
    assert (malformed.status_code, deleted.status_code) == (400, 405)
    assert malformed.json()["message"]
    assert deleted.json()["message"]
    assert deleted["Allow"] == "GET, POST"
