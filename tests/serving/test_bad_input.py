"""The evaluation endpoints refuse, at the door and by the same rules, a user the store could
not keep (a lone UTF-16 surrogate, NUL, NaN or Infinity, nesting deeper than ``wire.MAX_DEPTH``):
a 4xx naming the field, never a 200 that leaves an unstorable exposure behind, never a 500.
Also: environment-limited keys on ``/flags`` and ``/decide``, a flag that fails to evaluate,
``sinceTime``, ``Range`` and file ids, unknown paths and bodies over the limit, the public
address of ID-list files, and secrets kept out of the logs."""

from __future__ import annotations

import logging

import pytest

from console.models import Role
from console.services.api_keys import api_key_create
from console.wire import Application
from console.wsgi import django_application
from events import exposures
from flags.services.gates import gate_create
from serving.routes import ROUTES
from tests.events.rulesets import payload
from tests.segments.conftest import id_list
from tests.wire_client import WireClient

DEEP = '{"a":' * 600 + "1" + "}" * 600

# (raw JSON of the user, the field the refusal names)
BAD_USERS = [
    ('{"userID": "x\\ud800"}', "user.userID"),
    ('{"userID": "a\\u0000b"}', "user.userID"),
    ('{"userID": "1", "custom": {"deep": ' + DEEP + "}}", "user.custom.deep"),
    ('{"userID": "1", "custom": {"score": NaN}}', "user.custom.score"),
    ('{"userID": "1", "custom": {"score": Infinity}}', "user.custom.score"),
    ('{"userID": "1", "custom": {"score": 1e400}}', "user.custom.score"),
    ('{"userID": "1", "custom": {"tags": ["ok", "\\u0000"]}}', "user.custom.tags[1]"),
    ('{"userID": "1", "customIDs": {"companyID": "\\udc00"}}', "user.customIDs.companyID"),
    ('{"userID": "1", "privateAttributes": {"email": "\\ud83d"}}', "user.privateAttributes.email"),
]
ENDPOINTS = [
    ("check_gate", '"gateName": "everyone"'),
    ("check_gate", '"gateNames": ["everyone", "pricing"]'),
    ("get_config", '"configName": "pricing"'),
    ("get_layer", '"layerName": "any_layer"'),
]


@pytest.fixture
def served(world, served_ruleset):
    return served_ruleset(world.project)


def buffered_exposures() -> int:
    return exposures.local_buffer_size() + (
        exposures.queue_length() if exposures.redis_enabled() else 0
    )


@pytest.mark.parametrize(("user", "field"), BAD_USERS, ids=[f for _u, f in BAD_USERS])
@pytest.mark.parametrize(("path", "rest"), ENDPOINTS, ids=["gate", "gates", "config", "layer"])
def test_evaluation__unstorable_user__400_naming_the_field_and_no_exposure(
    api, world, served, path, rest, user, field
):
    # When an SDK sends a user the store could not keep
    raw = f'{{"user": {user}, {rest}}}'.encode()
    response = api.post(f"/v1/{path}", raw=raw, key=world.keys["server"])

    # Then the answer is a 400 naming the field, and nothing waits to be stored
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["errors"][0]["property"].startswith(field)
    assert body["message"].startswith(field)
    assert buffered_exposures() == 0


@pytest.mark.parametrize(("user", "field"), BAD_USERS, ids=[f for _u, f in BAD_USERS])
def test_initialize__unstorable_user__400_naming_the_field(api, world, served, user, field):
    response = api.post(
        "/v1/initialize", raw=f'{{"user": {user}}}'.encode(), key=world.keys["client"]
    )
    assert response.status_code == 400, response.content
    assert response.json()["errors"][0]["property"].startswith(field)


def test_initialize__stable_id_with_nul__400_naming_it(api, world, served):
    body = {"user": {"userID": "1"}, "statsigMetadata": {"stableID": "a\x00b"}}
    response = api.post("/v1/initialize", body, key=world.keys["client"])
    assert response.status_code == 400
    assert response.json()["errors"][0]["property"] == "statsigMetadata.stableID"


@pytest.mark.parametrize("route", ["/decide/?v=3", "/flags/?v=2"])
@pytest.mark.parametrize(
    ("fields", "attr"),
    [
        ('"distinct_id": "x\\ud800"', "distinct_id"),
        ('"distinct_id": "a\\u0000"', "distinct_id"),
        ('"distinct_id": "1", "person_properties": {"plan": NaN}', "person_properties.plan"),
        (
            '"distinct_id": "1", "person_properties": {"deep": ' + DEEP + "}",
            "person_properties.deep",
        ),
        ('"distinct_id": "1", "groups": {"company": "\\udfff"}', "groups.company"),
        ('"distinct_id": "1", "group_properties": {"c": {"n": "\\u0000"}}', "group_properties.c.n"),
        ('"distinct_id": "1", "$device_id": "d\\u0000"', "device_id"),
    ],
    ids=lambda value: value[-30:],
)
def test_flags__unstorable_user__400_naming_the_attr(api, world, served, route, fields, attr):
    raw = f'{{"token": "{world.keys["client"]}", {fields}}}'.encode()
    response = api.post(route, raw=raw)
    assert response.status_code == 400, response.content
    body = response.json()
    assert (body["type"], body["code"]) == ("validation_error", "malformed_data")
    assert body["attr"].startswith(attr)


@pytest.mark.parametrize("name", ["every\x00one", ""])
def test_check_gate__nul_or_empty_gate_name__400_naming_it(api, world, served, name):
    response = api.post(
        "/v1/check_gate", {"user": {"userID": "1"}, "gateName": name}, key=world.keys["server"]
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["property"] == "gateName"
    response = api.post(
        "/v1/check_gate",
        {"user": {"userID": "1"}, "gateNames": ["everyone", name]},
        key=world.keys["server"],
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["property"] == "gateNames[1]"


# -- environment-limited keys on the PostHog flag endpoints --------------------------------------


@pytest.fixture
def development_gate(world, committed):
    with committed():
        gate_create(
            project=world.project,
            actor=world.actor(Role.MEMBER),
            name="Dev only",
            rules=[{"name": "Dev", "passPercentage": 100, "environments": ["development"]}],
        )


@pytest.mark.parametrize("route", ["/decide/?v=3", "/flags/?v=1"])
def test_flags__key_limited_to_development__evaluates_in_development(
    api, world, development_gate, route
):
    # Given a client key limited to development, and the project's unrestricted client key
    _key, development_key = api_key_create(
        project=world.project,
        actor=world.actor(Role.ADMIN),
        kind="client",
        environments=["development"],
    )

    def flag(token: str) -> bool:
        response = api.post(route, {"token": token, "distinct_id": "someone"})
        assert response.status_code == 200
        return response.json()["featureFlags"]["dev_only"]

    # Then the limited key gets the development rules, as /v1/check_gate gives them
    assert flag(development_key) is True
    assert flag(world.keys["client"]) is False
    response = api.post(
        "/v1/check_gate",
        {"user": {"userID": "someone"}, "gateName": "dev_only"},
        key=development_key,
    )
    assert response.json()["value"] is True


# -- a flag that fails to evaluate ---------------------------------------------------------------


@pytest.fixture
def broken_flag(world, served_ruleset):
    body = payload()
    body["feature_gates"].append(
        {
            "name": "broken_flag",
            "type": "feature_gate",
            "salt": "broken",
            "enabled": True,
            "defaultValue": False,
            "idType": "userID",
            "entity": "feature_gate",
            "rules": [
                {
                    "name": "r",
                    "id": "r",
                    "salt": "r",
                    "passPercentage": 100,
                    "returnValue": True,
                    "idType": "userID",
                    "conditions": [{"type": "no_such_condition", "operator": "any"}],
                }
            ],
        }
    )
    return served_ruleset(world.project, body)


@pytest.mark.parametrize("route", ["/decide/?v=3", "/flags/?v=1"])
def test_flags_legacy_shape__flag_fails_to_evaluate__listed_false_with_errors(
    api, world, broken_flag, route
):
    response = api.post(route, {"token": world.keys["client"], "distinct_id": "1"})
    assert response.status_code == 200
    body = response.json()
    assert body["featureFlags"]["broken_flag"] is False
    assert body["featureFlags"]["everyone"] is True
    assert "broken_flag" not in body["featureFlagPayloads"]
    assert body["errorsWhileComputingFlags"] is True


def test_flags_v2__flag_fails_to_evaluate__record_marked_failed(api, world, broken_flag):
    response = api.post("/flags/?v=2", {"token": world.keys["client"], "distinct_id": "1"})
    record = response.json()["flags"]["broken_flag"]
    assert (record["enabled"], record["failed"]) == (False, True)
    assert response.json()["errorsWhileComputingFlags"] is True


# -- query parameters, headers and paths ---------------------------------------------------------


@pytest.mark.parametrize("since", ["inf", "-inf", "nan", "1e999", "soon", "9" * 5000])
@pytest.mark.parametrize("version", ["v1", "v2"])
def test_download__unreadable_since_time__400_naming_it(api, world, served, since, version):
    response = api.get(
        f"/{version}/download_config_specs/{world.keys['server']}.json?sinceTime={since}"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["property"] == "sinceTime"


@pytest.mark.parametrize("since", ["inf", "-Infinity", "nan", "9" * 5000])
def test_initialize__unreadable_since_time__400_naming_it(api, world, served, since):
    response = api.post(
        "/v1/initialize",
        {"user": {"userID": "1"}, "sinceTime": since},
        key=world.keys["client"],
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["property"] == "sinceTime"


def test_id_list_file__huge_range_or_nul_file_id__4xx_naming_it(api, world):
    key = {"STATSIG-API-KEY": world.keys["server"]}
    response = api.get(
        "/v1/id_list_file/abc", headers={**key, "Range": "bytes=" + "9" * 5000 + "-"}
    )
    assert response.status_code == 416
    assert response.json()["errors"][0]["property"] == "Range"
    response = api.get("/v1/id_list_file/ab%00c", headers=key)
    assert response.status_code == 404
    assert response.json()["errors"][0]["property"] == "file_id"


@pytest.mark.parametrize("path", ["/v1/no_such_endpoint", "/v1/", "/v2/download_config_specs"])
def test_unknown_data_plane_path__json_404(api, path):
    response = api.post(path, {})
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["status"] == 404


@pytest.mark.parametrize(
    "path", ["/v1/log_event", "/v1/check_gate", "/v1/initialize", "/batch/", "/flags/"]
)
def test_body_over_the_limit__json_413(api, world, path):
    # 21 MiB: over every data-plane limit (log_event and /batch take 20 MB)
    raw = b'{"events": ["' + b"x" * (21 * 1024 * 1024) + b'"]}'
    key = world.keys["client" if path == "/v1/initialize" else "server"]
    response = api.post(path, raw=raw, key=key)
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert "limit" in response.content.decode()


# -- ID-list file URLs ---------------------------------------------------------------------------


def test_get_id_lists__public_url_set__file_urls_on_it_whatever_the_host(
    api, world, capi, settings
):
    # Given the server's public address, and an ID list
    settings.CONSOLE_PUBLIC_URL = "https://flags.example.com"
    settings.ALLOWED_HOSTS = ["*"]
    id_list(capi, "Beta", ["u1", "u2"])

    # When the manifest is asked for with a forged Host header
    response = api.post(
        "/v1/get_id_lists",
        {},
        key=world.keys["server"],
        headers={"Host": "attacker.example"},
    )

    # Then its file URL is on the public address
    assert response.status_code == 200
    url = response.json()["beta"]["url"]
    assert url.startswith("https://flags.example.com/v1/id_list_file/")
    assert "attacker" not in url


# -- secrets in logs -----------------------------------------------------------------------------


def test_access_log__download_with_secret_in_path__secret_masked(world, served, caplog):
    # Given the application with its access log on (manage.py serve --access-log)
    client = WireClient()
    client.application = Application(ROUTES, fallback=django_application, access_log=True)
    client._client.application = client.application
    secret = world.keys["server"]

    # When an SDK downloads with its secret in the URL, and one sends it in a query
    with caplog.at_level(logging.INFO, logger="console.access"):
        client.get(f"/v1/download_config_specs/{secret}.json")
        client.get(f"/v2/download_config_specs/{secret}.json")
        client.get(f"/v1/not_here/{secret}")

    # Then each request is logged, without the secret
    lines = [r.getMessage() for r in caplog.records if r.name == "console.access"]
    assert len(lines) == 3
    assert all(secret not in line for line in lines)
    assert "/v1/download_config_specs/***.json" in lines[0]


def test_django_server_log__secret_in_request_line__masked(world, caplog):
    # Django's development server logs each request line on django.server
    secret = world.keys["server"]
    logger = logging.getLogger("django.server")
    logger.addHandler(caplog.handler)  # it does not propagate to the root logger
    try:
        with caplog.at_level(logging.INFO, logger="django.server"):
            logger.info('"%s" %s', f"GET /v1/download_config_specs/{secret}.json HTTP/1.1", 200)
            logger.info('"%s" %s', f"GET /v1/rgstr?k={secret}&t=1 HTTP/1.1", 202)
    finally:
        logger.removeHandler(caplog.handler)
    lines = [record.getMessage() for record in caplog.records]
    assert lines == [
        '"GET /v1/download_config_specs/***.json HTTP/1.1" 200',
        '"GET /v1/rgstr?k=secret-***&t=1 HTTP/1.1" 202',
    ]


# -- a sweep over every data-plane route ---------------------------------------------------------

HUGE_INTEGER = "9" * 4299
SWEEP_BODIES = {
    "lone surrogate": '{"user": {"userID": "x\\ud800"}, "distinct_id": "x\\udfff", "events": '
    '[{"eventName": "e\\ud800", "user": {"userID": "1"}}], "event": "e", "batch": []}',
    "NaN and Infinity": '{"user": {"userID": "1", "custom": {"a": NaN}}, "sinceTime": Infinity, '
    '"events": [{"eventName": "e", "value": -Infinity, "user": {"userID": "1"}}]}',
    "deep": '{"user": {"userID": "1", "custom": ' + DEEP + '}, "events": [' + DEEP + "]}",
    "huge integer": '{"user": {"userID": '
    + HUGE_INTEGER
    + '}, "distinct_id": '
    + HUGE_INTEGER
    + ', "sinceTime": '
    + HUGE_INTEGER
    + "}",
    "NUL": '{"user": {"userID": "\\u0000"}, "gateName": "\\u0000", "configName": "\\u0000", '
    '"layerName": "\\u0000", "distinct_id": "\\u0000", "event": "\\u0000"}',
    "not an object": "[1, 2, 3]",
}


def _route_paths() -> list[tuple[str, str]]:
    from console.routes import DATA_PLANE_ROUTES

    paths = []
    for route in DATA_PLANE_ROUTES:
        path = route.path.replace("{sdk_key}", "SECRET").replace("{file_id}", "abc")
        for method in route.methods:
            if method != "HEAD":
                paths.append((method, path))
    return paths


@pytest.mark.parametrize("body", SWEEP_BODIES.values(), ids=SWEEP_BODIES.keys())
def test_every_data_plane_route__hostile_bodies__never_5xx_always_json(api, world, served, body):
    failures = []
    for method, path in _route_paths():
        path = path.replace("SECRET", world.keys["server"])
        for key in (world.keys["server"], world.keys["client"]):
            separator = "&" if "?" in path else "?"
            url = f"{path}{separator}token={key}&k={key}" if method == "GET" else path
            response = api.request(method, url, raw=body.encode(), headers={"STATSIG-API-KEY": key})
            is_json = (response.get("Content-Type") or "").startswith("application/json")
            if response.status_code >= 500 or (response.status_code != 204 and not is_json):
                failures.append((method, path, response.status_code, response.content[:120]))
    assert not failures, failures
