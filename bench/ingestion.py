"""Ingestion throughput: events per second for 1,000-event batches through ``/v1/log_event`` and
PostHog ``/batch/``, side by side with a raw ``COPY`` (``bulk_create`` on SQLite) of the same rows
into the same table. The ratio endpoint/raw is the figure: what parsing, authentication,
normalisation and the HTTP layer cost on top of the write itself; the median time of one batch
is the latency a client waits for its 2xx.

Requests go through the production WSGI application (``console.wsgi``: the data-plane
dispatcher, then the endpoint) in process, so no network or server time is counted.

    DATABASE_URL=postgres://... python bench/ingestion.py [--batches 20] [--batch-size 1000]

Migrates the database it is pointed at, writes into a throwaway project and deletes it at the
end: point it at a bench database, not at production.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "0")


def statsig_body(batch: int, size: int) -> bytes:
    now_ms = int(time.time() * 1000)
    events = [
        {
            "eventName": "purchase",
            "value": 9.99,
            "time": now_ms - i,
            "user": {
                "userID": f"user-{batch}-{i}",
                "email": f"user{i}@example.com",
                "customIDs": {"companyID": f"c{i % 50}"},
                "statsigEnvironment": {"tier": "production"},
            },
            "metadata": {"sku": f"sku-{i % 100}", "currency": "USD"},
        }
        for i in range(size)
    ]
    return gzip.compress(json.dumps({"events": events}).encode())


def posthog_body(key: str, batch: int, size: int) -> bytes:
    sent_at = datetime.now(UTC).isoformat()
    events = [
        {
            "event": "purchase",
            "distinct_id": f"user-{batch}-{i}",
            "timestamp": sent_at,
            "uuid": None,
            "properties": {
                "sku": f"sku-{i % 100}",
                "$groups": {"company": f"c{i % 50}"},
                "$feature/new-checkout": True,
                "$lib": "posthog-python",
            },
        }
        for i in range(size)
    ]
    return json.dumps({"api_key": key, "batch": events, "sent_at": sent_at}).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=1000)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from werkzeug.test import Client

    from console.services.projects import project_create
    from events.models import Event
    from events.rows import event_row, now
    from events.store import insert_events

    call_command("migrate", verbosity=0)  # the bench database is brought up to date first
    project, keys = project_create(name=f"Ingestion bench {int(time.time())}")
    server_key = keys["server"][1]
    client_key = keys["client"][1]
    from console.wsgi import application

    client = Client(application)  # the production WSGI application, dispatcher included
    n, size = args.batches, args.batch_size
    try:
        statsig_bodies = [statsig_body(b, size) for b in range(n)]
        posthog_bodies = [posthog_body(client_key, b, size) for b in range(n)]
        received = now()
        row_batches = [
            [
                event_row(
                    project_id=project.pk,
                    name="purchase",
                    source="statsig_http",
                    time=received,
                    received_at=received,
                    user_id=f"user-{b}-{i}",
                    custom_ids={"companyID": f"c{i % 50}"},
                    value=9.99,
                    properties={"sku": f"sku-{i % 100}", "currency": "USD"},
                    user={"userID": f"user-{b}-{i}", "email": f"user{i}@example.com"},
                    environment="production",
                )
                for i in range(size)
            ]
            for b in range(n)
        ]
        statsig_headers = {"STATSIG-API-KEY": server_key, "Content-Encoding": "gzip"}

        def log_event(b: int) -> None:
            headers = {**statsig_headers, "STATSIG-CLIENT-TIME": str(int(time.time() * 1000))}
            response = client.post(
                "/v1/log_event",
                data=statsig_bodies[b],
                content_type="application/json",
                headers=headers,
            )
            assert response.status_code == 202, response.data

        def batch(b: int) -> None:
            response = client.post(
                "/batch/", data=posthog_bodies[b], content_type="application/json"
            )
            assert response.status_code == 200, response.data

        def raw(b: int) -> None:
            with transaction.atomic():
                insert_events(row_batches[b])

        raw_label = "raw COPY" if connection.vendor == "postgresql" else "raw bulk_create"
        paths = [
            ("POST /v1/log_event (gzip)", log_event),
            ("POST /batch/ (PostHog)", batch),
            (f"{raw_label} into the same table", raw),
        ]
        for _label, run in paths:  # warm-up: key cache, URL resolver, connection
            run(0)
        # Rounds interleave the paths, so a busy machine slows all of them alike.
        durations: dict[str, list[float]] = {label: [] for label, _ in paths}
        for b in range(n):
            for label, run in paths:
                started = time.perf_counter()
                run(b)
                durations[label].append(time.perf_counter() - started)
        results = [
            (label, n * size / sum(durations[label]), statistics.median(durations[label]))
            for label, _ in paths
        ]
    finally:
        Event.objects.filter(project_id=project.pk)._raw_delete(Event.objects.db)
        project.delete()

    raw = results[-1][1]
    print(f"\nIngestion, {n} batches of {size:,} events, database: {connection.vendor}\n")
    print(f"{'path':<44} {'events/s':>12} {'vs raw':>8} {'p50 ms':>8}")
    print("-" * 75)
    for label, rate, median in results:
        print(f"{label:<44} {rate:>12,.0f} {rate / raw:>8.2f} {median * 1000:>8.1f}")
    print()


if __name__ == "__main__":
    main()
