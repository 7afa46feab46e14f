"""Asking for a rebuild: ``schedule_rebuild(project_id)`` is what every write that changes the
compiled document calls inside its transaction.

This module knows nothing of the compiler or the store. It bumps the project's
``ruleset_revision`` with the change (so a rebuild lost after the commit is found by the stale
sweep) and, on commit, sends the rebuild task by its registered name. ``ruleset.store`` closes the
batches open in a transaction when it compiles inside one (see ``close_open_batches``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from celery import current_app
from django.db import transaction
from django.db.models import F

from console.models import Project

logger = logging.getLogger(__name__)

REBUILD_TASK = "ruleset.tasks.rebuild_ruleset"
_REBUILD_MARK = "_ruleset_rebuild_project"


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


def close_open_batches(project_id: int) -> None:
    """Called by a rebuild running inside a transaction: later changes need a new revision."""
    for batch in _open_batches(project_id):
        batch.closed = True


def schedule_rebuild(project_id: int) -> None:
    """Rebuild the project's ruleset once the current transaction commits (once per transaction,
    however many changes it makes)."""
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
        task = current_app.tasks[REBUILD_TASK]
        try:
            task.delay(project_id, only_if_stale=True)
        except Exception:
            # No broker: rebuild in this process rather than serve a stale ruleset.
            logger.exception("ruleset rebuild not queued project=%s; rebuilding inline", project_id)
            task.apply(args=(project_id,), kwargs={"only_if_stale": True})

    setattr(enqueue, _REBUILD_MARK, batch)
    transaction.on_commit(enqueue)
