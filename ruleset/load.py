"""The compiled ruleset each process keeps in memory for the evaluation endpoints.

Readers call ``current_ruleset(project_id)`` (or ``current`` for the version with its payload). A
process answers from memory and looks for a newer version at most every
``settings.RULESET_CHECK_INTERVAL_MS``: one cache read when the cache is shared by all processes
(Redis, ``settings.CACHE_IS_SHARED``), otherwise one indexed query. Between checks the evaluation
path issues no query and no cache read. If the cache or the database is down, the process keeps
serving the ruleset it has. The cache read goes through the Redis circuit breaker
(``console.breaker.REDIS``): while it is open (Redis down or hung) the check reads the database
instead, so a paused Redis neither stalls evaluation nor hides new rulesets.

ID lists (``segments.idlists.id_lists_for_project``) are read when a version is loaded, so a change
to an ID list must also call ``ruleset.changes.schedule_rebuild``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache

from console.breaker import REDIS, REDIS_ERRORS
from evaluation import CompiledRuleset as EvaluationRuleset
from ruleset import store
from segments.idlists import id_lists_for_project

logger = logging.getLogger(__name__)


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


def _latest_time(project_id: int) -> int | None:
    if settings.CACHE_IS_SHARED and REDIS.allows():
        try:
            stamp = cache.get(store.cache_key(project_id))
        except REDIS_ERRORS as exc:
            REDIS.failed(exc)
        else:
            REDIS.succeeded()
            if stamp is not None:
                return int(stamp)
            stamp = store.latest_time_in_db(project_id)
            if stamp is not None:
                # Re-publish (e.g. after the cache was flushed): later checks stay off the DB.
                with contextlib.suppress(*REDIS_ERRORS):
                    cache.add(store.cache_key(project_id), stamp, timeout=None)
            return stamp
    return store.latest_time_in_db(project_id)


def _load(project_id: int) -> LoadedRuleset:
    row = store.newest(project_id)
    if row is None:
        raise LookupError(f"No project {project_id}")
    return LoadedRuleset(
        project_id=project_id,
        time=row["time"],
        payload=row["payload"],
        ruleset=EvaluationRuleset.from_specs(row["payload"], id_lists_for_project(project_id)),
    )


def current(project_id: int) -> LoadedRuleset:
    """The newest ruleset this process knows, checking for a newer one at most every
    ``RULESET_CHECK_INTERVAL_MS`` (at once when this process published a newer one)."""
    now = time.monotonic()
    entry = _loaded.get(project_id)
    if (
        entry is not None
        and now < entry.next_check
        and store.published_here(project_id) <= entry.time
    ):
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
    """The parsed ruleset for ``evaluation``; no SQL after warm-up."""
    return current(project_id).ruleset


def forget_loaded() -> None:
    """Drops every in-memory ruleset (tests, and after a database restore)."""
    _loaded.clear()
