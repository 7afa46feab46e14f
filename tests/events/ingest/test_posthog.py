"""PostHog capture endpoints: the seeds' curl examples, body encodings, clock correction, errors,
persons, groups, ``$feature_flag_called`` and ``$feature/<key>``."""

from __future__ import annotations

import base64
import gzip
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest

from events.models import DroppedEventCount, Event, Exposure, Group, Person, PersonDistinctId

OK = {"status": 1}
SEED_TIME = datetime(2020, 8, 16, 9, 3, 11, 913767, tzinfo=UTC)


def person_of(distinct_id: str) -> dict:
    return (
        PersonDistinctId.objects.select_related("person")
        .get(distinct_id=distinct_id)
        .person.properties
    )


# ---------------------------------------------------------------------------------------------
# The seeds' sample requests, replayed.


def test_capture__seed_alias__persons_merged(api, world):
    key = world.keys["client"]
    body = {
        "api_key": key,
        "properties": {"distinct_id": "123", "alias": "456"},
        "timestamp": "2020-08-16 09:03:11.913767",
        "event": "$create_alias",
    }
    response = api.post("/capture/", body)
    assert response.status_code == 200
    assert response.json() == OK
    assert response["Access-Control-Allow-Origin"] == "*"
    event = Event.objects.get()
    assert (event.name, event.user_id, event.time, event.source) == (
        "$create_alias",
        "123",
        SEED_TIME,
        "posthog",
    )
    assert event.properties == {"distinct_id": "123", "alias": "456"}
    links = dict(PersonDistinctId.objects.values_list("distinct_id", "person_id"))
    assert set(links) == {"123", "456"}
    assert links["123"] == links["456"]


def test_capture__seed_capture__event_stored(api, world):
    body = {
        "api_key": world.keys["client"],
        "properties": {},
        "timestamp": "2020-08-16 09:03:11.913767",
        "distinct_id": "1234",
        "event": "$event",
    }
    response = api.post("/capture/", body)
    assert (response.status_code, response.json()) == (200, OK)
    event = Event.objects.get()
    assert (event.name, event.user_id, event.time, event.properties) == (
        "$event",
        "1234",
        SEED_TIME,
        {},
    )
    assert event.custom_ids == {}
    # A plain event creates no person.
    assert Person.objects.count() == 0


def test_capture__seed_group__groups_as_custom_ids(api, world):
    body = {
        "api_key": world.keys["client"],
        "event": "$event",
        "distinct_id": "1234",
        "properties": {"$groups": {"company": "Acme"}},
    }
    response = api.post("/capture/", body)
    assert (response.status_code, response.json()) == (200, OK)
    event = Event.objects.get()
    assert event.custom_ids == {"company": "Acme"}
    assert event.time == event.received_at


def test_capture__seed_group_identify__group_properties(api, world):
    body = {
        "api_key": world.keys["client"],
        "event": "$groupidentify",
        "properties": {
            "distinct_id": "groups_setup_id",
            "$group_type": "company",
            "$group_key": "Acme",
            "$group_set": {
                "name": "Acme",
                "subscription": "premium",
                "date_joined": "2020-01-23T00:00:00.000Z",
            },
        },
    }
    response = api.post("/capture/", body)
    assert (response.status_code, response.json()) == (200, OK)
    group = Group.objects.get()
    assert (group.project_id, group.group_type, group.group_key) == (
        world.project.pk,
        "company",
        "Acme",
    )
    assert group.properties == {
        "name": "Acme",
        "subscription": "premium",
        "date_joined": "2020-01-23T00:00:00.000Z",
    }
    # A later $groupidentify updates the same group.
    body["properties"]["$group_set"] = {"subscription": "enterprise"}
    api.post("/capture/", body)
    assert Group.objects.get().properties["subscription"] == "enterprise"
    assert Group.objects.get().properties["name"] == "Acme"


def test_capture__seed_identify__person_set(api, world):
    body = {
        "api_key": world.keys["client"],
        "timestamp": "2020-08-16 09:03:11.913767",
        "context": {},
        "distinct_id": "1234",
        "$set": {"email": "ada@example.com"},
        "event": "$identify",
    }
    response = api.post("/capture/", body)
    assert (response.status_code, response.json()) == (200, OK)
    person = Person.objects.get()
    assert person.properties == {"email": "ada@example.com"}
    assert person.is_identified is True
    assert Event.objects.get().user == {"$set": {"email": "ada@example.com"}}


@pytest.mark.parametrize("name", ["$pageview", "$screen"])
def test_capture__seed_pageview_and_screen__stored(api, world, name):
    body = {
        "api_key": world.keys["client"],
        "properties": {},
        "timestamp": "2020-08-16T09:03:11.913767",
        "distinct_id": "1234",
        "event": name,
    }
    response = api.post("/capture/", body)
    assert (response.status_code, response.json()) == (200, OK)
    assert Event.objects.get().name == name
    assert Event.objects.get().time == SEED_TIME


def test_capture__seed_batch__all_events_stored(api, world):
    body = {
        "api_key": world.keys["client"],
        "batch": [
            {"event": "a", "properties": {"distinct_id": "u1", "key1": "value1", "key2": "value2"}},
            {
                "event": "b",
                "properties": {"distinct_id": "u2"},
                "timestamp": "2020-08-16T09:03:11.913767Z",
            },
        ],
    }
    response = api.post("/batch/", body)
    assert (response.status_code, response.json()) == (200, OK)
    a, b = Event.objects.order_by("name")
    assert (a.user_id, a.properties) == (
        "u1",
        {"distinct_id": "u1", "key1": "value1", "key2": "value2"},
    )
    assert (b.user_id, b.time) == ("u2", SEED_TIME)


def test_capture__seed_feature_attribution__stored(api, world):
    body = {
        "api_key": world.keys["client"],
        "event": "your_event_name",
        "distinct_id": "distinct_id_of_your_user",
        "properties": {"$feature/feature-flag-key": "variant-key"},
    }
    response = api.post("/capture/", body)
    assert (response.status_code, response.json()) == (200, OK)
    assert Event.objects.get().feature_flags == {"feature-flag-key": "variant-key"}


def test_capture__seed_feature_flag_called__exposure(api, world):
    body = {
        "api_key": world.keys["client"],
        "event": "$feature_flag_called",
        "distinct_id": "distinct_id_of_your_user",
        "properties": {
            "$feature_flag": "feature-flag-key",
            "$feature_flag_response": "variant-name",
        },
    }
    response = api.post("/capture/", body)
    assert (response.status_code, response.json()) == (200, OK)
    assert Event.objects.count() == 0
    exposure = Exposure.objects.get()
    assert (
        exposure.kind,
        exposure.name,
        exposure.group_name,
        exposure.user_id,
        exposure.source,
    ) == (
        "config",
        "feature-flag-key",
        "variant-name",
        "distinct_id_of_your_user",
        "posthog",
    )


def test_capture__boolean_flag_called__gate_exposure(api, world):
    body = {
        "api_key": world.keys["client"],
        "event": "$feature_flag_called",
        "distinct_id": "u",
        "properties": {"$feature_flag": "beta", "$feature_flag_response": False},
    }
    api.post("/capture/", body)
    exposure = Exposure.objects.get()
    assert (exposure.kind, exposure.name, exposure.value) == ("gate", "beta", False)


# ---------------------------------------------------------------------------------------------
# Routes and body encodings.


@pytest.mark.parametrize(
    "path",
    [
        "/capture/",
        "/capture",
        "/batch/",
        "/batch",
        "/e/",
        "/e",
        "/i/v0/e/",
        "/i/v0/e",
        "/track/",
        "/track",
    ],
)
def test_capture__every_route__200(api, world, path):
    body = {"api_key": world.keys["client"], "event": "e", "distinct_id": "u"}
    response = api.post(path, body)
    assert (response.status_code, response.json()) == (200, OK)
    assert Event.objects.get().name == "e"


def single(world, name="e") -> dict:
    return {"token": world.keys["client"], "event": name, "distinct_id": "u"}


def test_capture__array_body__each_event_stored(api, world):
    response = api.post("/e/", [single(world, "a"), single(world, "b")])
    assert (response.status_code, response.json()) == (200, OK)
    assert sorted(Event.objects.values_list("name", flat=True)) == ["a", "b"]


def test_capture__array_with_two_tokens__401(api, world, other_world):
    body = [single(world), {**single(world), "token": other_world.keys["client"]}]
    response = api.post("/e/", body)
    assert response.status_code == 401
    assert response.json() == {
        "type": "authentication_error",
        "code": "invalid_api_key",
        "detail": "batch submitted with inconsistent api_key values",
        "attr": None,
    }


def test_capture__gzip_by_header__stored(api, world):
    raw = gzip.compress(json.dumps(single(world, "gz-header")).encode())
    response = api.post("/e/", raw=raw, headers={"Content-Encoding": "gzip"})
    assert (response.status_code, response.json()) == (200, OK)
    assert Event.objects.get().name == "gz-header"


def test_capture__gzip_by_magic_bytes__stored(api, world):
    raw = gzip.compress(json.dumps(single(world, "gz-magic")).encode())
    response = api.post("/batch/", raw=raw, content_type="text/plain")
    assert (response.status_code, response.json()) == (200, OK)
    assert Event.objects.get().name == "gz-magic"


def test_capture__gzip_js_query__stored(api, world):
    raw = gzip.compress(json.dumps([single(world, "gz-js")]).encode())
    response = api.post("/e/?compression=gzip-js&ver=1.0", raw=raw, content_type="text/plain")
    assert (response.status_code, response.json()) == (200, OK)
    assert Event.objects.get().name == "gz-js"


def test_capture__base64_body__stored(api, world):
    raw = base64.b64encode(json.dumps(single(world, "b64")).encode())
    response = api.post("/capture/", raw=raw, content_type="text/plain")
    assert (response.status_code, response.json()) == (200, OK)
    assert Event.objects.get().name == "b64"


def test_capture__form_data_base64__stored(api, world):
    data = base64.b64encode(json.dumps(single(world, "form")).encode()).decode()
    response = api.post(
        "/track/",
        raw=f"data={quote(data)}".encode(),
        content_type="application/x-www-form-urlencoded",
    )
    assert (response.status_code, response.json()) == (200, OK)
    assert Event.objects.get().name == "form"


def test_capture__form_data_json__stored(api, world):
    data = json.dumps(single(world, "form-json"))
    response = api.post(
        "/track/",
        raw=f"data={quote(data)}".encode(),
        content_type="application/x-www-form-urlencoded",
    )
    assert (response.status_code, response.json()) == (200, OK)
    assert Event.objects.get().name == "form-json"


# ---------------------------------------------------------------------------------------------
# Time correction.


def test_capture__sent_at__client_clock_skew_removed(api, world):
    # Given a client whose clock is two hours behind: it sent the batch at its 10:00
    sent_at = datetime.now(UTC) - timedelta(hours=2)
    timestamp = sent_at - timedelta(seconds=30)
    body = {
        "api_key": world.keys["client"],
        "sent_at": sent_at.isoformat(),
        "batch": [{"event": "e", "distinct_id": "u", "timestamp": timestamp.isoformat()}],
    }
    api.post("/batch/", body)
    # Then the event happened 30 s before the server received it
    event = Event.objects.get()
    assert abs((event.received_at - event.time) - timedelta(seconds=30)) < timedelta(seconds=2)


def test_capture__offset__time_is_received_minus_offset(api, world):
    body = {**single(world), "offset": 60_000}
    api.post("/e/", body)
    event = Event.objects.get()
    assert abs((event.received_at - event.time) - timedelta(minutes=1)) < timedelta(seconds=1)


# ---------------------------------------------------------------------------------------------
# Invalid events and errors.


def test_capture__nameless_and_idless_events__dropped_200_counted(api, world):
    body = {
        "api_key": world.keys["client"],
        "batch": [
            {"event": "kept", "distinct_id": "u"},
            {"distinct_id": "u"},
            {"event": "no id"},
            {"event": "empty id", "distinct_id": ""},
            {"event": "blank id", "properties": {"distinct_id": "   "}},
            "junk",
        ],
    }
    response = api.post("/batch/", body)
    assert (response.status_code, response.json()) == (200, OK)
    assert list(Event.objects.values_list("name", flat=True)) == ["kept"]
    counts = dict(DroppedEventCount.objects.values_list("reason", "count"))
    assert counts == {"missing_event_name": 1, "missing_distinct_id": 3, "invalid_event": 1}
    assert set(DroppedEventCount.objects.values_list("source", flat=True)) == {"posthog"}


def test_capture__numeric_distinct_id__stringified_and_trimmed(api, world):
    api.post(
        "/batch/", {"api_key": world.keys["client"], "batch": [{"event": "e", "distinct_id": 42}]}
    )
    api.post(
        "/batch/",
        {"api_key": world.keys["client"], "batch": [{"event": "f", "distinct_id": "x" * 300}]},
    )
    assert sorted(len(u) for u in Event.objects.values_list("user_id", flat=True)) == [2, 200]


def test_capture__token_in_properties__accepted_and_not_stored(api, world):
    body = {"event": "e", "distinct_id": "u", "properties": {"token": world.keys["client"], "a": 1}}
    response = api.post("/capture/", body)
    assert (response.status_code, response.json()) == (200, OK)
    assert Event.objects.get().properties == {"a": 1}


def test_capture__missing_token__401_missing_api_key(api, world):
    response = api.post("/capture/", {"event": "e", "distinct_id": "u"})
    assert response.status_code == 401
    assert response.json() == {
        "type": "authentication_error",
        "code": "missing_api_key",
        "detail": "API key not provided. You can find your project API key in PostHog project settings.",
        "attr": None,
    }


@pytest.mark.parametrize("token", ["phc_unknown", "console"])
def test_capture__invalid_token__401_invalid_api_key(api, world, token):
    response = api.post("/batch/", {"api_key": world.keys.get(token, token), "batch": []})
    assert response.status_code == 401
    assert response.json() == {
        "type": "authentication_error",
        "code": "invalid_api_key",
        "detail": "Project API key invalid. You can find your project API key in PostHog project settings.",
        "attr": None,
    }


@pytest.mark.parametrize("project_id", ["abc", 999_999])
def test_capture__wrong_project_id__400_invalid_project(api, world, project_id):
    body = {"api_key": world.keys["client"], "project_id": project_id, "batch": []}
    response = api.post("/batch/", body)
    assert response.status_code == 400
    assert response.json() == {
        "type": "validation_error",
        "code": "invalid_project",
        "detail": "Invalid Project ID.",
        "attr": "project_id",
    }


def test_capture__right_project_id__200(api, world):
    body = {"api_key": world.keys["client"], "project_id": world.project.pk, "batch": []}
    assert api.post("/batch/", body).json() == OK


def test_capture__empty_body__400_no_data(api, world):
    response = api.post("/capture/", raw=b"")
    assert response.status_code == 400
    assert response.json()["code"] == "no_data"
    assert response.json()["type"] == "validation_error"


def test_capture__garbage_body__400_invalid_payload(api, world):
    response = api.post("/capture/", raw=b"\x00\x01 not json at all", content_type="text/plain")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_payload"
    assert response.json()["detail"].startswith("Malformed request data")


def test_capture__single_event_route_over_2_mb__413(api, world):
    body = {**single(world), "properties": {"pad": "x" * (2 * 1024 * 1024)}}
    response = api.post("/capture/", body)
    assert response.status_code == 413
    assert response.json() == {
        "type": "validation_error",
        "code": "payload_too_large",
        "detail": "Request body is too large: the limit is 2 MB.",
        "attr": None,
    }
    # The batch route takes it (20 MB).
    assert api.post("/batch/", body).json() == OK


def test_capture__batch_over_20_mb__413(api, world):
    body = {**single(world), "properties": {"pad": "x" * (20 * 1024 * 1024)}}
    response = api.post("/batch/", body)
    assert response.status_code == 413
    assert response.json()["detail"] == "Request body is too large: the limit is 20 MB."


def test_capture__options__cors_preflight(api, world):
    response = api.request(
        "OPTIONS",
        "/batch/",
        headers={
            "Origin": "https://app.example.com",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert response["Access-Control-Allow-Credentials"] == "true"
    assert response["Access-Control-Allow-Methods"] == "GET, POST, OPTIONS"
    assert response["Access-Control-Allow-Headers"] == "content-type"
    assert response["Access-Control-Max-Age"] == "86400"


# ---------------------------------------------------------------------------------------------
# Persons.


def test_identify__anonymous_then_identified__merged_with_properties(api, world):
    key = world.keys["client"]
    # Given an anonymous visitor with a property
    api.post(
        "/e/",
        {
            "token": key,
            "event": "$set",
            "distinct_id": "anon-1",
            "$set": {"plan": "free", "seen": 1},
        },
    )
    # When they log in
    api.post(
        "/e/",
        {
            "token": key,
            "event": "$identify",
            "distinct_id": "user-1",
            "properties": {"$anon_distinct_id": "anon-1"},
            "$set": {"plan": "pro"},
            "$set_once": {"first_seen": "today", "seen": 99},
        },
    )
    # Then one person owns both ids, the identified values win, set_once kept existing values
    assert Person.objects.count() == 1
    assert (
        person_of("anon-1")
        == person_of("user-1")
        == {"plan": "pro", "seen": 1, "first_seen": "today"}
    )


def test_alias__two_existing_persons__merged_target_wins(api, world):
    key = world.keys["client"]
    api.post(
        "/e/", {"token": key, "event": "$set", "distinct_id": "a", "$set": {"x": "a", "only_a": 1}}
    )
    api.post("/e/", {"token": key, "event": "$set", "distinct_id": "b", "$set": {"x": "b"}})
    api.post("/e/", {"token": key, "event": "$set", "distinct_id": "b2", "$set": {"y": 1}})
    api.post(
        "/e/",
        {"token": key, "event": "$create_alias", "distinct_id": "b", "properties": {"alias": "b2"}},
    )
    assert Person.objects.count() == 2
    # When a is aliased into b (b has an alias b2 that this request does not mention)
    api.post(
        "/e/",
        {"token": key, "event": "$create_alias", "distinct_id": "b", "properties": {"alias": "a"}},
    )
    # Then a, b and b2 share one person
    assert Person.objects.count() == 1
    assert person_of("a") == {"x": "b", "only_a": 1, "y": 1}
    assert PersonDistinctId.objects.count() == 3


def test_set_and_unset_in_one_batch__applied_in_order(api, world):
    body = {
        "api_key": world.keys["client"],
        "batch": [
            {"event": "$set", "distinct_id": "u", "properties": {"$set": {"a": 1, "b": 2}}},
            {
                "event": "$set",
                "distinct_id": "u",
                "properties": {"$unset": ["a"], "$set": {"c": 3}},
            },
        ],
    }
    api.post("/batch/", body)
    assert person_of("u") == {"b": 2, "c": 3}


def test_persons__other_project__separate(api, world, other_world):
    api.post(
        "/e/",
        {"token": world.keys["client"], "event": "$set", "distinct_id": "u", "$set": {"p": 1}},
    )
    api.post(
        "/e/",
        {
            "token": other_world.keys["client"],
            "event": "$set",
            "distinct_id": "u",
            "$set": {"p": 2},
        },
    )
    assert sorted(Person.objects.values_list("properties", flat=True), key=str) == [
        {"p": 1},
        {"p": 2},
    ]


def test_capture__get_with_data_query__stored(api, world):
    data = base64.b64encode(json.dumps(single(world, "via-get")).encode()).decode()
    response = api.get(f"/e/?data={quote(data)}")
    assert (response.status_code, response.json()) == (200, OK)
    assert Event.objects.get().name == "via-get"
