"""The compiled ruleset of each project: rebuilt after a committed change, stored with a
monotonic ``time``, and kept parsed in every process's memory for the evaluation endpoints.

Writers call ``schedule_rebuild(project.id)`` inside their transaction; on commit a Celery task
(``flags.tasks.rebuild_ruleset``) compiles the project and stores a ``CompiledRuleset`` row whose
``time`` is greater than every earlier one, then publishes that time in the shared cache.

A rebuild can be lost after the commit: Redis redelivers the message of a killed worker only after
its visibility timeout (an hour), and a process can die before its on-commit hook runs. So each
change also bumps ``Project.ruleset_revision`` in the change's transaction, and each stored
version records the revision it compiled (``source_revision``, read under the project's row lock,
which the bump also takes, so a version never claims a change it lacks). A project whose revision
is ahead of its newest version has a rebuild pending or lost; the beat job
``flags.tasks.rebuild_stale_rulesets`` rebuilds such projects every ``RULESET_SWEEP_SECONDS``.
Queued and swept rebuilds skip a project that is no longer stale, so a redelivered message or a
sweep racing the queued task adds no version.

Readers call ``current_ruleset(project_id)``. A process answers from memory and looks for a newer
version at most every ``settings.RULESET_CHECK_INTERVAL_MS``: one cache read when the cache is
shared by all processes (Redis, ``settings.CACHE_IS_SHARED``), otherwise one indexed query. Between
checks the evaluation path issues no query and no cache read. If the cache or the database is
down, the process keeps serving the ruleset it has.

ID lists (``segments.idlists.id_lists_for_project``) are read when a version is loaded, so a change
to an ID list must also call ``schedule_rebuild``.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F

if TYPE_CHECKING:
    from flags.evaluation import CompiledRuleset as EvaluationRuleset

logger = logging.getLogger(__name__)

CACHE_KEY_PREFIX = "flags:ruleset-time:"
# Stored versions kept per project (older ones are deleted by the rebuild).
KEEP_VERSIONS = 20
_REBUILD_MARK = "_flags_rebuild_project"


@dataclass(slots=True)
class LoadedRuleset:
    project_id: int
    time: int
    payload: dict[str, Any]
    ruleset: EvaluationRuleset
    next_check: float = 0.0
    # Serialised download_config_specs bodies by default environment.
    _bodies: dict[str | None, bytes] = field(default_factory=dict)

    @property
    def default_environment(self) -> str | None:
        return self.payload.get("default_environment")

    def body(self, default_environment: str | None = None) -> bytes:
        """The ``download_config_specs`` JSON, serialised once per version (and environment)."""
        body = self._bodies.get(default_environment)
        if body is None:
            payload = self.payload
            if default_environment is not None:
                payload = {**payload, "default_environment": default_environment}
            body = json.dumps(payload, separators=(",", ":")).encode()
            self._bodies[default_environment] = body
        return body


_loaded: dict[int, LoadedRuleset] = {}
_load_lock = threading.Lock()


def _cache_key(project_id: int) -> str:
    return f"{CACHE_KEY_PREFIX}{project_id}"


# -- writing ------------------------------------------------------------------------------------


class _RebuildBatch:
    """The rebuilds one transaction asked for, under one revision: the first callback to run
    enqueues the task, the others see it done. A rebuild later in the same transaction closes
    the batch, since changes after it are not in what it compiled and need a revision of their
    own."""

    __slots__ = ("closed", "done", "project_id")

    def __init__(self, project_id: int) -> None:
        self.project_id = project_id
        self.done = False
        self.closed = False


def _open_batches(project_id: int) -> Iterator[_RebuildBatch]:
    """The project's batches that changes in the current transaction may still join."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        return
    for _sids, func, _robust in connection.run_on_commit:
        batch = getattr(func, _REBUILD_MARK, None)
        if (
            batch is not None
            and batch.project_id == project_id
            and not (batch.done or batch.closed)
        ):
            yield batch


def schedule_rebuild(project_id: int) -> None:
    """Rebuild the project's ruleset once the current transaction commits (once per transaction,
    however many changes it makes)."""
    from console.models import Project

    # Join the batch of a rebuild already queued in this transaction. Every change still queues
    # its own callback (Django drops those of a rolled-back savepoint), and the first callback
    # that runs enqueues the one rebuild.
    batch = next(_open_batches(project_id), None)
    if batch is None:
        batch = _RebuildBatch(project_id)
        # Committed or rolled back with the change, so that a lost rebuild is always noticed.
        Project.objects.filter(pk=project_id).update(ruleset_revision=F("ruleset_revision") + 1)

    def enqueue() -> None:
        if batch.done:
            return
        batch.done = True
        from flags.tasks import rebuild_ruleset

        try:
            rebuild_ruleset.delay(project_id, only_if_stale=True)
        except Exception:
            # No broker: rebuild here rather than serve a stale ruleset.
            logger.exception("ruleset rebuild not queued project=%s; rebuilding inline", project_id)
            rebuild(project_id, only_if_stale=True)

    setattr(enqueue, _REBUILD_MARK, batch)
    transaction.on_commit(enqueue)


def rebuild(project_id: int, *, only_if_stale: bool = False) -> int | None:
    """Compile and store the project's ruleset now; returns the ``time`` of its newest version
    (None: no project). ``only_if_stale`` skips the compile when that version already has the
    project's ``ruleset_revision``."""
    from console.models import Project
    from flags.compiler import compile_project
    from flags.models import CompiledRuleset

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
        for batch in _open_batches(project_id):
            batch.closed = True
        now_ms = int(time.time() * 1000)
        stamp = max(now_ms, last_time + 1)
        payload = compile_project(project, time=stamp)
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


def rebuild_stale() -> int:
    """Rebuild every project changed since its newest stored version; returns how many were
    stale. One project failing does not keep the others stale."""
    from flags.selectors import ruleset_stale_project_ids

    stale = ruleset_stale_project_ids()
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
    from flags.models import CompiledRuleset

    with transaction.atomic():
        stamp = rebuild(project_id)
        CompiledRuleset.objects.filter(project_id=project_id).exclude(time=stamp).delete()
    return stamp


def _publish(project_id: int, stamp: int) -> None:
    entry = _loaded.get(project_id)
    if entry is not None:
        entry.next_check = 0.0
    try:
        cache.set(_cache_key(project_id), stamp, timeout=None)
    except Exception:  # the database check still finds the new version
        logger.warning("ruleset publish failed project=%s", project_id)


# -- reading ------------------------------------------------------------------------------------


def _latest_time_in_db(project_id: int) -> int | None:
    from flags.models import CompiledRuleset

    return (
        CompiledRuleset.objects.filter(project_id=project_id)
        .order_by("-time")
        .values_list("time", flat=True)
        .first()
    )


def _latest_time(project_id: int) -> int | None:
    if settings.CACHE_IS_SHARED:
        stamp = cache.get(_cache_key(project_id))
        if stamp is not None:
            return int(stamp)
        stamp = _latest_time_in_db(project_id)
        if stamp is not None:
            # Re-publish (e.g. after the cache was flushed) so the next checks stay off the DB.
            cache.add(_cache_key(project_id), stamp, timeout=None)
        return stamp
    return _latest_time_in_db(project_id)


def _id_lists(project_id: int) -> Any:
    try:
        from segments.idlists import id_lists_for_project
    except ImportError:
        return {}
    return id_lists_for_project(project_id)


def _load(project_id: int) -> LoadedRuleset:
    from flags.evaluation import CompiledRuleset as EvaluationRuleset
    from flags.models import CompiledRuleset

    row = (
        CompiledRuleset.objects.filter(project_id=project_id)
        .order_by("-time")
        .values("time", "payload")
        .first()
    )
    if row is None:
        rebuild(project_id)
        row = (
            CompiledRuleset.objects.filter(project_id=project_id)
            .order_by("-time")
            .values("time", "payload")
            .first()
        )
        if row is None:
            raise LookupError(f"No project {project_id}")
    entry = LoadedRuleset(
        project_id=project_id,
        time=row["time"],
        payload=row["payload"],
        ruleset=EvaluationRuleset.from_specs(row["payload"], _id_lists(project_id)),
    )
    return entry


def current(project_id: int) -> LoadedRuleset:
    """The newest ruleset this process knows, checking for a newer one at most every
    ``RULESET_CHECK_INTERVAL_MS``."""
    now = time.monotonic()
    entry = _loaded.get(project_id)
    if entry is not None and now < entry.next_check:
        return entry
    interval = settings.RULESET_CHECK_INTERVAL_MS / 1000
    if entry is not None:
        try:
            latest = _latest_time(project_id)
        except Exception as exc:  # database or cache down: serve from memory
            logger.warning("ruleset check failed project=%s error=%s", project_id, exc)
            entry.next_check = now + interval
            return entry
        if latest is not None and latest <= entry.time:
            entry.next_check = now + interval
            return entry
    with _load_lock:
        current_entry = _loaded.get(project_id)
        if current_entry is not None and current_entry is not entry:
            return current_entry
        loaded = _load(project_id)
        if entry is not None and loaded.time < entry.time:
            loaded = entry
        loaded.next_check = time.monotonic() + interval
        _loaded[project_id] = loaded
        return loaded


def current_ruleset(project_id: int) -> EvaluationRuleset:
    """The parsed ruleset for ``flags.evaluation``; no SQL after warm-up."""
    return current(project_id).ruleset


def forget_loaded() -> None:
    """Drops every in-memory ruleset (tests, and after a database restore)."""
    _loaded.clear()
