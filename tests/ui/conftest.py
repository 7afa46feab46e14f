"""Fixtures of the browser-screen tests: a logged-in Django client per role, with on-commit
callbacks (ruleset rebuilds, queued tasks) run as a committed request would run them."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from console.models import Role
from tests.conftest import World

ROLES = (Role.ADMIN, Role.MEMBER, Role.VIEWER)


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    """Templates use ``{% static %}``; tests do not run collectstatic for the manifest."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _fresh_rulesets():
    from flags import ruleset_store

    ruleset_store.forget_loaded()
    yield
    ruleset_store.forget_loaded()


class CommittingClient:
    """A logged-in test client whose requests run their on-commit callbacks."""

    def __init__(self, client: Client, capture):
        self.client = client
        self._capture = capture

    def get(self, path: str, *args, **kwargs):
        return self.client.get(path, *args, **kwargs)

    def post(self, path: str, data=None, **kwargs):
        with self._capture(execute=True):
            return self.client.post(path, data or {}, **kwargs)


@pytest.fixture
def as_role(world: World, django_capture_on_commit_callbacks) -> Callable[[str], CommittingClient]:
    """``as_role(Role.MEMBER)`` -> a client logged in as the world's user of that role."""

    def make(role: str) -> CommittingClient:
        client = Client()
        client.force_login(world.users[role])
        return CommittingClient(client, django_capture_on_commit_callbacks)

    return make
