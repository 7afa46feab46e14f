"""Fixtures every test module shares. Worlds are built through services and the HTTP API only,
so a test never sets up a state the product could not reach."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from console.actors import Actor
from console.keycache import forget_all_api_keys
from console.models import Project, Role
from console.services.projects import membership_set, project_create
from evaluation import CompiledRuleset
from events import exposures
from events.persons import forget_cached_properties
from ruleset import load as ruleset_load
from tests.events.rulesets import payload as ruleset_payload
from tests.wire_client import WireClient

# The session-wide headless Chromium (`browser`), shared by tests/browser and tests/sdks.
pytest_plugins = ["tests.chromium"]

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
    forget_cached_properties()
    cache.clear()
    yield
    forget_all_api_keys()
    forget_cached_properties()


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
    tasks) the way a committed request would. Data-plane paths go through the production WSGI
    application (``WireClient``), the console API through Django's test client."""

    def __init__(self, capture_on_commit):
        self._client = Client()
        self.wire = WireClient()
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
        if self.wire.handles(path):
            with self._capture(execute=True):
                return self.wire.request(
                    method, path, data=data, content_type=content_type, headers=all_headers
                )
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


@pytest.fixture(scope="session")
def live_server(request):
    """pytest-django's live server, answering through the production WSGI application: the
    data-plane dispatcher in front of Django (with static files, as pytest-django serves them)."""
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from pytest_django.live_server_helper import LiveServer

    from console.routes import DATA_PLANE_ROUTES
    from console.wire import Application

    addr = (
        request.config.getvalue("liveserver")
        or os.environ.get("DJANGO_LIVE_TEST_SERVER_ADDRESS")
        or "localhost"
    )
    server = LiveServer(addr, start=False)
    server.thread.static_handler = lambda app: Application(
        DATA_PLANE_ROUTES, fallback=StaticFilesHandler(app)
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture
def browser_client(db):
    """``browser_client(user)`` -> a Django test client logged in as that user."""

    def login(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return login


@pytest.fixture(autouse=True)
def _fresh_rulesets():
    """Each test starts without the in-memory rulesets of earlier tests."""
    ruleset_load.forget_loaded()
    yield
    ruleset_load.forget_loaded()


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """``with committed(): service(...)`` runs the on-commit callbacks (the ruleset rebuild)."""

    def run():
        return django_capture_on_commit_callbacks(execute=True)

    return run


# -- the data plane ---------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _empty_exposure_buffer():
    """Each test starts and ends with an empty exposure buffer (and no flusher thread)."""
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
    served: dict[int, Any] = {}
    real_current = ruleset_load.current

    def current(project_id: int):
        if project_id in served:
            return served[project_id]
        return real_current(project_id)

    monkeypatch.setattr(ruleset_load, "current", current)

    def serve(project, body: dict[str, Any] | None = None):
        body = body or ruleset_payload()
        served[project.pk] = ruleset_load.LoadedRuleset(
            project_id=project.pk,
            time=body["time"],
            payload=body,
            ruleset=CompiledRuleset.from_specs(body),
        )
        return served[project.pk]

    return serve


# -- the console API, with a project's console key -------------------------------------------------

RESPECT_REVIEWS = {"x-respect-review-settings": "true"}


class ConsoleClient:
    """``api`` with the world's console key (and optionally the review header) on every call."""

    def __init__(self, api: ApiClient, world: World):
        self.api = api
        self.world = world
        self.key = world.keys["console"]

    def _call(self, method: str, path: str, body: Any = None, *, reviews: bool = False, **kw):
        headers = {**(RESPECT_REVIEWS if reviews else {}), **kw.pop("headers", {})}
        return self.api.request(
            method, f"/console/v1/{path.lstrip('/')}", body, key=self.key, headers=headers, **kw
        )

    def get(self, path: str, **kw):
        return self._call("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw):
        return self._call("POST", path, {} if body is None else body, **kw)

    def put(self, path: str, body: Any = None, **kw):
        return self._call("PUT", path, {} if body is None else body, **kw)

    def patch(self, path: str, body: Any = None, **kw):
        return self._call("PATCH", path, {} if body is None else body, **kw)

    def delete(self, path: str, body: Any = None, **kw):
        return self._call("DELETE", path, body, **kw)


@pytest.fixture
def capi(api, world) -> ConsoleClient:
    return ConsoleClient(api, world)


@pytest.fixture
def other_capi(api, other_world) -> ConsoleClient:
    return ConsoleClient(api, other_world)


# -- browser screens, logged in per role -----------------------------------------------------------

ROLES = (Role.ADMIN, Role.MEMBER, Role.VIEWER)


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


def console_key_of_another_holder(world: World, username: str = "second-admin") -> str:
    """A console key held by another admin of the world's project: a key its own holder made
    cannot approve that holder's changes, this one can."""
    from console.models import ApiKeyKind
    from console.services.api_keys import api_key_create

    other = make_user(f"{world.project.slug}-{username}")
    membership_set(
        project=world.project, actor=world.actor(Role.ADMIN), email=other.email, role=Role.ADMIN
    )
    _key, secret = api_key_create(
        project=world.project, actor=Actor.for_user(other, Role.ADMIN), kind=ApiKeyKind.CONSOLE
    )
    return secret
