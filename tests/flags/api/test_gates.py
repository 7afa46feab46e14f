"""``/console/v1/gates``: every endpoint with the full response shape (Statsig's
``ExternalGateDto``, messages and status codes)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from unittest.mock import ANY

import pytest
import time_machine

from console.models import ApiKey, AuditLog
from flags.models import Gate

EMAIL_RULE = {
    "name": "Employees",
    "passPercentage": 100,
    "conditions": [
        {"type": "email", "operator": "str_contains_any", "targetValue": ["@example.com"]}
    ],
}


def expected_gate(world, **overrides):
    key = ApiKey.objects.get(project=world.project, kind="console").public_id
    gate = {
        "id": "a_gate",
        "name": "A Gate",
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
        "status": "In Progress",
        "type": "PERMANENT",
        "typeReason": "NONE",
        "rules": [],
        "checksPerHour": 0,
        "measureMetricLifts": True,
        "monitoringMetrics": [],
        "isTemplate": False,
        "releasePipelineID": None,
    }
    gate.update(overrides)
    return gate


def expected_rule(rule_id=ANY, **overrides):
    rule = {
        "id": rule_id,
        "baseID": rule_id,
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
    }
    rule.update(overrides)
    return rule


@pytest.fixture
def gate(capi):
    response = capi.post("gates", {"name": "A Gate", "rules": [EMAIL_RULE]})
    assert response.status_code == 201
    return response.json()["data"]


# -- create, read, list -----------------------------------------------------------------------


def test_create__name_only__201_full_gate(capi, world):
    response = capi.post("gates", {"name": "A Gate"})
    assert response.status_code == 201
    assert response.json() == {
        "message": "Gate created successfully.",
        "data": expected_gate(world),
    }
    body = response.json()["data"]
    assert isinstance(body["createdTime"], int)
    assert body["createdTime"] <= body["lastModifiedTime"]
    assert AuditLog.objects.filter(
        project=world.project, action_type="gate_create", entity_id="a_gate"
    ).exists()


def test_create__every_field__stored_and_returned(capi, world):
    response = capi.post(
        "gates",
        {
            "name": "Beta Users",
            "id": "beta",
            "description": "Beta testers",
            "isEnabled": False,
            "rules": [EMAIL_RULE],
            "tags": ["growth"],
            "type": "TEMPORARY",
            "idType": "stableID",
            "reviewSettings": {"requiredReview": True},
        },
    )
    assert response.status_code == 201
    assert response.json()["data"] == expected_gate(
        world,
        id="beta",
        name="Beta Users",
        description="Beta testers",
        isEnabled=False,
        status="Disabled",
        rules=[expected_rule()],
        tags=["growth"],
        type="TEMPORARY",
        idType="stableID",
        reviewSettings={"requiredReview": True, "allowedReviewers": []},
    )


def test_create__name_in_use__400_statsig_message(capi, gate):
    response = capi.post("gates", {"name": "a gate"})
    assert response.status_code == 400
    assert response.json() == {
        "status": 400,
        "message": "Name is already in use",
        "errors": [{"property": "name", "message": "Name is already in use"}],
    }


def test_create__bad_condition__400_names_the_field(capi):
    rule = {**EMAIL_RULE, "conditions": [{"type": "email", "operator": "gt", "targetValue": 1}]}
    response = capi.post("gates", {"name": "A Gate", "rules": [EMAIL_RULE, rule]})
    assert response.status_code == 400
    assert response.json()["errors"][0]["property"] == "rules[1].conditions[0].operator"


def test_create__wrong_types__400_names_each_field(capi):
    response = capi.post(
        "gates", {"name": "A Gate", "isEnabled": "maybe", "rules": [{"name": "r"}]}
    )
    assert response.status_code == 400
    properties = {e["property"] for e in response.json()["errors"]}
    assert properties == {"isEnabled", "rules[0].passPercentage", "rules[0].conditions"}


def test_read__200(capi, world, gate):
    response = capi.get("gates/a_gate")
    assert response.status_code == 200
    assert response.json() == {
        "message": "Gate read successfully.",
        "data": expected_gate(world, rules=[expected_rule(gate["rules"][0]["id"])]),
    }


def test_read__unknown__404(capi):
    response = capi.get("gates/nope")
    assert response.status_code == 404
    assert response.json() == {"status": 404, "message": "Gate not found."}


def test_list__pagination_and_filters(capi):
    for name, type_ in (
        ("Gate One", "PERMANENT"),
        ("Gate Two", "TEMPORARY"),
        ("Gate 3", "TEMPORARY"),
    ):
        assert (
            capi.post("gates", {"name": name, "type": type_, "tags": [type_.lower()]}).status_code
            == 201
        )

    response = capi.get("gates?limit=2&page=1")
    body = response.json()
    assert response.status_code == 200
    assert body["message"] == "Gates listed successfully."
    assert [g["id"] for g in body["data"]] == ["gate_3", "gate_two"]  # newest first
    assert body["pagination"] == {
        "itemsPerPage": 2,
        "pageNumber": 1,
        "nextPage": "/console/v1/gates?page=2&limit=2",
        "previousPage": None,
        "totalItems": 3,
        "all": "/console/v1/gates",
    }
    page2 = capi.get("gates?limit=2&page=2").json()
    assert [g["id"] for g in page2["data"]] == ["gate_one"]
    assert page2["pagination"]["nextPage"] is None
    assert page2["pagination"]["previousPage"] == "/console/v1/gates?page=1&limit=2"

    temporary = capi.get("gates?type=TEMPORARY").json()
    assert {g["id"] for g in temporary["data"]} == {"gate_two", "gate_3"}
    assert temporary["pagination"]["all"] == "/console/v1/gates?type=TEMPORARY"
    assert [g["id"] for g in capi.get("gates?tags=permanent").json()["data"]] == ["gate_one"]
    assert capi.get("gates?idType=stableID").json()["data"] == []
    assert capi.get("gates?status=In%20Progress").json()["pagination"]["totalItems"] == 3


def test_list__bad_limit__400(capi):
    response = capi.get("gates?limit=0")
    assert response.status_code == 400
    assert response.json()["errors"][0]["property"] == "limit"


# -- updates ----------------------------------------------------------------------------------


def test_full_update__missing_required__400(capi, gate):
    response = capi.post("gates/a_gate", {"description": "x"})
    assert response.status_code == 400
    assert {e["property"] for e in response.json()["errors"]} == {"isEnabled", "rules"}


def test_full_update__replaces_rules_and_settings(capi, world, gate):
    response = capi.post(
        "gates/a_gate",
        {"isEnabled": False, "description": "new", "rules": [], "tags": ["x"], "version": 1},
    )
    assert response.status_code == 200
    assert response.json() == {
        "message": "Gate updated successfully.",
        "data": expected_gate(
            world, description="new", isEnabled=False, status="Disabled", tags=["x"], version=2
        ),
    }


def test_full_update__stale_version__409(capi, gate):
    assert capi.patch("gates/a_gate", {"description": "first"}).status_code == 200
    response = capi.post(
        "gates/a_gate", {"isEnabled": True, "description": "stale", "rules": [], "version": 1}
    )
    assert response.status_code == 409
    assert response.json()["status"] == 409
    assert "version 1" in response.json()["message"]
    assert Gate.objects.get(slug="a_gate").description == "first"


def test_partial_update__only_given_fields_change(capi, world, gate):
    response = capi.patch("gates/a_gate", {"description": "Updated the description of the gate"})
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["description"] == "Updated the description of the gate"
    assert data["rules"] == gate["rules"]
    assert data["version"] == 2


@pytest.mark.parametrize(
    ("verb", "is_enabled", "status"),
    [("disable", False, "Disabled"), ("enable", True, "In Progress"), ("launch", True, "Launched")],
)
def test_lifecycle_verbs__gate_updated(capi, gate, verb, is_enabled, status):
    response = capi.put(f"gates/a_gate/{verb}")
    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "Gate updated successfully."
    assert (body["data"]["isEnabled"], body["data"]["status"]) == (is_enabled, status)


def test_archive_unarchive(capi, gate):
    archived = capi.put("gates/a_gate/archive", {"archiveReason": "done"})
    assert archived.status_code == 200
    assert archived.json()["data"]["status"] == "Archived"
    refused = capi.put("gates/a_gate/enable")
    assert refused.status_code == 400
    assert refused.json()["message"] == "Gate is archived: unarchive it first."
    unarchived = capi.put("gates/a_gate/unarchive", {})
    assert unarchived.json()["data"]["status"] == "In Progress"


def test_archive__gate_in_use__400_unless_forced(capi, gate):
    capi.post(
        "gates",
        {
            "name": "Parent",
            "rules": [
                {**EMAIL_RULE, "conditions": [{"type": "passes_gate", "targetValue": "a_gate"}]}
            ],
        },
    )
    refused = capi.put("gates/a_gate/archive", {})
    assert refused.status_code == 400
    assert "gate 'parent'" in refused.json()["message"]
    assert capi.put("gates/a_gate/archive", {"forceArchive": True}).status_code == 200


# -- rules ------------------------------------------------------------------------------------


def test_rules__add_one_read_add_many_replace_patch_delete(capi, gate):
    first_id = gate["rules"][0]["id"]
    added = capi.post("gates/a_gate/rule", {**EMAIL_RULE, "name": "Second"})
    assert added.status_code == 200
    assert added.json()["message"] == "Gate rules added successfully."
    assert [r["name"] for r in added.json()["data"]["rules"]] == ["Employees", "Second"]

    read = capi.get("gates/a_gate/rules")
    assert read.json()["message"] == "Gate rules read successfully."
    rules = read.json()["data"]["rules"]
    assert rules[0] == expected_rule(first_id)

    many = capi.post("gates/a_gate/rules", {"rules": [{**EMAIL_RULE, "name": "Third"}]})
    assert many.json()["message"] == "Gate rules added successfully."
    assert len(many.json()["data"]["rules"]) == 3

    patched = capi.patch(
        f"gates/a_gate/rules/{first_id}", {"passPercentage": 25, "environments": ["staging"]}
    )
    assert patched.status_code == 200
    assert patched.json()["message"] == "Gate updated successfully."
    assert patched.json()["data"]["rules"][0] == expected_rule(
        first_id, passPercentage=25, environments=["staging"]
    )

    deleted = capi.delete(f"gates/a_gate/rules/{first_id}")
    assert deleted.status_code == 200
    assert [r["name"] for r in deleted.json()["data"]["rules"]] == ["Second", "Third"]

    replaced = capi.patch("gates/a_gate/rules", {"rules": [EMAIL_RULE]})
    assert replaced.json()["message"] == "Gate updated successfully."
    assert [r["name"] for r in replaced.json()["data"]["rules"]] == ["Employees"]


def test_rule_add__bad_rule__400_named_rule(capi, gate):
    bad = {**EMAIL_RULE, "conditions": [{"type": "country", "operator": "gt", "targetValue": 1}]}
    response = capi.post("gates/a_gate/rule", bad)
    assert response.status_code == 400
    assert response.json()["errors"][0]["property"] == "rule.conditions[0].operator"


def test_rule_update__unknown_rule__400(capi, gate):
    response = capi.patch("gates/a_gate/rules/nope", {"passPercentage": 1})
    assert response.status_code == 400
    assert response.json()["errors"][0]["property"] == "ruleID"


# -- overrides --------------------------------------------------------------------------------


def test_overrides__read_replace_add_remove__201(capi, gate):
    empty = {
        "passingUserIDs": [],
        "failingUserIDs": [],
        "passingCustomIDs": [],
        "failingCustomIDs": [],
        "environmentOverrides": [],
    }
    read = capi.get("gates/a_gate/overrides")
    assert read.status_code == 201
    assert read.json() == {"message": "Gate Overrides read successfully.", "data": empty}

    replaced = capi.post(
        "gates/a_gate/overrides",
        {"passingUserIDs": ["passing-user"], "failingUserIDs": ["failing-user"]},
    )
    assert replaced.status_code == 201
    assert replaced.json() == {
        "message": "Gate Overrides updated successfully.",
        "data": {**empty, "passingUserIDs": ["passing-user"], "failingUserIDs": ["failing-user"]},
    }
    added = capi.patch(
        "gates/a_gate/overrides",
        {
            "environmentOverrides": [
                {
                    "environment": "staging",
                    "unitID": "userID",
                    "passingIDs": ["s1"],
                    "failingIDs": [],
                }
            ]
        },
    )
    assert added.json()["data"]["environmentOverrides"] == [
        {"environment": "staging", "unitID": "userID", "passingIDs": ["s1"], "failingIDs": []}
    ]
    assert added.json()["data"]["passingUserIDs"] == ["passing-user"]
    removed = capi.delete(
        "gates/a_gate/overrides", {"passingUserIDs": ["passing-user"], "failingUserIDs": []}
    )
    assert removed.status_code == 201
    assert removed.json()["data"]["passingUserIDs"] == []
    assert removed.json()["data"]["failingUserIDs"] == ["failing-user"]


def test_overrides__too_many_ids__400(capi, gate):
    response = capi.post(
        "gates/a_gate/overrides",
        {"passingUserIDs": [str(i) for i in range(2001)], "failingUserIDs": []},
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["property"] == "passingUserIDs"


# -- delete -----------------------------------------------------------------------------------


def test_delete__message_only__then_404(capi, world, gate):
    response = capi.delete("gates/a_gate")
    assert response.status_code == 200
    assert response.json() == {"message": "Gate deleted successfully."}
    assert capi.get("gates/a_gate").status_code == 404
    assert AuditLog.objects.filter(project=world.project, action_type="gate_delete").exists()


def test_delete__referenced_gate__400_names_referrers(capi, gate):
    capi.post("experiments", {"name": "Uses Gate", "targetingGateID": "a_gate"})
    response = capi.delete("gates/a_gate")
    assert response.status_code == 400
    assert "experiment 'uses_gate'" in response.json()["message"]
    assert capi.get("gates/a_gate").status_code == 200


def _gate_checks(count: int, at: datetime) -> list[dict]:
    time_ms = int(at.timestamp() * 1000)
    return [
        {
            "eventName": "statsig::gate_exposure",
            "user": {"userID": f"u{i}"},
            "time": time_ms,
            "metadata": {"gate": "a_gate", "gateValue": "true", "ruleID": "r"},
        }
        for i in range(count)
    ]


# Times of day on both sides of the old failure (from about 22:09 UTC on, when the count was
# divided by the hours since the start of yesterday), just after midnight, and the last half hour
# of a month and a year.
CLOCK_TIMES = ["2026-12-31T00:05", "2026-12-31T12:00", "2026-12-31T22:30", "2026-12-31T23:30"]


@pytest.mark.parametrize("clock", CLOCK_TIMES)
def test_checks_per_hour__checks_of_the_last_24_hours__per_hour(api, world, capi, gate, clock):
    # Given the clock (of the test and of the server: one process) at a given time of day
    at = datetime.fromisoformat(clock).replace(tzinfo=UTC)
    with time_machine.travel(at, tick=True):
        # And 240 checks of the gate just now, and 480 more 25 hours ago (out of the window)
        checks = _gate_checks(240, at) + _gate_checks(480, at - timedelta(hours=25))
        logged = api.post("/v1/log_event", {"events": checks}, key=world.keys["server"])
        assert logged.status_code < 300
        # Then the gate was checked 240 / 24 times per hour over the last 24 hours
        assert capi.get("gates/a_gate").json()["data"]["checksPerHour"] == 10
