"""``manage.py create_project NAME --owner EMAIL`` on a fresh database and with an existing
account."""

from __future__ import annotations

import io
import json

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from console.keycache import hash_secret
from console.models import ApiKey, Membership, Project, Role
from tests.conftest import make_user


def run(*args: str) -> tuple[dict, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("create_project", *args, stdout=out, stderr=err)
    return json.loads(out.getvalue()), err.getvalue()


def test_create_project__owner_without_account__invitation_link_makes_them_admin(db):
    # Given a database with no account at all
    assert not get_user_model().objects.exists()
    # When the project is created for an owner's email
    output, notice = run("Checkout", "--owner", "Owner@Example.com")
    # Then it prints the keys and an invitation link, and says what to do with it
    project = Project.objects.get(slug=output["project"])
    assert set(output["keys"]) == {"server", "client", "console"}
    for secret in output["keys"].values():
        assert ApiKey.objects.get(secret_hash=hash_secret(secret)).project == project
    link = output["owner_invitation"]
    assert link.startswith("/invitations/")
    assert "No account has the email Owner@Example.com" in notice
    assert "CONSOLE_PUBLIC_URL" in notice
    # When the owner opens it and chooses a password
    client = Client()
    response = client.post(
        link, {"password": "river-stone-lantern-8", "password_again": "river-stone-lantern-8"}
    )
    # Then they are the project's admin, logged in, on its dashboard
    assert response.status_code == 302
    owner = get_user_model().objects.get(email="owner@example.com")
    assert Membership.objects.get(project=project, user=owner).role == Role.ADMIN
    assert client.get(response["Location"]).status_code == 200


def test_create_project__public_url_configured__whole_link_printed(db, settings):
    settings.CONSOLE_PUBLIC_URL = "https://flags.example.com"
    output, notice = run("Checkout", "--owner", "owner@example.com")
    assert output["owner_invitation"].startswith("https://flags.example.com/invitations/")
    assert "CONSOLE_PUBLIC_URL" not in notice


def test_create_project__existing_owner__admin_at_once_no_invitation(db):
    owner = make_user("owner")
    output, notice = run("Checkout", "--owner", owner.email.upper())
    project = Project.objects.get(slug=output["project"])
    assert Membership.objects.get(project=project, user=owner).role == Role.ADMIN
    assert "owner_invitation" not in output
    assert notice == ""


def test_create_project__no_owner__project_and_keys_only(db):
    output, _notice = run("Checkout")
    assert set(output) == {"project", "keys"}
    assert not Membership.objects.exists()
