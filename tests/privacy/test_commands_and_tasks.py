"""``process_deletions`` and ``deletion_status``, and the Celery tasks (eager here; the real
worker is in test_worker)."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from privacy.models import DeletionStatus
from privacy.tasks import process_deletions, process_deletions_due_soon, process_deletions_now
from tests.privacy.conftest import reload, submit


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_process_deletions__nothing_pending__says_so(db):
    assert run("process_deletions") == "Nothing to process: no pending deletion requests.\n"


def test_process_deletions__pending__completes_and_prints(world, recording_eraser):
    recording_eraser()
    request = submit(world, "private-a,private-b", request_id="cmd-1")
    output = run("process_deletions")
    assert f"Completed cmd-1 (project {world.project.pk}, 2 ids of user_id)" in output
    assert "1 completed, 0 failed." in output
    assert "private-a" not in output
    assert reload(request).status == DeletionStatus.COMPLETE


def test_process_deletions__project_option__only_that_project(world, other_world):
    mine = submit(world, "a")
    theirs = submit(other_world, "b")
    run("process_deletions", "--project", world.project.slug)
    assert reload(mine).status == DeletionStatus.COMPLETE
    assert reload(theirs).status == DeletionStatus.PENDING
    with pytest.raises(CommandError, match="No project with slug 'nope'"):
        run("process_deletions", "--project", "nope")


def test_process_deletions__failure__exit_1_message_without_ids(world, recording_eraser):
    eraser = recording_eraser()
    eraser.fail_with = RuntimeError("cannot reach private-a")
    submit(world, "private-a", request_id="cmd-f")
    out = StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("process_deletions", stdout=out)
    assert exit_info.value.code == 1
    assert "Failed cmd-f" in out.getvalue()
    assert "private-a" not in out.getvalue()


def test_deletion_status__none__says_so(db):
    assert run("deletion_status") == "No pending deletion requests.\n"


def test_deletion_status__pending__count_oldest_age_and_flags(world, monkeypatch):
    real_now = timezone.now
    monkeypatch.setattr("privacy.services.timezone.now", lambda: real_now() - timedelta(days=25))
    submit(world, "secret-1,secret-2", request_id="old-one")
    monkeypatch.setattr("privacy.services.timezone.now", real_now)
    submit(world, "secret-3", request_id="new-one")
    output = run("deletion_status")
    assert output.startswith("2 pending deletion request(s); oldest received 25d 0h ago")
    assert "1 due within 7 days, 0 overdue, 0 failing." in output
    assert "old-one  2 ids of user_id" in output
    assert "[due soon]" in output
    assert "secret-" not in output
    import json

    data = json.loads(run("deletion_status", "--json"))
    assert data["pending"] == 2
    assert data["due_soon"] == 1
    assert data["oldest_age_seconds"] >= 25 * 86400
    assert [r["request_id"] for r in data["requests"]] == ["old-one", "new-one"]
    assert "secret-" not in json.dumps(data)


def test_tasks__eager__process_and_report(world, other_world, monkeypatch):
    real_now = timezone.now
    monkeypatch.setattr("privacy.services.timezone.now", lambda: real_now() - timedelta(days=26))
    old = submit(world, "a", request_id="old")
    monkeypatch.setattr("privacy.services.timezone.now", real_now)
    fresh = submit(world, "b", request_id="fresh")
    elsewhere = submit(other_world, "c", request_id="elsewhere")

    assert process_deletions_due_soon.delay().get() == {"processed": 1, "completed": 1, "failed": 0}
    assert reload(old).status == DeletionStatus.COMPLETE
    assert reload(fresh).status == DeletionStatus.PENDING
    assert process_deletions_now.delay(world.project.pk).get()["completed"] == 1
    assert reload(elsewhere).status == DeletionStatus.PENDING
    assert process_deletions.delay().get()["completed"] == 1
    assert reload(elsewhere).status == DeletionStatus.COMPLETE


def test_task__failure_on_worker__retried_with_the_request_backoff(world, recording_eraser):
    from celery.exceptions import Retry

    eraser = recording_eraser()
    eraser.fail_with = RuntimeError("down")
    request = submit(world, "a")

    # As a worker would call it (not eager): the task asks Celery to retry at the backoff time
    process_deletions.push_request(called_directly=False, is_eager=False, retries=0)
    try:
        with pytest.raises(Retry) as retry:
            process_deletions.run()
    finally:
        process_deletions.pop_request()
    assert 50 <= retry.value.when <= 60
    assert reload(request).attempts == 1
