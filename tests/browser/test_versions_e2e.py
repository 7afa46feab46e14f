"""A gate's versions in real headless Chromium: a member goes from the gate to its versions,
sees what each changed, and restores the old rule; the gate is back at 10 %."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from console.models import AuditLog, Role
from flags.models import Gate
from flags.services import gates as gate_services
from segments import services as segment_services
from segments.models import Segment


def _rule(percentage: int) -> dict:
    return {
        "id": "staff",
        "name": "Staff",
        "passPercentage": percentage,
        "conditions": [
            {"type": "email", "operator": "str_ends_with_any", "targetValue": ["@acme.com"]}
        ],
    }


def test_restore__old_rule_version__gate_back_at_its_old_percentage(
    logged_in_page, world, screenshot
):
    # Given a gate whose staff rule went from 10 % to 60 %
    admin = world.actor(Role.ADMIN)
    gate = gate_services.gate_create(
        project=world.project, actor=admin, name="New checkout", rules=[_rule(10)]
    )
    gate_services.gate_update(
        project=world.project, actor=admin, gate_id=gate.slug, rules=[_rule(60)]
    )
    # When a member opens the gate's versions from its page
    page = logged_in_page(
        world.users[Role.MEMBER], path=f"/p/{world.project.slug}/gates/{gate.slug}/"
    )
    page.get_by_role("link", name="Versions and restore").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("Versions of gate"))
    # Then the newest version shows what it changed: 10 % became 60 %
    newest = page.locator('.version[data-version="2"]')
    expect(newest.get_by_text("Current")).to_be_visible()
    expect(
        newest.locator(".diff-line.diff-removed", has_text='"passPercentage": 10')
    ).to_be_visible()
    expect(newest.locator(".diff-line.diff-added", has_text='"passPercentage": 60')).to_be_visible()
    expect(newest.get_by_role("button", name="Restore this version")).to_have_count(0)
    expect(newest.get_by_text("salt")).to_have_count(0)
    screenshot(page, "gate-versions")
    # When they restore version 1 and confirm
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator('.version[data-version="1"]').get_by_role(
        "button", name="Restore this version"
    ).click()
    # Then they are back on the gate, which passes 10 % of staff again
    expect(page.locator(".messages")).to_contain_text("Version 1 restored.")
    expect(page).to_have_url(re.compile(rf"/gates/{gate.slug}/$"))
    gate = Gate.objects.get(pk=gate.pk)
    assert [rule["passPercentage"] for rule in gate.rules] == [10]
    assert gate.version == 3
    # And the restore is in the audit log as their edit
    entry = AuditLog.objects.filter(entity_id=gate.slug).order_by("-id").first()
    assert entry.actor_name == world.users[Role.MEMBER].username
    assert entry.changes["rules"]["new"][0]["passPercentage"] == 10


def test_restore__segment_rules__back_through_its_versions_page(logged_in_page, world):
    # Given a segment of staff whose rule was widened to a second domain
    admin = world.actor(Role.ADMIN)
    segment = segment_services.segment_create(
        project=world.project,
        actor=admin,
        name="Staff",
        type="rule_based",
        rules=[_rule(100)],
    )
    wider = _rule(100)
    wider["conditions"][0]["targetValue"] = ["@acme.com", "@acme.org"]
    segment_services.segment_update_rules(
        project=world.project, actor=admin, segment_id=segment.key, rules=[wider]
    )
    # When a member restores its first version from the segment's page
    page = logged_in_page(
        world.users[Role.MEMBER], path=f"/p/{world.project.slug}/segments/{segment.key}/"
    )
    page.get_by_role("link", name="Versions and restore").click()
    expect(
        page.locator('.version[data-version="2"] .diff-line.diff-added', has_text="@acme.org")
    ).to_be_visible()
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator('.version[data-version="1"]').get_by_role(
        "button", name="Restore this version"
    ).click()
    # Then the segment targets the one domain again
    expect(page.locator(".messages")).to_contain_text("Version 1 restored.")
    segment = Segment.objects.get(pk=segment.pk)
    assert segment.rules[0]["conditions"][0]["targetValue"] == ["@acme.com"]
