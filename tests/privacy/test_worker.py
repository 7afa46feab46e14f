"""The beat-scheduled deletion task, run by a real Celery worker process on Redis against the
test database."""

from __future__ import annotations

import pytest
from django.conf import settings

from privacy.models import DeletionRequest, DeletionStatus
from tests.privacy.workers import (
    require_live_services,
    start_celery_worker,
    stop,
    subprocess_env,
    wait_until,
)

pytestmark = pytest.mark.live_services


def test_beat_schedule__deletion_entries__use_the_configured_cron():
    from console.settings import _cron

    entry = settings.CELERY_BEAT_SCHEDULE["process-deletion-requests"]
    assert entry["task"] == "privacy.tasks.process_deletions"
    assert entry["schedule"] == _cron(settings.DELETION_SCHEDULE_CRON)
    due_soon = settings.CELERY_BEAT_SCHEDULE["process-deletion-requests-due-soon"]
    assert due_soon["task"] == "privacy.tasks.process_deletions_due_soon"
    assert due_soon["schedule"].total_seconds() == 3600


@pytest.mark.django_db(transaction=True)
def test_beat_task__real_worker_on_redis__completes_pending_requests(api, world, other_world):
    require_live_services(redis=True)
    from console.celery import app

    # Given two requests accepted through the API
    for w, request_id in ((world, "via-worker-1"), (other_world, "via-worker-2")):
        response = api.post(
            "/v1/delete_user_data",
            {"unit_type": "user_id", "ids": "w1,w2", "request_id": request_id},
            key=w.keys["server"],
        )
        assert response.status_code == 200
    worker = start_celery_worker("console", subprocess_env())
    app.conf.task_always_eager = False
    try:
        # When the beat entry's task is sent the way beat sends it
        entry = settings.CELERY_BEAT_SCHEDULE["process-deletion-requests"]
        app.send_task(entry["task"], **entry.get("options", {}))

        # Then the worker completes both
        def done() -> bool:
            return not DeletionRequest.objects.filter(status=DeletionStatus.PENDING).exists()

        wait_until(done, timeout=120, what="the worker to complete the requests", process=worker)
    finally:
        app.conf.task_always_eager = True
        stop(worker)
    assert list(DeletionRequest.objects.values_list("ids", flat=True)) == [[], []]
    status = api.post(
        "/v1/get_delete_user_data_request_status",
        {"request_id": "via-worker-1"},
        key=world.keys["server"],
    )
    assert status.content == b"COMPLETE"
