"""The browser-test harness: real headless Chromium (Debian's ``chromium`` package) driven by
Playwright's sync API against pytest-django's ``live_server``.

    @pytest.mark.browser  # added automatically to every test that uses a page
    def test_something(logged_in_page, world, live_server):
        page = logged_in_page(world.users[Role.ADMIN])       # a new browser context per user
        page.goto(live_server.url + "/")                       # or page.goto("/") (base_url)
        ...

On failure, every page the test opened is saved to ``test-artifacts/`` (PNG screenshot and the
HTML), named after the test. Tests also keep deliberate screenshots of the main screens for a
person to look at, with ``screenshot(page, "name")``, in ``test-artifacts/screens/`` (gitignored,
like the whole folder; ``KEEP_TEST_ARTIFACTS=1`` keeps an earlier run's).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client

from tests.chromium import TIMEOUT_MS, VIEWPORT

ARTIFACTS = "test-artifacts"
SCREENS = "screens"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    """Templates use ``{% static %}``; tests do not run collectstatic for the manifest, and the
    live server serves the files from the finders."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def _artifact_name(nodeid: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid.split("::", 1)[-1])[:120]


@pytest.fixture
def new_page(browser, live_server, request) -> Iterator[Callable[..., object]]:
    """``new_page()`` -> a Page in a fresh browser context (its own cookies), with ``base_url``
    set to the live server. Pages are screenshotted to ``test-artifacts/`` if the test fails."""
    contexts = []

    def make(**context_options):
        context = browser.new_context(
            base_url=live_server.url, **{"viewport": VIEWPORT, **context_options}
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield make

    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        folder = Path(request.config.rootpath) / ARTIFACTS
        folder.mkdir(exist_ok=True)
        base = _artifact_name(request.node.nodeid)
        for c_index, context in enumerate(contexts):
            for p_index, page in enumerate(context.pages):
                stem = folder / f"{base}-{c_index}-{p_index}"
                try:
                    page.screenshot(path=f"{stem}.png", full_page=True)
                    Path(f"{stem}.html").write_text(page.content(), encoding="utf-8")
                except Exception as error:  # a crashed page must not hide the test's failure
                    Path(f"{stem}.txt").write_text(f"no screenshot: {error}", encoding="utf-8")
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    """An anonymous page."""
    return new_page()


@pytest.fixture
def logged_in_page(new_page, live_server) -> Callable[..., object]:
    """``logged_in_page(user)`` -> a Page in its own browser context with that user's session
    (created server-side, as if they had logged in), opened at ``/`` (or ``path``); context
    options such as ``viewport`` go to the new context."""

    def make(user, *, path: str = "/", **context_options):
        client = Client()
        client.force_login(user)
        session = client.cookies[django_settings.SESSION_COOKIE_NAME].value
        page = new_page(**context_options)
        page.context.add_cookies(
            [
                {
                    "name": django_settings.SESSION_COOKIE_NAME,
                    "value": session,
                    "url": live_server.url,
                }
            ]
        )
        page.goto(path)
        return page

    return make


@pytest.fixture(scope="session", autouse=True)
def _clean_artifacts(request) -> None:
    """Artifacts of an earlier run would be mistaken for this one's."""
    folder = Path(request.config.rootpath) / ARTIFACTS
    if folder.is_dir() and not os.environ.get("KEEP_TEST_ARTIFACTS"):
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def screenshot(request) -> Callable[..., Path]:
    """``screenshot(page, "audit-entry")`` saves the whole page to
    ``test-artifacts/screens/audit-entry.png`` and returns the path."""

    def take(page, name: str) -> Path:
        folder = Path(request.config.rootpath) / ARTIFACTS / SCREENS
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
