"""User-data deletion under load: erase 1,000 users from a table of 10 million events while events
keep being ingested, with our chunked job, against one plain ``DELETE ... WHERE user_id = ANY(...)``
of the same users on a copy of the table.

Reported for each phase: how long the erasing took and the latency of the ``POST /v1/log_event``
(and ``/v1/check_gate``) requests that ran meanwhile (p50, p99, max), next to a baseline with no
deletion running. Ingestion runs in a thread through Django's full stack with the in-process test
client (no network), so latencies are what the application adds.

    DATABASE_URL=postgres://... python bench/deletion.py [--events 10000000] [--users-to-erase 1000]

PostgreSQL only (events are generated with ``generate_series``). Works in a throwaway project and
a throwaway copy table, both removed at the end (``--keep`` leaves them for inspection).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")

EVENTS_PER_USER = 100
GENERATE_BATCH = 1_000_000
COPY_TABLE = "bench_deletion_events_copy"


def generate_events(cursor, *, table: str, project_id: int, events: int, users: int) -> None:
    """``events`` rows spread over ``users`` user ids and the last 30 days, in batches."""
    columns = {
        "uuid": "gen_random_uuid()",
        "project_id": "%(project)s",
        "name": "'bench_purchase'",
        "user_id": "'bench-user-' || (g %% %(users)s)",
        "stable_id": "'stable-' || (g %% %(users)s)",
        "custom_ids": """jsonb_build_object('companyID', 'co-' || (g %% 500))""",
        "value": "'9.99'",
        "numeric_value": "9.99",
        "properties": """'{"sku": "sku-1", "currency": "USD"}'::jsonb""",
        "user": """jsonb_build_object('userID', 'bench-user-' || (g %% %(users)s))""",
        "feature_flags": "'{}'::jsonb",
        "secondary_exposures": "'[]'::jsonb",
        "environment": "'production'",
        "source": "'statsig_http'",
        "time": "now() - ((g %% 2592000) * interval '1 second')",
        "received_at": "now()",
    }
    names = ", ".join(f'"{c}"' for c in columns)
    select = ", ".join(columns.values())
    done = 0
    while done < events:
        size = min(GENERATE_BATCH, events - done)
        started = time.perf_counter()
        cursor.execute(
            f"INSERT INTO {table} ({names}) SELECT {select} "
            "FROM generate_series(%(start)s, %(stop)s) AS g",
            {"project": project_id, "users": users, "start": done, "stop": done + size - 1},
        )
        done += size
        print(f"  generated {done:,} events ({time.perf_counter() - started:.1f}s)", flush=True)
    cursor.execute(f"ANALYZE {table}")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


class Ingestion:
    """Sends ``log_event`` batches (and ``check_gate`` calls) back to back in a thread and records
    each request's latency, tagged with the phase running at the time."""

    def __init__(self, server_key: str, batch_size: int) -> None:
        self.server_key = server_key
        self.batch_size = batch_size
        self.phase = "idle"
        self.latencies: dict[str, dict[str, list[float]]] = {}
        self.errors = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=60)

    def _record(self, kind: str, seconds: float) -> None:
        self.latencies.setdefault(self.phase, {}).setdefault(kind, []).append(seconds * 1000)

    def _run(self) -> None:
        from django.db import connections
        from werkzeug.test import Client

        from console.wsgi import application

        client = Client(application)  # the production WSGI application, dispatcher included
        headers = {"STATSIG-API-KEY": self.server_key}
        n = 0
        try:
            while not self._stop.is_set():
                n += 1
                events = [
                    {
                        "eventName": "live_purchase",
                        "value": 1,
                        "user": {"userID": f"live-user-{n}-{i}", "customIDs": {"companyID": "x"}},
                        "metadata": {"sku": "sku-2"},
                    }
                    for i in range(self.batch_size)
                ]
                body = json.dumps({"events": events})
                started = time.perf_counter()
                response = client.post(
                    "/v1/log_event", data=body, content_type="application/json", headers=headers
                )
                self._record("log_event", time.perf_counter() - started)
                if response.status_code != 202:
                    self.errors += 1
                body = json.dumps({"user": {"userID": f"u{n}"}, "gateName": "bench_gate"})
                started = time.perf_counter()
                response = client.post(
                    "/v1/check_gate", data=body, content_type="application/json", headers=headers
                )
                self._record("check_gate", time.perf_counter() - started)
                if response.status_code != 200:
                    self.errors += 1
                time.sleep(0.01)
        finally:
            connections.close_all()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--users-to-erase", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=100, help="events per log_event call")
    parser.add_argument("--baseline-seconds", type=float, default=5.0)
    parser.add_argument("--keep", action="store_true", help="keep the project and the copy")
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection

    from console.actors import Actor
    from console.services.projects import project_create
    from events.models import Event, Exposure
    from privacy.erasers import CHUNK_SIZE, eraser_names
    from privacy.models import DeletionSource
    from privacy.services import deletion_process_pending, deletion_request_submit

    if connection.vendor != "postgresql":
        sys.exit("bench/deletion.py needs PostgreSQL: set DATABASE_URL=postgres://...")

    users = max(args.users_to_erase * 2, args.events // EVENTS_PER_USER)
    erase = [f"bench-user-{i}" for i in range(0, users, users // args.users_to_erase)][
        : args.users_to_erase
    ]
    project, keys = project_create(name=f"Deletion bench {int(time.time())}")
    server_key = keys["server"][1]
    table = Event._meta.db_table
    qn = connection.ops.quote_name
    ingestion = Ingestion(server_key, args.batch_size)
    try:
        print(
            f"Generating {args.events:,} events for {users:,} users "
            f"(~{args.events // users} each) in project {project.pk}…",
            flush=True,
        )
        with connection.cursor() as cursor:
            generate_events(
                cursor, table=qn(table), project_id=project.pk, events=args.events, users=users
            )
            print("Copying them for the plain DELETE…", flush=True)
            cursor.execute(f"DROP TABLE IF EXISTS {COPY_TABLE}")
            cursor.execute(
                f"CREATE TABLE {COPY_TABLE} (LIKE {qn(table)} INCLUDING DEFAULTS INCLUDING INDEXES)"
            )
            cursor.execute(
                f"INSERT INTO {COPY_TABLE} SELECT * FROM {qn(table)} WHERE project_id = %s",
                [project.pk],
            )
            cursor.execute(f"ANALYZE {COPY_TABLE}")
            cursor.execute(
                f"SELECT count(*) FROM {qn(table)} WHERE project_id = %s AND user_id = ANY(%s)",
                [project.pk, erase],
            )
            rows_to_erase = cursor.fetchone()[0]

        ingestion.start()
        time.sleep(args.baseline_seconds)  # baseline: ingestion alone

        # Our job: every registered eraser, chunks of CHUNK_SIZE ids, one commit per chunk.
        deletion_request_submit(
            project=project,
            actor=Actor.system("Bench"),
            unit_type="user_id",
            ids=erase,
            request_id="bench",
            source=DeletionSource.COMMAND,
        )
        ingestion.phase = "job"
        started = time.perf_counter()
        outcomes = deletion_process_pending(project_id=project.pk)
        job_seconds = time.perf_counter() - started
        ingestion.phase = "between"
        if not (outcomes and outcomes[0].completed):
            raise SystemExit(f"the deletion job did not complete: {outcomes}")
        remaining = Event.objects.filter(project_id=project.pk, user_id__in=erase).count()
        time.sleep(1)

        # One plain DELETE of the same users on the copy.
        ingestion.phase = "plain"
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {COPY_TABLE} WHERE project_id = %s AND user_id = ANY(%s)",
                [project.pk, erase],
            )
            plain_rows = cursor.rowcount
        plain_seconds = time.perf_counter() - started
        ingestion.phase = "after"
        time.sleep(1)
    finally:
        ingestion.stop()
        if not args.keep:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {COPY_TABLE}")
            Event.objects.filter(project_id=project.pk)._raw_delete(Event.objects.db)
            Exposure.objects.filter(project_id=project.pk)._raw_delete(Exposure.objects.db)
            project.delete()

    print(
        f"\nErasing {len(erase):,} users ({rows_to_erase:,} of {args.events:,} events) while "
        f"ingesting {args.batch_size}-event log_event batches and check_gate calls"
        f"\nerasers: {len(eraser_names())} ({', '.join(eraser_names())}); chunk: {CHUNK_SIZE} ids\n"
    )
    print(
        f"{'phase':<34} {'time':>9} {'rows':>10}   {'request':<10} {'n':>5} {'p50':>8} {'p99':>8} {'max':>8}"
    )
    print("-" * 100)
    phases = [
        ("ingestion alone (baseline)", "idle", None, None),
        ("our job (chunked, all erasers)", "job", job_seconds, rows_to_erase),
        ("plain DELETE ... = ANY() on copy", "plain", plain_seconds, plain_rows),
    ]
    for label, phase, seconds, rows in phases:
        for kind, values in sorted(ingestion.latencies.get(phase, {}).items()):
            print(
                f"{label:<34} {'' if seconds is None else f'{seconds:.2f}s':>9} "
                f"{'' if rows is None else f'{rows:,}':>10}   {kind:<10} {len(values):>5} "
                f"{statistics.median(values):>6.1f}ms {percentile(values, 99):>6.1f}ms "
                f"{max(values):>6.1f}ms"
            )
            label, seconds, rows = "", None, None
        if phase not in ingestion.latencies:
            print(f"{label:<34} {f'{seconds:.2f}s' if seconds else '':>9}   (no request finished)")
    job_p99 = percentile(ingestion.latencies.get("job", {}).get("log_event", []), 99)
    plain_p99 = percentile(ingestion.latencies.get("plain", {}).get("log_event", []), 99)
    idle_p99 = percentile(ingestion.latencies.get("idle", {}).get("log_event", []), 99)
    print(
        f"\ntime, plain DELETE / our job: {plain_seconds / job_seconds:.2f} "
        "(above 1: our job is faster)"
        f"\nlog_event p99 during our job / during the plain DELETE: {job_p99 / plain_p99:.2f}; "
        f"/ ingestion alone: {job_p99 / idle_p99:.2f}"
        f"\ningestion errors: {ingestion.errors}; events of erased users left: {remaining} "
        "(after the job)\n"
    )


if __name__ == "__main__":
    main()
