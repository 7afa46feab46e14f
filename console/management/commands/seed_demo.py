import json
import os
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from console.actors import Actor
from console.keycache import hash_secret
from console.models import ApiKey, ApiKeyKind, Project, Role
from console.services.api_keys import api_key_create
from console.services.projects import membership_set, project_create

DEMO_PROJECT = "Demo"
DEMO_USERS = (
    ("demo@example.com", "demo", Role.ADMIN),
    ("member@example.com", "member", Role.MEMBER),
    ("viewer@example.com", "viewer", Role.VIEWER),
)
DEMO_PASSWORD = "demo-password"
DEMO_KEY_DESCRIPTION = "Demo key (seed_demo)"


class Command(BaseCommand):
    help = (
        "Creates the demo project with its users, entities and data (once), and writes the "
        "logins and a key of each kind to --output (and prints them). Run again, it reuses the "
        "keys written there while they are still active."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--url", default="http://127.0.0.1:8000/", help="where the console is served"
        )
        parser.add_argument(
            "--output",
            type=Path,
            default=None,
            help="the JSON file of logins and keys (default: demo.json in CONSOLE_VAR_DIR)",
        )

    def handle(self, *args, url: str, output: Path | None, **options):
        output = output or Path(settings.VAR_DIR) / "demo.json"
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
                project, made = project_create(name=DEMO_PROJECT, owner=owner)
                secrets = {kind: secret for kind, (_key, secret) in made.items()}
                for email, _username, role in DEMO_USERS[1:]:
                    membership_set(project=project, actor=actor, email=email, role=role)
                self._seed_entities(project, actor)
            else:
                secrets = self._demo_keys(project, actor, _written_keys(output))
        summary = {
            "url": url,
            "project": project.slug,
            "logins": {email: DEMO_PASSWORD for email, _u, _r in DEMO_USERS},
            "usernames": {email: username for email, username, _r in DEMO_USERS},
            "keys": secrets,
        }
        output.parent.mkdir(parents=True, exist_ok=True)
        # The demo's secrets: readable by this user only.
        descriptor = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            json.dump(summary, file, indent=2)
            file.write("\n")
        if options["verbosity"] > 0:
            self.stdout.write(json.dumps(summary, indent=2))

    def _demo_keys(self, project: Project, actor: Actor, written: dict[str, str]) -> dict:
        """The secrets written by an earlier run whose keys are still active in the project; a
        new key for each kind that has none."""
        secrets = {}
        for kind in ApiKeyKind.values:
            secret = written.get(kind, "")
            still_active = (
                bool(secret)
                and ApiKey.objects.filter(
                    project=project, kind=kind, is_active=True, secret_hash=hash_secret(secret)
                ).exists()
            )
            if not still_active:
                _key, secret = api_key_create(
                    project=project, actor=actor, kind=kind, description=DEMO_KEY_DESCRIPTION
                )
            secrets[kind] = secret
        return secrets

    def _seed_entities(self, project: Project, actor: Actor) -> None:
        """Each app's demo data, through its own services: segments first (gates target them),
        events last (they are exposures to the entities)."""
        from events.demo import seed_demo_data as seed_events
        from flags.demo import seed_demo_data as seed_flags
        from segments.demo import seed_demo_data as seed_segments

        for seed in (seed_segments, seed_flags, seed_events):
            seed(project=project, actor=actor)


def _written_keys(output: Path) -> dict[str, str]:
    try:
        written = json.loads(output.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    keys = written.get("keys") if isinstance(written, dict) else None
    return {k: v for k, v in keys.items() if isinstance(v, str)} if isinstance(keys, dict) else {}
