"""Inviting someone without an account: the admin's link (shown, or mailed when a mail server
is configured), choosing a password on it, landing in the project with the invited role, and
the link's one use."""

from __future__ import annotations

import re
import smtplib
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from console.models import AuditLog, Invitation, Membership, Role
from tests.conftest import make_user

NEW_PASSWORD = "blue-kettle-morning-42"
# The accept link: a 43-character token (the withdraw URLs have the invitation's number).
LINK = re.compile(r"(https?://[^\s\"<]+?)?(/invitations/[A-Za-z0-9_-]{40,}/)")


class RefusingEmailBackend(BaseEmailBackend):
    """A mail server that refuses every message."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPRecipientsRefused({})


def members_url(world) -> str:
    return reverse("member-list", args=[world.project.slug])


def invite(client: Client, world, email: str, role: str = Role.MEMBER):
    return client.post(members_url(world), {"email": email, "role": role})


def link_path(text: str) -> str:
    match = LINK.search(text)
    assert match, "no invitation link in the page"
    return match.group(2)


@pytest.fixture
def admin_client(browser_client, world) -> Client:
    return browser_client(world.users[Role.ADMIN])


def accept(path: str, password: str = NEW_PASSWORD, again: str | None = None, **extra):
    client = Client()
    response = client.post(
        path,
        {"name": "Grace Hopper", "password": password, "password_again": again or password},
        **extra,
    )
    return client, response


def test_invite__unknown_email_without_mail_server__link_shown_once_and_audited(
    admin_client, world, settings
):
    settings.EMAIL_CONFIGURED = False
    # When the admin invites an email that has no account
    response = invite(admin_client, world, "Grace@Example.com", Role.VIEWER)
    # Then the page shows the invitation link, kept out of caches, and says no mail went out
    body = response.content.decode()
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert "No mail server is configured" in body
    assert LINK.search(body).group(1) == "http://testserver"
    # And one open invitation (lower-cased email) is stored and audited, with no mail sent
    invitation = Invitation.objects.get(project=world.project)
    assert (invitation.email, invitation.role, invitation.invited_by) == (
        "grace@example.com",
        Role.VIEWER,
        world.users[Role.ADMIN],
    )
    assert mail.outbox == []
    entry = AuditLog.objects.filter(project=world.project).first()
    assert (entry.action_type, entry.entity_id) == ("member_invite", "grace@example.com")
    # And the members page lists it as waiting, without the link
    page = admin_client.get(members_url(world)).content.decode()
    assert 'data-invitation="grace@example.com"' in page
    assert LINK.search(page) is None


def test_invite__mail_server_configured__mails_the_link_on_the_public_url(
    admin_client, world, settings
):
    settings.EMAIL_CONFIGURED = True
    settings.CONSOLE_PUBLIC_URL = "https://flags.example.com"
    response = invite(admin_client, world, "grace@example.com")
    # Then the admin is told it was sent, and the mail carries a working link
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["grace@example.com"]
    assert world.project.name in message.subject
    found = LINK.search(message.body)
    assert found.group(1) == "https://flags.example.com"
    assert Client().get(found.group(2)).status_code == 200


def test_invite__mail_server_refuses__link_shown_with_the_reason(admin_client, world, settings):
    settings.EMAIL_CONFIGURED = True
    settings.EMAIL_BACKEND = "tests.console.web.test_invitations.RefusingEmailBackend"
    response = invite(admin_client, world, "grace@example.com")
    body = response.content.decode()
    assert response.status_code == 200
    assert "could not be sent" in body
    assert Client().get(link_path(body)).status_code == 200


def test_accept__new_account__password_set_logged_in_member_with_role(admin_client, world):
    path = link_path(invite(admin_client, world, "grace@example.com", Role.VIEWER).content.decode())
    # Given the invitee opens the link
    page = Client().get(path)
    assert page.status_code == 200
    assert "Set password and join" in page.content.decode()
    # When they choose a password
    client, response = accept(path)
    # Then they are logged in and land in the project, as viewer
    assert response.status_code == 302
    assert response["Location"] == reverse("project-dashboard", args=[world.project.slug])
    user = get_user_model().objects.get(email="grace@example.com")
    assert client.session["_auth_user_id"] == str(user.pk)
    assert user.first_name == "Grace Hopper"
    assert Membership.objects.get(project=world.project, user=user).role == Role.VIEWER
    dashboard = client.get(response["Location"]).content.decode()
    assert "Welcome to Acme" in dashboard
    # And the join is audited, the invitation used up
    assert AuditLog.objects.filter(project=world.project).first().action_type == "member_join"
    invitation = Invitation.objects.get(project=world.project)
    assert (invitation.accepted_by, invitation.is_open) == (user, False)
    # And the new account logs in with the email through the login form
    fresh = Client()
    login = fresh.post(
        reverse("login"), {"username": "Grace@example.com", "password": NEW_PASSWORD}
    )
    assert login.status_code == 302


def test_accept__link_used_twice__second_time_invalid(admin_client, world):
    path = link_path(invite(admin_client, world, "grace@example.com").content.decode())
    accept(path)
    response = Client().get(path)
    assert response.status_code == 404
    assert "no longer valid" in response.content.decode()
    _client, again = accept(path, password="another-password-77")
    assert again.status_code == 404
    assert get_user_model().objects.filter(email="grace@example.com").count() == 1


@pytest.mark.parametrize(
    ("password", "again", "error"),
    [
        ("short", "short", "too short"),
        ("password123", "password123", "too common"),
        (NEW_PASSWORD, "something-else-99", "The two passwords differ"),
        ("", "", "This field is required"),
    ],
)
def test_accept__bad_password__error_next_to_field_no_account(
    admin_client, world, password, again, error
):
    path = link_path(invite(admin_client, world, "grace@example.com").content.decode())
    _client, response = accept(path, password=password, again=again)
    body = response.content.decode()
    assert response.status_code == 400
    assert error in body
    assert "invalid-feedback" in body
    assert not get_user_model().objects.filter(email="grace@example.com").exists()
    assert Invitation.objects.get(project=world.project).is_open


def test_accept__expired__invalid(admin_client, world):
    path = link_path(invite(admin_client, world, "grace@example.com").content.decode())
    Invitation.objects.filter(project=world.project).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert Client().get(path).status_code == 404
    assert accept(path)[1].status_code == 404


def test_invite__same_email_again__new_link_replaces_the_old(admin_client, world):
    old = link_path(invite(admin_client, world, "grace@example.com").content.decode())
    new = link_path(invite(admin_client, world, "grace@example.com", Role.ADMIN).content.decode())
    assert old != new
    assert Client().get(old).status_code == 404
    _client, response = accept(new)
    assert response.status_code == 302
    user = get_user_model().objects.get(email="grace@example.com")
    assert Membership.objects.get(project=world.project, user=user).role == Role.ADMIN


def test_withdraw__admin__link_stops_working_and_audited(admin_client, world):
    path = link_path(invite(admin_client, world, "grace@example.com").content.decode())
    invitation = Invitation.objects.get(project=world.project)
    response = admin_client.post(
        reverse("invitation-revoke", args=[world.project.slug, invitation.pk]), follow=True
    )
    assert "withdrawn" in response.content.decode()
    assert Client().get(path).status_code == 404
    assert AuditLog.objects.filter(project=world.project).first().action_type == (
        "member_invite_revoke"
    )


@pytest.mark.parametrize("role", [Role.MEMBER, Role.VIEWER])
def test_withdraw__non_admin__403(admin_client, browser_client, world, role):
    invite(admin_client, world, "grace@example.com")
    invitation = Invitation.objects.get(project=world.project)
    response = browser_client(world.users[role]).post(
        reverse("invitation-revoke", args=[world.project.slug, invitation.pk])
    )
    assert response.status_code == 403
    assert Invitation.objects.get(pk=invitation.pk).is_open


def test_withdraw__other_projects_invitation__404(browser_client, world, other_world):
    other_admin = browser_client(other_world.users[Role.ADMIN])
    invite(other_admin, other_world, "grace@example.com")
    invitation = Invitation.objects.get(project=other_world.project)
    response = browser_client(world.users[Role.ADMIN]).post(
        reverse("invitation-revoke", args=[world.project.slug, invitation.pk])
    )
    assert response.status_code == 404


def test_accept__logged_in_as_the_invitee__joins_with_one_click(
    admin_client, browser_client, world
):
    # Given an invitation for someone who got an account meanwhile
    path = link_path(invite(admin_client, world, "late@example.com").content.decode())
    late = make_user("late")
    client = browser_client(late)
    assert "Join Acme" in client.get(path).content.decode()
    # When they press join
    response = client.post(path)
    # Then they are a member
    assert response.status_code == 302
    assert Membership.objects.get(project=world.project, user=late).role == Role.MEMBER


def test_accept__logged_in_as_someone_else__refused_with_advice(
    admin_client, browser_client, world
):
    path = link_path(invite(admin_client, world, "grace@example.com").content.decode())
    client = browser_client(world.users[Role.VIEWER])
    response = client.post(path, {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD})
    assert response.status_code == 409
    assert "this invitation is for grace@example.com" in response.content.decode()
    assert Invitation.objects.get(project=world.project).is_open


def test_accept__invitee_has_an_account__asked_to_log_in(admin_client, world):
    path = link_path(invite(admin_client, world, "late@example.com").content.decode())
    make_user("late")
    page = Client().get(path).content.decode()
    assert "has an account on this console already" in page
    _client, response = accept(path)
    assert response.status_code == 409


def test_invite__existing_account__added_at_once_without_invitation(admin_client, world):
    newcomer = make_user("newcomer")
    response = invite(admin_client, world, newcomer.email.upper(), Role.VIEWER)
    assert response.status_code == 302
    assert Membership.objects.get(project=world.project, user=newcomer).role == Role.VIEWER
    assert not Invitation.objects.exists()


def test_accept__unknown_token__invalid(db):
    response = Client().get(reverse("invitation-accept", args=["not-a-real-token"]))
    assert response.status_code == 404
    assert "Ask an admin" in response.content.decode()
