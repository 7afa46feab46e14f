"""``POST /v1/log_event`` and ``/v1/log_custom_exposure``: the seed's curl examples, bodies,
clock correction, validation."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta

import pytest

from events.models import DroppedEventCount, Event, Exposure

SEED_TIME_MS = 1616826986211
SEED_TIME = datetime.fromtimestamp(SEED_TIME_MS / 1000, tz=UTC)


def ok(dropped_reasons: dict | None = None, accepted: int = 1) -> dict:
    reasons = dropped_reasons or {}
    return {
        "success": True,
        "accepted": accepted,
        "dropped": sum(reasons.values()),
        "dropped_reasons": reasons,
    }


def test_log_event__seed_curl__202_and_event_stored(api, world):
    # Given the seed's request (a client time equal to the event time: no clock skew)
    body = {
        "events": [{"user": {"userID": "42"}, "time": SEED_TIME_MS, "eventName": "test_api_event"}]
    }
    # When
    response = api.post(
        "/v1/log_event",
        body,
        key=world.keys["server"],
        headers={"STATSIG-CLIENT-TIME": str(SEED_TIME_MS)},
    )
    # Then
    assert response.status_code == 202
    assert response.json() == ok()
    assert response["Content-Type"] == "application/json"
    event = Event.objects.get()
    assert (event.project_id, event.name, event.user_id) == (
        world.project.pk,
        "test_api_event",
        "42",
    )
    assert event.user == {"userID": "42"}
    assert event.source == "statsig_http"
    assert event.environment == ""
    # The client clock equals the event time, so the event happened "now" by the server clock.
    assert abs(event.time - event.received_at) < timedelta(seconds=5)


def test_log_event__seed_custom_environment__tier_stored(api, world):
    body = {
        "events": [
            {
                "user": {"userID": "42", "statsigEnvironment": {"tier": "staging"}},
                "time": SEED_TIME_MS,
                "eventName": "test_api_event",
            }
        ]
    }
    response = api.post("/v1/log_event", body, key=world.keys["client"])
    assert response.status_code == 202
    assert response.json() == ok()
    event = Event.objects.get()
    assert event.environment == "staging"
    # Without STATSIG-CLIENT-TIME the event keeps its own time.
    assert event.time == SEED_TIME


def test_log_event__client_clock_ahead__time_corrected(api, world):
    # Given a client whose clock runs one hour ahead of the server
    client_now = datetime.now(UTC) + timedelta(hours=1)
    event_time = client_now - timedelta(minutes=5)
    body = {"events": [{"eventName": "e", "user": {"userID": "u"}, "time": event_time.isoformat()}]}
    # When
    api.post(
        "/v1/log_event",
        body,
        key=world.keys["server"],
        headers={"STATSIG-CLIENT-TIME": str(int(client_now.timestamp() * 1000))},
    )
    # Then the stored time is five minutes before the server received it
    event = Event.objects.get()
    assert abs((event.received_at - event.time) - timedelta(minutes=5)) < timedelta(seconds=2)


@pytest.mark.parametrize(
    ("time", "expected"),
    [
        (SEED_TIME_MS, SEED_TIME),
        (str(SEED_TIME_MS), SEED_TIME),
        ("2021-03-27T06:36:26.211Z", SEED_TIME),
        ("2021-03-27 06:36:26.211", SEED_TIME),
        ("2021-03-27T08:36:26.211+02:00", SEED_TIME),
    ],
)
def test_log_event__time_in_ms_or_iso__parsed(api, world, time, expected):
    body = {"events": [{"eventName": "e", "user": {"userID": "u"}, "time": time}]}
    assert api.post("/v1/log_event", body, key=world.keys["server"]).status_code == 202
    assert Event.objects.get().time == expected


@pytest.mark.parametrize("time", [None, "yesterday", 0, 4102444800000])
def test_log_event__time_absent_unreadable_or_future__receive_time(api, world, time):
    body = {"events": [{"eventName": "e", "user": {"userID": "u"}, "time": time}]}
    assert api.post("/v1/log_event", body, key=world.keys["server"]).status_code == 202
    event = Event.objects.get()
    assert event.time == event.received_at


def test_log_event__gzip_body__accepted(api, world):
    body = {"events": [{"eventName": "gz", "user": {"userID": "u"}, "value": 3}]}
    response = api.post(
        "/v1/log_event",
        raw=gzip.compress(json.dumps(body).encode()),
        key=world.keys["server"],
        headers={"Content-Encoding": "gzip"},
    )
    assert response.status_code == 202
    assert response.json() == ok()
    event = Event.objects.get()
    assert (event.name, event.value, event.numeric_value) == ("gz", "3", 3.0)


def test_log_event__every_field__stored(api, world):
    # Given an event with a shared top-level user and every optional field
    body = {
        "user": {
            "userID": "u1",
            "email": "a@example.com",
            "customIDs": {"stableID": "s1", "companyID": "c1"},
            "privateAttributes": {"ssn": "secret"},
            "custom": {"plan": "pro"},
        },
        "events": [
            {
                "eventName": "purchase",
                "value": "SKU-1",
                "metadata": {"price": "9.99"},
                "secondaryExposures": [{"gate": "g", "gateValue": "true", "ruleID": "r"}],
            }
        ],
    }
    response = api.post(
        "/v1/log_event", body, key=world.keys["server"], headers={"STATSIG-SDK-TYPE": "py-server"}
    )
    assert response.status_code == 202
    event = Event.objects.get()
    assert event.user_id == "u1"
    assert event.stable_id == "s1"
    assert event.custom_ids == {"companyID": "c1"}
    assert (event.value, event.numeric_value) == ("SKU-1", None)
    assert event.properties == {"price": "9.99"}
    assert event.secondary_exposures == [{"gate": "g", "gateValue": "true", "ruleID": "r"}]
    assert event.source == "statsig_sdk"
    # Private attributes are never stored.
    assert "privateAttributes" in body["user"]
    assert event.user == {
        "userID": "u1",
        "email": "a@example.com",
        "customIDs": {"stableID": "s1", "companyID": "c1"},
        "custom": {"plan": "pro"},
    }


def test_log_event__sdk_exposure_events__exposure_store(api, world):
    user = {"userID": "u1", "statsigEnvironment": {"tier": "production"}}
    secondary = [{"gate": "holdout", "gateValue": "false", "ruleID": "h"}]
    body = {
        "events": [
            {
                "eventName": "statsig::gate_exposure",
                "user": user,
                "time": SEED_TIME_MS,
                "metadata": {"gate": "new_checkout", "gateValue": "true", "ruleID": "rule1"},
                "secondaryExposures": secondary,
            },
            {
                "eventName": "statsig::config_exposure",
                "user": user,
                "time": SEED_TIME_MS,
                "metadata": {"config": "pricing", "ruleID": "rule2", "rulePassed": "true"},
            },
            {
                "eventName": "statsig::layer_exposure",
                "user": user,
                "time": SEED_TIME_MS,
                "metadata": {
                    "config": "checkout_layer",
                    "ruleID": "rule3",
                    "allocatedExperiment": "exp1",
                    "parameterName": "color",
                    "isExplicitParameter": "true",
                },
            },
            {"eventName": "statsig::diagnostics", "user": user, "metadata": {}},
        ]
    }
    response = api.post("/v1/log_event", body, key=world.keys["server"])
    assert response.status_code == 202
    assert response.json() == ok({"sdk_diagnostics": 1}, accepted=3)
    assert Event.objects.count() == 0
    rows = {e.kind: e for e in Exposure.objects.all()}
    gate, config, layer = rows["gate"], rows["config"], rows["layer"]
    assert (gate.name, gate.value, gate.rule_id, gate.user_id) == (
        "new_checkout",
        True,
        "rule1",
        "u1",
    )
    assert gate.secondary_exposures == secondary
    assert gate.environment == "production"
    assert gate.time == SEED_TIME
    assert (config.name, config.rule_id, config.value) == ("pricing", "rule2", None)
    assert (layer.name, layer.rule_id, layer.parameter_name, layer.allocated_experiment) == (
        "checkout_layer",
        "rule3",
        "color",
        "exp1",
    )


# The validation table: status, body, and what is stored.
BAD_REQUESTS = [
    (
        "not json",
        b"{nope",
        400,
        "Malformed JSON body: unexpected character, expected a string key: line 1 column 2 (char 1).",
    ),
    ("not an object", b"[1, 2]", 400, "The request body must be a JSON object."),
    ("no events", b"{}", 400, "'events' must be a list."),
    ("events not a list", b'{"events": {"a": 1}}', 400, "'events' must be a list."),
    (
        "too many events",
        json.dumps({"events": [{"eventName": "e", "user": {"userID": "u"}}] * 10_001}).encode(),
        413,
        "Too many events: 10001 in one request, the limit is 10,000.",
    ),
]


@pytest.mark.parametrize(
    ("raw", "status", "message"), [c[1:] for c in BAD_REQUESTS], ids=[c[0] for c in BAD_REQUESTS]
)
def test_log_event__bad_request__4xx_json(api, world, raw, status, message):
    response = api.post("/v1/log_event", raw=raw, key=world.keys["server"])
    assert response.status_code == status
    assert response.json() == {"success": False, "status": status, "message": message}
    assert Event.objects.count() == 0


def test_log_event__body_over_20_mb__413(api, world):
    raw = b'{"events": [], "pad": "' + b"x" * (20 * 1024 * 1024) + b'"}'
    response = api.post("/v1/log_event", raw=raw, key=world.keys["server"])
    assert response.status_code == 413
    assert response.json() == {
        "success": False,
        "status": 413,
        "message": "Request body is too large: the limit is 20 MB.",
    }


def test_log_event__gzip_bomb_over_20_mb__413(api, world):
    raw = gzip.compress(b'{"events": [], "pad": "' + b"x" * (21 * 1024 * 1024) + b'"}')
    response = api.post(
        "/v1/log_event", raw=raw, key=world.keys["server"], headers={"Content-Encoding": "gzip"}
    )
    assert response.status_code == 413


def test_log_event__invalid_events__dropped_counted_rest_stored(api, world):
    # Given one good event and one of each kind of bad event
    body = {
        "events": [
            {"eventName": "good", "user": {"userID": "u"}},
            {"user": {"userID": "u"}},
            {"eventName": "", "user": {"userID": "u"}},
            {"eventName": "no_user"},
            {"eventName": "empty_ids", "user": {"userID": "", "customIDs": {"companyID": ""}}},
            "not an object",
            {"eventName": "custom_id_only", "user": {"customIDs": {"companyID": "c1"}}},
        ]
    }
    # When
    response = api.post("/v1/log_event", body, key=world.keys["server"])
    # Then 202 with the counts; the good ones are stored and the drops counted per reason
    assert response.status_code == 202
    reasons = {"invalid_event": 1, "missing_event_name": 2, "missing_unit_id": 2}
    assert response.json() == ok(reasons, accepted=2)
    assert sorted(Event.objects.values_list("name", flat=True)) == ["custom_id_only", "good"]
    stored = {
        d.reason: (d.count, d.source)
        for d in DroppedEventCount.objects.filter(project=world.project)
    }
    assert stored == {reason: (n, "statsig_http") for reason, n in reasons.items()}


SDK_KEYS = "server secret key (secret-…) or client SDK key (client-…)"


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (None, f"Missing API key: send a {SDK_KEYS} in the STATSIG-API-KEY header."),
        ("secret-unknown", f"Invalid or inactive API key: send an active {SDK_KEYS}."),
        ("console", f"This endpoint only accepts a {SDK_KEYS}; console keys are refused here."),
    ],
)
def test_log_event__no_valid_sdk_key__401(api, world, key, message):
    secret = world.keys.get(key, key)
    response = api.post(
        "/v1/log_event", {"events": [{"eventName": "e", "user": {"userID": "u"}}]}, key=secret
    )
    assert response.status_code == 401
    assert response.json() == {"success": False, "status": 401, "message": message}
    assert response["WWW-Authenticate"] == "STATSIG-API-KEY"
    assert Event.objects.count() == 0


def test_log_event__get__405(api, world):
    response = api.get("/v1/log_event", key=world.keys["server"])
    assert response.status_code == 405
    assert response.json()["success"] is False


def test_log_event__other_project_key__stored_in_that_project(api, world, other_world):
    body = {"events": [{"eventName": "e", "user": {"userID": "u"}}]}
    api.post("/v1/log_event", body, key=other_world.keys["client"])
    assert Event.objects.get().project_id == other_world.project.pk


# ---------------------------------------------------------------------------------------------
# log_custom_exposure


def test_log_custom_exposure__seed_experiment__202_and_stored(api, world):
    body = {
        "exposures": [
            {
                "user": {"userID": "user_id_12345"},
                "experimentName": "analytics_only_experiment",
                "group": "Daily Deals",
            }
        ]
    }
    response = api.post("/v1/log_custom_exposure", body, key=world.keys["server"])
    assert response.status_code == 202
    assert response.json() == ok()
    exposure = Exposure.objects.get()
    assert (exposure.kind, exposure.name, exposure.group_name, exposure.user_id) == (
        "config",
        "analytics_only_experiment",
        "Daily Deals",
        "user_id_12345",
    )
    assert exposure.value is None
    assert exposure.source == "custom"


def test_log_custom_exposure__seed_gate__202_and_stored(api, world):
    body = {
        "exposures": [
            {
                "user": {"userID": "user_id_12345"},
                "gateName": "saleBanner",
                "group": "Controls Access",
                "passes": True,
            }
        ]
    }
    response = api.post("/v1/log_custom_exposure", body, key=world.keys["client"])
    assert response.status_code == 202
    assert response.json() == ok()
    exposure = Exposure.objects.get()
    assert (exposure.kind, exposure.name, exposure.value, exposure.group_name) == (
        "gate",
        "saleBanner",
        True,
        "Controls Access",
    )


def test_log_custom_exposure__seed_secondary_exposures__stored(api, world):
    secondary = [
        {"gate": "test_holdout", "gateValue": "true", "ruleID": "3CQWjvi4HXcHsGIuuffKoe:10.00:2"}
    ]
    body = {
        "exposures": [
            {
                "user": {"userID": "user_id_12345"},
                "gateName": "saleBanner",
                "group": "Controls Access",
                "passes": True,
                "secondaryExposures": secondary,
            }
        ]
    }
    response = api.post("/v1/log_custom_exposure", body, key=world.keys["server"])
    assert response.status_code == 202
    assert response.json() == ok()
    assert Exposure.objects.get().secondary_exposures == secondary


def test_log_custom_exposure__invalid_items__dropped_and_counted(api, world):
    body = {
        "user": {"userID": "shared"},
        "exposures": [
            {"gateName": "g", "passes": False, "ruleID": "r1"},
            {"group": "no name"},
            {"experimentName": "e", "group": "g", "user": {"email": "no-id@example.com"}},
            7,
        ],
    }
    response = api.post("/v1/log_custom_exposure", body, key=world.keys["server"])
    assert response.status_code == 202
    assert response.json() == ok(
        {"invalid_event": 1, "missing_exposure_name": 1, "missing_unit_id": 1}
    )
    exposure = Exposure.objects.get()
    assert (exposure.user_id, exposure.value, exposure.rule_id) == ("shared", False, "r1")


def test_log_custom_exposure__exposures_not_a_list__400(api, world):
    response = api.post("/v1/log_custom_exposure", {"exposures": "x"}, key=world.keys["server"])
    assert response.status_code == 400
    assert response.json() == {
        "success": False,
        "status": 400,
        "message": "'exposures' must be a list.",
    }
