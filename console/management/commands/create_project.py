import json

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.urls import reverse

from console.actors import Actor
from console.errors import DomainError
from console.models import Role
from console.services.invitations import invitation_create
from console.services.projects import project_create


class Command(BaseCommand):
    help = (
        "Creates a project with its default environments and one key of each kind, and prints "
        'JSON {"project": ..., "keys": {"server": ..., "client": ..., "console": ...}}. '
        "--owner EMAIL makes that account the project's admin; when no account has that email, "
        'the JSON also has "owner_invitation": the link on which the owner chooses a password '
        "and joins as admin."
    )

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument(
            "--owner",
            help="email of the project's admin: an existing account, or someone invited",
        )

    def handle(self, *args, name: str, owner: str | None, **options):
        owner_user = None
        if owner:
            owner_user = get_user_model().objects.filter(email__iexact=owner.strip()).first()
        try:
            with transaction.atomic():
                project, keys = project_create(name=name, owner=owner_user)
                invitation_token = ""
                if owner and owner_user is None:
                    _invitation, invitation_token = invitation_create(
                        project=project, actor=Actor.system(), email=owner, role=Role.ADMIN
                    )
        except DomainError as error:
            raise CommandError(error.message) from error
        output = {
            "project": project.slug,
            "keys": {kind: secret for kind, (_key, secret) in keys.items()},
        }
        if invitation_token:
            path = reverse("invitation-accept", args=[invitation_token])
            output["owner_invitation"] = settings.CONSOLE_PUBLIC_URL + path
            where = (
                "Open it"
                if settings.CONSOLE_PUBLIC_URL
                else "Open it on this console's address (set CONSOLE_PUBLIC_URL to print the "
                "whole link)"
            )
            self.stderr.write(
                f"No account has the email {owner}: {where} to choose the owner's password "
                f"and join as admin. It works once and expires in {settings.INVITATION_DAYS} days."
            )
        self.stdout.write(json.dumps(output))
