"""Statsig's documented example requests (the ``example`` bodies of the Console API spec,
``statsig-io/docs`` ``console-api/capiopenapi.json``, see ``../shared/reference/statsig.md`` §0)
replayed against our server: automation written from those docs works with the base URL
changed. Ids Statsig's examples take from their own project (rule ids, group ids) are replaced
by ours; everything else is sent as documented."""

from __future__ import annotations

import pytest

# GateCreateDto example (every condition type of the Rules doc).
GATE_CREATE_EXAMPLE = {
    "name": "a_verbose_gate",
    "idType": "userID",
    "isEnabled": False,
    "description": "helpful summary of what this gate does",
    "lastModifierName": "CONSOLE API",
    "lastModifierID": "5rfuqoxLIYTscuSaaCOlB8",
    "targetApps": ["my_app"],
    "team": "team",
    "rules": [
        {
            "name": "All Conditions",
            "passPercentage": 10,
            "conditions": [
                {"type": "public"},
                {"type": "user_id", "targetValue": ["111", "222"], "operator": "any"},
                {
                    "type": "email",
                    "targetValue": ["@outlook.com", "@gmail.com"],
                    "operator": "str_contains_any",
                },
                {"type": "custom_field", "targetValue": 31, "operator": "gt", "field": "age"},
                {"type": "app_version", "targetValue": "1.1.1", "operator": "version_gt"},
                {"type": "browser_name", "targetValue": ["Android", "Chrome"], "operator": "any"},
                {
                    "type": "browser_version",
                    "targetValue": ["94.0.4606.81", "94.0.4606.92"],
                    "operator": "any",
                },
                {"type": "os_name", "targetValue": ["Android", "Windows"], "operator": "none"},
                {"type": "os_version", "targetValue": "11.0.0", "operator": "version_lte"},
                {"type": "country", "targetValue": ["NZ", "US"], "operator": "any"},
                {"type": "passes_gate", "targetValue": "my_gate_2"},
                {"type": "fails_gate", "targetValue": "my_gate_2"},
                {"type": "time", "targetValue": 1643070357193, "operator": "after"},
                {"type": "environment_tier", "targetValue": ["production"], "operator": "any"},
                {"type": "passes_segment", "targetValue": "growth_org"},
                {"type": "fails_segment", "targetValue": "growth_org"},
                {"type": "ip_address", "targetValue": ["1.1.1.1", "8.8.8.8"], "operator": "any"},
            ],
            "environment": None,
        }
    ],
    "checksPerHour": 0,
    "tags": [],
    "monitoringMetrics": [{"name": "dau", "type": "user"}],
}

# GateFullUpdateDto example.
GATE_FULL_UPDATE_EXAMPLE = {
    "isEnabled": False,
    "description": "Updated Gate Description",
    "rules": [
        {
            "name": "All Conditions",
            "passPercentage": 10,
            "conditions": [
                {"type": "user_id", "targetValue": ["111", "222"], "operator": "any"},
                {
                    "type": "email",
                    "targetValue": ["@outlook.com", "@gmail.com"],
                    "operator": "str_contains_any",
                },
                {"type": "custom_field", "targetValue": 31, "operator": "gt", "field": "age"},
                {"type": "app_version", "targetValue": "1.1.1", "operator": "version_gt"},
                {"type": "browser_name", "targetValue": ["Android", "Chrome"], "operator": "any"},
                {
                    "type": "browser_version",
                    "targetValue": ["94.0.4606.81", "94.0.4606.92"],
                    "operator": "any",
                },
                {"type": "os_name", "targetValue": ["Android", "Windows"], "operator": "none"},
                {"type": "os_version", "targetValue": "11.0.0", "operator": "version_lte"},
                {"type": "country", "targetValue": ["NZ", "US"], "operator": "any"},
                {"type": "environment_tier", "targetValue": ["production"], "operator": "any"},
                {"type": "passes_segment", "targetValue": "growth_org"},
                {"type": "fails_segment", "targetValue": "growth_org"},
                {"type": "ip_address", "targetValue": ["1.1.1.1", "8.8.8.8"], "operator": "any"},
                {"type": "unit_id", "operator": "any", "targetValue": ["31"], "customID": "userID"},
            ],
        }
    ],
    "tags": ["★ Core"],
    "type": "TEMPORARY",
    "idType": "stableID",
    "targetApps": [],
}

# GatePartialUpdateDto and RuleUpdateDto examples.
GATE_PARTIAL_UPDATE_EXAMPLE = {"description": "Updated the description of the gate"}
RULE_UPDATE_EXAMPLE = {
    "name": "All Conditions",
    "passPercentage": 10,
    "conditions": [
        {"type": "user_id", "targetValue": ["35sClJFs8l0y5uRQhDwUDo"], "operator": "any"}
    ],
    "environments": ["staging"],
}
GATE_OVERRIDES_EXAMPLE = {"passingUserIDs": ["passing-user"], "failingUserIDs": ["failing-user"]}

# ExperimentCreateDto example, then the fields of the documented create response.
EXPERIMENT_CREATE_EXAMPLE = {"name": "Test Experiment", "description": "Description test"}
EXPERIMENT_CREATE_FULL = {
    "name": "a_experiment",
    "description": "description",
    "idType": "userID",
    "hypothesis": "This will be a good feature :)",
    "primaryMetrics": [{"name": "d1_retention_rate", "type": "user"}],
    "groups": [
        {"name": "Control", "size": 50, "parameterValues": {"assigned_group": "control"}},
        {"name": "Test", "size": 50, "parameterValues": {"assigned_group": "test"}},
    ],
    "allocation": 100,
    "duration": 14,
    "targetingGateID": "",
    "defaultConfidenceInterval": "95",
    "bonferroniCorrection": False,
}
EXPERIMENT_ARCHIVE_EXAMPLE = {"archiveReason": "The experiment is no longer needed"}
EXPERIMENT_OVERRIDES_EXAMPLE = {
    "overrides": [
        {"type": "segment", "id": "a_segment", "groupID": "Control"},
        {"type": "gate", "id": "a_gate", "groupID": "Test"},
    ],
    "userIDOverrides": [
        {"groupID": "Control", "ids": ["updated_control_id_list"]},
        {"groupID": "Test", "ids": ["updated_test_id_list"]},
    ],
}

# LayerCreateContractDto (fields of the documented create response) and parameters from the
# documented layer list.
LAYER_CREATE_EXAMPLE = {
    "name": "the_best_layer",
    "description": "helpful summary of what this layer does",
    "idType": "userID",
    "targetApps": ["Android"],
    "team": "Console Team",
}
LAYER_PARAMETERS_EXAMPLE = [
    {"name": "ranking_model", "type": "string", "defaultValue": "4v2"},
    {"name": "test", "type": "string", "defaultValue": "randomtextfdafs"},
    {"name": "newparam", "type": "string", "defaultValue": ""},
    {"name": "test_object", "type": "object", "defaultValue": {"test": "hello"}},
]


@pytest.fixture
def segments(capi):
    for name in ("growth_org", "a_segment"):
        response = capi.post(
            "segments",
            {
                "name": name,
                "type": "rule_based",
                "rules": [
                    {
                        "name": "growth",
                        "passPercentage": 100,
                        "conditions": [
                            {
                                "type": "email",
                                "operator": "str_contains_any",
                                "targetValue": ["@growth"],
                            }
                        ],
                    }
                ],
            },
        )
        assert response.status_code == 201, response.json()


def test_gate_examples__create_full_update_partial_update_rule_update_overrides(capi, segments):
    assert capi.post("gates", {"name": "my_gate_2"}).status_code == 201

    created = capi.post("gates", GATE_CREATE_EXAMPLE)
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["message"] == "Gate created successfully."
    gate = body["data"]
    assert (gate["id"], gate["name"], gate["isEnabled"], gate["status"]) == (
        "a_verbose_gate",
        "a_verbose_gate",
        False,
        "Disabled",
    )
    assert gate["description"] == "helpful summary of what this gate does"
    conditions = gate["rules"][0]["conditions"]
    assert [c["type"] for c in conditions] == [
        c["type"] for c in GATE_CREATE_EXAMPLE["rules"][0]["conditions"]
    ]
    assert conditions[3] == {
        "type": "custom_field",
        "operator": "gt",
        "targetValue": 31,
        "field": "age",
        "customID": None,
    }
    assert gate["rules"][0]["passPercentage"] == 10

    updated = capi.post("gates/a_verbose_gate", GATE_FULL_UPDATE_EXAMPLE)
    assert updated.status_code == 200, updated.json()
    gate = updated.json()["data"]
    assert updated.json()["message"] == "Gate updated successfully."
    assert (gate["description"], gate["type"], gate["idType"], gate["tags"]) == (
        "Updated Gate Description",
        "TEMPORARY",
        "stableID",
        ["★ Core"],
    )
    assert gate["rules"][0]["conditions"][-1]["customID"] == "userID"

    patched = capi.patch("gates/a_verbose_gate", GATE_PARTIAL_UPDATE_EXAMPLE)
    assert patched.json()["data"]["description"] == "Updated the description of the gate"

    rule_id = gate["rules"][0]["id"]
    rule = capi.patch(
        f"gates/a_verbose_gate/rules/{rule_id}", {**RULE_UPDATE_EXAMPLE, "id": rule_id}
    )
    assert rule.status_code == 200, rule.json()
    assert rule.json()["data"]["rules"][0]["environments"] == ["staging"]

    overrides = capi.post("gates/a_verbose_gate/overrides", GATE_OVERRIDES_EXAMPLE)
    assert overrides.status_code == 201
    assert overrides.json()["data"]["passingUserIDs"] == ["passing-user"]

    assert capi.delete("gates/a_verbose_gate").json() == {"message": "Gate deleted successfully."}


def test_experiment_examples__create_decide_archive_overrides(capi, segments):
    minimal = capi.post("experiments", EXPERIMENT_CREATE_EXAMPLE)
    assert minimal.status_code == 201
    assert minimal.json()["data"]["id"] == "test_experiment"
    assert minimal.json()["data"]["description"] == "Description test"

    created = capi.post("experiments", EXPERIMENT_CREATE_FULL)
    assert created.status_code == 201, created.json()
    experiment = created.json()["data"]
    assert experiment["status"] == "setup"
    assert experiment["layerID"] is None
    assert experiment["targetingGateID"] == ""
    assert [(g["name"], g["size"], g["parameterValues"]) for g in experiment["groups"]] == [
        ("Control", 50, {"assigned_group": "control"}),
        ("Test", 50, {"assigned_group": "test"}),
    ]
    assert capi.post("gates", {"name": "a_gate"}).status_code == 201
    overrides = capi.post("experiments/a_experiment/overrides", EXPERIMENT_OVERRIDES_EXAMPLE)
    assert overrides.status_code == 200, overrides.json()
    assert [o["id"] for o in overrides.json()["data"]["overrides"]] == ["a_segment", "a_gate"]

    not_started = capi.put(
        "experiments/a_experiment/make_decision",
        {
            "id": "Control",
            "decisionReason": "Your reason for stopping early",
            "removeTargeting": False,
        },
    )
    assert not_started.status_code == 400
    assert not_started.json()["message"] == "Experiment has not yet started"

    assert capi.put("experiments/a_experiment/start").json() == {
        "message": "Experiment successfully started."
    }
    decided = capi.put(
        "experiments/a_experiment/make_decision",
        {
            "id": experiment["groups"][1]["id"],
            "decisionReason": "Your reason for stopping early",
            "removeTargeting": False,
        },
    )
    assert decided.json() == {"message": "Decision made for Experiment."}
    archived = capi.put("experiments/a_experiment/archive", EXPERIMENT_ARCHIVE_EXAMPLE)
    assert archived.json() == {"message": "Experiment successfully archived."}


def test_layer_examples__create_and_parameters(capi):
    created = capi.post("layers", LAYER_CREATE_EXAMPLE)
    assert created.status_code == 201, created.json()
    layer = created.json()["data"]
    assert created.json()["message"] == "Layer created successfully."
    assert (layer["id"], layer["description"], layer["isImplicitLayer"], layer["parameters"]) == (
        "the_best_layer",
        "helpful summary of what this layer does",
        False,
        [],
    )
    updated = capi.post(
        "layers/the_best_layer",
        {"description": "test description", "parameters": LAYER_PARAMETERS_EXAMPLE},
    )
    assert updated.status_code == 200, updated.json()
    assert updated.json()["data"]["parameters"] == LAYER_PARAMETERS_EXAMPLE
    listed = capi.get("layers?limit=3&page=1").json()
    assert listed["pagination"] == {
        "itemsPerPage": 3,
        "pageNumber": 1,
        "nextPage": None,
        "previousPage": None,
        "totalItems": 1,
        "all": "/console/v1/layers",
    }
