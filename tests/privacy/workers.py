"""Subprocesses that run the deletion job against the test database: a Celery worker on Redis,
or ``process_deletions``. They use the test database through ``DATABASE_URL``."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def require_live_services(*, redis: bool) -> None:
    if redis and not os.environ.get("REDIS_URL"):
        pytest.skip("needs Redis: set REDIS_URL (CI and `make test` do) to run a real worker")
    if connection.vendor != "postgresql" or not os.environ.get("DATABASE_URL"):
        pytest.skip(
            "needs PostgreSQL through DATABASE_URL: a worker process cannot open the in-memory "
            "SQLite test database (test_job covers the same logic in-process)"
        )


def subprocess_env(**extra: str) -> dict[str, str]:
    """The environment of a worker: this one, eager off, and the test database's name."""
    database_url = (
        os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/" + connection.settings_dict["NAME"]
    )
    return {
        **os.environ,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "DATABASE_URL": database_url,
        "PYTHONPATH": str(ROOT),
        **extra,
    }


def start_celery_worker(app: str, env: dict[str, str], queue: str = "celery") -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            app,
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-Q",
            queue,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def wait_until(condition: Callable[[], bool], *, timeout: float, what: str, process=None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if process is not None and process.poll() is not None:
            stderr = process.stderr.read().decode() if process.stderr else ""
            raise AssertionError(f"the worker exited early ({process.returncode}): {stderr}")
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
