"""Celery tasks of the flags app: fetch ids, call a service or the ruleset store."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="flags.tasks.rebuild_ruleset", ignore_result=True)
def rebuild_ruleset(project_id: int) -> int | None:
    from flags.ruleset_store import rebuild

    return rebuild(project_id)


@shared_task(name="flags.tasks.start_scheduled_experiments", ignore_result=True)
def start_scheduled_experiments() -> int:
    from flags.services.experiments import experiments_start_scheduled

    return experiments_start_scheduled()
