"""Every page reachable from the dashboard of the demo project, for each role: no server error,
no broken internal link, no form posting to a URL that does not exist, no missing static file.

Django-client based (fast); it follows every ``<a href>`` of the console, so each screen another
issue adds is crawled as soon as the navigation or a page links to it.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from io import StringIO
from urllib.parse import urljoin, urlsplit

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.test import Client
from django.urls import Resolver404, resolve

from console.actors import Actor
from console.models import Project, Role
from console.services.audit import audit_record
from console.services.reviews import register_change, review_approve, submit_or_apply

MAX_PAGES = 400
# Not pages of the console: the APIs answer their own clients, not browsers.
SKIPPED_PREFIXES = ("/console/v1/", "/v1/", "/decide", "/flags", "/capture", "/batch", "/e/")


def _project_version(project: Project, entity_id: str) -> int:
    return Project.objects.get(pk=project.pk).name.count("!") + 1


@register_change("crawl_project_rename", entity_type="project", current_version=_project_version)
def _apply_rename(*, project, actor, entity_id, change, review=None):
    locked = Project.objects.select_for_update().get(pk=project.pk)
    old, locked.name = locked.name, change["name"]
    locked.save(update_fields=["name"])
    audit_record(
        project=locked,
        actor=actor,
        action_type="project_rename",
        entity_type="project",
        entity_id=entity_id,
        changes={"name": {"old": old, "new": locked.name}},
        review=review,
    )
    return locked


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.form_actions: list[tuple[str, str]] = []
        self.assets: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a" and values.get("href"):
            self.links.append(values["href"] or "")
        elif tag == "form":
            self.form_actions.append(
                ((values.get("method") or "get").lower(), values.get("action") or "")
            )
        elif tag in ("script", "img") and values.get("src"):
            self.assets.append(values["src"] or "")
        elif tag == "link" and values.get("href"):
            self.assets.append(values["href"] or "")


@dataclass
class CrawlResult:
    visited: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _internal_path(base: str, href: str) -> str | None:
    if href.startswith(("mailto:", "tel:", "javascript:")) or href.startswith("#"):
        return None
    url = urlsplit(urljoin(base, href))
    if url.netloc and url.netloc != "testserver":
        return None
    return url.path + (f"?{url.query}" if url.query else "")


def crawl(client: Client, start: str = "/") -> CrawlResult:
    result = CrawlResult()
    queue: deque[tuple[str, str]] = deque([(start, "(start)")])
    seen = {start}
    checked_assets: set[str] = set()
    while queue and len(result.visited) < MAX_PAGES:
        path, referrer = queue.popleft()
        response = client.get(path, follow=True)
        result.visited[path] = response.status_code
        if response.status_code >= 400:
            result.problems.append(f"{path} -> {response.status_code} (linked from {referrer})")
            continue
        if "text/html" not in response.get("Content-Type", ""):
            continue
        final = response.redirect_chain[-1][0] if response.redirect_chain else path
        parser = _Links()
        parser.feed(response.content.decode())
        for asset in parser.assets:
            asset_path = _internal_path(final, asset)
            if asset_path is None or asset_path in checked_assets:
                continue
            checked_assets.add(asset_path)
            static_prefix = "/" + settings.STATIC_URL.lstrip("/")
            if not asset_path.startswith(static_prefix):
                continue
            if finders.find(asset_path[len(static_prefix) :].split("?")[0]) is None:
                result.problems.append(f"{path}: missing static file {asset_path}")
        for method, action in parser.form_actions:
            action_path = _internal_path(final, action) if action else final
            if action_path is None:
                continue
            try:
                resolve(action_path.split("?")[0])
            except Resolver404:
                result.problems.append(f"{path}: form ({method}) posts to unknown {action_path}")
        for href in parser.links:
            target = _internal_path(final, href)
            if target is None or target.startswith(SKIPPED_PREFIXES):
                continue
            if target.startswith("/" + settings.STATIC_URL.lstrip("/")):
                continue
            if target not in seen:
                seen.add(target)
                queue.append((target, path))
    return result


@pytest.fixture
def demo(db, tmp_path):
    """The demo project of ``seed_demo`` with reviews in every open state and a committed one
    (its logins and keys written to a temporary file, not the developer's var/demo.json)."""
    out = StringIO()
    call_command("seed_demo", "--output", str(tmp_path / "demo.json"), stdout=out)
    seeded = json.loads(out.getvalue())
    project = Project.objects.get(slug=seeded["project"])
    users = {
        role: get_user_model().objects.get(username=seeded["usernames"][email])
        for email, role in zip(
            seeded["logins"], (Role.ADMIN, Role.MEMBER, Role.VIEWER), strict=True
        )
    }
    member = Actor.for_user(users[Role.MEMBER], Role.MEMBER)
    admin = Actor.for_user(users[Role.ADMIN], Role.ADMIN)

    def file(name: str):
        return submit_or_apply(
            project=project,
            actor=member,
            change_type="crawl_project_rename",
            entity_id=project.slug,
            entity_name=project.name,
            change={"name": name},
            needs_review=True,
        ).review

    file("Demo pending")
    approved = file("Demo approved")
    review_approve(project=project, actor=admin, review_id=approved.public_id)
    return project, users


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MEMBER, Role.VIEWER])
def test_crawl__demo_project__no_server_error_or_broken_link(demo, role):
    # Given a member of the demo project with this role
    project, users = demo
    client = Client(raise_request_exception=False)
    client.force_login(users[role])
    # When every link reachable from the landing page is followed
    result = crawl(client)
    # Then each page answered, and the shared screens were all reached
    assert result.problems == []
    for screen in ("keys/", "members/", "audit/", "reviews/", "settings/"):
        assert f"/p/{project.slug}/{screen}" in result.visited, screen
    assert any("/reviews/" in path and path.count("/") > 4 for path in result.visited)
