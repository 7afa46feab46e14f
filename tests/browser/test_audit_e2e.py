"""The audit log in real headless Chromium: an entry opens in place to its whole before/after
change, far past the ~120 characters the list shows."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from console.models import Role
from tests.console.web.test_audit_entry import gate_with_a_long_rule_change


def test_audit_entry__expanded__shows_the_whole_rule_change(
    logged_in_page, capi, world, screenshot
):
    # Given a gate whose rule went from 10 % to 60 % of a long list of emails
    entry = gate_with_a_long_rule_change(capi)
    # When a viewer opens the audit log
    page = logged_in_page(world.users[Role.VIEWER], path=f"/p/{world.project.slug}/audit/")
    row = page.locator("tr", has=page.locator(f'details[hx-get$="/audit/{entry.pk}/"]'))
    # Then the row shows the change cut short
    expect(row).to_contain_text("rules")
    expect(row.get_by_text("last-added@example.com")).to_have_count(0)
    # When they open its full change
    row.get_by_text("Full change").click()
    # Then the whole rule is there, the old and new percentages marked removed and added
    diff = row.locator(".audit-diff")
    expect(diff.locator(".diff-line.diff-removed", has_text='"passPercentage": 10')).to_be_visible()
    expect(diff.locator(".diff-line.diff-added", has_text='"passPercentage": 60')).to_be_visible()
    expect(diff.locator(".diff-line.diff-added", has_text="last-added@example.com")).to_have_count(
        1
    )
    expect(diff.locator(".diff-line.diff-same", has_text="person-28@example.com")).to_have_count(1)
    screenshot(page, "audit-log-entry-expanded")
    # And the entry has a page of its own to share
    page.goto(f"/p/{world.project.slug}/audit/{entry.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("new_checkout"))
    expect(page.locator(".diff-line.diff-added", has_text='"passPercentage": 60')).to_be_visible()
