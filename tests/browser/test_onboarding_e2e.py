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


def test_login__email_address__lands_on_the_project(page, world):
    admin = world.users[Role.ADMIN]
    # When the admin logs in with their email address, typed in capitals
    log_in(page, admin.email.upper(), PASSWORD)
    # Then their project opens
    expect(page).to_have_url(re.compile(rf"/p/{world.project.slug}/$"))
    expect(page.get_by_role("heading", name=world.project.name, level=1)).to_be_visible()


def test_login__too_many_failures__clear_message_and_right_password_refused(page, world, settings):
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
