"""A Celery app module for the worker subprocesses of the crash test: the project's own app plus
one slow eraser that logs each chunk it erases, so that a test can kill the worker mid-batch.

    celery -A tests.privacy.slow_worker worker ...
    python -c "import tests.privacy.slow_worker; ..."

``PRIVACY_TEST_SLOW_LOG`` names the log file (one line per finished chunk: pid and first id),
``PRIVACY_TEST_SLOW_DELAY`` the seconds each chunk takes.
"""

from __future__ import annotations

import os
import time

from console.celery import app  # noqa: F401  (the worker's app)
from privacy.erasers import register_eraser

SLOW_ERASER = "zz_crash.slow"


def slow_eraser(*, project_id: int, unit_type: str, ids: list[str]) -> int:
    time.sleep(float(os.environ.get("PRIVACY_TEST_SLOW_DELAY", "0")))
    with open(os.environ["PRIVACY_TEST_SLOW_LOG"], "a", encoding="utf-8") as log:
        log.write(f"{os.getpid()} {ids[0]}\n")
    return len(ids)


# Registered only in the worker subprocesses (which get the log path), never in the test process.
if os.environ.get("PRIVACY_TEST_SLOW_LOG"):
    register_eraser(SLOW_ERASER)(slow_eraser)


def run_command() -> None:
    """``manage.py process_deletions`` with the slow eraser registered."""
    import django

    django.setup()
    from django.core.management import call_command

    call_command("process_deletions")
