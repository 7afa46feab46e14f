"""An ID-file upload whose run dies mid-file goes on from its last committed batch on the next
run: no batch lost, none counted twice, the reset of a replacing upload done once, one run at a
time per job, and stalled jobs queued again by the beat sweeper."""

from __future__ import annotations

import json
import signal
import uuid
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.utils import timezone

from console.models import AuditLog, Role
from segments import services, tasks, uploads
from segments.models import SegmentMember, SegmentType
from tests.privacy.workers import (
    require_live_services,
    start_celery_worker,
    stop,
    subprocess_env,
    wait_until,
)

IDS = [f"user-{i:03d}" for i in range(10)]
# A byte-order mark and a header on the first line, Windows line ends, and one id twice: read
# in batches of three, four batches (the last one "user-009", "user-004").
LINES = ["user_id,plan", *(f"{unit_id},pro" for unit_id in IDS), "user-004,pro"]
FILE = ("\ufeff" + "\r\n".join(LINES) + "\r\n").encode()
BATCHES = [IDS[0:3], IDS[3:6], IDS[6:9], [IDS[9], "user-004"]]


class WorkerKilled(BaseException):
    """Stands for a SIGKILL: none of the run's error handling catches it."""


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(uploads, "BATCH_SIZE", 3)


def _segment(world, members: list[str] | None = None, *, name: str = "Beta testers"):
    segment = services.segment_create(
        project=world.project, actor=world.actor(Role.ADMIN), name=name, type=SegmentType.ID_LIST
    )
    if members:
        services.segment_ids_add(
            project=world.project,
            actor=world.actor(Role.ADMIN),
            segment_id=segment.key,
            ids=members,
        )
    return segment


def _upload(world, segment, content: bytes = FILE, *, replace: bool = False) -> str:
    return uploads.upload_create(
        project=world.project,
        actor=world.actor(Role.MEMBER),
        segment=segment,
        upload=SimpleUploadedFile("ids.csv", content, content_type="text/csv"),
        replace=replace,
    )


def _members(segment) -> set[str]:
    return set(SegmentMember.objects.filter(segment=segment).values_list("unit_id", flat=True))


def _audit_changes(world, segment, action_type: str) -> list[dict]:
    entries = AuditLog.objects.filter(
        project=world.project, entity_id=segment.key, action_type=action_type
    )
    return list(entries.order_by("pk").values_list("changes", flat=True))


def _data_file_exists(job_id: str) -> bool:
    return default_storage.exists(f"{uploads.UPLOAD_DIR}/{job_id}.txt")


def _age(job_id: str, seconds: int) -> None:
    """Leaves the job's state as a run that stopped writing ``seconds`` ago left it."""
    state = uploads.upload_state(job_id)
    state["updated_at"] = (timezone.now() - timedelta(seconds=seconds)).isoformat()
    path = f"{uploads.UPLOAD_DIR}/{job_id}.json"
    default_storage.delete(path)
    default_storage.save(path, ContentFile(json.dumps(state).encode()))


class ServiceSpy:
    """Wraps a segments service: records the ids of each call, and can die on one call."""

    def __init__(self, monkeypatch, name: str, *, die_on_call: int | None = None):
        self.calls: list[list[str]] = []
        self._real = getattr(services, name)
        self._die_on_call = die_on_call
        monkeypatch.setattr(services, name, self)

    def __call__(self, **kwargs):
        self.calls.append(list(kwargs["ids"]))
        if len(self.calls) == self._die_on_call:
            raise WorkerKilled
        return self._real(**kwargs)


def _die_once_at_state_write(monkeypatch, *, batch: int, before_commit: bool) -> None:
    """The run dies once the given batch's state has been noted inside its transaction
    (before it commits), or once it has committed (before the state records it)."""
    real = uploads._write_state
    notes = {"written": 0, "died": False}

    def write(job_id, state):
        if notes["died"]:
            return real(job_id, state)
        if state.get("pending"):
            real(job_id, state)
            notes["written"] += 1
            if before_commit and notes["written"] == batch:
                notes["died"] = True
                raise WorkerKilled
            return None
        if not before_commit and notes["written"] == batch:
            notes["died"] = True
            raise WorkerKilled
        return real(job_id, state)

    monkeypatch.setattr(uploads, "_write_state", write)


def test_upload__killed_after_a_committed_batch__next_run_goes_on_from_its_offset(
    world, media, small_batches, monkeypatch
):
    # Given an upload whose run dies when it sends the second batch
    segment = _segment(world)
    job_id = _upload(world, segment)
    spy = ServiceSpy(monkeypatch, "segment_ids_add", die_on_call=2)
    with pytest.raises(WorkerKilled):
        uploads.upload_process(job_id)
    # Then the first batch is a committed part of the list, recorded with the offset it reached
    state = uploads.upload_state(job_id)
    assert state["status"] == uploads.UploadStatus.RUNNING
    assert state["bytes_read"] == FILE.index(b"user-003")
    assert (state["ids_read"], state["added"], state["pending"]) == (3, 3, None)
    assert _members(segment) == set(IDS[:3])

    # When the next run comes
    tasks.process_segment_upload(job_id)

    # Then it starts where the first one stopped (the header is not read as an id again)
    assert spy.calls == [BATCHES[0], BATCHES[1], *BATCHES[1:]]
    # and the list holds exactly the file's ids, each counted once
    state = uploads.upload_state(job_id)
    assert state["status"] == uploads.UploadStatus.DONE
    assert (state["progress"], state["ids_read"], state["added"]) == (100, 11, 10)
    assert state["bytes_read"] == len(FILE)
    assert _members(segment) == set(IDS)
    assert [c["added"] for c in _audit_changes(world, segment, "segment_id_list_add")] == [
        3,
        3,
        3,
        1,
    ]
    assert not _data_file_exists(job_id)


@pytest.mark.parametrize("before_commit", [True, False], ids=["before_commit", "after_commit"])
@pytest.mark.parametrize("replace", [False, True], ids=["add", "replace"])
def test_upload__killed_around_the_first_commit__batch_applied_and_counted_once(
    world, media, small_batches, monkeypatch, replace, before_commit
):
    # Given a list with members, one of them in the file, and an upload whose run dies around
    # the commit of its first batch (the reset, when the upload replaces the members)
    segment = _segment(world, members=["old-1", "user-001"])
    job_id = _upload(world, segment, replace=replace)
    _die_once_at_state_write(monkeypatch, batch=1, before_commit=before_commit)
    with pytest.raises(WorkerKilled):
        uploads.upload_process(job_id)
    left = uploads.upload_state(job_id)
    assert left["status"] == uploads.UploadStatus.RUNNING
    assert left["pending"]["end"] == FILE.index(b"user-003")
    assert left["bytes_read"] == 0

    # When the next run comes
    uploads.upload_process(job_id)

    # Then every batch was applied once: the members are right, and so are the counts
    state = uploads.upload_state(job_id)
    assert state["status"] == uploads.UploadStatus.DONE
    assert state["ids_read"] == 11
    resets = _audit_changes(world, segment, "segment_id_list_reset")
    adds = _audit_changes(world, segment, "segment_id_list_add")[1:]  # after the setup's
    if replace:
        assert _members(segment) == set(IDS)
        assert (state["added"], state["removed"]) == (10, 2)
        assert [(c["added"], c["removed"]) for c in resets] == [(3, 2)]
        assert [c["added"] for c in adds] == [3, 3, 1]
    else:
        assert _members(segment) == {"old-1", *IDS}
        assert (state["added"], state["removed"]) == (9, 0)
        assert resets == []
        assert [c["added"] for c in adds] == [2, 3, 3, 1]


def test_upload__replace_killed_after_the_reset__next_run_does_not_reset_again(
    world, media, small_batches, monkeypatch
):
    # Given a replacing upload whose run dies when it sends its first add (after the reset)
    segment = _segment(world, members=["old-1", "old-2"])
    job_id = _upload(world, segment, replace=True)
    spy = ServiceSpy(monkeypatch, "segment_ids_add", die_on_call=1)
    with pytest.raises(WorkerKilled):
        uploads.upload_process(job_id)
    assert uploads.upload_state(job_id)["reset_done"] is True
    assert _members(segment) == set(IDS[:3])

    # When the next run comes
    uploads.upload_process(job_id)

    # Then it adds the rest, and the old members stay gone
    assert spy.calls == [BATCHES[1], *BATCHES[1:]]
    assert _members(segment) == set(IDS)
    assert len(_audit_changes(world, segment, "segment_id_list_reset")) == 1
    state = uploads.upload_state(job_id)
    assert (state["status"], state["added"], state["removed"]) == ("done", 10, 2)


def test_upload__header_only_replace__members_emptied(world, media):
    segment = _segment(world, members=["old-1"])
    job_id = _upload(world, segment, b"\xef\xbb\xbfid\n", replace=True)
    uploads.upload_process(job_id)
    assert _members(segment) == set()
    state = uploads.upload_state(job_id)
    assert (state["status"], state["added"], state["removed"]) == ("done", 0, 1)


def test_upload__mac_line_ends__read_line_by_line_across_chunks(world, media, monkeypatch):
    # Given a file with lone \r line ends, read in chunks that split its lines
    monkeypatch.setattr(uploads, "_READ_CHUNK", 3)
    segment = _segment(world)
    job_id = _upload(world, segment, "\r".join(IDS).encode() + b"\r")
    uploads.upload_process(job_id)
    assert _members(segment) == set(IDS)
    assert uploads.upload_state(job_id)["added"] == 10


def test_process__job_locked_by_another_run__left_untouched(world, media):
    # Given a queued upload that another run holds
    segment = _segment(world)
    job_id = _upload(world, segment)
    before = uploads.upload_state(job_id)
    assert cache.add(uploads.upload_lock_key(job_id), "another-run", timeout=60)
    # When a second message for it is processed
    tasks.process_segment_upload(job_id)
    # Then it returns without touching the job
    assert uploads.upload_state(job_id) == before
    assert _members(segment) == set()
    assert _data_file_exists(job_id)
    assert cache.get(uploads.upload_lock_key(job_id)) == "another-run"


def test_process__lock_taken_over_mid_file__run_stops_before_its_next_write(
    world, media, small_batches, monkeypatch
):
    # Given a run whose lock is taken over by another run while it sends its second batch
    segment = _segment(world)
    job_id = _upload(world, segment)
    real_add = services.segment_ids_add
    calls = []

    def add(**kwargs):
        calls.append(kwargs["ids"])
        if len(calls) == 2:
            cache.set(uploads.upload_lock_key(job_id), "another-run", timeout=60)
        return real_add(**kwargs)

    monkeypatch.setattr(services, "segment_ids_add", add)
    uploads.upload_process(job_id)
    # Then that batch is rolled back and the state stays as the first batch left it
    assert len(calls) == 2
    assert _members(segment) == set(IDS[:3])
    state = uploads.upload_state(job_id)
    assert (state["status"], state["bytes_read"], state["pending"]) == (
        "running",
        FILE.index(b"user-003"),
        None,
    )
    assert cache.get(uploads.upload_lock_key(job_id)) == "another-run"


def test_resume_stalled_uploads__only_stale_unfinished_jobs__queued_again(
    world, media, settings, small_batches, monkeypatch
):
    settings.SEGMENT_UPLOAD_STALL_SECONDS = 300
    # Given a run that died mid-file ten minutes ago still holding its lock, a job whose
    # message was lost, a run that died a minute ago, and a job finished long ago
    dead = _upload(world, _segment(world, name="Dead"))
    with monkeypatch.context() as patch:
        ServiceSpy(patch, "segment_ids_add", die_on_call=2)
        with pytest.raises(WorkerKilled):
            uploads.upload_process(dead)
    cache.add(uploads.upload_lock_key(dead), "dead-run", timeout=3600)
    _age(dead, 600)
    lost = _upload(world, _segment(world, name="Lost"))
    _age(lost, 600)
    recent = _upload(world, _segment(world, name="Recent"))
    with monkeypatch.context() as patch:
        ServiceSpy(patch, "segment_ids_add", die_on_call=2)
        with pytest.raises(WorkerKilled):
            uploads.upload_process(recent)
    _age(recent, 60)
    finished = _upload(world, _segment(world, name="Finished"))
    uploads.upload_process(finished)
    _age(finished, 600)
    recent_before = uploads.upload_state(recent)

    # When the beat job runs (its tasks run in this process)
    tasks.resume_stalled_uploads()

    # Then the stale unfinished ones are finished; the others are left as they were
    statuses = {job: uploads.upload_state(job)["status"] for job in (dead, lost, recent, finished)}
    assert statuses == {dead: "done", lost: "done", recent: "running", finished: "done"}
    assert [uploads.upload_state(job)["added"] for job in (dead, lost)] == [10, 10]
    assert uploads.upload_state(recent) == recent_before
    assert cache.get(uploads.upload_lock_key(dead)) is None
    assert uploads.upload_reclaim_stalled() == []


def test_resume_stalled_uploads__finished_job_whose_file_survived__file_deleted(
    world, media, monkeypatch
):
    # Given a run that died right after writing the final state, before deleting the file
    segment = _segment(world)
    job_id = _upload(world, segment)
    real_delete = default_storage.delete

    def delete(name):
        if name.endswith(".txt"):
            raise WorkerKilled
        return real_delete(name)

    with monkeypatch.context() as patch:
        patch.setattr(default_storage, "delete", delete)
        with pytest.raises(WorkerKilled):
            uploads.upload_process(job_id)
    assert uploads.upload_state(job_id)["status"] == "done"
    assert _data_file_exists(job_id)
    # When the sweeper runs
    assert uploads.upload_reclaim_stalled() == []
    # Then the file of ids is gone
    assert not _data_file_exists(job_id)


def test_upload__killed_while_replacing_its_state__job_kept_and_finished_by_the_sweeper(
    world, media, small_batches, monkeypatch
):
    # Given a run killed after it deleted its old state, before the new one was saved
    segment = _segment(world)
    job_id = _upload(world, segment)
    real_save = default_storage.save
    saves = []

    def save(name, content, **kwargs):
        if name == f"{uploads.UPLOAD_DIR}/{job_id}.json":
            saves.append(name)
            if len(saves) == 3:
                raise WorkerKilled
        return real_save(name, content, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(default_storage, "save", save)
        with pytest.raises(WorkerKilled):
            uploads.upload_process(job_id)
    assert not default_storage.exists(f"{uploads.UPLOAD_DIR}/{job_id}.json")
    # Then the job's state is still there, as the copy written first holds it
    state = uploads.upload_state(job_id)
    assert state["status"] == uploads.UploadStatus.RUNNING
    # and the sweeper finds the job and finishes it, each id once
    _age(job_id, 600)
    assert uploads.upload_reclaim_stalled() == [job_id]
    uploads.upload_process(job_id)
    state = uploads.upload_state(job_id)
    assert (state["status"], state["ids_read"], state["added"]) == ("done", 11, 10)
    assert _members(segment) == set(IDS)


def test_beat_schedule__resume_stalled_uploads__every_minute(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["resume-stalled-segment-uploads"]
    assert entry["task"] == tasks.resume_stalled_uploads.name
    assert entry["schedule"] == timedelta(seconds=60)
    assert entry["options"]["expires"] < 60


# -- a real worker, killed -----------------------------------------------------------------

KILL_BATCH = 200
KILL_BATCHES = 5


@pytest.mark.live_services
@pytest.mark.django_db(transaction=True)
def test_upload__celery_worker_killed_mid_file__next_run_completes_it_once(
    world, browser_client, settings, tmp_path, monkeypatch
):
    require_live_services(redis=True)
    from console.celery import app

    # Given an ID list, and a worker on a queue of its own that reads uploads in batches of 200
    # taking a second each, with the test's media directory as its storage
    settings.MEDIA_ROOT = tmp_path / "media"
    segment = _segment(world)
    ids = [f"kill-user-{i:05d}" for i in range(KILL_BATCH * KILL_BATCHES)]
    content = ("id\n" + "\n".join(ids) + "\n").encode()
    queue = f"segment-upload-{uuid.uuid4().hex[:8]}"
    env = subprocess_env(
        CONSOLE_VAR_DIR=str(tmp_path),
        SEGMENT_UPLOAD_TEST_BATCH_SIZE=str(KILL_BATCH),
        SEGMENT_UPLOAD_TEST_DELAY="1",
    )
    worker = start_celery_worker("tests.segments.slow_upload_worker", env, queue=queue)
    try:
        # When a member uploads a file of five batches through the screen
        with monkeypatch.context() as patch:
            send = SimpleNamespace(
                delay=lambda job_id: app.send_task(
                    "segments.tasks.process_segment_upload", args=[job_id], queue=queue
                )
            )
            patch.setattr(tasks, "process_segment_upload", send)
            app.conf.task_always_eager = False
            try:
                response = browser_client(world.users[Role.MEMBER]).post(
                    f"/p/{world.project.slug}/segments/{segment.key}/upload/",
                    {"file": SimpleUploadedFile("ids.txt", content)},
                )
            finally:
                app.conf.task_always_eager = True
        assert response.status_code == 302
        job_id = response["Location"].split("upload=")[1].split("#")[0]
        # and the worker is killed once a batch has been committed
        wait_until(
            lambda: SegmentMember.objects.filter(segment=segment).count() >= KILL_BATCH,
            timeout=120,
            what="a committed batch",
            process=worker,
        )
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        stop(worker)

    # Then the upload is not done and the list holds whole batches of it
    left = uploads.upload_state(job_id)
    assert left["status"] == uploads.UploadStatus.RUNNING
    committed = _members(segment)
    assert KILL_BATCH <= len(committed) < len(ids)
    assert len(committed) % KILL_BATCH == 0
    assert committed == set(ids[: len(committed)])

    # When the sweeper finds it stalled (its run here, in this process)
    with override_settings(SEGMENT_UPLOAD_STALL_SECONDS=0):
        tasks.resume_stalled_uploads()

    # Then it is complete, with every id once, and counted once
    state = uploads.upload_state(job_id)
    assert state["status"] == uploads.UploadStatus.DONE
    assert (state["added"], state["ids_read"], state["pending"]) == (len(ids), len(ids), None)
    assert _members(segment) == set(ids)
    assert not _data_file_exists(job_id)
    # and the audit log holds one entry per committed batch (the last run's rest in one batch),
    # whose counts add up to the file: nothing was applied twice
    added = [c["added"] for c in _audit_changes(world, segment, "segment_id_list_add")]
    assert added == [KILL_BATCH] * (len(committed) // KILL_BATCH) + [len(ids) - len(committed)]
