"""Celery tasks of the ruleset: compile a project, and sweep for rebuilds that were lost."""

from __future__ import annotations

from celery import shared_task

from ruleset import store


@shared_task(name="ruleset.tasks.rebuild_ruleset", ignore_result=True)
def rebuild_ruleset(project_id: int, only_if_stale: bool = False) -> int | None:
    # ``schedule_rebuild`` sends only_if_stale=True, so a redelivered message adds no version.
    return store.rebuild(project_id, only_if_stale=only_if_stale)


@shared_task(name="ruleset.tasks.rebuild_stale_rulesets", ignore_result=True)
def rebuild_stale_rulesets() -> int:
    return store.rebuild_stale()
