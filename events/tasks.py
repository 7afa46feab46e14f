from __future__ import annotations

from celery import shared_task

from events.exposures import drain_all
from events.partitioning import ensure_partitions


@shared_task(name="events.tasks.drain_exposures", ignore_result=True)
def drain_exposures() -> int:
    return drain_all()


@shared_task(name="events.tasks.ensure_event_partitions", ignore_result=True)
def ensure_event_partitions() -> list[str]:
    return ensure_partitions()
