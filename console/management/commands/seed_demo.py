import json

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from console.actors import Actor
from console.models import ApiKeyKind, Project, Role
from console.services.api_keys import api_key_create
from console.services.projects import membership_set, project_create

DEMO_PROJECT = "Demo"
DEMO_USERS = (
    ("demo@example.com", "demo", Role.ADMIN),
    ("member@example.com", "member", Role.MEMBER),
    ("viewer@example.com", "viewer", Role.VIEWER),
)
DEMO_PASSWORD = "demo-password"


class Command(BaseCommand):
    help = (
        "Creates (or refreshes) the demo project with its users, entities and data, and prints "
        "the logins and a fresh key of each kind."
    )

    def handle(self, *args, **options):
        users = {}
        for email, username, _role in DEMO_USERS:
            user, created = get_user_model().objects.get_or_create(
                username=username, defaults={"email": email}
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save()
            users[email] = user
        owner = users[DEMO_USERS[0][0]]
        actor = Actor.for_user(owner, Role.ADMIN)
        with transaction.atomic():
            project = Project.objects.filter(memberships__user=owner, name=DEMO_PROJECT).first()
            if project is None:
                project, _keys = project_create(name=DEMO_PROJECT, owner=owner)
                for email, _username, role in DEMO_USERS[1:]:
                    membership_set(project=project, actor=actor, email=email, role=role)
                self._seed_entities(project, actor)
            secrets = {
                kind: api_key_create(
                    project=project, actor=actor, kind=kind, description="Demo key (seed_demo)"
                )[1]
                for kind in ApiKeyKind.values
            }
        self.stdout.write(
            json.dumps(
                {
                    "url": "http://127.0.0.1:8000/",
                    "project": project.slug,
                    "logins": {email: DEMO_PASSWORD for email, _u, _r in DEMO_USERS},
                    "usernames": {email: username for email, username, _r in DEMO_USERS},
                    "keys": secrets,
                },
                indent=2,
            )
        )

    def _seed_entities(self, project: Project, actor: Actor) -> None:
        """Each app's demo data, through its own services: segments first (gates target them),
        events last (they are exposures to the entities)."""
        from events.demo import seed_demo_data as seed_events
        from flags.demo import seed_demo_data as seed_flags
        from segments.demo import seed_demo_data as seed_segments

        for seed in (seed_segments, seed_flags, seed_events):
            seed(project=project, actor=actor)
