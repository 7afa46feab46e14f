"""Connect an SDK in real headless Chromium: an admin makes keys for the snippets, a snippet
copied from the page runs against the live server with the real SDK, and the "waiting for the
first event" indicator turns green."""

from __future__ import annotations

import subprocess
import sys

from playwright.sync_api import expect

from console.models import Role
from events.models import Event, EventSource

SNIPPET_SECONDS = 90


def run_snippet(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=SNIPPET_SECONDS,
        check=False,
    )


def test_connect__snippets_run_against_the_server__indicator_turns_green(
    logged_in_page, world, screenshot
):
    # Given the admin opens Connect an SDK from the navigation
    page = logged_in_page(world.users[Role.ADMIN])
    page.get_by_role("navigation", name="Project").get_by_role(
        "link", name="Connect an SDK"
    ).click()
    expect(page.get_by_role("heading", name="Connect an SDK", level=1)).to_be_visible()
    indicator = page.locator("#first-event")
    expect(indicator).to_have_attribute("data-state", "waiting")
    expect(indicator).to_contain_text("Waiting for the first event")
    # When they create keys for the snippets
    page.get_by_role("button", name="Create a server key and a client key").click()
    expect(page.get_by_role("alert")).to_contain_text("Copy the snippets now")
    screenshot(page, "connect-sdk-keys-created")
    posthog_code = page.locator("#posthog-python-code").inner_text()
    statsig_code = page.locator("#statsig-python-code").inner_text()
    assert "client-YOUR-CLIENT-KEY" not in posthog_code
    assert page.url.split("/p/")[0] in posthog_code  # this server's address
    # And run the PostHog Python snippet as copied, with the real SDK
    result = run_snippet(posthog_code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() in {"False", "None"}  # my_gate does not exist
    # Then the indicator turns green without a reload
    expect(indicator).to_have_attribute("data-state", "received", timeout=20_000)
    expect(indicator).to_contain_text("Connected")
    screenshot(page, "connect-sdk-connected")
    # And the Statsig Python snippet works too: its event is stored
    result = run_snippet(statsig_code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False"
    assert Event.objects.filter(
        project=world.project, name="sdk_connected", source=EventSource.STATSIG_SDK
    ).exists()
    assert Event.objects.filter(
        project=world.project, name="sdk_connected", source=EventSource.POSTHOG
    ).exists()
