"""Console list pages with many gates: SQL queries per page (constant whatever the number of
gates) and time per page, through Django's full stack with the test client, logged in as the
project's admin.

    DATABASE_URL=postgres://... python bench/console_pages.py [--gates 10000] [--repeat 5]

Each page is measured twice: with ``--small`` gates (100, built through the services) and with
``--gates`` (10,000: the rest are bulk copies of those). The queries must be the same in both (no query per row). On PostgreSQL a
throwaway database (``<name>_pages_bench_<pid>``) is created, migrated and dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("DJANGO_SECURE_COOKIES", "0")
# One ruleset rebuild per batch of gates, inline (no worker needed).
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "1"

PASSWORD = "bench-password-not-secret"


def throwaway_database() -> tuple[str, str] | None:
    """Point DATABASE_URL at a new PostgreSQL database; (maintenance URL, name), or None."""
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        return None
    import psycopg

    parts = urlsplit(base)
    name = f"{parts.path.lstrip('/') or 'flagconsole'}_pages_bench_{os.getpid()}"
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{name}"))
    return maintenance, name


def drop_database(maintenance: str, name: str) -> None:
    import psycopg

    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def add_gates(project, actor, start: int, stop: int) -> None:
    from django.db import transaction

    from flags.services.gates import gate_create

    rule = {
        "name": "Staff",
        "passPercentage": 50,
        "conditions": [
            {"type": "email", "operator": "str_ends_with_any", "targetValue": ["@example.com"]}
        ],
    }
    for chunk in range(start, stop, 1000):
        with transaction.atomic():
            for index in range(chunk, min(chunk + 1000, stop)):
                gate_create(
                    project=project,
                    actor=actor,
                    name=f"Gate {index:05d}",
                    rules=[rule] if index % 2 else [],
                    tags=["bench"] if index % 3 == 0 else [],
                )


def clone_gates(project, start: int, stop: int) -> None:
    """Copies of the gates made by the services (same rules, tags and audit-free), in bulk:
    10,000 gates through ``gate_create`` would take longer than the measurement itself."""
    from flags.models import Gate, new_salt

    templates = list(Gate.objects.filter(project=project).order_by("id")[:100])
    rows = []
    for index in range(start, stop):
        gate = templates[index % len(templates)]
        rows.append(
            Gate(
                project=project,
                slug=f"gate_{index:05d}",
                name=f"Gate {index:05d}",
                description=gate.description,
                rules=gate.rules,
                tags=gate.tags,
                salt=new_salt(),
                creator_name=gate.creator_name,
                modifier_name=gate.modifier_name,
            )
        )
    Gate.objects.bulk_create(rows, batch_size=2000)


def measure(client, url: str, repeat: int) -> tuple[int, float, int]:
    """(queries, median ms, status) of one page."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm: templates, session, caches
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    queries = len(captured)  # read now: the next request clears the connection's log
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        client.get(url)
        times.append((time.perf_counter() - started) * 1000)
    return queries, statistics.median(times), response.status_code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gates", type=int, default=10_000)
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    database = throwaway_database()
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.contrib.auth import get_user_model
        from django.core.management import call_command
        from django.test import Client
        from django.test.utils import setup_test_environment
        from django.urls import reverse

        from console.actors import Actor
        from console.models import Role
        from console.services.projects import project_create

        setup_test_environment()
        settings.ALLOWED_HOSTS = ["testserver"]
        settings.STORAGES = {
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
        call_command("migrate", verbosity=0)
        user = get_user_model().objects.create_user(
            username=f"bench-{os.getpid()}", email="bench@example.com", password=PASSWORD
        )
        project, _keys = project_create(name=f"Pages bench {os.getpid()}", owner=user)
        actor = Actor.for_user(user, Role.ADMIN)
        client = Client()
        client.force_login(user)

        slug = {"project_slug": project.slug}
        pages = [
            ("gates, page 1", reverse("gate-list", kwargs=slug)),
            ("gates, page 2", reverse("gate-list", kwargs=slug) + "?page=2"),
            ("gates, last page", reverse("gate-list", kwargs=slug) + "?page=999999"),
            ("gates, search", reverse("gate-list", kwargs=slug) + "?q=Gate+000"),
            ("gates, tag filter", reverse("gate-list", kwargs=slug) + "?tag=bench"),
            ("dynamic configs", reverse("config-list", kwargs=slug)),
            ("experiments", reverse("experiment-list", kwargs=slug)),
            ("audit log, page 1", reverse("audit-list", kwargs=slug)),
            ("audit log, page 2", reverse("audit-list", kwargs=slug) + "?page=2"),
            ("project dashboard", reverse("project-dashboard", kwargs=slug)),
        ]
        figures: dict[str, list[tuple[int, float, int]]] = {label: [] for label, _ in pages}
        sizes = [args.small, args.gates]
        created = 0
        for size in sizes:
            started = time.perf_counter()
            if created == 0:
                add_gates(project, actor, 0, size)
            else:
                clone_gates(project, created, size)
            print(f"{size - created} gates created in {time.perf_counter() - started:.1f} s")
            created = size
            for label, url in pages:
                figures[label].append(measure(client, url, args.repeat))

        print(f"\nConsole pages, median of {args.repeat} (queries counted on the first request)")
        header = (
            f"{'page':<22} {'status':>6} "
            + " ".join(f"{f'SQL @{n}':>9} {f'ms @{n}':>9}" for n in sizes)
            + f" {'constant':>9}"
        )
        print(header)
        print("-" * len(header))
        for label, rows in figures.items():
            cells = " ".join(f"{q:>9} {ms:>9.1f}" for q, ms, _status in rows)
            constant = "yes" if len({q for q, _ms, _s in rows}) == 1 else "NO"
            print(f"{label:<22} {rows[-1][2]:>6} {cells} {constant:>9}")
    finally:
        if database is not None:
            from django.db import connections

            connections.close_all()
            drop_database(*database)
    return 0


if __name__ == "__main__":
    sys.exit(main())
