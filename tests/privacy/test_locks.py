"""Claiming: each pending request is processed by exactly one of several concurrent runs; locks
are released with the process."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections

from privacy.locks import FileLock, PostgresAdvisoryLock, request_lock
from privacy.models import DeletionStatus
from privacy.services import deletion_process_pending
from tests.privacy.conftest import reload, submit


def in_thread(fn):
    """Run ``fn`` in a thread with its own database connection; its result."""
    result: dict = {}

    def target():
        try:
            result["value"] = fn()
        except BaseException as exc:  # pragma: no cover - reported below
            result["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(timeout=60)
    if "error" in result:
        raise result["error"]
    return result.get("value")


def test_file_lock__held__second_holder_refused_until_released(tmp_path, settings):
    settings.VAR_DIR = tmp_path
    first, second = FileLock(), FileLock()
    assert first.try_acquire(7)
    assert not second.try_acquire(7)
    assert second.try_acquire(8)
    first.release(7)
    assert second.try_acquire(7)


@pytest.mark.django_db
def test_request_lock__backend__advisory_on_postgres_file_elsewhere():
    expected = PostgresAdvisoryLock if connection.vendor == "postgresql" else FileLock
    assert isinstance(request_lock(), expected)


@pytest.mark.django_db(transaction=True)
def test_advisory_lock__other_session__refused_until_released():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL advisory locks")
    lock = PostgresAdvisoryLock()
    assert lock.try_acquire(41)
    assert in_thread(lambda: PostgresAdvisoryLock().try_acquire(41)) is False
    lock.release(41)
    assert in_thread(lambda: _acquire_release(41)) is True


def _acquire_release(pk: int) -> bool:
    lock = PostgresAdvisoryLock()
    acquired = lock.try_acquire(pk)
    if acquired:
        lock.release(pk)
    return acquired


@pytest.mark.django_db(transaction=True)
def test_job__two_runs_at_once__each_request_processed_once(world, recording_eraser):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (SQLite serialises them anyway)")
    # Given five requests and an eraser slow enough for the runs to overlap
    eraser = recording_eraser()
    eraser.before = lambda ids: time.sleep(0.3)
    requests = [submit(world, f"user-{i}", request_id=f"r{i}") for i in range(5)]
    # When two runs start together
    results: list = []
    threads = [
        threading.Thread(
            target=lambda: (results.append(deletion_process_pending()), connections.close_all())
        )
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # Then every request is complete, erased by exactly one of them
    completed = sorted(o.request_id for outcomes in results for o in outcomes if o.completed)
    assert completed == ["r0", "r1", "r2", "r3", "r4"]
    assert all(len(outcomes) < 5 for outcomes in results), "one run did all the work"
    assert sorted(eraser.ids_seen()) == [f"user-{i}" for i in range(5)]
    assert {reload(r).status for r in requests} == {DeletionStatus.COMPLETE}
