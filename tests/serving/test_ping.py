"""``/v1/ping``: the floor of the HTTP benchmark, behind the same key check as the SDK endpoints."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext


def test_ping__server_key__ok_without_sql_after_warm_up(world, client):
    # Given a server key already used once (resolved and cached by the process)
    headers = {"HTTP_STATSIG_API_KEY": world.keys["server"]}
    client.get("/v1/ping", **headers)

    # When it pings, by GET and by POST with a JSON body
    with CaptureQueriesContext(connection) as queries:
        got = client.get("/v1/ping", **headers)
        posted = client.post(
            "/v1/ping", b'{"user": {"userID": "a"}}', content_type="application/json", **headers
        )

    # Then both answer {"ok": true} and no query was made
    assert (got.status_code, got.json()) == (200, {"ok": True})
    assert (posted.status_code, posted.json()) == (200, {"ok": True})
    assert len(queries) == 0


@pytest.mark.parametrize(
    ("key", "status"), [(None, 401), ("console", 401), ("client", 200), ("wrong", 401)]
)
def test_ping__key_kinds__only_evaluating_keys(world, client, key, status):
    # Given a key of some kind (or none)
    headers = {}
    if key is not None:
        headers["HTTP_STATSIG_API_KEY"] = world.keys.get(key, "secret-not-a-real-key")

    # When it pings
    response = client.get("/v1/ping", **headers)

    # Then only server and client keys are accepted, with a JSON answer either way
    assert response.status_code == status
    assert response.json()["ok" if status == 200 else "message"]


def test_ping__bad_body_and_method__json_4xx(world, client):
    headers = {"HTTP_STATSIG_API_KEY": world.keys["server"]}
    malformed = client.post("/v1/ping", b"{nope", content_type="application/json", **headers)
    deleted = client.delete("/v1/ping", **headers)
    assert (malformed.status_code, deleted.status_code) == (400, 405)
    assert malformed.json()["message"]
    assert deleted.json()["message"]
