"""Terraform-shaped round trips (issue 18): for every core resource, the bodies the official
Terraform provider sends (its Go API models, marshalled as Go does: omitempty fields left out,
``targetValue`` always a list of strings, a new rule's ``id`` ""), through create -> read back
equals what was sent -> update -> read back -> delete. Layers and holdouts, which the provider
does not manage, use the shapes of Statsig's console API documentation."""

from __future__ import annotations

import copy

import pytest

from tests.parity.readback import assert_read_back

# A new rule is sent with "id": "" and gets its id from the server.
RULE_IDS = frozenset({"id"})

ALL_CONDITIONS = [
    {"targetValue": [], "operator": "", "type": "public"},
    {"targetValue": ["1", "2"], "operator": "any", "type": "user_id"},
    {
        "targetValue": ["@outlook.com", "@gmail.com"],
        "operator": "str_contains_any",
        "type": "email",
    },
    {"targetValue": ["31"], "operator": "gt", "field": "age", "type": "custom_field"},
    {"targetValue": ["1.1.1"], "operator": "version_gt", "type": "app_version"},
    {"targetValue": ["Firefox", "Chrome"], "operator": "any", "type": "browser_name"},
    {
        "targetValue": ["94.0.4606.81", "94.0.4606.92"],
        "operator": "any",
        "type": "browser_version",
    },
    {"targetValue": ["Android", "Windows"], "operator": "none", "type": "os_name"},
    {"targetValue": ["11.0.0"], "operator": "version_lte", "type": "os_version"},
    {"targetValue": ["NZ", "US"], "operator": "any", "type": "country"},
    {"targetValue": ["my_gate_2"], "operator": "", "type": "passes_gate"},
    {"targetValue": ["a_failing_gate"], "operator": "", "type": "fails_gate"},
    {"targetValue": ["1643070357193"], "operator": "after", "type": "time"},
    {"targetValue": ["production"], "operator": "any", "type": "environment_tier"},
    {"targetValue": ["growth_org"], "operator": "", "type": "passes_segment"},
    {"targetValue": ["promo_id_list"], "operator": "", "type": "fails_segment"},
    {"targetValue": ["1.1.1.1", "8.8.8.8"], "operator": "any", "type": "ip_address"},
]


def rules(*, with_values: bool = False) -> list[dict]:
    full = {
        "id": "",
        "name": "All Conditions",
        "passPercentage": 10,
        "conditions": copy.deepcopy(ALL_CONDITIONS),
        "environments": ["production"],
    }
    development = {
        "id": "",
        "name": "Development Conditions",
        "passPercentage": 10,
        "conditions": [{"targetValue": [], "operator": "", "type": "public"}],
        "environments": ["development"],
    }
    if with_values:
        full.update(returnValue={"color": "red"}, returnValueJson5="{color: 'red'}")
        development.update(returnValue={"color": "green"}, returnValueJson5="")
    return [full, development]


@pytest.fixture
def referenced(capi):
    """The gates and segments the provider's full examples point at."""
    for gate in ("my_gate_2", "a_failing_gate"):
        assert capi.post("gates", {"name": gate, "idType": "userID"}).status_code == 201
    for segment, kind in (("growth_org", "rule_based"), ("promo_id_list", "id_list")):
        response = capi.post("segments", {"name": segment, "type": kind, "idType": "userID"})
        assert response.status_code == 201, response.json()


def planned(body):
    """What the provider plans to read back: it sends null for an attribute the configuration
    leaves out, and "" for ``returnValueJson5``/``defaultValueJson5`` when it has none; those
    attributes are computed, so the server may fill them in."""
    if isinstance(body, dict):
        return {
            key: planned(value)
            for key, value in body.items()
            if value is not None and not (key.endswith("Json5") and value == "")
        }
    if isinstance(body, list):
        return [planned(item) for item in body]
    return body


def round_trip(capi, path, created_body, updated_body, *, update="patch", computed=RULE_IDS):
    created = capi.post(path, created_body)
    assert created.status_code in (200, 201), created.json()
    entity_id = created.json()["data"]["id"]
    expected = planned(created_body)
    assert_read_back(expected, created.json()["data"], computed=computed)
    assert_read_back(expected, capi.get(f"{path}/{entity_id}").json()["data"], computed=computed)

    changed = getattr(capi, update)(f"{path}/{entity_id}", {**updated_body, "id": entity_id})
    assert changed.status_code == 200, changed.json()
    read = capi.get(f"{path}/{entity_id}").json()["data"]
    assert_read_back(planned(updated_body), read, computed=computed)

    deleted = capi.delete(f"{path}/{entity_id}")
    assert deleted.status_code == 200, deleted.json()
    assert capi.get(f"{path}/{entity_id}").status_code == 404
    return read


def test_gate__full_example(capi, referenced):
    body = {
        "name": "full_gate",
        "idType": "userID",
        "description": "A short description of what this Gate is used for.",
        "isEnabled": True,
        "isTemplate": True,
        "rules": rules(),
        "tags": [],
        "team": "Growth",
    }
    updated = {
        **body,
        "isEnabled": False,
        "rules": rules()[:1],
        "type": "TEMPORARY",
        "measureMetricLifts": False,
        "monitoringMetrics": [{"name": "checkout", "type": "event_count"}],
        "targetApps": ["web"],
    }
    updated["rules"][0]["passPercentage"] = 50

    round_trip(capi, "gates", body, updated)


def test_gate__simple_example(capi):
    body = {
        "name": "simple_gate",
        "idType": "userID",
        "description": "A short description of what Another Gate is used for.",
        "isEnabled": False,
        "creatorID": "user_42",
        "creatorEmail": "owner@example.com",
        "rules": [
            {
                "id": "",
                "name": "All Conditions",
                "passPercentage": 10,
                "conditions": [{"targetValue": None, "operator": "", "type": "public"}],
            }
        ],
    }

    round_trip(capi, "gates", body, {**body, "description": "Now described."})


def test_dynamic_config__full_example(capi, referenced):
    body = {
        "id": "my_dynamic_config",
        "name": "my_dynamic_config",
        "idType": "userID",
        "description": "A short description of what this Dynamic Config is used for.",
        "isEnabled": True,
        "isTemplate": True,
        "creatorEmail": "owner@example.com",
        "rules": rules(with_values=True),
        "defaultValue": {"color": "blue", "size": 3},
        "defaultValueJson5": "{\n  color: 'blue', // the default\n  size: 3,\n}",
    }
    updated = {
        **body,
        "defaultValue": {"color": "white"},
        "defaultValueJson5": "",
        "rules": rules(with_values=True)[1:],
    }

    read = round_trip(capi, "dynamic_configs", body, updated)

    # An empty JSON5 text means "none sent": the value is read back as JSON.
    assert read["defaultValueJson5"] != ""


EXPERIMENT_SETTINGS = {
    # Sent by the provider whatever the configuration (no omitempty in its model).
    "bonferroniCorrection": False,
    "primaryMetrics": [],
    "secondaryMetrics": [],
    "duration": 14,
    "targetExposures": 10000,
    "sequentialTesting": True,
    "links": [{"url": "https://example.com/brief", "title": "Brief"}],
    "primaryMetricTags": [],
    "secondaryMetricTags": [],
    "tags": [],
    "targetApps": [],
    "team": "Growth",
}


def test_experiment__simple_example_then_started_and_shipped(capi):
    body = {
        "allocation": 10,
        "description": "A short description of what this Experiment is used for.",
        "groups": [
            {"name": "Test", "size": 50, "parameterValues": {"a_string": "test"}},
            {"name": "Control", "size": 50, "parameterValues": {"a_string": "control"}},
        ],
        "hypothesis": "",
        "idType": "userID",
        "name": "simple_experiment",
        **EXPERIMENT_SETTINGS,
    }
    created = capi.post("experiments", body)
    assert created.status_code == 201, created.json()
    assert_read_back(body, capi.get("experiments/simple_experiment").json()["data"])

    # Terraform starts the experiment by sending the whole body with the new status...
    started = {**body, "id": "simple_experiment", "status": "active", "duration": 21}
    response = capi.patch("experiments/simple_experiment", started)
    assert response.status_code == 200, response.json()
    assert_read_back(started, capi.get("experiments/simple_experiment").json()["data"])

    # ...and ships a group the same way.
    test_group = next(g for g in response.json()["data"]["groups"] if g["name"] == "Test")
    shipped = {**started, "status": "decision_made", "launchedGroupID": test_group["id"]}
    response = capi.patch("experiments/simple_experiment", shipped)
    assert response.status_code == 200, response.json()
    assert_read_back(shipped, capi.get("experiments/simple_experiment").json()["data"])

    assert capi.delete("experiments/simple_experiment").status_code == 200
    assert capi.get("experiments/simple_experiment").status_code == 404


def test_experiment__round_trip_in_setup(capi):
    body = {
        "allocation": 50,
        "description": "",
        "groups": [
            {"name": "Control", "size": 34, "parameterValues": {}},
            {"name": "Blue", "size": 33, "parameterValues": {}},
            {"name": "Green", "size": 33, "parameterValues": {}},
        ],
        "hypothesis": "Colours matter",
        "idType": "stableID",
        "name": "colours",
        "controlGroupID": "Control",
        **EXPERIMENT_SETTINGS,
        "primaryMetrics": [{"name": "checkout", "type": "event_count"}],
        "bonferroniCorrection": True,
        "defaultConfidenceInterval": "90",
    }
    created = capi.post("experiments", body)
    assert created.status_code == 201, created.json()
    # controlGroupID is sent as a group name and read back as that group's id.
    control = next(g for g in created.json()["data"]["groups"] if g["name"] == "Control")
    assert created.json()["data"]["controlGroupID"] == control["id"]
    sent = {key: value for key, value in body.items() if key != "controlGroupID"}
    round_trip_update = {**sent, "allocation": 100, "hypothesis": "Colours matter a lot"}

    response = capi.patch("experiments/colours", {**round_trip_update, "id": "colours"})

    assert response.status_code == 200, response.json()
    assert_read_back(round_trip_update, capi.get("experiments/colours").json()["data"])
    assert capi.delete("experiments/colours").status_code == 200


def test_layer__documented_shapes(capi):
    body = {
        "name": "checkout_layer",
        "description": "Experiments on the checkout page",
        "idType": "userID",
        "parameters": [
            {"name": "button_text", "type": "string", "defaultValue": "Buy"},
            {"name": "discount", "type": "number", "defaultValue": 0},
        ],
        "tags": [],
    }
    updated = {
        "description": "Checkout experiments",
        "parameters": [{"name": "button_text", "type": "string", "defaultValue": "Buy now"}],
    }

    round_trip(capi, "layers", body, updated)


def test_holdout__documented_shapes(capi):
    capi.post("gates", {"name": "held_gate", "idType": "userID"})
    body = {
        "name": "quarterly_holdout",
        "description": "Held out of every launch this quarter",
        "idType": "userID",
        "passPercentage": 5,
        "isEnabled": True,
        "isGlobal": False,
        "gateIDs": ["held_gate"],
    }
    updated = {"description": "Held out", "passPercentage": 2, "gateIDs": []}

    round_trip(capi, "holdouts", body, updated)


def test_segment__rule_based_example_then_rules_replaced(capi, referenced):
    segment_rules = [
        {
            "id": "",
            "name": "All Conditions",
            "passPercentage": 10,
            "conditions": [
                c
                for c in copy.deepcopy(ALL_CONDITIONS)
                if c["type"] not in ("public", "time") and not c["type"].endswith("_gate")
            ],
            "environments": ["production"],
        }
    ]
    body = {
        "name": "Rule Based Segment",
        "idType": "userID",
        "description": "A short description of this rule based segment",
        "isEnabled": True,
        "rules": segment_rules,
        "type": "rule_based",
        "createdTime": 0,
        "holdoutIDs": None,
    }
    sent = {key: value for key, value in body.items() if key not in ("createdTime", "holdoutIDs")}
    created = capi.post("segments", body)
    assert created.status_code == 201, created.json()
    segment_id = created.json()["data"]["id"]
    assert_read_back(sent, capi.get(f"segments/{segment_id}").json()["data"], computed=RULE_IDS)

    # Terraform updates a segment by replacing its rules.
    new_rules = [{**segment_rules[0], "passPercentage": 100, "environments": None}]
    replaced = capi.post(f"segments/{segment_id}/conditional", {"rules": new_rules})
    assert replaced.status_code == 200, replaced.json()
    read = capi.get(f"segments/{segment_id}").json()["data"]
    assert_read_back({"rules": new_rules}, read, computed=RULE_IDS)

    assert capi.delete(f"segments/{segment_id}").status_code == 200
    assert capi.get(f"segments/{segment_id}").status_code == 404
