"""One bad event never costs the batch: a lone UTF-16 surrogate (a browser cutting an emoji in
half), NaN or a NUL deep in the metadata, a 4,299-digit integer. The good events are stored,
the bad ones repaired (a lone surrogate becomes U+FFFD, NUL is removed, NaN becomes null, a
number beyond 64 bits its decimal string) or, when nested too deep, dropped and counted; Statsig
answers 202, PostHog 200, never a 500. And a key limited to environments cannot file events
under another."""

from __future__ import annotations

import pytest

from console.models import Role
from console.services.api_keys import api_key_create
from console.wire import MAX_DEPTH
from events.models import Event, Exposure

HUGE = "9" * 4299
TOO_DEEP = '{"a":' * (MAX_DEPTH + 50) + "NaN" + "}" * (MAX_DEPTH + 50)
NOT_TOO_DEEP = '{"a":' * 20 + '"x\\u0000y"' + "}" * 20


def statsig_batch() -> bytes:
    events = [
        '{"eventName": "good", "user": {"userID": "1"}}',
        '{"eventName": "cut emoji \\ud83d", "user": {"userID": "x\\ud800"}}',
        '{"eventName": "huge", "value": ' + HUGE + ', "user": {"userID": "2"}, '
        '"metadata": {"n": ' + HUGE + ', "ratio": NaN, "limit": Infinity}}',
        '{"eventName": "nested", "user": {"userID": "3"}, "metadata": ' + NOT_TOO_DEEP + "}",
        '{"eventName": "too deep", "user": {"userID": "4"}, "metadata": ' + TOO_DEEP + "}",
    ]
    return ('{"events": [' + ", ".join(events) + "]}").encode()


def value_at(data: dict, depth: int):
    for _ in range(depth):
        data = data["a"]
    return data


@pytest.mark.parametrize("path", ["/v1/log_event", "/v1/rgstr"])
def test_log_event__bad_events_among_good__202_good_stored_bad_repaired(api, world, path):
    # When an SDK sends a batch where some events hold what the store cannot keep as sent
    response = api.post(path, raw=statsig_batch(), key=world.keys["server"])

    # Then the batch is accepted, the deep one dropped and counted
    assert response.status_code == 202, response.content
    assert response.json() == {
        "success": True,
        "accepted": 4,
        "dropped": 1,
        "dropped_reasons": {"invalid_event": 1},
    }
    events = {event.name: event for event in Event.objects.all()}
    assert set(events) == {"good", "cut emoji \ufffd", "huge", "nested"}
    # The lone surrogate became U+FFFD
    assert events["cut emoji \ufffd"].user_id == "x\ufffd"
    # The huge integer is kept as its digits, NaN and Infinity as null
    huge = events["huge"]
    assert (huge.value, huge.numeric_value) == (HUGE, None)
    assert huge.properties == {"n": HUGE, "ratio": None, "limit": None}
    # NUL is taken out, nesting within the limit kept
    assert value_at(events["nested"].properties, 20) == "xy"


def test_log_event__only_nul_and_depth_issues__no_repair_path_still_stored(api, world):
    # orjson reads this body: the fast path stores it, NUL removed, the too-deep event dropped
    raw = (
        '{"events": [{"eventName": "n\\u0000ul", "user": {"userID": "1"}, "metadata": '
        + NOT_TOO_DEEP
        + '}, {"eventName": "deep", "user": {"userID": "2"}, "metadata": '
        + '{"a":' * 600
        + "1"
        + "}" * 600
        + "}]}"
    ).encode()
    response = api.post("/v1/log_event", raw=raw, key=world.keys["server"])
    assert response.status_code == 202, response.content
    assert response.json()["dropped_reasons"] == {"invalid_event": 1}
    event = Event.objects.get()
    assert event.name == "nul"
    assert value_at(event.properties, 20) == "xy"


def test_log_custom_exposure__bad_exposure_among_good__202_all_kept_repaired(api, world):
    raw = (
        '{"exposures": ['
        '{"user": {"userID": "x\\ud800"}, "gateName": "g", "passes": true, "ruleID": "r"},'
        '{"user": {"userID": "2", "custom": {"n": ' + HUGE + '}}, "experimentName": "e",'
        ' "group": "Control"},'
        '{"user": {"userID": "3"}, "gateName": "g", "passes": false}]}'
    ).encode()
    response = api.post("/v1/log_custom_exposure", raw=raw, key=world.keys["server"])
    assert response.status_code == 202, response.content
    assert response.json()["accepted"] == 3
    assert set(Exposure.objects.values_list("user_id", flat=True)) == {"x\ufffd", "2", "3"}
    assert Exposure.objects.get(user_id="2").user["custom"] == {"n": HUGE}


def posthog_event(name: str, distinct_id: str = "1", properties: str = "{}") -> str:
    return f'{{"event": "{name}", "distinct_id": "{distinct_id}", "properties": {properties}}}'


@pytest.mark.parametrize("path", ["/batch/", "/batch"])
def test_batch__bad_events_among_good__200_good_stored(api, world, path):
    events = [
        posthog_event("good"),
        posthog_event("cut", distinct_id="x\\ud800"),
        posthog_event("huge", properties='{"n": ' + HUGE + ', "r": NaN}'),
        posthog_event("deep", properties=TOO_DEEP),
    ]
    raw = f'{{"api_key": "{world.keys["client"]}", "batch": [{", ".join(events)}]}}'.encode()
    response = api.post(path, raw=raw)
    assert response.status_code == 200, response.content
    assert response.json() == {"status": 1}
    stored = {event.name: event for event in Event.objects.all()}
    assert set(stored) == {"good", "cut", "huge"}
    assert stored["cut"].user_id == "x\ufffd"
    assert stored["huge"].properties == {"n": HUGE, "r": None}


@pytest.mark.parametrize("path", ["/capture/", "/e/", "/i/v0/e/"])
def test_capture__single_event_with_lone_surrogate__200_stored_repaired(api, world, path):
    raw = (
        f'{{"api_key": "{world.keys["client"]}", "event": "$pageview", '
        '"distinct_id": "x\\ud800", "properties": {"title": "caf\\udce9", "n": ' + HUGE + "}}"
    ).encode()
    response = api.post(path, raw=raw)
    assert response.status_code == 200, response.content
    event = Event.objects.get()
    assert (event.user_id, event.properties) == ("x\ufffd", {"title": "caf\ufffd", "n": HUGE})


def test_capture__single_event_too_deep__200_nothing_stored(api, world):
    raw = f'{{"api_key": "{world.keys["client"]}", "event": "e", "distinct_id": "1", '
    raw += f'"properties": {TOO_DEEP}}}'
    response = api.post("/capture/", raw=raw.encode())
    assert response.status_code == 200, response.content
    assert not Event.objects.exists()


def test_log_event__key_limited_to_development__production_claims_filed_as_development(api, world):
    # Given a server key limited to development
    _key, secret = api_key_create(
        project=world.project,
        actor=world.actor(Role.ADMIN),
        kind="server",
        environments=["development"],
    )
    production = {"userID": "1", "statsigEnvironment": {"tier": "production"}}
    body = {
        "events": [
            {"eventName": "claims production", "user": production},
            {
                "eventName": "statsig::gate_exposure",
                "user": production,
                "metadata": {"gate": "g", "gateValue": "true", "ruleID": "r"},
            },
        ]
    }

    # When it sends events that claim production
    response = api.post("/v1/log_event", body, key=secret)
    custom = api.post(
        "/v1/log_custom_exposure",
        {"exposures": [{"user": production, "gateName": "g", "passes": True}]},
        key=secret,
    )

    # Then they are stored, but as development events
    assert (response.status_code, custom.status_code) == (202, 202)
    assert Event.objects.get().environment == "development"
    assert sorted(Exposure.objects.values_list("environment", flat=True)) == [
        "development",
        "development",
    ]
    # While an unrestricted key files them as claimed
    api.post("/v1/log_event", body, key=world.keys["server"])
    assert Event.objects.filter(environment="production").count() == 1
