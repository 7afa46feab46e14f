"""Safety and clarity on the entity pages, in real headless Chromium: the overrides fold away
with their counts, saving one form does not silently drop another's unsaved edits, "Test a user"
says when a user fell outside a rule's rollout, and JSON boxes show their last line."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from console.models import Role
from flags.models import Gate
from flags.services import configs as config_services
from flags.services import gates as gate_services
from ruleset import store as ruleset_store

STAFF = {
    "id": "staff",
    "name": "Staff",
    "passPercentage": 10,
    "conditions": [
        {"type": "email", "operator": "str_ends_with_any", "targetValue": ["@acme.com"]}
    ],
}


def test_gate_page__rules_edited_then_save_overrides__asks_before_dropping_them(
    logged_in_page, world, screenshot
):
    # Given a gate with a 10 % rule and two users who always pass
    gate = gate_services.gate_create(
        project=world.project,
        actor=world.actor(Role.ADMIN),
        name="New checkout",
        rules=[STAFF],
        overrides={"passingUserIDs": ["ada", "bob"]},
    )
    page = logged_in_page(
        world.users[Role.MEMBER], path=f"/p/{world.project.slug}/gates/{gate.slug}/"
    )
    # Then the override lists are folded, each section with its count
    overrides = page.get_by_role("region", name="Overrides")
    sections = overrides.locator("details.overrides-section")
    expect(sections).to_have_count(4)
    expect(sections.first.locator("summary")).to_contain_text("All environments")
    expect(sections.first.locator(".section-count")).to_have_text("2 IDs")
    expect(sections.nth(1).locator(".section-count")).to_have_text("0 IDs")
    expect(overrides.get_by_label("User IDs that always pass")).to_be_hidden()
    screenshot(page, "gate-detail")

    # When the member raises the rule to 60 % without saving, then saves an override
    page.get_by_role("spinbutton", name="Pass percentage").fill("60")
    sections.first.locator("summary").click()
    overrides.get_by_label("User IDs that always fail").fill("carol")
    messages: list[str] = []

    def dismiss(dialog) -> None:
        messages.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    overrides.get_by_role("button", name="Save overrides").click()
    # Then they are asked first, naming the unsaved rules, and staying keeps both edits
    expect(page.get_by_role("spinbutton", name="Pass percentage")).to_have_value("60")
    assert len(messages) == 1
    assert "the gate’s rules and settings" in messages[0]
    assert Gate.objects.get(pk=gate.pk).overrides.get("failingUserIDs", []) == []

    # When they save the rules instead, they are asked about the unsaved override, and agree
    def accept(dialog) -> None:
        messages.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator(".messages")).to_contain_text("Gate saved.")
    assert "the overrides" in messages[1]
    # And then the override again: nothing unsaved is left, so nothing is asked
    page.get_by_role("region", name="Overrides").locator("details.overrides-section").first.locator(
        "summary"
    ).click()
    overrides.get_by_label("User IDs that always fail").fill("carol")
    overrides.get_by_role("button", name="Save overrides").click()
    expect(page.locator(".messages")).to_contain_text("Overrides saved.")
    gate = Gate.objects.get(pk=gate.pk)
    assert gate.rules[0]["passPercentage"] == 60
    assert gate.overrides["failingUserIDs"] == ["carol"]


def test_test_panel__matching_user_outside_rollout__says_so_beside_fail(logged_in_page, world):
    # Given a gate passing 0 % of staff, served
    gate = gate_services.gate_create(
        project=world.project,
        actor=world.actor(Role.ADMIN),
        name="Dark launch",
        rules=[{**STAFF, "passPercentage": 0}],
    )
    ruleset_store.rebuild(world.project.pk)
    page = logged_in_page(
        world.users[Role.VIEWER], path=f"/p/{world.project.slug}/gates/{gate.slug}/"
    )
    # When a staff member is tested
    panel = page.locator("#test-panel")
    panel.get_by_label("User ID").fill("42")
    panel.get_by_label("Email").fill("ada@acme.com")
    panel.get_by_role("button", name="Evaluate").click()
    # Then Fail is explained: the rule matched, the user is outside its rollout
    result = page.locator("[data-test-result]")
    expect(result.locator("[data-test-value]")).to_contain_text("Fail")
    expect(result.locator("[data-test-outside-rollout]")).to_have_text("outside the rollout")
    expect(result.locator("[data-test-explanation]")).to_have_text(
        re.compile(r"Rule 1 matched: “Staff”\. The user is outside its 0% rollout")
    )


def test_config_page__long_default_value__box_shows_its_closing_brace(logged_in_page, world):
    # Given a config whose default value is 20 lines of JSON
    config = config_services.dynamic_config_create(
        project=world.project,
        actor=world.actor(Role.ADMIN),
        name="Banner",
        default_value={f"key_{n}": n for n in range(18)},
    )
    page = logged_in_page(
        world.users[Role.MEMBER], path=f"/p/{world.project.slug}/configs/{config.slug}/"
    )
    # Then its box is as tall as its JSON: nothing scrolls out of sight
    box = page.get_by_role("textbox", name="Default value")
    expect(box).to_have_value(re.compile(r"\}\s*$"))
    assert box.evaluate("area => area.scrollHeight <= area.clientHeight")
    # And it grows as lines are typed
    box.fill("{\n" + ",\n".join(f'"k{n}": {n}' for n in range(30)) + "\n}")
    assert box.evaluate("area => area.scrollHeight <= area.clientHeight")
