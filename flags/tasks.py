"""Celery tasks of the flags app: fetch ids, call a service or the ruleset store."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="flags.tasks.rebuild_ruleset", ignore_result=True)
def rebuild_ruleset(project_id: int, only_if_stale: bool = False) -> int | None:
    # ``schedule_rebuild`` sends only_if_stale=True, so a redelivered message adds no version;
    # messages queued before revisions existed carry no flag and must still rebuild.
    from flags.ruleset_store import rebuild

    return rebuild(project_id, only_if_stale=only_if_stale)


@shared_task(name="flags.tasks.rebuild_stale_rulesets", ignore_result=True)
def rebuild_stale_rulesets() -> int:
    from flags.ruleset_store import rebuild_stale

    return rebuild_stale()


@shared_task(name="flags.tasks.start_scheduled_experiments", ignore_result=True)
def start_scheduled_experiments() -> int:
    from flags.services.experiments import experiments_start_scheduled

    return experiments_start_scheduled()
