"""Onboarding in real headless Chromium: logging in with the email address, the throttle on
failed logins, and a new team member's invitation from the admin's page to their first login."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from console.models import Role
from tests.conftest import PASSWORD


def log_in(page, identifier: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email or username").fill(identifier)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_login__email_address__lands_on_the_project(page, world, screenshot):
    admin = world.users[Role.ADMIN]
    page.goto("/accounts/login/")
    screenshot(page, "login")
    # When the admin logs in with their email address, typed in capitals
    log_in(page, admin.email.upper(), PASSWORD)
    # Then their project opens
    expect(page).to_have_url(re.compile(rf"/p/{world.project.slug}/$"))
    expect(page.get_by_role("heading", name=world.project.name, level=1)).to_be_visible()


def test_login__too_many_failures__clear_message_and_right_password_refused(
    page, world, settings, screenshot
):
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    admin = world.users[Role.ADMIN]
    # Given two wrong passwords, each answered with the usual error
    for _ in range(2):
        log_in(page, admin.email, "not-the-password")
        expect(page.get_by_role("alert")).to_contain_text("do not match an account")
    # When the third wrong password reaches the limit
    log_in(page, admin.email, "still-not-it")
    # Then the page says logging in is paused, and for how long
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Too many failed logins")
    expect(alert).to_contain_text("15 minutes")
    screenshot(page, "login-locked-out")
    # And even the right password is refused during the cool-off
    log_in(page, admin.email, PASSWORD)
    expect(page.get_by_role("alert")).to_contain_text("Too many failed logins")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))


@pytest.mark.parametrize("identifier_kind", ["username", "email"])
def test_login__after_logout__either_identifier_works_again(page, world, identifier_kind):
    member = world.users[Role.MEMBER]
    log_in(page, getattr(member, identifier_kind), PASSWORD)
    expect(page).to_have_url(re.compile(rf"/p/{world.project.slug}/$"))
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))


def test_invite__set_password_then_log_in__lands_in_project_with_role(
    logged_in_page, new_page, world, settings, screenshot
):
    settings.EMAIL_CONFIGURED = False
    # Given the admin on the members page
    admin_page = logged_in_page(world.users[Role.ADMIN], path=f"/p/{world.project.slug}/members/")
    # When they invite someone who has no account, as viewer
    admin_page.get_by_label("Email", exact=True).fill("grace@example.com")
    admin_page.get_by_label("Role", exact=True).select_option("viewer")
    admin_page.get_by_role("button", name="Add or invite").click()
    # Then the page shows the link to pass on, since no mail server is configured
    box = admin_page.get_by_test_id("invitation-link")
    expect(box).to_contain_text("No mail server is configured")
    link = admin_page.get_by_label("Invitation link").input_value()
    screenshot(admin_page, "members-invitation-link")
    assert "/invitations/" in link
    # When the invitee opens it in their own browser and chooses a password
    invitee = new_page()
    invitee.goto(link)
    expect(invitee.get_by_role("heading", name=f"Join {world.project.name}")).to_be_visible()
    invitee.get_by_label("Your name").fill("Grace Hopper")
    invitee.get_by_label("Password", exact=True).fill("blue-kettle-morning-42")
    invitee.get_by_label("Password again").fill("blue-kettle-morning-42")
    screenshot(invitee, "invitation-accept")
    invitee.get_by_role("button", name="Set password and join").click()
    # Then they are logged in, in the project, as viewer
    expect(invitee).to_have_url(re.compile(rf"/p/{world.project.slug}/$"))
    expect(invitee.get_by_role("status")).to_contain_text("You are a viewer of this project")
    expect(invitee.get_by_role("banner")).to_contain_text("Grace Hopper · Viewer")
    # And after logging out, their email and password log them in again
    invitee.get_by_role("button", name="Log out").click()
    log_in(invitee, "grace@example.com", "blue-kettle-morning-42")
    expect(invitee).to_have_url(re.compile(rf"/p/{world.project.slug}/$"))
    # And the admin sees them among the members, no longer as an invitation
    admin_page.goto(f"/p/{world.project.slug}/members/")
    expect(admin_page.locator('tr[data-member="grace@example.com"]')).to_be_visible()
    expect(admin_page.locator('tr[data-invitation="grace@example.com"]')).to_have_count(0)
