"""Exposures and events of a small checkout experiment, sent through both protocols."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from flags.models import Experiment

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def expose(
    api, world, unit: str, group: str, at: datetime = T0, *, experiment: str = "checkout_test"
) -> None:
    response = api.post(
        "/v1/log_custom_exposure",
        {
            "exposures": [
                {
                    "user": {"userID": unit},
                    "experimentName": experiment,
                    "group": group,
                    "time": ms(at),
                }
            ]
        },
        key=world.keys["server"],
    )
    assert response.status_code in (200, 202), response.content


def statsig_event(api, world, unit: str, at: datetime, *, name="purchase", price="10") -> None:
    event = {"eventName": name, "user": {"userID": unit}, "time": ms(at)}
    event["metadata"] = {"price": price}
    response = api.post("/v1/log_event", {"events": [event]}, key=world.keys["server"])
    assert response.status_code == 202, response.content


def posthog_event(api, world, unit: str, at: datetime, *, name="purchase", price=5) -> None:
    body = {
        "api_key": world.keys["client"],
        "batch": [
            {
                "event": name,
                "distinct_id": unit,
                "properties": {"price": price},
                "timestamp": at.isoformat(),
            }
        ],
    }
    assert api.post("/batch/", body).status_code == 200


METRICS = [
    {"name": "purchases", "type": "event_count", "metricEvents": [{"name": "purchase"}]},
    {"name": "purchases", "type": "event_user", "metricEvents": [{"name": "purchase"}]},
    {
        "name": "revenue",
        "type": "sum",
        "metricEvents": [{"name": "purchase", "type": "value", "metadataKey": "price"}],
    },
    {
        "name": "basket",
        "type": "mean",
        "metricEvents": [{"name": "purchase", "type": "value", "metadataKey": "price"}],
    },
    {
        "name": "purchases per visit",
        "type": "ratio",
        "metricEvents": [{"name": "purchase"}, {"name": "visit"}],
    },
]


@pytest.fixture
def experiment(capi):
    for metric in METRICS:
        assert capi.post("metrics", metric).status_code == 201
    body = {
        "name": "checkout_test",
        "groups": [
            {"name": "Control", "size": 50, "parameterValues": {}},
            {"name": "Test", "size": 50, "parameterValues": {}},
        ],
        "primaryMetrics": [{"name": m["name"], "type": m["type"]} for m in METRICS[:3]],
        "secondaryMetrics": [{"name": m["name"], "type": m["type"]} for m in METRICS[3:]],
    }
    assert capi.post("experiments", body).status_code == 201
    return Experiment.objects.get(slug="checkout_test")


@pytest.fixture
def traffic(api, world, experiment):
    """c1 buys twice after exposure (once per protocol) and once the day before; c2 never;
    t1 buys three times, t2 once; both1 is exposed to both groups and buys; late1 buys before
    its exposure only."""
    expose(api, world, "c1", "Control")
    expose(api, world, "c2", "Control")
    expose(api, world, "t1", "Test")
    expose(api, world, "t1", "Test", at=T0 + timedelta(hours=5))  # a later exposure changes nothing
    expose(api, world, "t2", "Test")
    expose(api, world, "both1", "Control")
    expose(api, world, "both1", "Test", at=T0 + timedelta(hours=1))
    expose(api, world, "late1", "Control", at=T0 + timedelta(hours=3))
    statsig_event(api, world, "c1", T0 + timedelta(hours=1), price="10")
    posthog_event(api, world, "c1", T0 + timedelta(hours=2), price=5)
    statsig_event(api, world, "c1", T0 - timedelta(days=1), price="7")  # CUPED pre-period
    statsig_event(api, world, "c1", T0 - timedelta(days=9), price="7")  # before the window
    statsig_event(api, world, "t1", T0 + timedelta(hours=1), price="20")
    statsig_event(api, world, "t1", T0 + timedelta(hours=2), price="20")
    posthog_event(api, world, "t1", T0 + timedelta(hours=4), price=20)
    posthog_event(api, world, "t2", T0 + timedelta(hours=1), price=8)
    statsig_event(api, world, "both1", T0 + timedelta(hours=2))
    statsig_event(api, world, "late1", T0 + timedelta(hours=1))  # before its exposure
    for unit, visits in (("c1", 4), ("c2", 2), ("t1", 3), ("t2", 1), ("late1", 1)):
        for hour in range(visits):
            statsig_event(api, world, unit, T0 + timedelta(hours=hour + 1), name="visit")
    return experiment
