"""Logging in with the username or the email address, and the throttle on failed logins (per
account and per client address, with a cool-off), through the real login form."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from console.models import Role
from tests.conftest import PASSWORD


@pytest.fixture
def throttle(settings):
    """A small failure limit, so that tests reach it in a few requests."""
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    return settings


def post_login(client: Client, identifier: str, password: str, **extra):
    return client.post(reverse("login"), {"username": identifier, "password": password}, **extra)


def logged_in_as(client: Client):
    return get_user_model().objects.filter(pk=client.session.get("_auth_user_id")).first()


def test_login__email_in_any_case__logs_in(client, world):
    admin = world.users[Role.ADMIN]
    # When the admin logs in with their email address in another case
    response = post_login(client, admin.email.upper(), PASSWORD)
    # Then they are logged in and sent to their project
    assert response.status_code == 302
    assert logged_in_as(client) == admin


def test_login__username__still_logs_in(client, world):
    admin = world.users[Role.ADMIN]
    response = post_login(client, admin.username, PASSWORD)
    assert response.status_code == 302
    assert logged_in_as(client) == admin


def test_login__email_with_wrong_password__form_error_no_session(client, world):
    response = post_login(client, world.users[Role.ADMIN].email, "wrong-password")
    assert response.status_code == 200
    assert "do not match an account" in response.content.decode()
    assert logged_in_as(client) is None


def test_login__two_accounts_share_the_email__only_the_password_owner_logs_in(client, db):
    users = get_user_model().objects
    first = users.create_user(username="first", email="shared@example.com", password=PASSWORD)
    users.create_user(username="second", email="Shared@Example.com", password="other-password-9")
    # When one of them logs in with the shared email and their own password
    response = post_login(client, "shared@example.com", PASSWORD)
    # Then the account whose password it is logs in
    assert response.status_code == 302
    assert logged_in_as(client) == first


def test_login__inactive_account_by_email__refused(client, world):
    member = world.users[Role.MEMBER]
    member.is_active = False
    member.save(update_fields=["is_active"])
    response = post_login(client, member.email, PASSWORD)
    assert response.status_code == 200
    assert logged_in_as(client) is None


def test_login_form__labels_the_identifier_field(client, db):
    body = client.get(reverse("login")).content.decode()
    assert "Email or username" in body


# --- Throttling ------------------------------------------------------------------------------


def test_throttle__account_over_the_limit__refused_with_message_even_with_right_password(
    throttle, world
):
    admin = world.users[Role.ADMIN]
    # Given failed logins for the admin from three different addresses, by username and email
    for index, identifier in enumerate((admin.username, admin.email, admin.email.upper())):
        post_login(Client(REMOTE_ADDR=f"10.0.0.{index + 1}"), identifier, "wrong")
    # When the right password comes from yet another address
    client = Client(REMOTE_ADDR="10.0.0.99")
    response = post_login(client, admin.email, PASSWORD)
    # Then the account is locked: 429, a clear message with the cool-off, no session
    assert response.status_code == 429
    body = response.content.decode()
    assert "Too many failed logins" in body
    assert "15 minutes" in body
    assert response["Retry-After"] == str(15 * 60)
    assert logged_in_as(client) is None
    # And another account still logs in from that address
    assert post_login(client, world.users[Role.MEMBER].username, PASSWORD).status_code == 302


def test_throttle__address_over_the_limit__other_accounts_refused_from_it(throttle, world):
    # Given failed logins for three different (partly unknown) accounts from one address
    attacker = Client(REMOTE_ADDR="10.1.1.1")
    statuses = [
        post_login(attacker, identifier, "wrong").status_code
        for identifier in ("nobody@example.com", "someone", world.users[Role.VIEWER].username)
    ]
    # (the failure that reaches the limit is already answered with the lockout page)
    assert statuses == [200, 200, 429]
    # When a real account's right password comes from that address
    response = post_login(attacker, world.users[Role.MEMBER].email, PASSWORD)
    # Then it is refused too, while the same account logs in from elsewhere
    assert response.status_code == 429
    assert logged_in_as(attacker) is None
    elsewhere = Client(REMOTE_ADDR="10.2.2.2")
    assert post_login(elsewhere, world.users[Role.MEMBER].email, PASSWORD).status_code == 302


def test_throttle__below_the_limit__right_password_logs_in(throttle, world):
    client = Client(REMOTE_ADDR="10.3.3.3")
    admin = world.users[Role.ADMIN]
    for _ in range(2):
        post_login(client, admin.email, "wrong")
    assert post_login(client, admin.email, PASSWORD).status_code == 302


def test_throttle__after_the_cool_off__logs_in_again(throttle, world):
    throttle.AXES_COOLOFF_TIME = timedelta(seconds=1)
    client = Client(REMOTE_ADDR="10.4.4.4")
    admin = world.users[Role.ADMIN]
    for _ in range(3):
        post_login(client, admin.email, "wrong")
    assert post_login(client, admin.email, PASSWORD).status_code == 429
    # When the cool-off has passed since the last failure
    time.sleep(1.2)
    # Then the right password logs in
    assert post_login(client, admin.email, PASSWORD).status_code == 302


def test_throttle__behind_the_tls_proxy__counts_the_forwarded_address(throttle, world):
    throttle.BEHIND_TLS_PROXY = True
    # Given failures from one client behind the proxy (the proxy appends the real address)
    for _ in range(3):
        post_login(
            Client(REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR="forged, 203.0.113.7"),
            "nobody@example.com",
            "wrong",
        )
    # Then another client behind the same proxy still logs in
    other = Client(REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR="198.51.100.2")
    assert post_login(other, world.users[Role.ADMIN].email, PASSWORD).status_code == 302
    # And the first client is refused
    first = Client(REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert post_login(first, world.users[Role.MEMBER].email, PASSWORD).status_code == 429
