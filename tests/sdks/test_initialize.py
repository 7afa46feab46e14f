"""``POST /v1/initialize``: the whole answer for a client SDK user, the official ``statsig`` SDK's
``get_client_initialize_response`` as the reference for every value, the js-client's body forms,
``has_updates: false`` for a current client, and a clear 4xx for every bad request."""

from __future__ import annotations

import base64
import gzip
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from evaluation import id_list_hash
from ruleset import store as ruleset_store
from serving.initialize import djb2
from tests.evaluation.official_sdk import local_sdk, sdk_user
from tests.sdks.world import SEGMENT_IDS, build_sdk_world, sdk_users
from tests.user_agents import CHROME_ADG

pytestmark = pytest.mark.django_db

HashingAlgorithm = pytest.importorskip("statsig.utils").HashingAlgorithm


def _initialize(api, key: str, body, *, query: str = "", raw: bytes | None = None, headers=None):
    headers = dict(headers or {})
    if key:
        headers["STATSIG-API-KEY"] = key
    return api.request(
        "POST",
        f"/v1/initialize{query}",
        None if raw is not None else body,
        raw=raw,
        headers=headers,
        content_type="text/plain;charset=UTF-8",
    )


def test_initialize__client_key_djb2__whole_answer(api, world, staff_gate):
    # Given one gate
    user = {"userID": "7", "email": "ada@a.com", "privateAttributes": {"secret": 1}}

    # When a client asks for its values with djb2 names
    response = _initialize(
        api,
        world.keys["client"],
        {"user": user, "hash": "djb2", "statsigMetadata": {"stableID": "device-1"}},
        headers={"User-Agent": CHROME_ADG},
    )

    # Then it gets the evaluated gate under the hashed name, and the envelope Statsig sends
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    rule_id = body["feature_gates"][djb2("staff")]["rule_id"]
    assert body == {
        "feature_gates": {
            djb2("staff"): {
                "name": djb2("staff"),
                "value": True,
                "rule_id": rule_id,
                "secondary_exposures": [],
                "id_type": "userID",
            }
        },
        "dynamic_configs": {},
        "layer_configs": {},
        "sdkParams": {},
        "has_updates": True,
        "time": body["time"],
        "hash_used": "djb2",
        "user": {"userID": "7", "email": "ada@a.com"},
        "evaluated_keys": {"userID": "7", "customIDs": {"stableID": "device-1"}},
        "derived_fields": {
            "ip": "127.0.0.1",
            "browserName": "Chrome",
            "browserVersion": "109.0.5414",
            "osName": "Windows",
            "osVersion": "10.0.0",
        },
    }
    assert rule_id
    assert body["time"] > 0


@pytest.mark.parametrize("algorithm", ["none", "djb2", "sha256"])
def test_initialize__every_entity_kind__equals_the_official_sdk(api, world, algorithm):
    # Given gates on every condition type, a 1,500-id segment, a config, an experiment and a
    # layer with an experiment, built through the services
    build_sdk_world(world)
    ruleset_store.rebuild(world.project.id)
    specs = api.get(f"/v1/download_config_specs/{world.keys['server']}.json").json()
    id_lists = {"big_list": {id_list_hash(member) for member in SEGMENT_IDS}}

    with local_sdk(specs, id_lists) as sdk:
        for user in sdk_users():
            # The user as the server evaluates it: the request's address when it has none
            evaluated = {"ip": "127.0.0.1", **user}
            expected = sdk.get_client_initialize_response(
                sdk_user(evaluated), hash=HashingAlgorithm(algorithm)
            )
            # When a client initialises for that user
            response = _initialize(api, world.keys["client"], {"user": user, "hash": algorithm})
            assert response.status_code == 200, response.content
            body = response.json()
            # Then every gate, config, experiment and layer answers what the SDK answers
            for section in ("feature_gates", "dynamic_configs", "layer_configs"):
                assert body[section] == expected[section], (section, user)
            assert body["evaluated_keys"] == expected["evaluated_keys"]
            assert body["time"] == expected["time"]
    # And the entities are all there: segments and holdouts are not
    assert len(body["feature_gates"]) == 22
    assert len(body["dynamic_configs"]) == 3
    assert len(body["layer_configs"]) == 1


def test_initialize__js_client_body_forms__decoded(api, world, staff_gate):
    payload = json.dumps({"user": {"userID": "1", "email": "x@a.com"}, "hash": "none"}).encode()
    encoded = base64.b64encode(payload)[::-1]
    key = world.keys["client"]
    # The key in the query (as the js-client sends it), the body statsig-encoded
    encoded_response = _initialize(api, "", None, query=f"?k={key}&se=1", raw=encoded)
    # The body gzipped with gz=1
    gzipped_response = _initialize(
        api, "", None, query=f"?k={key}&gz=1", raw=gzip.compress(payload)
    )
    for response in (encoded_response, gzipped_response):
        assert response.status_code == 200, response.content
        assert response.json()["feature_gates"]["staff"]["value"] is True


def test_initialize__since_time_current__has_updates_false(api, world, staff_gate):
    key = world.keys["client"]
    first = _initialize(api, key, {"user": {"userID": "1"}, "hash": "djb2"}).json()
    # A client holding this version, derived from the same request, gets no values
    current = _initialize(
        api,
        key,
        {
            "user": {"userID": "1"},
            "hash": "djb2",
            "sinceTime": first["time"],
            "previousDerivedFields": first["derived_fields"],
        },
    )
    assert current.status_code == 200
    assert current.json() == {"has_updates": False, "time": first["time"]}
    # An older version, or values derived from another address, get everything
    older = _initialize(api, key, {"user": {"userID": "1"}, "sinceTime": first["time"] - 1})
    moved = _initialize(
        api,
        key,
        {
            "user": {"userID": "1"},
            "sinceTime": first["time"],
            "previousDerivedFields": {"ip": "8.8.8.8", "country": "US"},
        },
    )
    assert older.json()["has_updates"] is True
    assert moved.json()["has_updates"] is True


def test_initialize__after_warm_up__no_sql_and_no_exposure(api, world, staff_gate):
    from events import exposures

    key = world.keys["client"]
    body = {"user": {"userID": "1", "email": "x@a.com"}, "hash": "djb2"}
    assert _initialize(api, key, body).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        for _ in range(5):
            assert _initialize(api, key, body).status_code == 200
    assert len(queries) == 0, [q["sql"] for q in queries]
    assert exposures.local_buffer_size() == 0


@pytest.mark.parametrize(
    ("key_kind", "body", "status", "message"),
    [
        ("server", {"user": {"userID": "1"}}, 401, "only accepts a client SDK key"),
        ("console", {"user": {"userID": "1"}}, 401, "only accepts a client SDK key"),
        ("missing", {"user": {"userID": "1"}}, 401, "Invalid or inactive API key"),
        ("client", {"user": {"userID": "1"}, "hash": "md5"}, 400, "hash must be one of"),
        ("client", {"user": "nobody"}, 400, "user must be an object"),
        ("client", {"user": {"email": "a@b.c"}}, 400, "user.userID"),
        ("client", {"user": {"userID": "1"}, "sinceTime": "soon"}, 400, "sinceTime"),
        ("client", {"user": {"userID": ["1"]}}, 400, "user.userID"),
        ("client", [1, 2], 400, "must be a JSON object"),
    ],
)
def test_initialize__bad_request__clear_4xx(api, world, key_kind, body, status, message):
    key = "client-nope" if key_kind == "missing" else world.keys[key_kind]
    response = _initialize(api, key, body)
    assert response.status_code == status, response.content
    assert message in response.json()["message"]


def test_initialize__malformed_bodies__400(api, world):
    key = world.keys["client"]
    for query, raw in (
        ("", b"{not json"),
        ("?se=1", b"***"),
        ("?gz=1", b"\x1f\x8b\x08broken"),
    ):
        response = _initialize(api, key, None, query=query, raw=raw)
        assert response.status_code == 400, (query, response.content)
        assert response.json()["status"] == 400
    broken_zstd = _initialize(
        api, key, None, raw=b"(\xb5/\xfdbroken", headers={"Content-Encoding": "zstd"}
    )
    assert broken_zstd.status_code == 400
    unknown_encoding = _initialize(
        api, key, None, raw=b"{}", headers={"Content-Encoding": "compress"}
    )
    assert unknown_encoding.status_code == 415
    assert api.get("/v1/initialize", headers={"STATSIG-API-KEY": key}).status_code == 405


def test_initialize__browser_preflight__cors_allowed(api, world):
    response = api.request(
        "OPTIONS",
        "/v1/initialize",
        headers={
            "Origin": "https://shop.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] in {"*", "https://shop.example"}
    assert "POST" in response["Access-Control-Allow-Methods"]


def test_initialize__behind_a_proxy__country_of_the_forwarded_address(api, world, staff_gate):
    response = _initialize(
        api,
        world.keys["client"],
        {"user": {"userID": "1"}, "hash": "none"},
        headers={"X-Forwarded-For": "81.2.69.160, 10.0.0.1"},
    )
    assert response.status_code == 200
    assert response.json()["derived_fields"] == {"ip": "81.2.69.160", "country": "GB"}
