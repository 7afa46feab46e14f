"""Statsig's HTTP API and ``download_config_specs``: whole response shapes, JSON errors naming
the field, key kinds and environments, exposures, and no SQL after warm-up."""

from __future__ import annotations

import json

import pytest

from console.models import Role
from console.services.api_keys import api_key_create
from events.exposure_lines import ROW_FIELDS
from flags.services.configs import dynamic_config_create
from flags.services.experiments import experiment_create, experiment_start
from flags.services.gates import gate_create
from flags.services.layers import layer_create
from ruleset import load as ruleset_load

USER = {"userID": "42", "email": "ada@example.com"}


@pytest.fixture
def entities(world, committed):
    actor = world.actor(Role.MEMBER)
    with committed():
        gate = gate_create(
            project=world.project,
            actor=actor,
            name="Staff",
            rules=[
                {
                    "name": "Example staff",
                    "passPercentage": 100,
                    "conditions": [
                        {
                            "type": "email",
                            "operator": "str_ends_with_any",
                            "targetValue": ["@example.com"],
                        }
                    ],
                },
                {"name": "Dev", "passPercentage": 100, "environments": ["development"]},
            ],
        )
        gate_create(project=world.project, actor=actor, name="Off", is_enabled=False)
        config = dynamic_config_create(
            project=world.project,
            actor=actor,
            name="Pricing",
            default_value={"price": 10},
            rules=[
                {
                    "name": "Staff price",
                    "passPercentage": 100,
                    "conditions": [{"type": "passes_gate", "targetValue": "staff"}],
                    "returnValue": {"price": 0},
                }
            ],
        )
        layer_create(
            project=world.project,
            actor=actor,
            name="Checkout Layer",
            parameters=[{"name": "color", "type": "string", "defaultValue": "blue"}],
        )
        experiment = experiment_create(
            project=world.project,
            actor=actor,
            name="Colors",
            layer_id="checkout_layer",
            groups=[
                {"name": "Blue", "size": 0, "parameterValues": {"color": "blue"}},
                {"name": "Red", "size": 100, "parameterValues": {"color": "red"}},
            ],
        )
        experiment_start(project=world.project, actor=actor, experiment_id="colors")
    experiment.refresh_from_db()
    return {"gate": gate, "config": config, "experiment": experiment}


def _post(api, world, path, body, key="server"):
    return api.post(f"/v1/{path}", body, key=world.keys.get(key, key))


def test_check_gate__single__statsig_shape(api, world, entities):
    response = _post(api, world, "check_gate", {"user": USER, "gateName": "staff"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "name": "staff",
        "value": True,
        "rule_id": entities["gate"].rules[0]["id"],
        "group_name": "Example staff",
    }


def test_check_gate__many_names__array_in_the_order_asked(api, world, entities):
    response = _post(
        api, world, "check_gate", {"user": {"userID": "7"}, "gateNames": ["off", "ghost", "staff"]}
    )
    assert response.status_code == 200
    assert response.json() == [
        {"name": "off", "value": False, "rule_id": "disabled", "group_name": None},
        {"name": "ghost", "value": False, "rule_id": None, "group_name": None},
        {"name": "staff", "value": False, "rule_id": "default", "group_name": None},
    ]


def test_get_config__config_experiment_and_unknown__statsig_shapes(api, world, entities):
    config = _post(api, world, "get_config", {"user": USER, "configName": "pricing"}).json()
    rule_id = entities["config"].rules[0]["id"]
    assert config == {
        "name": "pricing",
        "value": {"price": 0},
        "group": rule_id,
        "rule_id": rule_id,
        "group_name": "Staff price",
    }
    experiment = _post(api, world, "get_config", {"user": USER, "configName": "colors"}).json()
    red = entities["experiment"].groups[1]
    assert experiment == {
        "name": "colors",
        "value": {"color": "red"},
        "group": red["id"],
        "rule_id": red["id"],
        "group_name": "Red",
    }
    unknown = _post(api, world, "get_config", {"user": USER, "configName": "ghost"})
    assert unknown.status_code == 200
    assert unknown.json() == {
        "name": "ghost",
        "value": {},
        "group": "",
        "rule_id": None,
        "group_name": None,
    }


def test_get_layer__known_and_unknown(api, world, entities):
    response = _post(api, world, "get_layer", {"user": USER, "layerName": "checkout_layer"})
    assert response.json() == {
        "name": "checkout_layer",
        "value": {"color": "red"},
        "ruleID": entities["experiment"].groups[1]["id"],
        "allocatedExperimentName": "colors",
    }
    missing = _post(api, world, "get_layer", {"user": USER, "layerName": "ghost"})
    assert missing.status_code == 404
    assert missing.json() == {
        "status": 404,
        "message": "Layer not found",
        "errors": [{"property": "layerName", "message": "Layer not found"}],
    }


@pytest.mark.parametrize(
    ("path", "body", "prop"),
    [
        ("check_gate", {"gateName": "staff"}, "user"),
        ("check_gate", {"user": "42", "gateName": "staff"}, "user"),
        ("check_gate", {"user": {"email": "a@b.c"}, "gateName": "staff"}, "user.userID"),
        (
            "check_gate",
            {"user": {"userID": "1", "customIDs": []}, "gateName": "staff"},
            "user.customIDs",
        ),
        ("check_gate", {"user": USER, "gateName": 5}, "gateName"),
        ("check_gate", {"user": USER}, "gateName"),
        ("check_gate", {"user": USER, "gateNames": ["g"] * 101}, "gateNames"),
        ("check_gate", {"user": USER, "gateNames": []}, "gateNames"),
        ("check_gate", {"user": USER, "gateNames": ["ok", 3]}, "gateNames[1]"),
        ("get_config", {"user": USER, "configName": ["pricing"]}, "configName"),
        ("get_layer", {"user": USER}, "layerName"),
    ],
)
def test_evaluation__bad_input__400_json_naming_the_field(api, world, entities, path, body, prop):
    response = _post(api, world, path, body)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    payload = response.json()
    assert payload["status"] == 400
    assert payload["errors"][0]["property"] == prop
    assert payload["message"]


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b'"text"'])
def test_evaluation__malformed_body__400_json(api, world, entities, raw):
    response = api.post("/v1/check_gate", key=world.keys["server"], raw=raw)
    assert response.status_code == 400
    assert response.json()["status"] == 400


def test_evaluation__keys__server_and_client_evaluate_others_401(api, world, entities):
    body = {"user": USER, "gateName": "staff"}
    assert _post(api, world, "check_gate", body, key="client").status_code == 200
    for key in ("console", "secret-nonsense", ""):
        response = _post(api, world, "check_gate", body, key=key)
        assert response.status_code == 401
        assert response.json()["status"] == 401
    assert api.post("/v1/check_gate", body).status_code == 401


def test_evaluation__get_method__405_json(api, world, entities):
    response = api.get("/v1/check_gate", key=world.keys["server"])
    assert response.status_code == 405
    assert response.json()["status"] == 405


def test_evaluation__key_limited_to_development__other_tiers_refused(api, world, entities):
    _key, secret = api_key_create(
        project=world.project,
        actor=world.actor(Role.ADMIN),
        kind="server",
        environments=["development"],
    )
    stranger = {"userID": "1"}

    # A user without a tier evaluates in the key's environment (the development-only rule passes)
    response = api.post("/v1/check_gate", {"user": stranger, "gateName": "staff"}, key=secret)
    assert response.json()["value"] is True
    # A user in another tier is refused, naming the field
    response = api.post(
        "/v1/check_gate",
        {"user": {**stranger, "statsigEnvironment": {"tier": "production"}}, "gateName": "staff"},
        key=secret,
    )
    assert response.status_code == 403
    assert response.json()["errors"][0]["property"] == "user.statsigEnvironment.tier"
    # And the SDK download names the key's environment as the default
    specs = api.get(f"/v1/download_config_specs/{secret}.json").json()
    assert specs["default_environment"] == "development"


def test_evaluation__exposures_buffered_unless_disabled(api, world, entities, monkeypatch):
    recorded: list[tuple[int, list[dict]]] = []

    def buffer(project_id: int, shared: dict, rows: list[tuple]) -> None:
        exposures = [{**shared, **dict(zip(ROW_FIELDS, row, strict=True))} for row in rows]
        recorded.append((project_id, exposures))

    monkeypatch.setattr("events.exposures.buffer_request_exposures", buffer)
    _post(
        api,
        world,
        "check_gate",
        {"user": {**USER, "privateAttributes": {"x": 1}}, "gateName": "staff"},
    )
    _post(api, world, "get_layer", {"user": USER, "layerName": "checkout_layer"})
    _post(
        api,
        world,
        "get_config",
        {
            "user": USER,
            "configName": "pricing",
            "statsigMetadata": {"exposureLoggingDisabled": True},
        },
    )
    assert [project_id for project_id, _ in recorded] == [world.project.id, world.project.id]
    gate_exposure = recorded[0][1][0]
    assert gate_exposure["kind"] == "gate"
    assert gate_exposure["name"] == "staff"
    assert gate_exposure["value"] is True
    assert gate_exposure["rule_id"] == entities["gate"].rules[0]["id"]
    assert gate_exposure["user"] == USER
    assert gate_exposure["environment"] == "production"
    assert gate_exposure["source"] == "statsig_http"
    assert gate_exposure["secondary_exposures"] == []
    layer_exposure = recorded[1][1][0]
    assert (layer_exposure["kind"], layer_exposure["allocated_experiment"]) == ("layer", "colors")
    # Nested gate checks show up as secondary exposures
    recorded.clear()
    _post(api, world, "get_config", {"user": USER, "configName": "pricing"})
    secondary = recorded[0][1][0]["secondary_exposures"]
    assert secondary == [
        {"gate": "staff", "gateValue": "true", "ruleID": entities["gate"].rules[0]["id"]}
    ]


def test_download_config_specs__get_post_since_time_and_client_key(api, world, entities):
    server = world.keys["server"]
    response = api.get(f"/v1/download_config_specs/{server}.json")
    assert response.status_code == 200
    specs = response.json()
    assert specs["has_updates"] is True
    assert {spec["name"] for spec in specs["feature_gates"]} == {"staff", "off"}
    assert {spec["name"] for spec in specs["dynamic_configs"]} == {"pricing", "colors"}
    assert specs["layers"] == {"checkout_layer": ["colors"]}
    stamp = specs["time"]

    unchanged = api.get(f"/v1/download_config_specs/{server}.json?sinceTime={stamp}")
    assert unchanged.json() == {"has_updates": False, "time": stamp}
    older = api.get(f"/v1/download_config_specs/{server}.json?sinceTime={stamp - 1}")
    assert older.json()["has_updates"] is True

    posted = api.post("/v1/download_config_specs", {"sinceTime": stamp}, key=server)
    assert posted.json() == {"has_updates": False, "time": stamp}
    assert api.post("/v1/download_config_specs", {}, key=server).json()["time"] == stamp

    for key in (world.keys["client"], world.keys["console"], "secret-unknown"):
        refused = api.get(f"/v1/download_config_specs/{key}.json")
        assert refused.status_code == 401
        assert refused.json()["status"] == 401


def test_evaluation__warm__no_sql(api, world, entities, settings, django_assert_num_queries):
    # Given a warm process (key and ruleset loaded)
    settings.RULESET_CHECK_INTERVAL_MS = 60_000
    server = world.keys["server"]
    assert _post(api, world, "check_gate", {"user": USER, "gateName": "staff"}).status_code == 200
    stamp = ruleset_load.current(world.project.id).time

    # Then every evaluation endpoint answers without a query
    with django_assert_num_queries(0):
        assert _post(api, world, "check_gate", {"user": USER, "gateName": "staff"}).json()["value"]
        many = _post(api, world, "check_gate", {"user": USER, "gateNames": ["staff", "off"]})
        assert len(many.json()) == 2
        assert (
            _post(api, world, "get_config", {"user": USER, "configName": "pricing"}).status_code
            == 200
        )
        assert (
            _post(
                api, world, "get_layer", {"user": USER, "layerName": "checkout_layer"}
            ).status_code
            == 200
        )
        body = api.get(f"/v1/download_config_specs/{server}.json").content
        assert json.loads(body)["time"] == stamp
        assert (
            api.get(f"/v1/download_config_specs/{server}.json?sinceTime={stamp}").status_code == 200
        )
