"""Gate overrides set in real headless Chromium, then answered by ``/v1/check_gate`` on the live
server. Pages are screenshotted on failure by the harness (``tests/browser/conftest.py``)."""

from __future__ import annotations

import json

from playwright.sync_api import expect

from console.models import Role
from flags.services import gates as gate_services


def test_gate_overrides__set_in_the_browser__check_gate_answers_them(
    logged_in_page, world, live_server
):
    # Given a gate without rules (nobody passes) and a member on its page
    gate = gate_services.gate_create(
        project=world.project, actor=world.actor(Role.ADMIN), name="New checkout"
    )
    page = logged_in_page(
        world.users[Role.MEMBER], path=f"/p/{world.project.slug}/gates/{gate.slug}/"
    )
    overrides = page.get_by_role("region", name="Overrides")

    # When they open the lists of every environment, list who always passes and who always
    # fails, and save
    overrides.locator("summary", has_text="All environments").click()
    overrides.get_by_label("User IDs that always pass").fill("ada\nbob")
    overrides.get_by_label("User IDs that always fail").fill("bob")
    overrides.get_by_role("button", name="Save overrides").click()

    # Then the page says so and shows the saved lists
    expect(page.locator(".messages")).to_contain_text("Overrides saved.")
    expect(overrides.locator("summary", has_text="All environments")).to_contain_text("3 IDs")
    overrides.locator("summary", has_text="All environments").click()
    expect(overrides.get_by_label("User IDs that always pass")).to_have_value("ada\nbob")

    # And /v1/check_gate answers the overrides (a failing ID wins over a passing one)
    def check(user_id: str) -> dict:
        response = page.request.post(
            live_server.url + "/v1/check_gate",
            data=json.dumps({"user": {"userID": user_id}, "gateName": gate.slug}),
            headers={"statsig-api-key": world.keys["server"], "content-type": "application/json"},
        )
        assert response.status == 200, response.text()
        return response.json()

    assert check("ada")["value"] is True
    assert check("bob")["value"] is False
    assert check("carol")["value"] is False
