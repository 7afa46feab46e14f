"""Celery tasks for deletion requests: fetch nothing, call the service, retry with backoff."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from privacy.services import deletion_process_pending

logger = logging.getLogger(__name__)

#: Celery-level retries when some request failed (each request also keeps its own backoff).
MAX_RETRIES = 8


def _summary(outcomes) -> dict[str, int]:
    return {
        "processed": len(outcomes),
        "completed": sum(o.completed for o in outcomes),
        "failed": sum(bool(o.error) for o in outcomes),
    }


def _retry_if_failed(task, outcomes) -> None:
    failed = [o for o in outcomes if o.error and o.retry_at is not None]
    if not failed or task.request.called_directly or task.request.is_eager:
        return
    countdown = max(5, int(min((o.retry_at - timezone.now()).total_seconds() for o in failed)))
    if task.request.retries < MAX_RETRIES:
        raise task.retry(countdown=countdown, max_retries=MAX_RETRIES)
    logger.error("privacy.deletion.retries_exhausted failed=%d", len(failed))


@shared_task(bind=True, name="privacy.tasks.process_deletions", ignore_result=True)
def process_deletions(self) -> dict[str, int]:
    """The scheduled job (``DELETION_SCHEDULE_CRON``): every pending request, oldest first."""
    outcomes = deletion_process_pending()
    _retry_if_failed(self, outcomes)
    return _summary(outcomes)


@shared_task(bind=True, name="privacy.tasks.process_deletions_due_soon", ignore_result=True)
def process_deletions_due_soon(self) -> dict[str, int]:
    """Hourly: requests with 7 days or less left are processed at once (and flagged)."""
    outcomes = deletion_process_pending(only_due_soon=True)
    _retry_if_failed(self, outcomes)
    return _summary(outcomes)


@shared_task(bind=True, name="privacy.tasks.process_deletions_now", ignore_result=True)
def process_deletions_now(self, project_id: int) -> dict[str, int]:
    """ "Process now" from the console: the project's pending requests, ignoring backoff."""
    outcomes = deletion_process_pending(project_id=project_id, respect_backoff=False)
    _retry_if_failed(self, outcomes)
    return _summary(outcomes)
