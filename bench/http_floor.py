"""HTTP evaluation against the floor of the stack: the production server (gunicorn, one sync worker
per core) on PostgreSQL and Redis, driven by ``wrk`` in another process, in turn on

- ``/v1/ping``: the floor, a minimal JSON answer behind the same middleware and key check,
- ``/v1/check_gate`` (one gate), ``/v1/get_config`` (an experiment in a layer),
- ``/v1/check_gate`` with 100 ``gateNames``, ``/decide?v=3`` (200 flags).

It prints requests/second, p50/p99 latency, the ratio to the floor and the SQL queries per request
counted inside the workers during the measured runs (warm-up excluded).

    DATABASE_URL=postgres://... REDIS_URL=redis://... python bench/http_floor.py [--seconds 10]

A throwaway database (``<name>_http_bench_<pid>``) is created on the server of DATABASE_URL,
migrated, filled through ``manage.py create_project`` and the services, and dropped at the end.
Point REDIS_URL at a Redis database no other process of the same project ids uses.

This file is also the gunicorn configuration of the run (``gunicorn -c bench/http_floor.py``): its
hooks count the queries of every request carrying an ``X-Bench-Run`` header, per run, in each
worker, and write the counts to ``$BENCH_QUERY_DIR`` when the worker exits.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
GATES = 200
GATE_NAMES_PER_REQUEST = 100
BENCH_HEADER = "X-Bench-Run"

# ---------------------------------------------------------------------------------------------
# gunicorn hooks (this module is the -c configuration; only these names are read by gunicorn)

_counts: dict[str, list[int]] = {}
_current: list[str | None] = [None]


def post_worker_init(worker) -> None:
    from django.db import connection
    from django.urls import Resolver404, clear_url_caches, include, path, resolve

    def count(execute, sql, params, many, context):
        label = _current[0]
        if label is not None:
            _counts.setdefault(label, [0, 0])[1] += 1
        return execute(sql, params, many, context)

    connection.execute_wrappers.append(count)
    try:
        resolve("/v1/ping")
    except Resolver404:
        # Until console/urls.py includes console.health_urls, the bench mounts it itself.
        import console.urls

        console.urls.urlpatterns.insert(0, path("v1/", include("console.health_urls")))
        clear_url_caches()


def pre_request(worker, req) -> None:
    label = None
    for name, value in req.headers:
        if name.upper() == BENCH_HEADER.upper():
            label = value
    _current[0] = label
    if label is not None:
        _counts.setdefault(label, [0, 0])[0] += 1


def post_request(worker, req, environ, resp) -> None:
    _current[0] = None


def worker_exit(server, worker) -> None:
    folder = os.environ.get("BENCH_QUERY_DIR")
    if folder:
        Path(folder, f"{os.getpid()}.json").write_text(json.dumps(_counts))


# ---------------------------------------------------------------------------------------------
# Setup (a child process with Django configured on the throwaway database)


def setup_entities(project_slug: str, create=None) -> dict:
    """Runs ``create(project, actor)`` (default: this bench's entities) in one transaction, then
    compiles the ruleset once; returns what ``create`` returned."""
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import transaction

    from console.actors import Actor
    from console.models import Project
    from ruleset import store as ruleset_store

    project = Project.objects.get(slug=project_slug)
    # One transaction: one ruleset rebuild on commit, not one per gate.
    with transaction.atomic():
        created = (create or _create_entities)(project, Actor.system("bench"))
    ruleset_store.rebuild(project.id)
    return created


def _create_entities(project, actor) -> dict:
    from flags.services.experiments import experiment_create, experiment_start
    from flags.services.gates import gate_create
    from flags.services.layers import layer_create

    conditions = [
        {"type": "email", "operator": "str_ends_with_any", "targetValue": ["@example.com"]},
        {"type": "country", "operator": "any", "targetValue": ["DE", "FR", "US"]},
        {"type": "custom_field", "field": "plan", "operator": "any", "targetValue": ["pro"]},
        {"type": "app_version", "operator": "version_gte", "targetValue": "2.1.0"},
        {"type": "user_id", "operator": "any", "targetValue": [f"user-{i}" for i in range(50)]},
        {"type": "environment_tier", "operator": "any", "targetValue": ["production"]},
    ]
    gate_names = []
    for index in range(GATES):
        rules = [
            {
                "name": f"rule {index} {n}",
                "passPercentage": (index * 7 + n * 13) % 101,
                "conditions": [conditions[(index + n) % len(conditions)]],
            }
            for n in range(1 + index % 3)
        ]
        gate = gate_create(project=project, actor=actor, name=f"Bench gate {index}", rules=rules)
        gate_names.append(gate.slug)
    layer = layer_create(
        project=project,
        actor=actor,
        name="Bench layer",
        parameters=[{"name": "color", "type": "string", "defaultValue": "blue"}],
    )
    experiment = experiment_create(
        project=project,
        actor=actor,
        name="Bench experiment",
        layer_id=layer.slug,
        groups=[
            {"name": "Control", "size": 50, "parameterValues": {"color": "blue"}},
            {"name": "Red", "size": 50, "parameterValues": {"color": "red"}},
        ],
    )
    experiment_start(project=project, actor=actor, experiment_id=experiment.slug)
    return {"gates": gate_names, "experiment": experiment.slug}


# ---------------------------------------------------------------------------------------------
# The run


@dataclass
class Endpoint:
    label: str
    path: str
    body_prefix: str  # the JSON body up to the user id
    body_suffix: str
    key_header: bool = True
    key_kind: str = "server"


@dataclass
class Figures:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_urls(base: str) -> tuple[str, str, str]:
    """(maintenance URL, throwaway URL, throwaway name) on the server of ``base``."""
    parts = urlsplit(base)
    name = f"{parts.path.lstrip('/') or 'flagconsole'}_http_bench_{os.getpid()}"
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    return maintenance, urlunsplit(parts._replace(path=f"/{name}")), name


def admin_sql(maintenance_url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(maintenance_url, autocommit=True) as conn:
        conn.execute(sql)


def lua_script(endpoint: Endpoint, key: str) -> str:
    headers = ['wrk.headers["Content-Type"] = "application/json"']
    if endpoint.key_header:
        headers.append(f'wrk.headers["statsig-api-key"] = "{key}"')
    return "\n".join(
        [
            'wrk.method = "POST"',
            *headers,
            f"local prefix = [==[{endpoint.body_prefix}]==]",
            f"local suffix = [==[{endpoint.body_suffix}]==]",
            "request = function()",
            "  local body = prefix .. math.random(1, 100000) .. suffix",
            "  return wrk.format(nil, nil, nil, body)",
            "end",
            "",
        ]
    )


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    return float(match.group(1)) * _UNITS[match.group(2)] if match else float("nan")


def run_wrk(url: str, script: Path, seconds: float, connections: int, label: str | None) -> Figures:
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--latency",
        "-s",
        str(script),
    ]
    if label is not None:
        command += ["-H", f"{BENCH_HEADER}: {label}"]
    output = subprocess.run(
        [*command, url], capture_output=True, text=True, check=True, timeout=seconds + 60
    ).stdout
    percentiles = dict(re.findall(r"^\s+(\d+)%\s+(\S+)$", output, re.MULTILINE))
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(r"Socket errors:.*", output)
    if socket_errors:
        print(f"  note ({label}): {socket_errors.group(0)}", file=sys.stderr)
    return Figures(
        rps=float(rps.group(1)) if rps else 0.0,
        p50_ms=_ms(percentiles.get("50", "")),
        p99_ms=_ms(percentiles.get("99", "")),
        errors=int(errors.group(1)) if errors else 0,
        requests=int(total.group(1)) if total else 0,
    )


def wait_ready(base: str, key: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("gunicorn exited during start-up")
        request = urllib.request.Request(f"{base}/v1/ping", headers={"statsig-api-key": key})
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise SystemExit("gunicorn did not answer /v1/ping in time")


def endpoints(keys: dict, setup: dict) -> list[Endpoint]:
    user = '{"user": {"userID": "user-'
    user_end = '", "email": "u@example.com", "country": "DE", "custom": {"plan": "pro"}}'
    names = json.dumps(setup["gates"][:GATE_NAMES_PER_REQUEST])
    return [
        Endpoint("floor /v1/ping", "/v1/ping", user, user_end + "}"),
        Endpoint("/v1/check_gate", "/v1/check_gate", user, user_end + ', "gateName": "'
                 + setup["gates"][0] + '"}'),
        Endpoint("/v1/get_config (experiment in a layer)", "/v1/get_config", user,
                 user_end + ', "configName": "' + setup["experiment"] + '"}'),
        Endpoint(f"/v1/check_gate x{GATE_NAMES_PER_REQUEST} gateNames", "/v1/check_gate", user,
                 user_end + f', "gateNames": {names}}}'),
        Endpoint(f"/decide?v=3 ({GATES} flags)", "/decide?v=3",
                 '{"token": "' + keys["client"] + '", "distinct_id": "user-',
                 '", "person_properties": {"plan": "pro"}}', key_header=False),
    ]  # fmt: skip


def arguments(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--seconds", type=float, default=10.0, help="measured time per endpoint")
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up time per endpoint")
    parser.add_argument("--connections", type=int, default=0, help="default: 4 per worker")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--setup", help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> int:
    args = arguments(__doc__.splitlines()[0])
    if args.setup:
        print(json.dumps(setup_entities(args.setup)))
        return 0
    return measure(
        args, name="http_floor", setup_script=__file__, make_endpoints=endpoints,
        what=f"{GATES} gates",
    )  # fmt: skip


def measure(args, *, name: str, setup_script: str, make_endpoints, what: str) -> int:
    """Creates the throwaway database and project, runs ``setup_script --setup <project>`` (it
    prints the entities it made as JSON), serves with gunicorn and drives every endpoint of
    ``make_endpoints(keys, setup)`` with wrk, the first being the floor; prints the table."""
    base_db, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
    if not base_db.startswith("postgres") or not redis_url:
        print(f"{name}: skipped, set DATABASE_URL (PostgreSQL) and REDIS_URL.")
        return 0
    if shutil.which("wrk") is None:
        print(f"{name}: skipped, wrk is not installed (apt-get install wrk).")
        return 0

    maintenance, db_url, db_name = database_urls(base_db)
    folder = Path(tempfile.mkdtemp(prefix="http-bench-"))
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "REDIS_URL": redis_url,
        "DJANGO_SETTINGS_MODULE": "console.settings",
        "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY", "bench-only-secret-key"),
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "BENCH_QUERY_DIR": str(folder),
        "DJANGO_STATIC_ROOT": str(folder),
        "PYTHONPATH": str(ROOT),
    }
    python = sys.executable
    server = None
    admin_sql(maintenance, f'CREATE DATABASE "{db_name}"')
    try:
        started = time.monotonic()
        setup_env = {**env, "CELERY_TASK_ALWAYS_EAGER": "1"}

        def manage(*argv: str) -> str:
            return subprocess.run(
                [python, "manage.py", *argv],
                cwd=ROOT,
                env=setup_env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout

        manage("migrate", "--verbosity", "0")
        created = json.loads(manage("create_project", f"HTTP bench {os.getpid()}"))
        keys = created["keys"]
        setup = json.loads(
            subprocess.run(
                [python, setup_script, "--setup", created["project"]],
                cwd=ROOT,
                env=setup_env,
                capture_output=True,
                text=True,
                check=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        print(f"setup: database, project and {what} in {time.monotonic() - started:.1f} s")

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [python, "-m", "gunicorn", "-c", __file__, "console.wsgi:application",
             "--workers", str(args.workers), "--bind", f"127.0.0.1:{port}",
             "--log-level", "warning"],
            cwd=ROOT, env=env,
        )  # fmt: skip
        wait_ready(base, keys["server"], server)
        connections = args.connections or 4 * args.workers
        results: list[tuple[Endpoint, Figures]] = []
        for endpoint in make_endpoints(keys, setup):
            script = folder / "script.lua"
            script.write_text(lua_script(endpoint, keys[endpoint.key_kind]))
            url = base + endpoint.path
            run_wrk(url, script, args.warmup, connections, None)
            results.append(
                (endpoint, run_wrk(url, script, args.seconds, connections, endpoint.label))
            )
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        admin_sql(maintenance, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')

    counts: dict[str, list[int]] = {}
    for file in folder.glob("*.json"):
        for label, (requests, queries) in json.loads(file.read_text()).items():
            total = counts.setdefault(label, [0, 0])
            total[0] += requests
            total[1] += queries
    shutil.rmtree(folder, ignore_errors=True)

    floor = results[0][1].rps or 1.0
    print(
        f"\nHTTP, gunicorn {args.workers} sync workers, wrk 1 thread {connections} connections, "
        f"{args.seconds:g} s per endpoint (after {args.warmup:g} s warm-up)"
    )
    header = (
        f"{'endpoint':<42} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'vs floor':>9} {'SQL/req':>8} {'non-2xx':>8}"
    )
    print(header)
    print("-" * len(header))
    for endpoint, figures in results:
        requests, queries = counts.get(endpoint.label, [0, 0])
        per_request = f"{queries / requests:.3f}" if requests else "n/a"
        print(
            f"{endpoint.label:<42} {figures.rps:>9.0f} {figures.p50_ms:>8.2f} "
            f"{figures.p99_ms:>8.2f} {figures.rps / floor:>9.2f} {per_request:>8} "
            f"{figures.errors:>8}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
