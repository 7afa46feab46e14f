"""The deletion job: every eraser over every pending request, oldest first, in chunks; complete
only when all finished, then the ids are wiped; failures retried with backoff and logged without
ids; requests near their due date processed at once and flagged."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from console.models import AuditLog
from privacy.erasers import CHUNK_SIZE, registered_erasers
from privacy.models import DeletionStatus
from privacy.services import deletion_process_pending
from tests.privacy.conftest import reload, submit


def test_job__pending_request__every_eraser_runs_then_complete_and_ids_wiped(
    world, recording_eraser
):
    # Given
    eraser = recording_eraser()
    request = submit(world, "u1,u2,u3", request_id="r1")
    # When
    outcomes = deletion_process_pending()
    # Then
    assert [(o.request_id, o.completed, o.error) for o in outcomes] == [("r1", True, "")]
    assert eraser.calls == [(world.project.pk, "user_id", ("u1", "u2", "u3"))]
    request = reload(request)
    assert request.status == DeletionStatus.COMPLETE
    assert request.completed_at is not None
    assert request.ids == []
    # kept as proof: request id, unit type, count, times
    assert (request.request_id, request.unit_type, request.id_count) == ("r1", "user_id", 3)
    assert request.received_at < request.completed_at
    assert set(request.progress) == {e.name for e in registered_erasers()}
    assert all(step["finished"] for step in request.progress.values())
    assert request.progress["zz_test.recorder"] == {
        "chunks": 1,
        "done": 1,
        "rows": 3,
        "finished": True,
    }
    assert request.progress_percent == 100


def test_job__many_ids__one_call_per_chunk(world, recording_eraser):
    eraser = recording_eraser()
    ids = [f"user-{i}" for i in range(CHUNK_SIZE * 2 + 1)]
    submit(world, ids)
    deletion_process_pending()
    assert [len(chunk) for _p, _u, chunk in eraser.calls] == [CHUNK_SIZE, CHUNK_SIZE, 1]
    assert eraser.ids_seen() == ids


def test_job__several_requests__oldest_first_each_once(world, other_world, recording_eraser):
    eraser = recording_eraser()
    submit(world, "a", request_id="first")
    submit(other_world, "b", request_id="second")
    submit(world, "c", request_id="third")
    outcomes = deletion_process_pending()
    assert [o.request_id for o in outcomes] == ["first", "second", "third"]
    assert eraser.ids_seen() == ["a", "b", "c"]
    assert [p for p, _u, _c in eraser.calls] == [
        world.project.pk,
        other_world.project.pk,
        world.project.pk,
    ]


def test_job__run_twice__second_run_does_nothing_and_completes_once(world, recording_eraser):
    eraser = recording_eraser()
    submit(world, "a", request_id="once")
    assert len(deletion_process_pending()) == 1
    assert deletion_process_pending() == []
    assert len(eraser.calls) == 1
    assert (
        AuditLog.objects.filter(
            project=world.project, action_type="user_data_deletion_request_complete"
        ).count()
        == 1
    )


def test_job__only_one_project__others_left_pending(world, other_world, recording_eraser):
    recording_eraser()
    mine = submit(world, "a")
    theirs = submit(other_world, "b")
    deletion_process_pending(project_id=world.project.pk)
    assert reload(mine).status == DeletionStatus.COMPLETE
    assert reload(theirs).status == DeletionStatus.PENDING


def test_job__eraser_fails__pending_backoff_error_without_ids_others_complete(
    world, recording_eraser, caplog
):
    # Given an eraser that fails with the id in its message, and a second request
    failing = recording_eraser("zz_test.failing")
    failing.fail_with = RuntimeError("could not erase person-4711 (row person-4711)")
    failing.before = lambda ids: None
    bad = submit(world, "person-4711,x", request_id="bad")
    # When
    with caplog.at_level(logging.INFO):
        outcomes = deletion_process_pending()
    # Then
    assert [(o.request_id, o.completed) for o in outcomes] == [("bad", False)]
    bad = reload(bad)
    assert bad.status == DeletionStatus.PENDING
    assert bad.attempts == 1
    assert bad.last_error == (
        "zz_test.failing: RuntimeError: could not erase [erased] (row [erased])"
    )
    assert bad.next_attempt_at > timezone.now() + timedelta(seconds=50)
    assert bad.ids == ["person-4711", "x"]  # kept until every eraser has finished
    assert "person-4711" not in caplog.text
    assert "privacy.deletion.failed" in caplog.text

    # When it is run again before its retry time: left alone
    assert deletion_process_pending() == []
    # When the backoff is over (or an operator forces it) and the store works again
    failing.fail_with = None
    outcomes = deletion_process_pending(respect_backoff=False)
    assert [(o.request_id, o.completed) for o in outcomes] == [("bad", True)]
    assert reload(bad).last_error == ""


def test_job__one_request_fails__the_next_one_still_completes(world, recording_eraser):
    eraser = recording_eraser()

    def fail_on_bad(ids):
        if "bad-id" in ids:
            raise ValueError("boom")

    eraser.before = fail_on_bad
    first = submit(world, "bad-id", request_id="first")
    second = submit(world, "good-id", request_id="second")
    deletion_process_pending()
    assert reload(first).status == DeletionStatus.PENDING
    assert reload(second).status == DeletionStatus.COMPLETE


def test_job__backoff__grows_with_attempts(world, recording_eraser):
    eraser = recording_eraser()
    eraser.fail_with = RuntimeError("down")
    request = submit(world, "a")
    delays = []
    for _ in range(4):
        before = timezone.now()
        deletion_process_pending(respect_backoff=False)
        delays.append(round((reload(request).next_attempt_at - before).total_seconds() / 60))
    assert delays == [1, 2, 4, 8]
    assert reload(request).attempts == 4


def test_job__resumes_after_interruption__finished_chunks_not_redone(world, recording_eraser):
    # Given a run interrupted in the second chunk of the second eraser
    first = recording_eraser("zz_test.a")
    second = recording_eraser("zz_test.b")
    ids = [f"u{i}" for i in range(CHUNK_SIZE * 3)]
    request = submit(world, ids)

    def interrupt(chunk):
        if chunk[0] == ids[CHUNK_SIZE]:
            raise KeyboardInterrupt  # like a killed worker: not an ordinary failure

    second.before = interrupt
    with pytest.raises(KeyboardInterrupt):
        deletion_process_pending()
    request = reload(request)
    assert request.status == DeletionStatus.PENDING
    assert request.attempts == 0
    assert request.progress["zz_test.a"]["finished"] is True
    assert request.progress["zz_test.b"]["done"] == 1
    assert 0 < request.progress_percent < 100
    # When the next run comes
    second.before = None
    deletion_process_pending()
    # Then it finishes, without redoing what was done
    assert reload(request).status == DeletionStatus.COMPLETE
    assert first.ids_seen() == ids
    assert second.ids_seen() == ids


def test_job__due_soon__processed_by_the_hourly_run_and_flagged(
    world, recording_eraser, monkeypatch
):
    # Given a request received 24 days ago (6 days left) and a fresh one
    recording_eraser()
    real_now = timezone.now
    monkeypatch.setattr("privacy.services.timezone.now", lambda: real_now() - timedelta(days=24))
    old = submit(world, "a", request_id="old")
    monkeypatch.setattr("privacy.services.timezone.now", real_now)
    fresh = submit(world, "b", request_id="fresh")
    assert reload(old).is_due_soon
    assert not reload(fresh).is_due_soon
    # When the due-soon run happens
    outcomes = deletion_process_pending(only_due_soon=True)
    # Then only the old one is processed, flagged
    assert [(o.request_id, o.due_soon, o.completed) for o in outcomes] == [("old", True, True)]
    assert reload(old).due_soon_flagged_at is not None
    assert reload(fresh).status == DeletionStatus.PENDING
    assert reload(fresh).due_soon_flagged_at is None


def test_job__logs__never_the_ids(world, recording_eraser, caplog):
    recording_eraser()
    submit(world, "very-private-id-1,very-private-id-2")
    with caplog.at_level(logging.DEBUG):
        deletion_process_pending()
    assert "privacy.deletion.completed" in caplog.text
    assert "very-private-id" not in caplog.text


def test_request__no_service_to_cancel_or_edit():
    import privacy.services as services

    names = [n for n in dir(services) if n.startswith("deletion_request_")]
    assert names == ["deletion_request_submit"]
