"""``/console/v1/experiments``: CRUD with the full ``ExternalExperimentDto`` shape, the lifecycle
verbs with Statsig's messages, illegal transitions (400) and overrides."""

from __future__ import annotations

import time
from unittest.mock import ANY

import pytest

from console.models import ApiKey
from flags.models import Experiment

GROUPS = [
    {"name": "Control", "size": 50, "parameterValues": {"assigned_group": "control"}},
    {"name": "Test", "size": 50, "parameterValues": {"assigned_group": "test"}},
]


def expected_experiment(world, **overrides):
    key = ApiKey.objects.get(project=world.project, kind="console").public_id
    experiment = {
        "id": "a_experiment",
        "name": "a_experiment",
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
        "hypothesis": "",
        "status": "setup",
        "groups": [
            {
                "id": ANY,
                "name": "Control",
                "size": 50,
                "parameterValues": {},
                "disabled": False,
                "description": "",
                "foreignGroupID": None,
            },
            {
                "id": ANY,
                "name": "Test",
                "size": 50,
                "parameterValues": {},
                "disabled": False,
                "description": "",
                "foreignGroupID": None,
            },
        ],
        "controlGroupID": ANY,
        "allocation": 100,
        "layerID": None,
        "targetingGateID": "",
        "inlineTargetingRulesJSON": "{}",
        "primaryMetrics": [],
        "secondaryMetrics": [],
        "bonferroniCorrection": False,
        "defaultConfidenceInterval": "95",
        "secondaryIDType": None,
        "links": [],
        "primaryMetricTags": [],
        "secondaryMetricTags": [],
        "duration": None,
        "targetExposures": None,
        "sequentialTesting": False,
        "bonferroniCorrectionPerMetric": False,
        "benjaminiHochbergPerVariant": False,
        "benjaminiHochbergPerMetric": False,
        "benjaminiPrimaryMetricsOnly": False,
        "assignmentSourceName": None,
        "assignmentSourceExperimentName": None,
        "isAnalysisOnly": False,
        "allocationDuration": None,
        "cohortedAnalysisDuration": None,
        "cohortedMetricsMatureAfterEnd": False,
        "cohortWaitUntilEndToInclude": False,
        "fixedAnalysisDuration": None,
        "scheduledReloadHour": None,
        "scheduledReloadType": None,
        "analysisEndTime": None,
        "analyticsType": None,
        "launchedGroupID": None,
        "startTime": None,
        "endTime": None,
        "decisionTime": None,
        "decisionReason": None,
        "scheduledStartTime": None,
        "healthChecks": [],
        "healthCheckStatus": "PASSED",
        "subtype": None,
        "externalExperimentName": None,
    }
    experiment.update(overrides)
    return experiment


@pytest.fixture
def experiment(capi):
    response = capi.post("experiments", {"name": "a_experiment", "groups": GROUPS})
    assert response.status_code == 201, response.json()
    return response.json()["data"]


def test_create__name_only__201_default_groups(capi, world):
    response = capi.post("experiments", {"name": "a_experiment"})
    assert response.status_code == 201
    body = response.json()
    assert body == {
        "message": "Experiment created successfully.",
        "data": expected_experiment(world),
    }
    assert body["data"]["controlGroupID"] == body["data"]["groups"][0]["id"]


def test_create__name_in_use__400(capi, experiment):
    response = capi.post("experiments", {"name": "a_experiment"})
    assert response.status_code == 400
    assert response.json()["message"] == "Name is already in use"


def test_create__groups_not_summing_to_100__400(capi):
    response = capi.post(
        "experiments",
        {"name": "x_experiment", "groups": [{**GROUPS[0], "size": 30}, GROUPS[1]]},
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["property"].startswith("groups")


def test_read_list_patch_full_update(capi, world, experiment):
    read = capi.get("experiments/a_experiment")
    assert read.json() == {"message": "Experiment read successfully.", "data": experiment}

    listed = capi.get("experiments?status=setup").json()
    assert listed["message"] == "Experiments listed successfully."
    assert [e["id"] for e in listed["data"]] == ["a_experiment"]
    assert capi.get("experiments?status=active").json()["data"] == []
    assert (
        capi.get("experiments?createdStartDate=2000-01-01").json()["pagination"]["totalItems"] == 1
    )
    assert capi.get("experiments?createdEndDate=2000-01-01").json()["data"] == []
    bad_date = capi.get("experiments?createdStartDate=yesterday")
    assert bad_date.status_code == 400
    assert bad_date.json()["errors"][0]["property"] == "createdStartDate"

    patched = capi.patch("experiments/a_experiment", {"hypothesis": "Blue wins", "allocation": 40})
    assert patched.status_code == 200
    assert patched.json()["message"] == "Experiment updated successfully."
    assert (patched.json()["data"]["hypothesis"], patched.json()["data"]["allocation"]) == (
        "Blue wins",
        40,
    )
    full = capi.post(
        "experiments/a_experiment",
        {
            "description": "d",
            "idType": "userID",
            "hypothesis": "h",
            "groups": experiment["groups"],
            "allocation": 100,
            "targetingGateID": None,
            "bonferroniCorrection": False,
            "defaultConfidenceInterval": "95",
            "status": "setup",
        },
    )
    assert full.status_code == 200
    assert full.json()["data"]["version"] == 3


def test_lifecycle__start_decide_archive_unarchive(capi, experiment):
    control_id = experiment["groups"][0]["id"]
    started = capi.put("experiments/a_experiment/start")
    assert started.status_code == 200
    assert started.json() == {"message": "Experiment successfully started."}
    data = capi.get("experiments/a_experiment").json()["data"]
    assert data["status"] == "active"
    assert isinstance(data["startTime"], int)

    decided = capi.put(
        "experiments/a_experiment/make_decision",
        {"id": control_id, "decisionReason": "Control wins", "removeTargeting": False},
    )
    assert decided.json() == {"message": "Decision made for Experiment."}
    data = capi.get("experiments/a_experiment").json()["data"]
    assert (data["status"], data["launchedGroupID"], data["decisionReason"]) == (
        "decision_made",
        control_id,
        "Control wins",
    )
    assert capi.put("experiments/a_experiment/archive", {"archiveReason": "done"}).json() == {
        "message": "Experiment successfully archived."
    }
    assert capi.put("experiments/a_experiment/unarchive").json() == {
        "message": "Experiment successfully unarchived."
    }
    assert capi.get("experiments/a_experiment").json()["data"]["status"] == "decision_made"


def test_lifecycle__abandon_reset_restart_as_new(capi, experiment):
    capi.put("experiments/a_experiment/start")
    abandoned = capi.put("experiments/a_experiment/abandon", {"decisionReason": "broken"})
    assert abandoned.json() == {"message": "Experiment successfully abandoned."}
    reset = capi.put("experiments/a_experiment/reset")
    assert reset.json() == {"message": "Experiment successfully restarted."}
    assert capi.get("experiments/a_experiment").json()["data"]["status"] == "active"

    restarted = capi.post("experiments/a_experiment/restart_as_new", {"name": "a_experiment_v2"})
    assert restarted.status_code == 200
    assert restarted.json()["message"] == "Restart As New Experiment Success"
    assert restarted.json()["data"]["id"] == "a_experiment_v2"
    assert restarted.json()["data"]["status"] == "active"
    assert capi.get("experiments/a_experiment").json()["data"]["status"] == "abandoned"


@pytest.mark.parametrize(
    ("verb", "body"),
    [
        ("make_decision", {"id": "Control", "decisionReason": "early"}),
        ("abandon", {"decisionReason": "early"}),
    ],
)
def test_illegal__decision_before_start__400_not_started(capi, experiment, verb, body):
    response = capi.put(f"experiments/a_experiment/{verb}", body)
    assert response.status_code == 400
    assert response.json()["message"] == "Experiment has not yet started"
    assert Experiment.objects.get(slug="a_experiment").status == "setup"


def test_illegal__unknown_group__400(capi, experiment):
    capi.put("experiments/a_experiment/start")
    response = capi.put(
        "experiments/a_experiment/make_decision", {"id": "nope", "decisionReason": "r"}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["property"] == "id"


def test_illegal__editing_groups_of_running_experiment__400(capi, experiment):
    capi.put("experiments/a_experiment/start")
    groups = [{**g, "size": s} for g, s in zip(experiment["groups"], (30, 70), strict=True)]
    response = capi.patch("experiments/a_experiment", {"groups": groups})
    assert response.status_code == 400
    assert response.json()["errors"][0]["property"] == "groups"


def test_illegal__start_twice__400(capi, experiment):
    capi.put("experiments/a_experiment/start")
    response = capi.put("experiments/a_experiment/start")
    assert response.status_code == 400


def test_schedule_start(capi, experiment):
    when = int(time.time() * 1000) + 3_600_000
    response = capi.post("experiments/a_experiment/schedule_start", {"scheduledTime": when})
    assert response.json() == {"message": "Successfully scheduled experiment start"}
    assert capi.get("experiments/a_experiment").json()["data"]["scheduledStartTime"] == when
    past = capi.post("experiments/a_experiment/schedule_start", {"scheduledTime": 1000})
    assert past.status_code == 400
    assert past.json()["errors"][0]["property"] == "scheduledTime"


def test_enable_disable_groups__201_experiment(capi, experiment):
    disabled = capi.post("experiments/a_experiment/disable_groups", {"group_names": ["Test"]})
    assert disabled.status_code == 201
    assert [g["disabled"] for g in disabled.json()["data"]["groups"]] == [False, True]
    enabled = capi.post("experiments/a_experiment/enable_groups", {"group_names": ["Test"]})
    assert enabled.status_code == 201
    assert [g["disabled"] for g in enabled.json()["data"]["groups"]] == [False, False]
    missing = capi.post("experiments/a_experiment/enable_groups", {"group_names": []})
    assert missing.status_code == 400


def test_overrides__read_replace_add_remove(capi, experiment):
    capi.post("gates", {"name": "a_gate"})
    control, test = (g["id"] for g in experiment["groups"])
    read = capi.get("experiments/a_experiment/overrides")
    assert read.json() == {
        "message": "Experiment Overrides read successfully.",
        "data": {"overrides": [], "userIDOverrides": []},
    }
    replaced = capi.post(
        "experiments/a_experiment/overrides",
        {
            "overrides": [{"type": "gate", "id": "a_gate", "groupID": "Test"}],
            "userIDOverrides": [{"groupID": "Control", "ids": ["u1", "u2"]}],
        },
    )
    assert replaced.status_code == 200
    assert replaced.json() == {
        "message": "Experiment Overrides updated successfully.",
        "data": {
            "overrides": [
                {
                    "type": "gate",
                    "id": "a_gate",
                    "name": "a_gate",
                    "groupID": test,
                    "environment": None,
                }
            ],
            "userIDOverrides": [
                {"groupID": control, "ids": ["u1", "u2"], "environment": None, "unitType": "userID"}
            ],
        },
    }
    added = capi.patch(
        "experiments/a_experiment/overrides",
        {"overrides": [], "userIDOverrides": [{"groupID": "Test", "ids": ["u3"]}]},
    )
    assert len(added.json()["data"]["userIDOverrides"]) == 2
    removed = capi.delete(
        "experiments/a_experiment/overrides",
        {"overrides": [{"type": "gate", "id": "a_gate", "groupID": "Test"}], "userIDOverrides": []},
    )
    assert removed.json()["data"]["overrides"] == []


def test_delete__returns_deleted_experiment(capi, experiment):
    response = capi.delete("experiments/a_experiment")
    assert response.status_code == 200
    assert response.json()["message"] == "Experiment deleted successfully."
    assert response.json()["data"]["id"] == "a_experiment"
    assert capi.get("experiments/a_experiment").json() == {
        "status": 404,
        "message": "Experiment not found.",
    }
