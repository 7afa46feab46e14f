"""A Celery app module for the worker subprocess of the upload kill test: the project's own app,
with uploads read in small batches that each take a while, so that a test can kill the worker
in the middle of a file.

    celery -A tests.segments.slow_upload_worker worker ...

``SEGMENT_UPLOAD_TEST_DELAY`` sets the seconds each batch takes (inside its transaction, before
the ids are added), ``SEGMENT_UPLOAD_TEST_BATCH_SIZE`` the ids per batch.
"""

from __future__ import annotations

import os
import time

import django

from console.celery import app  # noqa: F401  (the worker's app)

# Slowed only in the worker subprocess (which gets the delay), never in the test process.
if os.environ.get("SEGMENT_UPLOAD_TEST_DELAY"):
    django.setup()
    from segments import services, uploads

    _add = services.segment_ids_add

    def _slow_add(**kwargs):
        time.sleep(float(os.environ["SEGMENT_UPLOAD_TEST_DELAY"]))
        return _add(**kwargs)

    services.segment_ids_add = _slow_add
    uploads.BATCH_SIZE = int(os.environ["SEGMENT_UPLOAD_TEST_BATCH_SIZE"])
