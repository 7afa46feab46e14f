"""What a request that evaluates many entities costs against a single check, measured in-process
through the production WSGI application (``console.wsgi.application``, the exposure flush thread
on, as in production) on ``bench/http_floor.py``'s world of 199 gates and one experiment:

- ``/v1/check_gate`` with one ``gateName``;
- ``/v1/check_gate`` with 100 ``gateNames``;
- ``/flags?v=2`` answering 200 flags (the 199 gates and the experiment).

Each is called in a loop with a rotating user id; the figures are CPU microseconds per request,
best of ``--repeat``, and their ratio to the single check (issue 16's target: under 5x): the
whole process's (what a server pays, the exposure flush thread moving the items to Redis
included) and the request thread's alone.

    DATABASE_URL=postgres://... REDIS_URL=redis://... python bench/multi_gate.py [--requests 2000]

A throwaway database (``<name>_http_bench_<pid>``) is created on the server of DATABASE_URL,
migrated, filled through ``manage.py create_project`` and the services, and dropped at the end.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import http_floor

FLAG_USERS = 100


def _environ(path: str, body: bytes, headers: dict[str, str]) -> dict:
    path, _, query = path.partition("?")
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "HTTP_HOST": "localhost",
        "REMOTE_ADDR": "127.0.0.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": "application/json",
    }
    for name, value in headers.items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    return environ


def _caller(application, path: str, bodies: list[bytes], headers: dict[str, str]) -> Callable:
    """A function making one request per call, cycling through ``bodies``; fails loudly on a
    status other than 200."""
    counter = iter(range(10**12))

    def start_response(status: str, _headers: list, _exc_info=None) -> None:
        if not status.startswith("200"):
            raise SystemExit(f"{path} answered {status}")

    def call() -> None:
        body = bodies[next(counter) % len(bodies)]
        b"".join(application(_environ(path, body, headers), start_response))

    return call


def _per_request_us(call: Callable, requests: int, repeat: int) -> tuple[float, float]:
    """CPU microseconds per request: the whole process's (the exposure flush thread included)
    and the request thread's alone; best of ``repeat``."""
    for _ in range(min(requests, 200)):  # warm-up: key cache, ruleset, persons
        call()
    best_process = best_thread = float("inf")
    for _ in range(repeat):
        process, thread = time.process_time(), time.thread_time()
        for _ in range(requests):
            call()
        best_process = min(best_process, time.process_time() - process)
        best_thread = min(best_thread, time.thread_time() - thread)
    return best_process / requests * 1e6, best_thread / requests * 1e6


def run(project_slug: str, keys: dict, args) -> None:
    sys.path.insert(0, str(http_floor.ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.db import transaction

    from console.actors import Actor
    from console.models import Project
    from events import exposures
    from events.persons import PersonOp, persons_apply
    from ruleset import store as ruleset_store

    project, actor = Project.objects.get(slug=project_slug), Actor.system("bench")
    with transaction.atomic():
        setup = http_floor._create_entities(project, actor, http_floor.FLAG_GATES, experiment=True)
    ruleset_store.rebuild(project.id)
    persons_apply(
        project_id=project.id,
        ops=[
            PersonOp(kind="set", distinct_id=f"user-{i}", set={"email": f"u{i}@example.com"})
            for i in range(1, FLAG_USERS + 1)
        ],
    )
    settings.EXPOSURE_FLUSH_THREAD = True
    # The run's exposures go to a list of its own, deleted at the end, not to the real queue.
    exposures.QUEUE_KEY = f"bench:multi_gate:{os.getpid()}"
    from console.wsgi import application

    json_key = {"statsig-api-key": keys["server"]}

    def user(n: int) -> dict:
        return {"userID": f"user-{n}", "email": "u@example.com", "country": "DE",
                "custom": {"plan": "pro"}}  # fmt: skip

    names = setup["gates"][: http_floor.GATE_NAMES_PER_REQUEST]
    single = [json.dumps({"user": user(n), "gateName": names[0]}).encode() for n in range(500)]
    many = [json.dumps({"user": user(n), "gateNames": names}).encode() for n in range(500)]
    flags = [
        json.dumps(
            {
                "token": keys["client"],
                "distinct_id": f"user-{n}",
                "person_properties": {"plan": "pro"},
            }
        ).encode()
        for n in range(1, FLAG_USERS + 1)
    ]
    cases = [
        ("/v1/check_gate (1 gate)", _caller(application, "/v1/check_gate", single, json_key)),
        (
            f"/v1/check_gate ({len(names)} gateNames)",
            _caller(application, "/v1/check_gate", many, json_key),
        ),
        ("/flags?v=2 (200 flags)", _caller(application, "/flags?v=2", flags, {})),
    ]
    figures = [
        (label, _per_request_us(call, args.requests // (1 if i == 0 else 20), args.repeat))
        for i, (label, call) in enumerate(cases)
    ]
    exposures.stop_flusher()
    exposures.discard_local_buffer()
    exposures._redis().delete(exposures.QUEUE_KEY)
    print(f"\nin-process, CPU time per request, best of {args.repeat}")
    print(f"{'':<34} {'process':>12} {'ratio':>7} {'request thread':>16} {'ratio':>7}")
    process_floor, thread_floor = figures[0][1]
    for label, (process, thread) in figures:
        print(
            f"{label:<34} {process:>9.1f} us {process / process_floor:>6.1f}x "
            f"{thread:>13.1f} us {thread / thread_floor:>6.1f}x"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000, help="single checks per pass")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--run", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        run(args.run[0], json.loads(args.run[1]), args)
        return 0

    base_db, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
    if not base_db.startswith("postgres") or not redis_url:
        print("multi_gate: skipped, set DATABASE_URL (PostgreSQL) and REDIS_URL.")
        return 0
    maintenance, db_url, db_name = http_floor.database_urls(base_db)
    folder = Path(tempfile.mkdtemp(prefix="multi-gate-bench-"))
    env = {**http_floor.server_env(db_url, redis_url, folder), "CELERY_TASK_ALWAYS_EAGER": "1"}
    http_floor.admin_sql(maintenance, f'CREATE DATABASE "{db_name}"')
    try:

        def manage(*argv: str) -> str:
            return subprocess.run(
                [sys.executable, "manage.py", *argv],
                cwd=http_floor.ROOT, env=env, capture_output=True, text=True, check=True,
            ).stdout  # fmt: skip

        manage("migrate", "--verbosity", "0")
        project = json.loads(manage("create_project", f"Multi-gate bench {os.getpid()}"))
        argv = [sys.executable, __file__, "--requests", str(args.requests),
                "--repeat", str(args.repeat), "--run", project["project"],
                json.dumps(project["keys"])]  # fmt: skip
        subprocess.run(argv, cwd=http_floor.ROOT, env=env, check=True)
    finally:
        http_floor.admin_sql(maintenance, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
