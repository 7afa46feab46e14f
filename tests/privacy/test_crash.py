"""A worker killed in the middle of a batch leaves its request pending with its progress; the next
run finishes it, once, even when two runs start together."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections import Counter

import pytest

from console.models import AuditLog
from privacy.erasers import CHUNK_SIZE
from privacy.models import DeletionStatus
from tests.privacy.conftest import reload, submit
from tests.privacy.slow_worker import SLOW_ERASER
from tests.privacy.workers import (
    ROOT,
    require_live_services,
    start_celery_worker,
    stop,
    subprocess_env,
    wait_until,
)

pytestmark = pytest.mark.live_services

CHUNKS = 4
RUN_COMMAND = "import tests.privacy.slow_worker as w; w.run_command()"


def _log_lines(path) -> list[tuple[str, str]]:
    if not path.exists():
        return []
    return [tuple(line.split(" ", 1)) for line in path.read_text().splitlines()]


@pytest.mark.django_db(transaction=True)
def test_crash__worker_killed_mid_batch__next_runs_complete_it_once(world, tmp_path):
    require_live_services(redis=False)
    from console.celery import app

    # Given a request of four chunks and a worker whose slow eraser takes a second per chunk
    ids = [f"crash-user-{i:05d}" for i in range(CHUNK_SIZE * CHUNKS)]
    request = submit(world, ids, request_id="crash")
    log = tmp_path / "chunks.log"
    env = subprocess_env(PRIVACY_TEST_SLOW_LOG=str(log), PRIVACY_TEST_SLOW_DELAY="1")
    use_celery = bool(os.environ.get("REDIS_URL"))
    if use_celery:  # the real thing: a Celery worker running the beat task
        # (on a queue of its own, so that no other worker on this Redis can take the task)
        queue = f"privacy-crash-{uuid.uuid4().hex[:8]}"
        worker = start_celery_worker("tests.privacy.slow_worker", env, queue=queue)
        app.conf.task_always_eager = False
        try:
            app.send_task("privacy.tasks.process_deletions", queue=queue)
        finally:
            app.conf.task_always_eager = True
    else:
        worker = subprocess.Popen(
            [sys.executable, "-c", RUN_COMMAND], cwd=ROOT, env=env, stderr=subprocess.PIPE
        )
    try:
        # When it is killed after its first chunk has been committed (the eraser's log line is
        # written before the chunk's transaction commits, so wait for the recorded progress)
        wait_until(
            lambda: reload(request).progress.get(SLOW_ERASER, {}).get("done", 0) >= 1,
            timeout=120,
            what="a committed chunk",
            process=worker,
        )
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        stop(worker)

    # Then the request is still pending, with its ids and its progress so far
    request = reload(request)
    assert request.status == DeletionStatus.PENDING
    assert len(request.ids) == len(ids)
    assert 1 <= request.progress[SLOW_ERASER]["done"] < CHUNKS
    done_before = request.progress[SLOW_ERASER]["done"]

    # When two runs start together (a manual run and a beat run, say)
    fast = subprocess_env(PRIVACY_TEST_SLOW_LOG=str(log), PRIVACY_TEST_SLOW_DELAY="0.2")
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", RUN_COMMAND],
            cwd=ROOT,
            env=fast,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=90) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs

    # Then exactly one of them completed it
    stdout = [out for out, _err in outputs]
    assert sum("Completed crash" in out for out in stdout) == 1, stdout
    request = reload(request)
    assert request.status == DeletionStatus.COMPLETE
    assert request.ids == []
    completions = AuditLog.objects.filter(
        project=world.project, action_type="user_data_deletion_request_complete"
    )
    assert completions.count() == 1
    # And every chunk was erased; the ones finished before the kill were not redone
    per_chunk = Counter(first_id for _pid, first_id in _log_lines(log))
    firsts = [ids[i * CHUNK_SIZE] for i in range(CHUNKS)]
    assert set(per_chunk) == set(firsts)
    assert all(per_chunk[first] == 1 for first in firsts[:done_before])
    assert all(count <= 2 for count in per_chunk.values())
