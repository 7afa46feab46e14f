import json

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from console.errors import DomainError
from console.services.projects import project_create


class Command(BaseCommand):
    help = (
        "Creates a project with its default environments and one key of each kind, and prints "
        'JSON {"project": ..., "keys": {"server": ..., "client": ..., "console": ...}}.'
    )

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--owner", help="email of an existing user who becomes its admin")

    def handle(self, *args, name: str, owner: str | None, **options):
        owner_user = None
        if owner:
            owner_user = get_user_model().objects.filter(email__iexact=owner).first()
            if owner_user is None:
                raise CommandError(f"No user with the email {owner!r}.")
        try:
            project, keys = project_create(name=name, owner=owner_user)
        except DomainError as error:
            raise CommandError(error.message) from error
        self.stdout.write(
            json.dumps(
                {
                    "project": project.slug,
                    "keys": {kind: secret for kind, (_key, secret) in keys.items()},
                }
            )
        )
