"""Screenshots of the main screens of the demo project, kept in ``test-artifacts/screens/`` for a
person to look at after a change: each list, the first entity of each list, its versions, and a
review of a rule change. Each screen is checked to have rendered its heading first."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from playwright.sync_api import expect

from console.actors import Actor
from console.models import Project, Role
from console.services.reviews import review_forced
from flags.models import Gate
from flags.services import gates as gate_services

AREAS = ("gates", "configs", "experiments", "layers", "holdouts", "segments")


@pytest.fixture
def demo_admin(db, tmp_path):
    out = StringIO()
    call_command("seed_demo", "--output", str(tmp_path / "demo.json"), stdout=out)
    seeded = json.loads(out.getvalue())
    project = Project.objects.get(slug=seeded["project"])
    admin_email = next(iter(seeded["logins"]))
    admin = get_user_model().objects.get(username=seeded["usernames"][admin_email])
    return project, admin


def _shot(page, screenshot, name: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    screenshot(page, name)


def test_main_screens__demo_project__screenshots_kept(logged_in_page, demo_admin, screenshot):
    project, admin = demo_admin
    page = logged_in_page(admin, path=f"/p/{project.slug}/")
    _shot(page, screenshot, "demo-dashboard")
    for area in AREAS:
        page.goto(f"/p/{project.slug}/{area}/")
        _shot(page, screenshot, f"demo-{area}-list")
        first = page.locator("main table tbody a").first
        if not first.count():
            continue
        first.click()
        _shot(page, screenshot, f"demo-{area}-detail")
        versions = page.get_by_role("link", name="Versions and restore")
        if versions.count():
            versions.click()
            _shot(page, screenshot, f"demo-{area}-versions")

    # A review of a rule change, as its reviewer sees it
    gate = Gate.objects.filter(project=project).exclude(rules=[]).order_by("slug").first()
    rules = [{**rule, "passPercentage": 50} for rule in gate.rules]
    with review_forced("Half of every rule's users"):
        review = gate_services.gate_update(
            project=project,
            actor=Actor.for_user(admin, Role.ADMIN),
            gate_id=gate.slug,
            rules=rules,
            expected_version=gate.version,
        ).review
    page.goto(f"/p/{project.slug}/reviews/{review.public_id}/")
    expect(page.locator(".rule-pair").first).to_be_visible()
    _shot(page, screenshot, "demo-review-detail")
