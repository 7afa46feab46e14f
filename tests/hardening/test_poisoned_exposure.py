"""A poisoned item in the shared exposure queue never stops exposures: the drain stores the good
items, parks the bad one in a dead-letter list (counted per project and shown on the project's
settings screen), never reads it again, and says so when a batch could not be stored."""

from __future__ import annotations

import json
import os

import pytest

from console.models import Role
from events import exposures
from events.exposures import buffer_exposures, drain_all
from events.models import Exposure
from tests.events.test_exposure_buffer import contract_exposure

pytestmark = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="the shared queue lives in Redis"
)


def _deep(leaf, depth: int = 650):
    value = leaf
    for _ in range(depth):
        value = {"a": value}
    return value


def _raw_item(project_id: int, user_json: str) -> str:
    """A queue item as an older process (or a hand-edited queue) could have left it: raw JSON
    text the current encoder would not produce."""
    return (
        '{"kind":"gate","name":"g","rule_id":"r","value":true,"user":' + user_json + ","
        f'"time":1700000000000,"project_id":{project_id},'
        '"uuid":"6f1c6a52-8b8e-4d0c-9a44-5b0f1f1f2a01","received_ms":1700000000000}'
    )


POISONS = {
    "lone surrogate": '{"userID":"x\\ud800"}',
    "lone surrogate in a key": '{"userID":"u","custom":{"k\\udfff":1}}',
    "deep nesting with NaN": json.dumps({"userID": "u", "custom": _deep(float("nan"))}),
    "deep nesting with NUL": json.dumps({"userID": "u", "custom": _deep("\x00")}),
    "nesting past the decoder": '{"userID":"u","custom":' + "[" * 5000 + "]" * 5000 + "}",
    "not json": "{not json",
}


@pytest.mark.parametrize("poison", POISONS.values(), ids=POISONS.keys())
def test_drain__poisoned_item_between_good_ones__good_stored_bad_parked(world, poison):
    # Given good exposures on both sides of a poisoned item in the shared queue
    project_id = world.project.pk
    buffer_exposures(project_id, [contract_exposure(i) for i in range(3)])
    exposures._redis().rpush(exposures.QUEUE_KEY, _raw_item(project_id, poison))
    buffer_exposures(project_id, [contract_exposure(i) for i in range(3, 6)])

    # When the drain runs
    written = drain_all()

    # Then the good ones are stored, the bad one is parked and the queue is empty
    assert written == 6
    assert Exposure.objects.filter(project_id=project_id).count() == 6
    assert exposures.queue_length() == 0
    assert exposures.dead_letter_length() == 1
    # And later exposures keep flowing: the drain never reads the parked item again
    buffer_exposures(project_id, [contract_exposure(9)])
    assert drain_all() == 1
    assert exposures.dead_letter_length() == 1


def test_drain__poisoned_row_among_one_requests_rows__only_that_row_parked(world):
    # Given one request's four exposures, one with a user PostgreSQL cannot store (a lone
    # surrogate), queued together as one item
    project_id = world.project.pk
    poisoned = contract_exposure(3, user={"userID": "x\ud800"})
    buffer_exposures(project_id, [contract_exposure(0), poisoned, *map(contract_exposure, (1, 2))])
    assert exposures._redis().llen(exposures.QUEUE_KEY) == 1

    # When the drain runs
    written = drain_all()

    # Then the three good rows are stored and only the poisoned row is parked
    assert written == 3
    assert set(Exposure.objects.values_list("user_id", flat=True)) == {"u0", "u1", "u2"}
    assert exposures.queue_length() == 0
    parked = exposures._redis().lrange(exposures.DEAD_LETTER_KEY, 0, -1)
    assert len(parked) == 1
    assert b"\\ud800" in parked[0]
    assert b"\n" not in parked[0]


def test_drain__malformed_row_in_a_request_line__parked_alone(world):
    # Given a request's line whose middle row is not a row at all
    project_id = world.project.pk
    line = {
        "project_id": project_id,
        "received_ms": 1_700_000_000_000,
        "uuid": "6f1c6a528b8e4d0c9a445b0f1f1f2a01",
        "shared": {"kind": "gate", "user": {"userID": "u"}, "source": "statsig_http"},
        "rows": [["a", "r", True, None, []], "junk", ["b", "r", False, None, []]],
    }
    exposures._redis().rpush(exposures.QUEUE_KEY, json.dumps(line))

    # When the drain runs
    assert drain_all() == 2

    # Then the two rows are stored and the bad one is parked as a line of its own
    assert set(Exposure.objects.values_list("name", flat=True)) == {"a", "b"}
    (parked,) = exposures._redis().lrange(exposures.DEAD_LETTER_KEY, 0, -1)
    assert json.loads(parked)["rows"] == ["junk"]
    assert exposures.dead_letter_counts() == {project_id: 1}


def test_drain__poisoned_item__counted_for_its_project_and_logged(world, caplog):
    exposures._redis().rpush(
        exposures.QUEUE_KEY, _raw_item(world.project.pk, POISONS["lone surrogate"])
    )

    drain_all()

    assert exposures.dead_letter_counts() == {world.project.pk: 1}
    assert "parked in the dead-letter list" in caplog.text


def test_settings_screen__parked_exposures__count_shown(world, browser_client):
    exposures._redis().rpush(
        exposures.QUEUE_KEY, _raw_item(world.project.pk, POISONS["deep nesting with NaN"])
    )
    drain_all()

    page = browser_client(world.users[Role.ADMIN]).get(f"/p/{world.project.slug}/settings/")

    assert page.status_code == 200
    assert "1 exposure could not be stored" in page.content.decode()


def test_drain__poisoned_request_through_check_gate__evaluation_200_and_queue_drains(api, world):
    # Given a check_gate whose user carries a lone surrogate and a deep NaN
    body = (
        '{"gateName":"missing","user":{"userID":"x\\ud800","custom":'
        + json.dumps(_deep(float("nan")))
        + "}}"
    )
    response = api.post("/v1/check_gate", raw=body.encode(), key=world.keys["server"])
    assert response.status_code < 500
    buffer_exposures(world.project.pk, [contract_exposure(1)])

    # When the drain runs, the good exposure is stored and nothing is left queued
    drain_all()

    assert Exposure.objects.filter(project_id=world.project.pk, user_id="u1").exists()
    assert exposures.queue_length() == 0


def test_drain__database_refuses_every_write__task_fails_and_keeps_the_queue(world, monkeypatch):
    from django.db import OperationalError

    from events import store, tasks

    buffer_exposures(world.project.pk, [contract_exposure(i) for i in range(3)])

    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(store, "insert_exposures", refuse)

    with pytest.raises(OperationalError):
        tasks.drain_exposures()
    assert exposures.queue_length() == 3
    assert exposures.dead_letter_length() == 0


def test_local_buffer__poisoned_item_without_redis__rest_stored_bad_counted(world, settings):
    from events.models import DroppedEventCount, DropReason

    # Given a process without Redis holding a poisoned item among good ones
    settings.REDIS_URL = ""
    buffer_exposures(world.project.pk, [contract_exposure(i) for i in range(2)])
    exposures._push_local(
        world.project.pk, [(1, _raw_item(world.project.pk, POISONS["lone surrogate"]).encode())]
    )

    # When it writes its buffer, the good ones are stored and the bad one counted as dropped
    assert exposures.flush_local_buffer() == 2
    assert exposures.local_buffer_size() == 0
    dropped = DroppedEventCount.objects.get(
        project=world.project, reason=DropReason.BUFFER_WRITE_FAILED
    )
    assert dropped.count == 1
