"""Fixtures of the event-store tests: an empty exposure buffer around every test."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest

from flags.events import exposures
from tests.events.rulesets import payload as ruleset_payload


@pytest.fixture(autouse=True)
def _empty_exposure_buffer():
    exposures.discard_local_buffer()
    if exposures.redis_enabled():
        with contextlib.suppress(Exception):
            exposures._redis().delete(exposures.QUEUE_KEY, exposures.DRAIN_LOCK_KEY)
    yield
    exposures.stop_flusher()
    exposures.discard_local_buffer()


@pytest.fixture
def served_ruleset(monkeypatch):
    """``served_ruleset(project)`` makes ``payload()`` the project's current ruleset."""
    from flags import ruleset_store
    from flags.evaluation import CompiledRuleset

    served: dict[int, Any] = {}
    real_current = ruleset_store.current

    def current(project_id: int):
        if project_id in served:
            return served[project_id]
        return real_current(project_id)

    monkeypatch.setattr(ruleset_store, "current", current)

    def serve(project, body: dict[str, Any] | None = None):
        body = body or ruleset_payload()
        served[project.pk] = ruleset_store.LoadedRuleset(
            project_id=project.pk,
            time=body["time"],
            payload=body,
            ruleset=CompiledRuleset.from_specs(body),
        )
        return served[project.pk]

    return serve
