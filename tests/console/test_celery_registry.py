"""A Celery worker knows every task the product sends: the beat schedule's and those queued by
the code. A task a worker does not know is dropped with only a log line, and the test suite
(tasks run eagerly, every module imported) would never notice."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
QUEUED_BY_CODE = {
    "ruleset.tasks.rebuild_ruleset",
    "privacy.tasks.process_deletions_now",
    "segments.tasks.process_segment_upload",
}
# What `celery -A console worker` loads before taking messages, in a fresh interpreter.
WORKER_IMPORTS = """
import json, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
from console.celery import app
app.loader.import_default_modules()
print(json.dumps(sorted(app.tasks)))
"""


def test_worker__registers_every_scheduled_and_queued_task():
    # Given the tasks beat sends and those the code queues
    expected = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()} | QUEUED_BY_CODE

    # When a worker's interpreter loads the app
    result = subprocess.run(
        [sys.executable, "-c", WORKER_IMPORTS],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    registered = set(json.loads(result.stdout.strip().splitlines()[-1]))

    # Then it knows every one of them
    assert expected - registered == set()
