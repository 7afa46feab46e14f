"""One bulk statement per table per request, committed before the 2xx."""

from __future__ import annotations

import json
import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from events import store
from events.ingest import statsig_parsing
from events.ingest.statsig_parsing import PART_EVENTS
from events.models import Event, Exposure
from events.rows import EVENT_COLUMNS, EXPOSURE_COLUMNS
from tests.events.helpers import bulk_statements, data_statements


def writes_to(statements: list[str], table: str) -> list[str]:
    return [s for s in statements if f'"{table}"' in s and s.startswith(("INSERT", "COPY"))]


def statsig_batch(n: int) -> dict:
    events = []
    for i in range(n):
        events.append({"eventName": "purchase", "value": i, "user": {"userID": f"u{i}"}})
        events.append(
            {
                "eventName": "statsig::gate_exposure",
                "user": {"userID": f"u{i}"},
                "metadata": {"gate": "g", "gateValue": "true", "ruleID": "r"},
            }
        )
    return {"events": events}


def test_log_event__1000_events_and_1000_exposures__one_statement_per_table(api, world):
    key = world.keys["server"]
    # Given a warm key cache (the first use of a key reads it once)
    api.post("/v1/log_event", {"events": []}, key=key)
    # When
    with CaptureQueriesContext(connection) as captured:
        response = api.post("/v1/log_event", statsig_batch(1000), key=key)
    # Then
    assert response.status_code == 202
    statements = data_statements(captured)
    event_writes = writes_to(statements, "flag_events_event")
    exposure_writes = writes_to(statements, "flag_events_exposure")
    assert len(event_writes) == bulk_statements(1000, columns=len(EVENT_COLUMNS))
    assert len(exposure_writes) == bulk_statements(1000, columns=len(EXPOSURE_COLUMNS))
    # Nothing else: no per-event query, no key lookup.
    assert len(statements) == len(event_writes) + len(exposure_writes)
    if connection.vendor == "postgresql":
        assert event_writes[0].startswith('COPY "flag_events_event"')
        assert event_writes[0].endswith("-- 1000 rows")
        assert exposure_writes[0].startswith('COPY "flag_events_exposure"')
    assert (Event.objects.count(), Exposure.objects.count()) == (1000, 1000)


def test_log_event__1000_events__each_part_sent_before_the_next_is_parsed(api, world, monkeypatch):
    # Given a 1,000-event batch with drops and SDK exposures spread over its parts
    if connection.vendor != "postgresql":
        pytest.skip("the COPY path streams; other databases get one bulk_create")
    key = world.keys["server"]
    api.post("/v1/log_event", {"events": []}, key=key)
    events = []
    for i in range(1000):
        if i % 100 == 7:
            events.append({"user": {"userID": f"u{i}"}})  # no eventName: dropped
        elif i % 100 == 9:
            metadata = {"gate": "g", "gateValue": "true", "ruleID": "r"}
            user = {"userID": f"u{i}"}
            events.append(
                {"eventName": "statsig::gate_exposure", "user": user, "metadata": metadata}
            )
        else:
            events.append({"eventName": "purchase", "value": i, "user": {"userID": f"u{i}"}})
    steps: list[str] = []
    parse_part = statsig_parsing._parse_events
    copy_text = store._copy_text

    def parsed(events, *args, **kwargs):
        steps.append(f"parse {len(events)}")
        return parse_part(events, *args, **kwargs)

    def sent(model, columns, rows):
        steps.append(f"send {model.__name__} {len(rows)}")
        return copy_text(model, columns, rows)

    monkeypatch.setattr(statsig_parsing, "_parse_events", parsed)
    monkeypatch.setattr(store, "_copy_text", sent)
    # When it is sent
    with CaptureQueriesContext(connection) as captured:
        response = api.post("/v1/log_event", {"events": events}, key=key)
    # Then each part of 200 events went to the COPY before the next one was parsed
    assert response.status_code == 202
    part = [f"parse {PART_EVENTS}", f"send Event {PART_EVENTS - 4}"]
    assert steps == part * (1000 // PART_EVENTS) + ["send Exposure 10"]
    # In one statement per table, with every drop counted once
    statements = data_statements(captured)
    assert [s.split(" (")[0] for s in statements[:2]] == [
        'COPY "flag_events_event"',
        'COPY "flag_events_exposure"',
    ]
    assert statements[0].endswith("-- 980 rows")
    assert response.json()["accepted"] == 990
    assert response.json()["dropped_reasons"] == {"missing_event_name": 10}
    stored = list(Event.objects.order_by("time", "id").values_list("value", flat=True))
    assert len(stored) == 980
    assert stored[:3] == ["0", "1", "2"]


def test_copy_slices__every_slice_empty__no_statement(db):
    if connection.vendor != "postgresql":
        pytest.skip("COPY is PostgreSQL's")
    with CaptureQueriesContext(connection) as captured:
        sent = store.copy_slices(Event, EVENT_COLUMNS, iter([[], [], []]))
    assert sent == 0
    assert data_statements(captured) == []


def test_batch__1000_events__one_statement(api, world):
    key = world.keys["client"]
    api.post("/batch/", {"api_key": key, "batch": []})
    body = {
        "api_key": key,
        "batch": [
            {"event": "e", "distinct_id": f"u{i}", "properties": {"$groups": {"org": "o"}}}
            for i in range(1000)
        ],
    }
    with CaptureQueriesContext(connection) as captured:
        response = api.post("/batch/", body)
    assert response.json() == {"status": 1}
    statements = data_statements(captured)
    assert len(statements) == bulk_statements(1000, columns=len(EVENT_COLUMNS))
    assert all(s.startswith(("COPY", "INSERT")) for s in statements)
    assert Event.objects.count() == 1000


def test_batch__person_updates__constant_statements_not_per_event(api, world):
    key = world.keys["client"]
    api.post("/batch/", {"api_key": key, "batch": []})

    def batch(ids: range) -> dict:
        return {
            "api_key": key,
            "batch": [
                {"event": "$set", "distinct_id": f"u{i}", "$set": {"plan": "pro", "i": i}}
                for i in ids
            ],
        }

    # New persons: 10 or 100 of them cost the same statements
    with CaptureQueriesContext(connection) as small:
        api.post("/batch/", batch(range(10)))
    with CaptureQueriesContext(connection) as large:
        api.post("/batch/", batch(range(100, 200)))
    # Existing persons updated: one bulk UPDATE more, however many
    with CaptureQueriesContext(connection) as update:
        api.post("/batch/", batch(range(200)))
    if connection.vendor == "postgresql":
        assert len(data_statements(large)) == len(data_statements(small)) == 4
        assert len(data_statements(update)) == 5
    assert len(data_statements(update)) <= 12


def test_log_event__drops__one_counter_upsert(api, world):
    key = world.keys["server"]
    api.post("/v1/log_event", {"events": []}, key=key)
    body = {"events": [{"eventName": "ok", "user": {"userID": "u"}}, {"user": {}}, 3, {}]}
    with CaptureQueriesContext(connection) as captured:
        api.post("/v1/log_event", body, key=key)
    statements = data_statements(captured)
    assert len(statements) == 2
    assert "flag_events_droppedeventcount" in statements[1]


@pytest.mark.django_db(transaction=True)
def test_log_event__2xx__rows_visible_to_another_connection():
    from tests.conftest import make_world
    from tests.wire_client import WireClient

    world = make_world("Durable")
    response = WireClient().post(
        "/v1/log_event",
        data=json.dumps(statsig_batch(3)),
        content_type="application/json",
        headers={"STATSIG-API-KEY": world.keys["server"]},
    )
    assert response.status_code == 202
    assert not connection.in_atomic_block
    # Another connection (another thread) sees every row: they were committed before the 202.
    counts: list[int] = []

    def count() -> None:
        from django.db import connections

        try:
            counts.append(Event.objects.count() + Exposure.objects.count())
        finally:
            connections.close_all()

    thread = threading.Thread(target=count)
    thread.start()
    thread.join()
    assert counts == [6]


AWKWARD_TEXT = 'tab\there, line\nbreak, return\r, back\\slash, "quoted", \\N, café ✓'


def test_log_event__awkward_characters__stored_as_sent(api, world):
    # Given a batch where one event's texts and JSON hold what the bulk write's text format
    # treats specially (tabs, newlines, carriage returns, backslashes, a literal \N)
    user = {"userID": AWKWARD_TEXT, "custom": {"note": AWKWARD_TEXT}}
    metadata = {"note": AWKWARD_TEXT, AWKWARD_TEXT: [1.5, None, True]}
    events = [
        {"eventName": f"plain-{i}", "value": i, "user": {"userID": f"u{i}"}} for i in range(3)
    ]
    events.append(
        {"eventName": AWKWARD_TEXT, "value": AWKWARD_TEXT, "user": user, "metadata": metadata}
    )
    # When it is logged
    response = api.post("/v1/log_event", {"events": events}, key=world.keys["server"])
    # Then every event is stored, the awkward one exactly as sent
    assert response.status_code == 202
    assert response.json()["accepted"] == 4
    stored = Event.objects.get(name=AWKWARD_TEXT)
    assert (stored.user_id, stored.value, stored.numeric_value) == (
        AWKWARD_TEXT,
        AWKWARD_TEXT,
        None,
    )
    assert stored.user == user
    assert stored.properties == metadata
    plain = Event.objects.get(name="plain-2")
    assert (plain.user_id, plain.value, plain.numeric_value) == ("u2", "2", 2.0)
    assert plain.properties == {}


def test_log_event__values_and_exposure_flags__stored_typed(api, world):
    # Given events whose values are numbers, booleans or absent, and exposures whose gate value
    # is true, false or unreadable
    events = [
        {"eventName": "float", "value": 9.99, "user": {"userID": "u"}},
        {"eventName": "big", "value": 12345678901234567, "user": {"userID": "u"}},
        {"eventName": "flag", "value": True, "user": {"userID": "u"}},
        {"eventName": "none", "user": {"userID": "u"}},
    ]
    for gate, value in (("on", "true"), ("off", False), ("unknown", "maybe")):
        events.append(
            {
                "eventName": "statsig::gate_exposure",
                "user": {"userID": "u"},
                "metadata": {"gate": gate, "gateValue": value, "ruleID": "r"},
            }
        )
    # When they are logged
    response = api.post("/v1/log_event", {"events": events}, key=world.keys["server"])
    # Then each value is stored as text and, when a number, as a number too
    assert response.status_code == 202
    values = {e.name: (e.value, e.numeric_value) for e in Event.objects.all()}
    assert values == {
        "float": ("9.99", 9.99),
        "big": ("12345678901234567", 12345678901234567.0),
        "flag": ("true", None),
        "none": (None, None),
    }
    # And each gate value as a boolean, or none when unreadable
    flags = dict(Exposure.objects.values_list("name", "value"))
    assert flags == {"on": True, "off": False, "unknown": None}
