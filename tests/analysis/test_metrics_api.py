"""``/console/v1/metrics``: Statsig's metric endpoints, validation naming the field, scoping."""

from __future__ import annotations

import pytest

from analysis.models import Metric
from console.models import AuditLog

PURCHASES = {
    "name": "purchases",
    "type": "event_count",
    "description": "Purchases per user",
    "unitTypes": ["userID"],
    "metricEvents": [{"name": "purchase", "type": "count"}],
    "directionality": "increase",
}


def _errors(response) -> dict[str, str]:
    body = response.json()
    assert response.status_code == 400, body
    return {error["property"]: error["message"] for error in body["errors"]}


def test_create__valid_metric__201_whole_shape_and_audited(capi, world):
    # When a metric is created
    response = capi.post("metrics", PURCHASES)

    # Then it answers with Statsig's envelope and the stored definition
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["message"] == "Metric created successfully."
    data = body["data"]
    assert {k: v for k, v in data.items() if k not in {"createdTime", "lastModifiedTime"}} == {
        "id": "purchases::event_count",
        "name": "purchases",
        "type": "event_count",
        "description": "Purchases per user",
        "unitTypes": ["userID"],
        "metricEvents": [
            {"name": "purchase", "type": "count", "metadataKey": None, "criteria": []}
        ],
        "directionality": "increase",
        "creatorName": data["creatorName"],
    }
    assert isinstance(data["createdTime"], int)
    assert AuditLog.objects.filter(
        project=world.project, action_type="metric_create", entity_id="purchases::event_count"
    ).exists()


def test_read_list_update_delete__round_trip(capi):
    capi.post("metrics", PURCHASES)

    read = capi.get("metrics/purchases::event_count")
    assert read.status_code == 200
    assert read.json()["data"]["metricEvents"][0]["name"] == "purchase"

    listed = capi.get("metrics/list")
    assert listed.status_code == 200
    assert [m["id"] for m in listed.json()["data"]] == ["purchases::event_count"]
    assert listed.json()["pagination"]["totalItems"] == 1

    updated = capi.post(
        "metrics/purchases::event_count",
        {**PURCHASES, "directionality": "decrease", "description": "fewer is better"},
    )
    assert updated.status_code == 200, updated.json()
    assert updated.json()["data"]["directionality"] == "decrease"

    deleted = capi.delete("metrics/purchases::event_count")
    assert deleted.status_code == 200
    assert capi.get("metrics/purchases::event_count").status_code == 404


@pytest.mark.parametrize(
    ("change", "prop"),
    [
        ({"name": None}, "name"),
        ({"name": "ab"}, "name"),
        ({"type": "median"}, "type"),
        ({"metricEvents": []}, "metricEvents"),
        ({"metricEvents": "purchase"}, "metricEvents"),
        ({"metricEvents": [{"type": "count"}]}, "metricEvents[0].name"),
        ({"metricEvents": [{"name": "p", "type": "total"}]}, "metricEvents[0].type"),
        (
            {"metricEvents": [{"name": "p", "type": "count_distinct"}]},
            "metricEvents[0].metadataKey",
        ),
        ({"type": "sum"}, "metricEvents[0].type"),
        ({"type": "ratio"}, "metricEvents"),
        (
            {"metricEvents": [{"name": "p", "criteria": [{"column": "sku", "values": []}]}]},
            "metricEvents[0].criteria[0].values",
        ),
        (
            {
                "metricEvents": [
                    {"name": "p", "criteria": [{"column": "sku", "condition": "gt", "values": [1]}]}
                ]
            },
            "metricEvents[0].criteria[0].condition",
        ),
        ({"directionality": "up"}, "directionality"),
        ({"unitTypes": "userID"}, "unitTypes"),
        ({"description": "d" * 1001}, "description"),
    ],
)
def test_create__bad_definition__400_names_the_field(capi, world, change, prop):
    response = capi.post("metrics", {**PURCHASES, **change})
    assert prop in _errors(response)
    assert not Metric.objects.filter(project=world.project).exists()


def test_create__not_an_object__400(capi):
    assert "body" in _errors(capi.post("metrics", ["purchases"]))


def test_create__twice__409(capi):
    capi.post("metrics", PURCHASES)
    assert capi.post("metrics", PURCHASES).status_code == 409


def test_update__type_change__400_names_type(capi):
    capi.post("metrics", PURCHASES)
    response = capi.post("metrics/purchases::event_count", {**PURCHASES, "type": "event_user"})
    assert "type" in _errors(response)


def test_metrics__other_project__not_visible(capi, other_capi):
    capi.post("metrics", PURCHASES)
    assert other_capi.get("metrics/purchases::event_count").status_code == 404
    assert other_capi.get("metrics/list").json()["data"] == []
    assert other_capi.delete("metrics/purchases::event_count").status_code == 404


def test_metrics__sdk_keys__401(api, world):
    for kind in ("server", "client"):
        assert api.post("/console/v1/metrics", PURCHASES, key=world.keys[kind]).status_code == 401
        assert api.get("/console/v1/metrics/list", key=world.keys[kind]).status_code == 401


def test_metrics__no_key__401(api, db):
    assert api.get("/console/v1/metrics/list").status_code == 401


def test_experiment__analysis_settings__accepted_and_returned(capi):
    # When an experiment is created with analysis settings
    body = {
        "name": "checkout_test",
        "groups": [
            {"name": "Control", "size": 50, "parameterValues": {}},
            {"name": "Test", "size": 50, "parameterValues": {}},
        ],
        "primaryMetrics": [{"name": "purchases", "type": "event_count"}],
        "secondaryMetrics": [{"name": "revenue", "type": "sum"}],
        "bonferroniCorrection": True,
        "defaultConfidenceInterval": "99",
    }
    created = capi.post("experiments", body)
    assert created.status_code == 201, created.json()

    # Then they come back as sent, and a patch changes them
    data = capi.get("experiments/checkout_test").json()["data"]
    assert data["primaryMetrics"] == [{"name": "purchases", "type": "event_count"}]
    assert data["secondaryMetrics"] == [{"name": "revenue", "type": "sum"}]
    assert data["bonferroniCorrection"] is True
    assert data["defaultConfidenceInterval"] == "99"
    patched = capi.patch("experiments/checkout_test", {"defaultConfidenceInterval": "90"})
    assert patched.status_code == 200, patched.json()
    assert patched.json()["data"]["defaultConfidenceInterval"] == "90"


@pytest.mark.parametrize(
    ("change", "prop"),
    [
        ({"primaryMetrics": [{"name": "x", "type": ""}]}, "primaryMetrics[0].type"),
        ({"primaryMetrics": [{"type": "sum"}]}, "primaryMetrics[0].name"),
        ({"secondaryMetrics": "revenue"}, "secondaryMetrics"),
        ({"bonferroniCorrection": "yes"}, "bonferroniCorrection"),
        ({"defaultConfidenceInterval": "97"}, "defaultConfidenceInterval"),
    ],
)
def test_experiment__bad_analysis_settings__400_names_the_field(capi, change, prop):
    body = {"name": "checkout_test", **change}
    assert prop in _errors(capi.post("experiments", body))
