"""Fixtures every test module shares. Worlds are built through services and the HTTP API only,
so a test never sets up a state the product could not reach."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from console.actors import Actor
from console.keycache import forget_all_api_keys
from console.models import Project, Role
from console.services.projects import membership_set, project_create

PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def _isolated_caches(settings):
    """Each test starts with empty in-process and shared caches, and hashes passwords cheaply."""
    from django.core.cache import cache

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Pages render {% static %} without a collectstatic run (production uses the manifest).
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }

    forget_all_api_keys()
    cache.clear()
    yield
    forget_all_api_keys()


@dataclass
class World:
    """A project with one key of each kind and a user per role."""

    project: Project
    keys: dict[str, str]
    users: dict[str, Any] = field(default_factory=dict)

    def actor(self, role: str = Role.ADMIN) -> Actor:
        return Actor.for_user(self.users[role], role)


def make_user(username: str):
    return get_user_model().objects.create_user(
        username=username, email=f"{username}@example.com", password=PASSWORD
    )


def make_world(name: str) -> World:
    admin = make_user(f"{name.lower()}-admin")
    project, keys = project_create(name=name, owner=admin)
    world = World(project=project, keys={k: secret for k, (_key, secret) in keys.items()})
    world.users[Role.ADMIN] = admin
    actor = Actor.for_user(admin, Role.ADMIN)
    for role in (Role.MEMBER, Role.VIEWER):
        user = make_user(f"{name.lower()}-{role}")
        membership_set(project=project, actor=actor, email=user.email, role=role)
        world.users[role] = user
    return world


@pytest.fixture
def world(db) -> World:
    return make_world("Acme")


@pytest.fixture
def other_world(db) -> World:
    return make_world("Globex")


class ApiClient:
    """An HTTP client for JSON APIs that runs on-commit callbacks (ruleset rebuilds, queued
    tasks) the way a committed request would."""

    def __init__(self, capture_on_commit):
        self._client = Client()
        self._capture = capture_on_commit

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        key: str | None = None,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
        content_type: str = "application/json",
    ):
        all_headers = dict(headers or {})
        if key is not None:
            all_headers["STATSIG-API-KEY"] = key
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        kwargs: dict[str, Any] = {"headers": all_headers}
        if data is not None:
            kwargs.update(data=data, content_type=content_type)
        with self._capture(execute=True):
            return getattr(self._client, method.lower())(path, **kwargs)

    def get(self, path: str, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs):
        return self.request("POST", path, body, **kwargs)

    def put(self, path: str, body: Any = None, **kwargs):
        return self.request("PUT", path, body, **kwargs)

    def patch(self, path: str, body: Any = None, **kwargs):
        return self.request("PATCH", path, body, **kwargs)

    def delete(self, path: str, body: Any = None, **kwargs):
        return self.request("DELETE", path, body, **kwargs)


@pytest.fixture
def api(db, django_capture_on_commit_callbacks) -> ApiClient:
    return ApiClient(django_capture_on_commit_callbacks)


@pytest.fixture
def browser_client(db):
    """``browser_client(user)`` -> a Django test client logged in as that user."""

    def login(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return login
