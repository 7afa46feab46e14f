"""Fixtures of the flags tests: entities are created through the services, and on-commit work
(ruleset rebuilds) runs as it would after a committed request."""

from __future__ import annotations

import pytest

from flags import ruleset_store


@pytest.fixture(autouse=True)
def _fresh_rulesets():
    ruleset_store.forget_loaded()
    yield
    ruleset_store.forget_loaded()


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """``with committed(): service(...)`` runs the on-commit callbacks (the ruleset rebuild)."""

    def run():
        return django_capture_on_commit_callbacks(execute=True)

    return run
