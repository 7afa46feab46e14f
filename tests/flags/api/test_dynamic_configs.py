"""``/console/v1/dynamic_configs``: every endpoint with the full response shape
(``DynamicConfigDto``), ``defaultValue``, per-rule ``returnValue`` and JSON Schema validation."""

from __future__ import annotations

import json
from unittest.mock import ANY

import pytest

from console.models import ApiKey, AuditLog

RULE = {
    "name": "Employees",
    "passPercentage": 100,
    "conditions": [
        {"type": "email", "operator": "str_contains_any", "targetValue": ["@example.com"]}
    ],
    "returnValue": {"color": "red"},
}
SCHEMA = {
    "type": "object",
    "properties": {"color": {"type": "string"}},
    "required": ["color"],
}


def expected_config(world, **overrides):
    key = ApiKey.objects.get(project=world.project, kind="console").public_id
    config = {
        "id": "a_dynamic_config",
        "name": "a dynamic config",
        "description": "",
        "idType": "userID",
        "lastModifierID": key,
        "lastModifiedTime": ANY,
        "lastModifierName": "CONSOLE API",
        "lastModifierEmail": None,
        "creatorID": key,
        "createdTime": ANY,
        "creatorName": "CONSOLE API",
        "creatorEmail": None,
        "targetApps": [],
        "holdoutIDs": [],
        "tags": [],
        "team": None,
        "teamID": None,
        "owner": {
            "ownerID": key,
            "ownerType": "SDK_KEY",
            "ownerName": "CONSOLE API",
            "ownerEmail": "",
        },
        "version": 1,
        "reviewSettings": {"requiredReview": False, "allowedReviewers": []},
        "activeReview": None,
        "isEnabled": True,
        "status": "Enabled",
        "rules": [],
        "defaultValue": {},
        "defaultValueJson5": "{}",
        "schema": None,
        "schemaJson5": None,
        "checksPerHour": 0,
        "isTemplate": False,
        "releasePipelineID": None,
    }
    config.update(overrides)
    return config


def expected_rule(**overrides):
    rule = {
        "id": ANY,
        "baseID": ANY,
        "name": "Employees",
        "passPercentage": 100,
        "conditions": [
            {
                "type": "email",
                "operator": "str_contains_any",
                "targetValue": ["@example.com"],
                "field": None,
                "customID": None,
            }
        ],
        "environments": None,
        "completedAutomatedRollouts": [],
        "pendingAutomatedRollouts": [],
        "returnValue": {"color": "red"},
        "returnValueJson5": json.dumps({"color": "red"}, indent=2),
    }
    rule.update(overrides)
    return rule


@pytest.fixture
def config(capi):
    response = capi.post(
        "dynamic_configs",
        {"name": "a dynamic config", "defaultValue": {"color": "blue"}, "rules": [RULE]},
    )
    assert response.status_code == 201, response.json()
    return response.json()["data"]


def test_create__name_only__201_full_config(capi, world):
    response = capi.post("dynamic_configs", {"name": "a dynamic config"})
    assert response.status_code == 201
    assert response.json() == {
        "message": "Dynamic Config created successfully.",
        "data": expected_config(world),
    }


def test_create__default_value_rules_and_schema(capi, world):
    response = capi.post(
        "dynamic_configs",
        {
            "name": "a dynamic config",
            "defaultValue": {"color": "blue"},
            "rules": [RULE],
            "schema": json.dumps(SCHEMA),
        },
    )
    assert response.status_code == 201
    assert response.json()["data"] == expected_config(
        world,
        defaultValue={"color": "blue"},
        defaultValueJson5=json.dumps({"color": "blue"}, indent=2),
        rules=[expected_rule()],
        schema=json.dumps(SCHEMA),
        schemaJson5=json.dumps(SCHEMA),
    )


def test_create__value_violates_schema__400_names_the_value(capi):
    response = capi.post(
        "dynamic_configs",
        {
            "name": "a dynamic config",
            "schema": SCHEMA,
            "defaultValue": {"color": "blue"},
            "rules": [{**RULE, "returnValue": {"color": 3}}],
        },
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["property"] == "rules[0].returnValue.color"


def test_read_list_update_delete(capi, world, config):
    read = capi.get("dynamic_configs/a_dynamic_config")
    assert read.json()["message"] == "Dynamic config read successfully."
    assert read.json()["data"] == config

    listed = capi.get("dynamic_configs").json()
    assert listed["message"] == "Dynamic Configs listed successfully."
    assert [c["id"] for c in listed["data"]] == ["a_dynamic_config"]
    assert listed["pagination"]["totalItems"] == 1

    patched = capi.patch("dynamic_configs/a_dynamic_config", {"defaultValue": {"color": "green"}})
    assert patched.status_code == 200
    assert patched.json()["message"] == "Dynamic config updated successfully."
    assert patched.json()["data"]["defaultValue"] == {"color": "green"}
    assert patched.json()["data"]["version"] == 2

    full = capi.post(
        "dynamic_configs/a_dynamic_config",
        {"isEnabled": False, "description": "off", "rules": []},
    )
    assert full.status_code == 200
    assert (full.json()["data"]["status"], full.json()["data"]["rules"]) == ("Disabled", [])

    deleted = capi.delete("dynamic_configs/a_dynamic_config")
    assert deleted.json() == {"message": "Dynamic Config deleted successfully."}
    assert capi.get("dynamic_configs/a_dynamic_config").json() == {
        "status": 404,
        "message": "Dynamic config not found.",
    }


@pytest.mark.parametrize(
    ("verb", "status"), [("disable", "Disabled"), ("enable", "Enabled"), ("archive", "Archived")]
)
def test_lifecycle_verbs(capi, config, verb, status):
    response = capi.put(f"dynamic_configs/a_dynamic_config/{verb}")
    assert response.status_code == 200
    assert response.json()["message"] == "Dynamic config updated successfully."
    assert response.json()["data"]["status"] == status


def test_unarchive(capi, config):
    capi.put("dynamic_configs/a_dynamic_config/archive")
    response = capi.put("dynamic_configs/a_dynamic_config/unarchive", {})
    assert response.json()["data"]["status"] == "Enabled"


def test_rules__read_one_patch_delete_add_replace(capi, config):
    rule_id = config["rules"][0]["id"]
    rules = capi.get("dynamic_configs/a_dynamic_config/rules")
    assert rules.json() == {
        "message": "Dynamic Config rules read successfully.",
        "data": {"rules": [expected_rule(id=rule_id, baseID=rule_id)]},
    }
    one = capi.get(f"dynamic_configs/a_dynamic_config/rule/{rule_id}")
    assert one.json() == {
        "message": "Dynamic Config rules read successfully.",
        "data": expected_rule(id=rule_id, baseID=rule_id),
    }
    assert capi.get("dynamic_configs/a_dynamic_config/rule/nope").status_code == 404

    patched = capi.patch(
        f"dynamic_configs/a_dynamic_config/rule/{rule_id}", {"returnValue": {"color": "pink"}}
    )
    assert patched.json()["message"] == "Dynamic Config rules updated successfully."
    assert patched.json()["data"]["rules"][0]["returnValue"] == {"color": "pink"}

    added = capi.post("dynamic_configs/a_dynamic_config/rule", {**RULE, "name": "Second"})
    assert added.json()["message"] == "Dynamic Config rules added successfully."
    assert [r["name"] for r in added.json()["data"]["rules"]] == ["Employees", "Second"]

    deleted = capi.delete(f"dynamic_configs/a_dynamic_config/rule/{rule_id}")
    assert deleted.json()["message"] == "Dynamic Config rule deleted successfully."
    assert [r["name"] for r in deleted.json()["data"]["rules"]] == ["Second"]

    replaced = capi.patch("dynamic_configs/a_dynamic_config/rules", {"rules": [RULE]})
    assert [r["name"] for r in replaced.json()["data"]["rules"]] == ["Employees"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "rule", RULE),
        ("patch", "rules", {"rules": [RULE]}),
        ("patch", "rule/{rule_id}", {"passPercentage": 50}),
        ("delete", "rule/{rule_id}", None),
    ],
)
def test_rule_endpoints__archived_config__400_names_status(capi, config, method, path, body):
    # Given an archived config
    capi.put("dynamic_configs/a_dynamic_config/archive")
    rule_path = path.format(rule_id=config["rules"][0]["id"])

    # When a rule endpoint changes its rules
    response = getattr(capi, method)(f"dynamic_configs/a_dynamic_config/{rule_path}", body)

    # Then it is refused, naming the state, and the rules stay as they were
    assert response.status_code == 400
    assert response.json()["message"] == "Dynamic config is archived: unarchive it first."
    assert response.json()["errors"][0]["property"] == "status"
    rules = capi.get("dynamic_configs/a_dynamic_config/rules").json()["data"]["rules"]
    assert [(r["id"], r["passPercentage"]) for r in rules] == [(config["rules"][0]["id"], 100)]


def test_rule_add__value_violates_schema__400_names_the_rule_sent(capi, config):
    capi.patch("dynamic_configs/a_dynamic_config", {"schema": SCHEMA})

    response = capi.post(
        "dynamic_configs/a_dynamic_config/rule", {**RULE, "returnValue": {"color": 3}}
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["property"] == "rule.returnValue.color"


def test_update__rules_only__audited_as_a_rules_change(capi, config):
    capi.patch("dynamic_configs/a_dynamic_config", {"rules": []})
    capi.patch("dynamic_configs/a_dynamic_config", {"rules": [RULE], "description": "back"})

    actions = AuditLog.objects.filter(entity_id="a_dynamic_config").order_by("id")
    assert list(actions.values_list("action_type", flat=True)) == [
        "config_create",
        "config_conditions_update",
        "config_update",
    ]
