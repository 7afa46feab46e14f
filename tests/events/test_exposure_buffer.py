"""``events.exposures.buffer_exposures``: no database write on the request path, a bulk
idempotent drain, nothing lost when a worker dies between commit and trim, on a clean shutdown, or
while Redis is down."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
import redis
from django.db import connection
from django.test.utils import CaptureQueriesContext

from console.breaker import REDIS
from events import exposures
from events.exposures import buffer_exposures, drain_all, flush_local_buffer
from events.models import Exposure
from events.rows import EXPOSURE_COLUMNS
from tests.events.helpers import bulk_statements, data_statements

REPO_ROOT = Path(__file__).resolve().parents[2]
needs_redis = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="needs REDIS_URL (the CI services)"
)
needs_postgres = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL"), reason="a second process needs a shared database"
)


def contract_exposure(i: int = 0, **overrides) -> dict:
    exposure = {
        "kind": "gate",
        "name": "new_checkout",
        "rule_id": "rule-1",
        "value": True,
        "group_name": None,
        "user": {"userID": f"u{i}", "customIDs": {"companyID": "c1"}, "email": "a@example.com"},
        "environment": "production",
        "secondary_exposures": [{"gate": "holdout", "gateValue": "false", "ruleID": "h"}],
        "time": 1_700_000_000_000 + i,
        "source": "statsig_http",
    }
    exposure.update(overrides)
    return exposure


def test_buffer_exposures__request_path__no_query(world, django_assert_num_queries):
    with django_assert_num_queries(0):
        buffer_exposures(world.project.pk, [contract_exposure(i) for i in range(50)])
    assert Exposure.objects.count() == 0
    assert exposures.queue_length() == 50


def test_drain__buffered_exposures__stored_with_every_field(world):
    # Given exposures in the contract's shape, one of each kind
    buffer_exposures(
        world.project.pk,
        [
            contract_exposure(0),
            contract_exposure(
                1, kind="config", name="exp", value=None, group_name="Test", rule_id="grp"
            ),
            contract_exposure(
                2,
                kind="layer",
                name="layer",
                value=None,
                parameter_name="color",
                allocated_experiment="exp",
                environment=None,
                user={"userID": "u2", "statsigEnvironment": {"tier": "staging"}},
            ),
        ],
    )
    # When the beat job runs
    assert drain_all() == 3
    # Then
    gate, config, layer = Exposure.objects.order_by("time")
    assert (gate.kind, gate.name, gate.rule_id, gate.value, gate.group_name) == (
        "gate",
        "new_checkout",
        "rule-1",
        True,
        "",
    )
    assert (gate.user_id, gate.custom_ids, gate.environment, gate.source) == (
        "u0",
        {"companyID": "c1"},
        "production",
        "statsig_http",
    )
    assert gate.secondary_exposures == [{"gate": "holdout", "gateValue": "false", "ruleID": "h"}]
    assert int(gate.time.timestamp() * 1000) == 1_700_000_000_000
    assert (config.kind, config.group_name, config.value) == ("config", "Test", None)
    assert (layer.parameter_name, layer.allocated_experiment, layer.environment) == (
        "color",
        "exp",
        "staging",
    )
    assert exposures.queue_length() == 0
    # Nothing more to drain.
    assert drain_all() == 0


@needs_redis
def test_request_exposures__one_line__what_they_share_written_once(world):
    # Given one request's 100 gate exposures: one user, a row of its own per gate
    shared = {
        "kind": "gate",
        "user": {"userID": "u7", "email": "seven@example.com", "custom": {"plan": "pro"}},
        "environment": "production",
        "time": 1_700_000_000_000,
        "source": "statsig_http",
    }
    rows = [(f"gate_{i}", f"rule-{i}", i % 2 == 0, None, []) for i in range(100)]
    exposures.buffer_request_exposures(world.project.pk, shared, rows)

    # Then the queue holds one line, the user written in it once
    (item,) = exposures._redis().lrange(exposures.QUEUE_KEY, 0, -1)
    assert b"\n" not in item
    assert item.count(b"seven@example.com") == 1
    assert exposures.queue_length() == 100
    # And the drain stores 100 exposures of that user, each with its own gate, rule and uuid
    assert drain_all() == 100
    stored = Exposure.objects.filter(project=world.project)
    assert {(e.name, e.rule_id, e.value) for e in stored} == {
        (f"gate_{i}", f"rule-{i}", i % 2 == 0) for i in range(100)
    }
    assert {(e.user_id, e.kind, e.environment, e.source) for e in stored} == {
        ("u7", "gate", "production", "statsig_http")
    }
    assert len({e.uuid for e in stored}) == 100


@needs_redis
def test_drain__lines_of_the_earlier_formats__stored_once(world):
    # Given a queue an earlier version left: a request's rows as an array, and a single row
    def old_row(i: int) -> dict:
        return {
            **contract_exposure(i),
            "project_id": world.project.pk,
            "uuid": f"{i:032x}",
            "received_ms": 1_700_000_000_000,
        }

    client = exposures._redis()
    client.rpush(
        exposures.QUEUE_KEY, json.dumps([old_row(1), old_row(2)]) + "\n" + json.dumps(old_row(3))
    )

    # When the drain runs twice
    assert drain_all() == 3
    drain_all()

    # Then each row is stored once, under the uuid it was queued with
    assert sorted(Exposure.objects.values_list("user_id", flat=True)) == ["u1", "u2", "u3"]
    assert {e.uuid.hex for e in Exposure.objects.all()} == {f"{i:032x}" for i in (1, 2, 3)}


def test_drain__one_multi_row_insert_per_batch(world):
    buffer_exposures(world.project.pk, [contract_exposure(i) for i in range(1000)])
    with CaptureQueriesContext(connection) as captured:
        assert drain_all() == 1000
    statements = data_statements(captured)
    assert all(
        sql.startswith("INSERT") and 'INTO "flag_events_exposure"' in sql for sql in statements
    )
    # PostgreSQL: one statement; SQLite: bulk_create's batches of at most 999 parameters.
    assert len(statements) == bulk_statements(1000, columns=len(EXPOSURE_COLUMNS))
    if connection.vendor == "postgresql":
        assert "ON CONFLICT DO NOTHING" in statements[0]


@needs_redis
def test_drain__crash_between_commit_and_trim__no_loss_no_duplicate(world, monkeypatch):
    # Given 30 queued exposures and a drain that dies after its commit, before trimming
    buffer_exposures(world.project.pk, [contract_exposure(i) for i in range(30)])
    client = exposures._redis(background=True)

    def crash(*args, **kwargs):
        raise ConnectionError("worker killed")

    monkeypatch.setattr(client, "ltrim", crash)
    with pytest.raises(ConnectionError):
        exposures.drain_redis_queue()
    assert Exposure.objects.count() == 30
    assert exposures.queue_length() == 30
    # When the restarted worker drains again
    monkeypatch.undo()
    assert exposures.drain_redis_queue() == 30
    # Then every exposure is stored exactly once
    assert Exposure.objects.count() == 30
    assert len(set(Exposure.objects.values_list("user_id", flat=True))) == 30
    assert exposures.queue_length() == 0


@needs_redis
def test_drain__concurrent_drain__second_one_waits(world):
    buffer_exposures(world.project.pk, [contract_exposure()])
    client = exposures._redis()
    client.set(exposures.DRAIN_LOCK_KEY, "someone-else", px=5000)
    assert exposures.drain_redis_queue() == 0
    client.delete(exposures.DRAIN_LOCK_KEY)
    assert exposures.drain_redis_queue() == 1


@needs_redis
def test_buffer__redis_down__kept_locally_never_raises(world, settings):
    # Given a Redis that does not answer
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    started = time.monotonic()
    # When two evaluations buffer exposures
    buffer_exposures(world.project.pk, [contract_exposure(0)])
    buffer_exposures(world.project.pk, [contract_exposure(1)])
    # Then they answer quickly (the second skips Redis) and the exposures wait in the process
    assert time.monotonic() - started < 2
    assert exposures.local_buffer_size() == 2
    assert flush_local_buffer() == 2
    assert Exposure.objects.count() == 2


def test_buffer__no_redis__local_buffer_flushed(world, settings):
    settings.REDIS_URL = ""
    buffer_exposures(world.project.pk, [contract_exposure(i) for i in range(3)])
    assert exposures.local_buffer_size() == 3
    assert Exposure.objects.count() == 0
    assert flush_local_buffer() == 3
    assert Exposure.objects.count() == 3
    # A repeated flush of the same rows (a retry) stores nothing twice.
    assert flush_local_buffer() == 0


def test_buffer__local_buffer_full__request_counted_as_dropped(world, settings, monkeypatch):
    settings.REDIS_URL = ""
    monkeypatch.setattr(exposures, "LOCAL_BUFFER_LIMIT", 4)
    buffer_exposures(world.project.pk, [contract_exposure(i) for i in range(2)])
    # A request's exposures are kept or dropped together: these three do not fit.
    buffer_exposures(world.project.pk, [contract_exposure(i) for i in range(2, 5)])
    assert exposures.local_buffer_size() == 2
    assert flush_local_buffer() == 2
    from events.models import DroppedEventCount

    assert DroppedEventCount.objects.get().reason == "buffer_full"
    assert DroppedEventCount.objects.get().count == 3


def test_buffer__malformed_exposure__never_raises(world):
    buffer_exposures(world.project.pk, [{"kind": "gate", "name": object(), "user": "nope"}])
    buffer_exposures(world.project.pk, [])
    drain_all()


@pytest.mark.django_db(transaction=True)
def test_buffer__background_thread__flushes_without_help(settings):
    from tests.conftest import make_world

    world = make_world("Threaded")
    settings.REDIS_URL = ""
    settings.EXPOSURE_FLUSH_THREAD = True
    buffer_exposures(world.project.pk, [contract_exposure(i) for i in range(4)])
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and Exposure.objects.count() < 4:
        time.sleep(0.1)
    exposures.stop_flusher()
    assert Exposure.objects.count() == 4
    assert exposures.local_buffer_size() == 0


@needs_redis
def test_buffer__forwarding_thread_on__request_never_waits_on_redis(world, settings, monkeypatch):
    # Given a process whose background thread forwards exposures (as in production)
    settings.EXPOSURE_FLUSH_THREAD = True
    monkeypatch.setattr(exposures, "_ensure_flusher", lambda: None)  # the test drives the thread
    pushes = []
    monkeypatch.setattr(
        exposures, "_push_to_redis", lambda items, **_: pushes.append(items) or True
    )

    # When three evaluations buffer exposures
    for i in range(3):
        buffer_exposures(world.project.pk, [contract_exposure(i)])

    # Then no request talked to Redis; one forward moves all three in one push
    assert pushes == []
    assert exposures.local_buffer_size() == 3
    assert exposures._forward_to_redis() is True
    assert [len(items) for items in pushes] == [3]
    assert exposures.local_buffer_size() == 0


@needs_redis
def test_buffer__forward_fails__rows_kept_for_the_database(world, settings, monkeypatch):
    # Given buffered exposures and a Redis that refuses the push
    settings.EXPOSURE_FLUSH_THREAD = True
    monkeypatch.setattr(exposures, "_ensure_flusher", lambda: None)
    buffer_exposures(world.project.pk, [contract_exposure(i) for i in range(3)])
    monkeypatch.setattr(exposures, "_push_to_redis", lambda items, **_: False)

    # When the thread tries to forward them
    assert exposures._forward_to_redis() is False

    # Then they stay in the process and its database write stores them
    assert exposures.local_buffer_size() == 3
    assert flush_local_buffer() == 3
    assert sorted(Exposure.objects.values_list("user_id", flat=True)) == ["u0", "u1", "u2"]


@needs_redis
def test_buffer__breaker_opened_by_a_request__forward_still_reaches_redis(
    world, settings, monkeypatch
):
    # Given buffered exposures, and a request whose Redis read just timed out (breaker open)
    settings.EXPOSURE_FLUSH_THREAD = True
    monkeypatch.setattr(exposures, "_ensure_flusher", lambda: None)
    buffer_exposures(world.project.pk, [contract_exposure(i) for i in range(3)])
    REDIS.failed(TimeoutError("a request's cache read timed out"))

    # When the thread forwards them
    forwarded = exposures._forward_to_redis()

    # Then they reach the queue rather than waiting for the database write
    assert forwarded is True
    assert exposures.queue_length() == 3
    assert exposures.local_buffer_size() == 0


# Keeps Redis busy for ARGV[1] milliseconds: every other client waits.
BUSY_SCRIPT = """
local start = redis.call('TIME')
while true do
  local now = redis.call('TIME')
  if (now[1] - start[1]) * 1000000 + (now[2] - start[2]) >= tonumber(ARGV[1]) * 1000 then
    return 1
  end
end
"""


@needs_redis
def test_buffer__redis_slower_than_a_request_may_wait__forward_still_reaches_it(
    world, settings, monkeypatch
):
    # Given exposures for the forwarding thread, and a Redis busy for 300 ms: three times what a
    # request may wait on it
    settings.EXPOSURE_FLUSH_THREAD = True
    settings.REDIS_SOCKET_TIMEOUT_MS = 100  # the production default (the suite runs longer)
    monkeypatch.setattr(exposures, "_redis_clients", {})  # clients made with it
    monkeypatch.setattr(exposures, "_ensure_flusher", lambda: None)
    buffer_exposures(world.project.pk, [contract_exposure(i) for i in range(3)])
    busy = threading.Thread(
        target=lambda: redis.Redis.from_url(settings.REDIS_URL).eval(BUSY_SCRIPT, 0, 300)
    )
    busy.start()
    time.sleep(0.05)

    # When the thread forwards them
    forwarded = exposures._forward_to_redis()
    busy.join()

    # Then they reached the queue, not the database, and the breaker stayed closed
    assert forwarded is True
    assert exposures.queue_length() == 3
    assert exposures.local_buffer_size() == 0
    assert REDIS.allows()


# ---------------------------------------------------------------------------------------------
# Other processes: a worker killed mid-drain, an app server shut down cleanly.


def _run_python(code: str, *, env_overrides: dict[str, str]) -> subprocess.CompletedProcess:
    settings_dict = connection.settings_dict
    url = (
        f"postgres://{settings_dict['USER']}:{settings_dict['PASSWORD'] or ''}@"
        f"{settings_dict['HOST'] or '127.0.0.1'}:{settings_dict['PORT'] or 5432}/{settings_dict['NAME']}"
    )
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "console.settings"}
    env.update(env_overrides)
    env = {k: v for k, v in env.items() if v is not None}
    script = "import django\ndjango.setup()\n" + textwrap.dedent(code)
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@needs_redis
@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_drain__worker_process_killed_after_commit__restart_finds_every_exposure():
    from tests.conftest import make_world

    world = make_world("Killed")
    # Given 200 accepted exposures in the queue, from two requests
    for first in (0, 100):
        buffer_exposures(
            world.project.pk, [contract_exposure(i) for i in range(first, first + 100)]
        )
    assert exposures.queue_length() == 200
    # When a worker process commits a batch and is killed before trimming the queue
    result = _run_python(
        """
        import os
        from events import exposures
        client = exposures._redis(background=True)
        client.ltrim = lambda *a, **k: os._exit(9)
        print("drained", exposures.drain_redis_queue(batch_size=100), exposures.queue_length())
        """,
        env_overrides={},
    )
    assert result.returncode == 9, (result.stdout, result.stderr)
    assert Exposure.objects.count() == 100
    # And the lock it held expires (or is cleared by an operator)
    exposures._redis().delete(exposures.DRAIN_LOCK_KEY)
    # Then the restarted worker stores every accepted exposure, once
    assert drain_all() == 200
    assert Exposure.objects.count() == 200
    assert Exposure.objects.values("user_id").distinct().count() == 200


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_local_buffer__clean_process_exit__flushed_at_exit():
    from tests.conftest import make_world

    world = make_world("Shutdown")
    # Given an app server without Redis that buffered exposures and exits at once
    result = _run_python(
        f"""
        from events.exposures import buffer_exposures, local_buffer_size
        buffer_exposures({world.project.pk}, [{{"kind": "gate", "name": "g", "value": True,
            "user": {{"userID": "u{{}}".format(i)}}, "time": 1700000000000}} for i in range(25)])
        assert local_buffer_size() == 25
        """,
        env_overrides={"REDIS_URL": ""},
    )
    assert result.returncode == 0, result.stderr
    # Then its exit flushed them
    assert Exposure.objects.filter(project_id=world.project.pk).count() == 25


def test_check_gate__exposure_buffered_without_query_then_drained(
    api, world, django_capture_on_commit_callbacks
):
    from console.models import Role
    from flags.services.gates import gate_create

    # Given a gate made through the service (its ruleset rebuilt on commit)
    with django_capture_on_commit_callbacks(execute=True):
        gate_create(
            project=world.project,
            actor=world.actor(Role.ADMIN),
            name="Everyone",
            rules=[{"name": "All", "passPercentage": 100, "conditions": [{"type": "public"}]}],
        )
    body = {
        "user": {"userID": "u1", "statsigEnvironment": {"tier": "staging"}},
        "gateName": "everyone",
    }
    api.post("/v1/check_gate", body, key=world.keys["server"])  # warm-up
    drain_all()
    Exposure.objects.all().delete()
    # When the gate is checked
    with CaptureQueriesContext(connection) as captured:
        response = api.post("/v1/check_gate", body, key=world.keys["server"])
    # Then the answer needed no query and the exposure waits in the buffer
    assert response.json()["value"] is True
    assert data_statements(captured) == []
    assert Exposure.objects.count() == 0
    # And the drain stores it
    assert drain_all() == 1
    exposure = Exposure.objects.get()
    assert (exposure.kind, exposure.name, exposure.value, exposure.user_id) == (
        "gate",
        "everyone",
        True,
        "u1",
    )
    assert exposure.environment == "staging"
    assert exposure.rule_id == response.json()["rule_id"]
