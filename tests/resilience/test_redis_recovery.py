"""Redis cut while the server runs, then restored: no exposure made during the cut is lost or
dropped, and a real Celery worker that lost its broker runs tasks again once Redis is back,
including a task published while it could not see the broker."""

from __future__ import annotations

import itertools
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

import redis
from celery import Celery

from events.exposure_lines import contract_row, encode_request, queue_items
from events.exposures import QUEUE_KEY
from tests.resilience.conftest import ROOT, LiveServer, Response

T = TypeVar("T")
DURING_CUT = 40
# The server's back-off after a Redis error is 5 s.
REDIS_PATH_WITHIN_SECONDS = 15
# The server's local buffer is written every second; a loaded machine gets a margin.
STORED_WITHIN_SECONDS = 15
# A server process forwards its buffered exposures to Redis every 0.1 s.
QUEUED_WITHIN_SECONDS = 5
WORKER_READY_SECONDS = 40
# Celery retries the broker 2 s, then 4 s, ... after a failed attempt.
WORKER_BACK_WITHIN_SECONDS = 30
CUT_SECONDS = 3
DRAIN_TASK = "events.tasks.drain_exposures"


def _check_gate(live: LiveServer, user_id: str) -> Response:
    return live.sdk("/v1/check_gate", {"user": {"userID": user_id}, "gateName": live.gate})


def _project_id(live: LiveServer) -> int:
    return live.sql("SELECT id FROM console_project WHERE slug = %s", (live.project,))[0][0]


def _stored(live: LiveServer, user_ids: Iterable[str]) -> dict[str, int]:
    """Gate exposures per user in the exposure table (a user stored twice shows as 2)."""
    rows = live.sql(
        "SELECT user_id, count(*) FROM flag_events_exposure "
        "WHERE kind = 'gate' AND name = %s AND user_id = ANY(%s) GROUP BY user_id",
        (live.gate, list(user_ids)),
    )
    return dict(rows)


def _dropped_by_the_buffer(live: LiveServer, project_id: int) -> int:
    rows = live.sql(
        "SELECT coalesce(sum(count), 0) FROM flag_events_droppedeventcount "
        "WHERE project_id = %s AND reason IN ('buffer_full', 'buffer_write_failed')",
        (project_id,),
    )
    return int(rows[0][0])


def _queued(live: LiveServer, user_ids: Iterable[str]) -> int:
    wanted = set(user_ids)
    client = redis.Redis.from_url(live.direct_redis_url)
    try:
        items = client.lrange(QUEUE_KEY, 0, -1)
    finally:
        client.close()
    rows = [row for item in items for row in item.decode().split("\n")]
    return sum(1 for row in rows if any(f'"userID":"{u}"' in row for u in wanted))


def _eventually(probe: Callable[[], T], expected: T, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while (value := probe()) != expected:
        assert time.monotonic() < deadline, f"{what}: not within {seconds} s, last {value!r}"
        time.sleep(0.25)


def _wait_for_the_redis_path(live: LiveServer, run: str) -> None:
    """Until an exposure goes to the Redis queue again: after a cut (an earlier test's) the
    server keeps exposures local for a few seconds before it tries Redis again."""
    deadline = time.monotonic() + REDIS_PATH_WITHIN_SECONDS
    for attempt in itertools.count():
        user_id = f"probe-{run}-{attempt}"
        assert _check_gate(live, user_id).status == 200
        time.sleep(0.5)
        if _queued(live, [user_id]) == 1:
            return
        assert time.monotonic() < deadline, "exposures never went to Redis"


def _drain_like_the_beat_job(live: LiveServer) -> None:
    # The server runs tasks eagerly and has no beat: the drain runs as its beat job would, in a
    # process of its own with the server's settings.
    code = "from events.tasks import drain_exposures; drain_exposures()"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT, env=live.env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]


def test_redis_cut__exposures_during_the_cut__written_through_none_dropped(proxied_server):
    live = proxied_server
    run = uuid.uuid4().hex[:8]
    before = [f"before-{run}-{i}" for i in range(5)]
    during = [f"during-{run}-{i}" for i in range(DURING_CUT)]
    after = [f"after-{run}-{i}" for i in range(5)]
    project_id = _project_id(live)
    dropped_at_start = _dropped_by_the_buffer(live, project_id)

    # Given exposures made while Redis answers: queued in Redis, not yet in the table
    _wait_for_the_redis_path(live, run)
    for user_id in before:
        assert _check_gate(live, user_id).status == 200
    _eventually(
        lambda: _queued(live, before), len(before), QUEUED_WITHIN_SECONDS, "exposures queued"
    )
    assert _stored(live, before) == {}

    # When Redis is cut and DURING_CUT new users are evaluated (one exposure each)
    live.redis.cut()
    try:
        for user_id in during:
            response = _check_gate(live, user_id)
            assert response.status == 200, (user_id, response.status, response.body[:300])
        # Then the server writes them to the database itself while Redis is still down, each once
        _eventually(
            lambda: _stored(live, during),
            dict.fromkeys(during, 1),
            STORED_WITHIN_SECONDS,
            "exposures made during the cut stored",
        )
        assert _queued(live, during) == 0
    finally:
        live.redis.restore()

    # When Redis is back, more users are evaluated and the queue is drained as in production
    for user_id in after:
        assert _check_gate(live, user_id).status == 200
    # (out of the server process first: queued, or written directly while it still backs off)
    _eventually(
        lambda: _queued(live, after) + sum(_stored(live, after).values()),
        len(after),
        STORED_WITHIN_SECONDS,
        "exposures made after the restore left the server process",
    )
    _drain_like_the_beat_job(live)

    # Then every exposure, before, during and after the cut, is stored exactly once
    everyone = before + during + after
    _eventually(
        lambda: _stored(live, everyone),
        dict.fromkeys(everyone, 1),
        STORED_WITHIN_SECONDS,
        "every exposure stored",
    )
    assert _queued(live, everyone) == 0
    # And none was counted as dropped: stored + dropped == made, with dropped == 0
    assert _dropped_by_the_buffer(live, project_id) - dropped_at_start == 0


def _wait_for_log(worker: subprocess.Popen, log_path: Path, text: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while text not in log_path.read_text(errors="replace"):
        log = log_path.read_text(errors="replace")[-3000:]
        assert worker.poll() is None, f"the worker exited ({worker.returncode}):\n{log}"
        assert time.monotonic() < deadline, f"no {text!r} in the worker log in {seconds} s:\n{log}"
        time.sleep(0.2)


def _queue_exposure(live: LiveServer, project_id: int, user_id: str) -> None:
    # Straight into the queue in the product's own encoding: what is under test is the worker,
    # not the server (whose Redis back-off may still send exposures to its local buffer).
    exposure = {"kind": "gate", "name": live.gate, "value": True, "user": {"userID": user_id}}
    client = redis.Redis.from_url(live.direct_redis_url)
    try:
        entries = encode_request(project_id, {}, [contract_row(exposure)], int(time.time() * 1000))
        client.rpush(QUEUE_KEY, *queue_items(entries))
    finally:
        client.close()


def test_redis_cut__idle_celery_worker__survives_and_runs_tasks_after_restore(
    proxied_server, tmp_path
):
    live = proxied_server
    run = uuid.uuid4().hex[:8]
    queue = f"resilience-{run}"
    published_during, published_after = f"worker-during-{run}", f"worker-after-{run}"
    project_id = _project_id(live)
    log_path = tmp_path / "worker.log"
    env = {
        **live.env,
        # A real worker (not eager), reaching its broker and the exposure queue through the proxy.
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "CELERY_BROKER_URL": live.env["REDIS_URL"],
        "LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
    }
    # The tests publish past the proxy, as another healthy process would.
    publisher = Celery("resilience-publisher", broker=live.direct_redis_url, set_as_current=False)
    worker = None
    with log_path.open("wb") as log_file:
        try:
            worker = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "console", "worker", "--pool=solo",
                 "-Q", queue, "--hostname", f"{queue}@%h", "--loglevel", "INFO",
                 "--without-gossip", "--without-mingle", "--without-heartbeat"],
                cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT,
            )  # fmt: skip
            # Given an idle worker consuming its queue
            _wait_for_log(worker, log_path, "ready.", WORKER_READY_SECONDS)

            # When Redis is cut
            live.redis.cut()
            try:
                # Then the worker notices and keeps running
                _wait_for_log(worker, log_path, "Connection to broker lost", 15)
                # And a task published meanwhile waits: it cannot reach the worker
                _queue_exposure(live, project_id, published_during)
                publisher.send_task(DRAIN_TASK, queue=queue)
                time.sleep(CUT_SECONDS)
                assert _stored(live, [published_during]) == {}
                assert worker.poll() is None, log_path.read_text(errors="replace")[-3000:]
            finally:
                live.redis.restore()

            # When Redis is back, the task published during the cut runs
            _eventually(
                lambda: _stored(live, [published_during]),
                {published_during: 1},
                WORKER_BACK_WITHIN_SECONDS,
                "the task published during the cut ran",
            )
            # And so does a task published after the restore
            _queue_exposure(live, project_id, published_after)
            publisher.send_task(DRAIN_TASK, queue=queue)
            _eventually(
                lambda: _stored(live, [published_after]),
                {published_after: 1},
                WORKER_BACK_WITHIN_SECONDS,
                "the task published after the restore ran",
            )
            assert worker.poll() is None
        finally:
            publisher.close()
            if worker is not None:
                worker.terminate()
                try:
                    worker.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait(timeout=5)
