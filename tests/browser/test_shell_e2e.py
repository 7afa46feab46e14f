"""The console's shell in real headless Chromium: the sidebar on a narrow screen, counters that
refresh while watched, and screenshots of the main screens kept for a person to look at."""

from __future__ import annotations

import json
import re
import urllib.request

from playwright.sync_api import expect

from console.models import ApiKey, Role

PHONE = {"width": 390, "height": 844}


def test_sidebar__narrow_screen__folds_behind_the_menu_button(logged_in_page, world, screenshot):
    page = logged_in_page(world.users[Role.MEMBER], viewport=PHONE)
    nav = page.get_by_role("navigation", name="Project")
    menu = page.get_by_role("button", name="Menu")
    # On a phone the navigation is folded away and the menu button shows
    expect(nav).to_be_hidden()
    expect(menu).to_be_visible()
    expect(menu).to_have_attribute("aria-expanded", "false")
    # And the header fits the screen: nothing to scroll sideways
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "narrow-dashboard")
    # When the menu button is pressed, the navigation opens and leads to a screen
    menu.click()
    expect(nav).to_be_visible()
    expect(menu).to_have_attribute("aria-expanded", "true")
    page.wait_for_function("() => !document.querySelector('#project-nav.collapsing')")
    screenshot(page, "narrow-navigation-open")
    nav.get_by_role("link", name="Audit log").click()
    expect(page).to_have_url(re.compile(r"/audit/$"))
    expect(page.get_by_role("navigation", name="Project")).to_be_hidden()


def test_sidebar__wide_screen__always_shown_without_menu_button(logged_in_page, world):
    page = logged_in_page(world.users[Role.MEMBER])
    expect(page.get_by_role("navigation", name="Project")).to_be_visible()
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()


def test_key_list__key_used_while_watched__last_used_updates_without_reload(
    logged_in_page, world, live_server
):
    server_key = ApiKey.objects.get(project=world.project, kind="server")
    page = logged_in_page(world.users[Role.ADMIN], path=f"/p/{world.project.slug}/keys/")
    cell = page.locator(f"#last-used-{server_key.public_id}")
    expect(cell).to_have_text("—")
    # When an SDK uses the key while the page is open
    request = urllib.request.Request(
        f"{live_server.url}/v1/log_event",
        data=json.dumps({"events": [{"eventName": "e", "user": {"userID": "u"}}]}).encode(),
        headers={"Content-Type": "application/json", "STATSIG-API-KEY": world.keys["server"]},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status in (200, 202)
    # Then the page shows it within its 10-second refresh, without a reload
    expect(cell).to_have_text("just now", timeout=15_000)


def test_main_screens__screenshots_for_review(logged_in_page, world, screenshot):
    page = logged_in_page(world.users[Role.ADMIN])
    expect(page.get_by_role("heading", name=world.project.name, level=1)).to_be_visible()
    screenshot(page, "dashboard")
    nav = page.get_by_role("navigation", name="Project")
    for label in (
        "Gates",
        "Segments",
        "Connect an SDK",
        "Events",
        "Reviews",
        "Audit log",
        "Keys",
        "Members",
        "Settings",
    ):
        nav.get_by_role("link", name=label, exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        expect(nav.get_by_role("link", name=label, exact=True)).to_have_attribute(
            "aria-current", "page"
        )
        screenshot(page, label.lower().replace(" ", "-"))
