"""Experiments keep what they are sent (issue 18): every setting of Statsig's experiment object
read back as sent, unknown fields refused by name, ``status``/``launchedGroupID`` moving the
experiment through its lifecycle, ``defer_decision`` and ``versions``."""

from __future__ import annotations

import pytest

GROUPS = [
    {"name": "Control", "size": 50, "parameterValues": {"color": "blue"}},
    {"name": "Test", "size": 50, "parameterValues": {"color": "red"}},
]
SETTINGS = {
    "secondaryIDType": "stableID",
    "links": [{"url": "https://example.com/spec", "title": "Spec"}],
    "primaryMetricTags": ["core"],
    "secondaryMetricTags": ["guardrails"],
    "targetApps": ["web"],
    "duration": 14,
    "targetExposures": 5000,
    "sequentialTesting": True,
    "bonferroniCorrectionPerMetric": True,
    "benjaminiHochbergPerVariant": True,
    "benjaminiHochbergPerMetric": False,
    "benjaminiPrimaryMetricsOnly": True,
    "assignmentSourceName": "assignments",
    "assignmentSourceExperimentName": "source_experiment",
    "isAnalysisOnly": False,
    "team": "Growth",
    "allocationDuration": 7,
    "cohortedAnalysisDuration": 3,
    "cohortedMetricsMatureAfterEnd": True,
    "cohortWaitUntilEndToInclude": True,
    "fixedAnalysisDuration": 10,
    "scheduledReloadHour": 6,
    "scheduledReloadType": "incremental",
    "analysisEndTime": "2026-12-31",
    "analyticsType": "frequentist",
}


def error_properties(response) -> list[str]:
    return [error["property"] for error in response.json()["errors"]]


def test_create__every_setting_and_owner__read_back_as_sent(capi):
    body = {
        "name": "kept",
        "hypothesis": "Red wins",
        "groups": GROUPS,
        "creatorID": "user_42",
        "creatorEmail": "owner@example.com",
        **SETTINGS,
    }

    created = capi.post("experiments", body)

    assert created.status_code == 201, created.json()
    data = capi.get("experiments/kept").json()["data"]
    assert {key: data[key] for key in SETTINGS} == SETTINGS
    assert (data["creatorID"], data["creatorEmail"]) == ("user_42", "owner@example.com")
    assert data["owner"]["ownerID"] == "user_42"
    assert data == created.json()["data"]


def test_patch__settings_partial__others_kept(capi):
    capi.post("experiments", {"name": "kept", **SETTINGS})

    patched = capi.patch("experiments/kept", {"duration": 21, "team": None})

    assert patched.status_code == 200, patched.json()
    data = patched.json()["data"]
    assert (data["duration"], data["team"], data["targetExposures"]) == (21, None, 5000)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "colour": "red"}, "colour"),
        ({"name": "x", "duration": 0}, "duration"),
        ({"name": "x", "scheduledReloadType": "sometimes"}, "scheduledReloadType"),
        ({"name": "x", "links": [{"title": "no url"}]}, "links[0].url"),
    ],
)
def test_create__unsupported_or_bad_field__400_naming_it(capi, body, field):
    response = capi.post("experiments", body)

    assert response.status_code == 400
    assert field in error_properties(response)
    assert capi.get("experiments/x").status_code == 404


def test_patch__status_active_then_decision_made_by_group_name__started_and_shipped(capi):
    capi.post("experiments", {"name": "lifecycle", "groups": GROUPS})

    started = capi.patch("experiments/lifecycle", {"status": "active"})
    assert started.status_code == 200, started.json()
    assert started.json()["data"]["status"] == "active"
    assert started.json()["data"]["startTime"] is not None

    shipped = capi.patch(
        "experiments/lifecycle", {"status": "decision_made", "launchedGroupID": "Test"}
    )

    assert shipped.status_code == 200, shipped.json()
    data = shipped.json()["data"]
    test_group = next(g for g in data["groups"] if g["name"] == "Test")
    assert (data["status"], data["launchedGroupID"]) == ("decision_made", test_group["id"])
    # Sending the same state again changes nothing.
    again = capi.patch(
        "experiments/lifecycle", {"status": "decision_made", "launchedGroupID": test_group["id"]}
    )
    assert again.status_code == 200
    assert again.json()["data"]["version"] == data["version"]


def test_create__status_active__created_and_started(capi):
    response = capi.post("experiments", {"name": "running", "status": "active"})

    assert response.status_code == 201, response.json()
    assert response.json()["data"]["status"] == "active"


def test_patch__decision_without_group__400_naming_launched_group(capi):
    capi.post("experiments", {"name": "lifecycle", "groups": GROUPS})

    response = capi.patch("experiments/lifecycle", {"status": "decision_made"})

    assert response.status_code == 400
    assert error_properties(response) == ["launchedGroupID"]
    assert capi.get("experiments/lifecycle").json()["data"]["status"] == "setup"


def test_patch__status_back_to_setup__400_naming_status(capi):
    capi.post("experiments", {"name": "lifecycle", "status": "active"})

    response = capi.patch("experiments/lifecycle", {"status": "setup"})

    assert response.status_code == 400
    assert error_properties(response) == ["status"]


def test_patch__other_id__400(capi):
    capi.post("experiments", {"name": "lifecycle"})

    response = capi.patch("experiments/lifecycle", {"id": "renamed"})

    assert response.status_code == 400
    assert error_properties(response) == ["id"]


def test_defer_decision__concluded_then_shipped(capi):
    capi.post("experiments", {"name": "deferred", "groups": GROUPS, "status": "active"})

    deferred = capi.put("experiments/deferred/defer_decision", {"stopReason": "More data"})

    assert deferred.status_code == 200, deferred.json()
    assert deferred.json() == {
        "message": "Experiment successfully concluded and decision deferred."
    }
    data = capi.get("experiments/deferred").json()["data"]
    assert (data["status"], data["decisionReason"]) == ("experiment_stopped", "More data")
    shipped = capi.put(
        "experiments/deferred/make_decision", {"id": "Control", "decisionReason": "Control wins"}
    )
    assert shipped.status_code == 200, shipped.json()
    assert capi.get("experiments/deferred").json()["data"]["status"] == "decision_made"


def test_defer_decision__not_started__400(capi):
    capi.post("experiments", {"name": "deferred"})

    response = capi.put("experiments/deferred/defer_decision", {})

    assert response.status_code == 400


def test_versions__newest_first(capi):
    capi.post("experiments", {"name": "versioned", "hypothesis": "first"})
    capi.patch("experiments/versioned", {"hypothesis": "second", "duration": 7})

    response = capi.get("experiments/versioned/versions")

    assert response.status_code == 200, response.json()
    versions = response.json()["data"]
    assert [(v["version"], v["hypothesis"], v["duration"]) for v in versions] == [
        (2, "second", 7),
        (1, "first", None),
    ]


def test_overrides__group_names__stored_as_the_groups(capi):
    created = capi.post("experiments", {"name": "overridden", "groups": GROUPS}).json()["data"]
    test_id = next(g["id"] for g in created["groups"] if g["name"] == "Test")

    response = capi.post(
        "experiments/overridden/overrides",
        {"overrides": [], "userIDOverrides": [{"groupID": "Test", "ids": ["u1", "u2"]}]},
    )

    assert response.status_code == 200, response.json()
    assert response.json()["data"]["userIDOverrides"][0]["groupID"] == test_id
    assert response.json()["data"]["userIDOverrides"][0]["ids"] == ["u1", "u2"]


def test_patch__running_to_archived_without_group__abandoned_then_archived(capi):
    capi.post("experiments", {"name": "lifecycle", "status": "active"})

    response = capi.patch("experiments/lifecycle", {"status": "archived"})

    assert response.status_code == 200, response.json()
    data = response.json()["data"]
    assert (data["status"], data["launchedGroupID"]) == ("archived", None)
