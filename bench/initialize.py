"""``/v1/initialize`` (a client SDK's whole answer: every gate, config, experiment and layer
evaluated for one user) for a project with 200 gates and 50 experiments, against the ``/v1/ping``
floor of the same server (``manage.py serve``, granian) and a WSGI hello-world under granian, in
one run driven by ``wrk``: requests/second, p50/p99, the ratio to each floor, and the SQL
statements per request counted inside the server (``bench/counting_wsgi.py``; 0 after warm-up).

    DATABASE_URL=postgres://... REDIS_URL=redis://... python bench/initialize.py [--seconds 10]

The servers, wrk and the throwaway database are ``bench/http_floor.py``'s; this script makes the
project and names the endpoints.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import http_floor
from http_floor import FLOOR, Endpoint, Figures

GATES = 200
EXPERIMENTS = 50
LAYERS = 5


def setup_entities(project_slug: str) -> dict:
    sys.path.insert(0, str(http_floor.ROOT))
    import django

    django.setup()
    from django.db import transaction

    from console.actors import Actor
    from console.models import Project
    from flags.services.experiments import experiment_create, experiment_start
    from flags.services.layers import layer_create
    from ruleset import store as ruleset_store

    project, actor = Project.objects.get(slug=project_slug), Actor.system("bench")
    # One transaction: one ruleset rebuild, not one per entity.
    with transaction.atomic():
        made = http_floor._create_entities(project, actor, GATES, experiment=True)
        gates = made["gates"]
        layers = [
            layer_create(
                project=project,
                actor=actor,
                name=f"Initialize layer {index}",
                parameters=[{"name": "color", "type": "string", "defaultValue": "blue"}],
            ).slug
            for index in range(LAYERS)
        ]
        for index in range(EXPERIMENTS - 1):  # http_floor made one already
            in_layer = index % 2 == 0
            experiment = experiment_create(
                project=project,
                actor=actor,
                name=f"Initialize experiment {index}",
                layer_id=layers[index % LAYERS] if in_layer else None,
                allocation=10 if in_layer else 100,
                targeting_gate_id=gates[index] if index % 3 == 0 else None,
                groups=[
                    {"name": "Control", "size": 50, "parameterValues": {"color": "blue"}},
                    {"name": "Test", "size": 50, "parameterValues": {"color": f"c{index}"}},
                ],
            )
            experiment_start(project=project, actor=actor, experiment_id=experiment.slug)
    ruleset_store.rebuild(project.id)
    return {"gates": gates, "experiments": EXPERIMENTS, "layers": LAYERS + 1}


def endpoints(keys: dict, gates: list[str]) -> list[Endpoint]:
    user = '{"user": {"userID": "user-'
    user_end = '", "email": "u@example.com", "country": "DE", "custom": {"plan": "pro"}}'
    metadata = ', "statsigMetadata": {"stableID": "device-1"}, "hash": '
    client = {"Content-Type": "text/plain;charset=UTF-8", "statsig-api-key": keys["client"]}
    return [
        Endpoint("/v1/ping", "/v1/ping", method="GET", headers={"statsig-api-key": keys["client"]}),
        Endpoint("/v1/initialize (djb2)", "/v1/initialize", user,
                 user_end + metadata + '"djb2"}', headers=client),
        Endpoint("/v1/initialize (sha256)", "/v1/initialize", user,
                 user_end + metadata + '"sha256"}', headers=client),
        # For scale: 100 evaluations in one request, where initialize makes about 260.
        Endpoint(f"/v1/check_gate x{http_floor.GATE_NAMES_PER_REQUEST} gateNames",
                 "/v1/check_gate", user,
                 user_end + f', "gateNames": {json.dumps(gates[:http_floor.GATE_NAMES_PER_REQUEST])}}}',
                 headers={"Content-Type": "application/json", "statsig-api-key": keys["server"]}),
    ]  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="measured time per endpoint")
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up time per endpoint")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--setup", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.setup:
        print(json.dumps(setup_entities(args.setup)))
        return 0
    base_db, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
    if not base_db.startswith("postgres") or not redis_url:
        print("initialize: skipped, set DATABASE_URL (PostgreSQL) and REDIS_URL.")
        return 0
    if shutil.which("wrk") is None:
        print("initialize: skipped, wrk is not installed (apt-get install wrk).")
        return 0

    maintenance, db_url, db_name = http_floor.database_urls(base_db)
    folder = Path(tempfile.mkdtemp(prefix="initialize-bench-"))
    env = http_floor.server_env(db_url, redis_url, folder)
    setup_env = {**env, "CELERY_TASK_ALWAYS_EAGER": "1"}
    connections = args.connections
    rows: list[tuple[str, Figures]] = []
    sql: dict[str, Figures] = {}
    http_floor.admin_sql(maintenance, f'CREATE DATABASE "{db_name}"')
    try:
        started = time.monotonic()

        def run(*argv: str) -> str:
            return subprocess.run(
                [sys.executable, *argv], cwd=http_floor.ROOT, env=setup_env,
                capture_output=True, text=True, check=True,
            ).stdout  # fmt: skip

        run("manage.py", "migrate", "--verbosity", "0")
        project = json.loads(run("manage.py", "create_project", f"Initialize {os.getpid()}"))
        made = json.loads(run(__file__, "--setup", project["project"]).strip().splitlines()[-1])
        print(f"setup: {len(made['gates'])} gates, {made['experiments']} experiments, "
              f"{made['layers']} layers in {time.monotonic() - started:.1f} s", flush=True)  # fmt: skip

        hello = http_floor.granian("bench.hello_wsgi:application", args.workers, env)
        try:
            rows.append((f"granian {FLOOR.label}", http_floor.measure(
                hello, FLOOR, folder, args, connections=connections)))  # fmt: skip
        finally:
            hello.stop()
        measured = endpoints(project["keys"], made["gates"])
        server = http_floor.serve(args.workers, env)
        try:
            for endpoint in measured:
                figures = http_floor.measure(
                    server, endpoint, folder, args, connections=connections
                )
                rows.append((endpoint.label, figures))
        finally:
            server.stop()
        counted = http_floor.granian("bench.counting_wsgi:application", args.workers, env)
        try:
            for endpoint in measured:
                # Warm every worker's caches (key, ruleset, spec index) before counting.
                http_floor.measure(counted, endpoint, folder, args, connections=connections,
                                   seconds=3)  # fmt: skip
                sql[endpoint.label] = http_floor.measure(
                    counted, endpoint, folder, args, connections=connections, counting=True,
                    seconds=2)  # fmt: skip
        finally:
            counted.stop()
    finally:
        http_floor.admin_sql(maintenance, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        shutil.rmtree(folder, ignore_errors=True)
    report(rows, sql, args)
    return 0


def report(rows: list[tuple[str, Figures]], sql: dict[str, Figures], args) -> None:
    ping = next(figures.rps for label, figures in rows if label == "/v1/ping") or 1.0
    hello = rows[0][1].rps or 1.0
    print(
        f"\nmanage.py serve, {args.workers} workers; wrk 1 thread {args.connections} connections, "
        f"{args.seconds:g} s per row after {args.warmup:g} s warm-up"
    )
    header = (
        f"{'endpoint':<44} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'/ping':>6} "
        f"{'/hello':>7} {'SQL/req':>8} {'non-2xx':>7}"
    )
    print(header)
    print("-" * len(header))
    for label, figures in rows:
        counted = sql.get(label)
        per_request = (
            f"{counted.sql / counted.sql_requests:.3f}"
            if counted is not None and counted.sql_requests
            else "-"
        )
        print(
            f"{label:<44} {figures.rps:>8.0f} {figures.p50_ms:>7.2f} {figures.p99_ms:>7.2f} "
            f"{figures.rps / ping:>6.2f} {figures.rps / hello:>7.2f} {per_request:>8} "
            f"{figures.errors:>7}"
        )


if __name__ == "__main__":
    sys.exit(main())
