"""Compiling and storing a project's ruleset: each rebuild stores a ``CompiledRuleset`` row whose
``time`` is greater than every earlier one, then publishes that time in the shared cache.

A rebuild can be lost after the commit: Redis redelivers the message of a killed worker only after
its visibility timeout (an hour), and a process can die before its on-commit hook runs. So each
change also bumps ``Project.ruleset_revision`` in the change's transaction (``ruleset.changes``),
and each stored version records the revision it compiled (``source_revision``, read under the
project's row lock, which the bump also takes, so a version never claims a change it lacks). A
project whose revision is ahead of its newest version has a rebuild pending or lost; the beat job
``ruleset.tasks.rebuild_stale_rulesets`` rebuilds such projects every ``RULESET_SWEEP_SECONDS``.
Queued and swept rebuilds skip a project that is no longer stale, so a redelivered message or a
sweep racing the queued task adds no version.
"""

from __future__ import annotations

import logging
import time

from django.core.cache import cache
from django.db import transaction
from django.db.models import F, OuterRef, PositiveBigIntegerField, Subquery, Value
from django.db.models.functions import Coalesce

from console.models import Project
from flags.models import CompiledRuleset
from ruleset import compiler
from ruleset.changes import close_open_batches

logger = logging.getLogger(__name__)

CACHE_KEY_PREFIX = "flags:ruleset-time:"
# Stored versions kept per project (older ones are deleted by the rebuild).
KEEP_VERSIONS = 20

# The newest time this process published per project: ``ruleset.load`` reads it so the process
# that rebuilt serves the new version at once, without waiting for its next check.
_published_here: dict[int, int] = {}


def cache_key(project_id: int) -> str:
    return f"{CACHE_KEY_PREFIX}{project_id}"


def published_here(project_id: int) -> int:
    return _published_here.get(project_id, 0)


def rebuild(project_id: int, *, only_if_stale: bool = False) -> int | None:
    """Compile and store the project's ruleset now; returns the ``time`` of its newest version
    (None: no project). ``only_if_stale`` skips the compile when that version already has the
    project's ``ruleset_revision``."""
    with transaction.atomic():
        # One rebuild per project at a time, so times strictly increase and the staleness
        # check holds until the new version commits.
        project = Project.objects.select_for_update().filter(pk=project_id).first()
        if project is None:
            return None
        newest = (
            CompiledRuleset.objects.filter(project_id=project_id)
            .order_by("-time")
            .values_list("time", "source_revision")
            .first()
        )
        # Revision -1 when nothing is compiled yet: always stale.
        last_time, last_revision = newest or (0, -1)
        if only_if_stale and last_revision >= project.ruleset_revision:
            logger.info(
                "ruleset up to date project=%s revision=%s", project_id, project.ruleset_revision
            )
            return last_time
        close_open_batches(project_id)
        now_ms = int(time.time() * 1000)
        stamp = max(now_ms, last_time + 1)
        payload = compiler.compile_project(project, time=stamp)
        CompiledRuleset.objects.create(
            project_id=project_id,
            time=stamp,
            payload=payload,
            source_revision=project.ruleset_revision,
        )
        pruned = list(
            CompiledRuleset.objects.filter(project_id=project_id)
            .order_by("-time")
            .values_list("pk", flat=True)[KEEP_VERSIONS:]
        )
        if pruned:
            CompiledRuleset.objects.filter(pk__in=pruned).delete()
        transaction.on_commit(lambda: _publish(project_id, stamp))
    logger.info(
        "ruleset rebuilt project=%s time=%s revision=%s",
        project_id,
        stamp,
        project.ruleset_revision,
    )
    return stamp


def stale_project_ids() -> list[int]:
    """The projects changed since their newest compiled ruleset (its rebuild was lost), found in
    one query however many projects there are."""
    newest_revision = (
        CompiledRuleset.objects.filter(project=OuterRef("pk"))
        .order_by("-time")
        .values("source_revision")[:1]
    )
    return list(
        Project.objects.annotate(
            compiled_revision=Coalesce(
                Subquery(newest_revision), Value(0), output_field=PositiveBigIntegerField()
            )
        )
        .filter(ruleset_revision__gt=F("compiled_revision"))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def rebuild_stale() -> int:
    """Rebuild every project changed since its newest stored version; returns how many were
    stale. One project failing does not keep the others stale."""
    stale = stale_project_ids()
    for project_id in stale:
        logger.info("ruleset stale project=%s; rebuilding", project_id)
        try:
            rebuild(project_id, only_if_stale=True)
        except Exception:
            logger.exception("stale ruleset rebuild failed project=%s", project_id)
    return len(stale)


def rebuild_forgetting_history(project_id: int) -> int | None:
    """Rebuild now and delete every older compiled version: for erasers, since older versions
    still name the ids they erased."""
    with transaction.atomic():
        stamp = rebuild(project_id)
        CompiledRuleset.objects.filter(project_id=project_id).exclude(time=stamp).delete()
    return stamp


def _publish(project_id: int, stamp: int) -> None:
    _published_here[project_id] = max(stamp, _published_here.get(project_id, 0))
    try:
        cache.set(cache_key(project_id), stamp, timeout=None)
    except Exception:  # the database check still finds the new version
        logger.warning("ruleset publish failed project=%s", project_id)


def latest_time_in_db(project_id: int) -> int | None:
    return (
        CompiledRuleset.objects.filter(project_id=project_id)
        .order_by("-time")
        .values_list("time", flat=True)
        .first()
    )


def newest(project_id: int) -> dict | None:
    """The newest stored version's ``time`` and ``payload``, compiling one if none exists yet
    (None: no project)."""
    row = (
        CompiledRuleset.objects.filter(project_id=project_id)
        .order_by("-time")
        .values("time", "payload")
        .first()
    )
    if row is None and rebuild(project_id) is not None:
        row = (
            CompiledRuleset.objects.filter(project_id=project_id)
            .order_by("-time")
            .values("time", "payload")
            .first()
        )
    return row
