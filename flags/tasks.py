"""Celery tasks of the flags app: fetch ids, call a service."""

from __future__ import annotations

from celery import shared_task

from flags.services.experiments import experiments_start_scheduled


@shared_task(name="flags.tasks.start_scheduled_experiments", ignore_result=True)
def start_scheduled_experiments() -> int:
    return experiments_start_scheduled()
