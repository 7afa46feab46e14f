"""Large ID-list uploads through the console API: 1,000,000 ids added to one segment in chunks
with ``PATCH /console/v1/segments/{id}/id_list`` (target: under a minute on PostgreSQL), then the
SDK's view of it (``POST /v1/get_id_lists`` and the whole id-list file).

Requests go through Django's full stack (middleware, authentication, rate limits, the view)
with the in-process test client; request bodies are encoded before the clock starts.

    DATABASE_URL=postgres://... REDIS_URL=redis://... python bench/segments_upload.py \
        [--ids 1000000] [--chunk 50000]

Runs in a throwaway database (created, migrated and dropped by the script), so it never
touches real data and can run next to a test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "0")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ids", type=int, default=1_000_000)
    parser.add_argument("--chunk", type=int, default=50_000)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = f"bench_segments_{os.getpid()}"
    settings.ALLOWED_HOSTS = ["*"]
    old_name = connection.creation.create_test_db(verbosity=0, keepdb=False)
    try:
        run(args, Client())
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0, keepdb=False)


def run(args: argparse.Namespace, client) -> None:
    from django.db import connection

    from console.services.projects import project_create
    from segments.models import Segment

    project, keys = project_create(name="Segments upload bench")
    console = {"STATSIG-API-KEY": keys["console"][1]}
    server = {"STATSIG-API-KEY": keys["server"][1]}
    response = client.post(
        "/console/v1/segments",
        {"name": "Bench list", "type": "id_list"},
        content_type="application/json",
        headers=console,
    )
    assert response.status_code == 201, response.content

    ids = [str(uuid.uuid4()) for _ in range(args.ids)]
    bodies = [
        json.dumps({"ids": ids[start : start + args.chunk]}).encode()
        for start in range(0, len(ids), args.chunk)
    ]
    print(
        f"\nID-list upload: {args.ids:,} ids in {len(bodies)} PATCH requests of "
        f"{args.chunk:,} ({len(bodies[0]) / 1e6:.1f} MB each), database: {connection.vendor}\n"
    )
    timings: list[float] = []
    cpu_started = time.process_time()
    started = time.perf_counter()
    for body in bodies:
        t0 = time.perf_counter()
        response = client.patch(
            "/console/v1/segments/bench_list/id_list",
            body,
            content_type="application/json",
            headers=console,
        )
        assert response.status_code == 200, response.content
        timings.append(time.perf_counter() - t0)
    total = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    segment = Segment.objects.get(project=project, key="bench_list")
    assert segment.id_count == args.ids, segment.id_count
    print(f"{'total upload':<40} {total:>8.2f} s   ({args.ids / total:,.0f} ids/s)")
    print(
        f"{'per request: min / median / max':<40} "
        f"{min(timings):.2f} / {sorted(timings)[len(timings) // 2]:.2f} / {max(timings):.2f} s"
    )
    print(f"{'  of which CPU in this (Django) process':<40} {cpu:>8.2f} s; the rest is PostgreSQL")
    with open("/proc/loadavg") as loadavg:
        print(f"{'load average while measuring':<40} {loadavg.read().split()[0]:>8}")
    verdict = "PASS" if total < 60 else "FAIL"
    print(f"{'target (< 60 s for 1,000,000 ids)':<40} {verdict}")

    t0 = time.perf_counter()
    again = client.patch(
        "/console/v1/segments/bench_list/id_list",
        bodies[0],
        content_type="application/json",
        headers=console,
    )
    assert again.json()["data"]["added"] == 0
    print(f"{'re-adding one chunk (all present)':<40} {time.perf_counter() - t0:>8.2f} s")

    t0 = time.perf_counter()
    manifest = client.post("/v1/get_id_lists", {}, content_type="application/json", headers=server)
    entry = manifest.json()["bench_list"]
    print(f"{'POST /v1/get_id_lists':<40} {(time.perf_counter() - t0) * 1000:>8.1f} ms")
    t0 = time.perf_counter()
    file_response = client.get(
        entry["url"].removeprefix("http://testserver"), headers={**server, "Range": "bytes=0-"}
    )
    size = sum(len(part) for part in file_response.streaming_content)
    assert size == entry["size"] == int(file_response["Content-Length"])
    print(
        f"{'GET whole id-list file':<40} {time.perf_counter() - t0:>8.2f} s   ({size / 1e6:.1f} MB)"
    )

    t0 = time.perf_counter()
    response = client.get(
        "/console/v1/segments/bench_list/id_list?limit=1000&page=500", headers=console
    )
    assert response.status_code == 200
    print(f"{'GET id_list page 500 of 1,000':<40} {(time.perf_counter() - t0) * 1000:>8.1f} ms")

    t0 = time.perf_counter()
    response = client.delete("/console/v1/segments/bench_list", headers=console)
    assert response.status_code == 200, response.content
    print(f"{'DELETE the segment':<40} {time.perf_counter() - t0:>8.2f} s")
    print()


if __name__ == "__main__":
    main()
