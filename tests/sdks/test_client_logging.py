"""``/v1/rgstr`` (the js-client's event endpoint, in its fetch, gzip and ``sendBeacon`` forms) and
``/v1/sdk_exception``: client-logged exposures are stored as exposures; bad input gets a 4xx."""

from __future__ import annotations

import gzip
import json
import logging

import pytest

from events.models import Event, Exposure

pytestmark = pytest.mark.django_db

USER = {"userID": "u1", "customIDs": {"stableID": "device-1"}}
EVENTS = {
    "events": [
        {
            "eventName": "statsig::gate_exposure",
            "user": USER,
            "time": 1_700_000_000_000,
            "metadata": {"gate": "staff", "gateValue": "true", "ruleID": "rule-1"},
            "secondaryExposures": [],
        },
        {
            "eventName": "statsig::layer_exposure",
            "user": USER,
            "time": 1_700_000_000_000,
            "metadata": {
                "config": "homepage",
                "ruleID": "layerAssignment",
                "allocatedExperiment": "banner",
                "parameterName": "color",
                "isExplicitParameter": "true",
            },
            "secondaryExposures": [],
        },
        {"eventName": "clicked", "user": USER, "value": 1, "time": 1_700_000_000_000},
    ]
}


def _rgstr(api, world, raw: bytes, query: str = ""):
    key = world.keys["client"]
    return api.request(
        "POST", f"/v1/rgstr?k={key}&st=javascript-client{query}", raw=raw, content_type="text/plain"
    )


@pytest.mark.parametrize(
    "form", ["beacon", "gzip"], ids=["beacon: key in the query, text body", "gz=1"]
)
def test_rgstr__js_client_forms__events_and_exposures_stored(api, world, form):
    body = json.dumps(EVENTS).encode()
    response = (
        _rgstr(api, world, body)
        if form == "beacon"
        else _rgstr(api, world, gzip.compress(body), "&gz=1")
    )
    assert response.status_code == 202, response.content
    assert response.json() == {
        "success": True,
        "accepted": 3,
        "dropped": 0,
        "dropped_reasons": {},
    }
    gate = Exposure.objects.get(project=world.project, kind="gate")
    assert (gate.name, gate.value, gate.rule_id, gate.user_id) == ("staff", True, "rule-1", "u1")
    layer = Exposure.objects.get(project=world.project, kind="layer")
    assert (layer.name, layer.allocated_experiment) == ("homepage", "banner")
    assert Event.objects.get(project=world.project).name == "clicked"


def test_rgstr__bad_input__4xx(api, world):
    assert _rgstr(api, world, b"{nope").status_code == 400
    assert _rgstr(api, world, b"\x1f\x8bbroken", "&gz=1").status_code == 400
    response = api.request(
        "POST", "/v1/rgstr?k=client-unknown", raw=b"{}", content_type="text/plain"
    )
    assert response.status_code == 401


def test_sdk_exception__client_key__202_and_logged(api, world, caplog):
    caplog.set_level(logging.WARNING, logger="events.ingest.sdk_exceptions")
    response = api.post(
        "/v1/sdk_exception",
        {"tag": "be", "exception": "TypeError", "info": "stack", "sdkType": "javascript-client"},
        key=world.keys["client"],
    )
    assert response.status_code == 202
    assert response.json() == {"success": True}
    [record] = caplog.records
    assert "tag=be exception=TypeError" in record.getMessage()
    assert world.keys["client"] not in record.getMessage()


@pytest.mark.parametrize(
    ("key_kind", "raw", "status"),
    [
        ("client", b"{not json", 400),
        ("client", b"[1]", 400),
        ("console", b"{}", 401),
        (None, b"{}", 401),
    ],
)
def test_sdk_exception__bad_input__4xx(api, world, key_kind, raw, status):
    response = api.request(
        "POST", "/v1/sdk_exception", raw=raw, key=world.keys[key_kind] if key_kind else None
    )
    assert response.status_code == status
    assert response.json()["success"] is False
    assert api.get("/v1/sdk_exception", key=world.keys["client"]).status_code == 405
