"""The data plane over HTTP against bare servers, side by side in one run: a WSGI hello-world
(``bench/hello_wsgi.py``) under gunicorn sync workers and under granian, then the product under
``manage.py serve`` (granian) with the same worker count, driven by ``wrk`` (1 thread, 16
connections) on the same machine:

- ``/v1/check_gate`` (one gate), ``/v1/get_config`` (an experiment in a layer), ``check_gate``
  with 100 ``gateNames``, ``/flags?v=2`` answering 200 flags (100 distinct ids, each with stored
  person properties), ``/v1/download_config_specs/<key>.json`` of a 500-entity project (gzip, as
  the SDKs ask), ``/v1/log_event`` batches of 100 events;
- the same ``check_gate`` POST (body, headers, wrk script) to the hello-world under granian: the
  floor of that request, since wrk's Lua body builder and reading a body cost more than the
  bare GET;
- ``/v1/check_gate`` under gunicorn on ``console.wsgi`` (gunicorn still works);
- a 1,000-event ``log_event`` batch on one connection (latency);
- SQL statements per request, counted inside the server (``bench/counting_wsgi.py``) in a
  separate short pass so the counting does not slow the measured runs.

    DATABASE_URL=postgres://... REDIS_URL=redis://... python bench/http_floor.py [--seconds 10]
        [--only LABEL ...]

``--only`` measures just the rows whose label contains one of the given texts (e.g. ``--only
"1,000 events"``, or ``--only "100 events" "1,000 events"`` to see the large batch right after the
100-event rows), in the usual order; the SQL counting pass is skipped unless a counted row is asked.

A throwaway database (``<name>_http_bench_<pid>``) is created on the server of DATABASE_URL,
migrated, filled through ``manage.py create_project`` and the services, and dropped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
FLAG_GATES = 199  # + the experiment: 200 PostHog flags
DOWNLOAD_GATES = 500
GATE_NAMES_PER_REQUEST = 100
FLAG_USERS = 100
EVENTS_PER_BATCH = 100
BIG_BATCH = 1_000
THREADS = 4

# ---------------------------------------------------------------------------------------------
# Setup (a child process with Django configured on the throwaway database)

CONDITIONS = [
    {"type": "email", "operator": "str_ends_with_any", "targetValue": ["@example.com"]},
    {"type": "country", "operator": "any", "targetValue": ["DE", "FR", "US"]},
    {"type": "custom_field", "field": "plan", "operator": "any", "targetValue": ["pro"]},
    {"type": "app_version", "operator": "version_gte", "targetValue": "2.1.0"},
    {"type": "user_id", "operator": "any", "targetValue": [f"user-{i}" for i in range(50)]},
    {"type": "environment_tier", "operator": "any", "targetValue": ["production"]},
]


def setup_entities(flags_slug: str, download_slug: str) -> dict:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import transaction

    from console.actors import Actor
    from console.models import Project
    from events.persons import PersonOp, persons_apply
    from ruleset import store as ruleset_store

    actor = Actor.system("bench")
    flags_project = Project.objects.get(slug=flags_slug)
    download_project = Project.objects.get(slug=download_slug)
    # One transaction per project: one ruleset rebuild, not one per gate.
    with transaction.atomic():
        created = _create_entities(flags_project, actor, FLAG_GATES, experiment=True)
    with transaction.atomic():
        _create_entities(download_project, actor, DOWNLOAD_GATES, experiment=False)
    for project in (flags_project, download_project):
        ruleset_store.rebuild(project.id)
    persons_apply(
        project_id=flags_project.id,
        ops=[
            PersonOp(kind="set", distinct_id=f"user-{i}", set={"email": f"u{i}@example.com"})
            for i in range(1, FLAG_USERS + 1)
        ],
    )
    return created


def _create_entities(project, actor, gates: int, *, experiment: bool) -> dict:
    from flags.services.experiments import experiment_create, experiment_start
    from flags.services.gates import gate_create
    from flags.services.layers import layer_create

    gate_names = []
    for index in range(gates):
        rules = [
            {
                "name": f"rule {index} {n}",
                "passPercentage": (index * 7 + n * 13) % 101,
                "conditions": [CONDITIONS[(index + n) % len(CONDITIONS)]],
            }
            for n in range(1 + index % 3)
        ]
        gate = gate_create(project=project, actor=actor, name=f"Bench gate {index}", rules=rules)
        gate_names.append(gate.slug)
    if not experiment:
        return {"gates": gate_names}
    layer = layer_create(
        project=project,
        actor=actor,
        name="Bench layer",
        parameters=[{"name": "color", "type": "string", "defaultValue": "blue"}],
    )
    made = experiment_create(
        project=project,
        actor=actor,
        name="Bench experiment",
        layer_id=layer.slug,
        groups=[
            {"name": "Control", "size": 50, "parameterValues": {"color": "blue"}},
            {"name": "Red", "size": 50, "parameterValues": {"color": "red"}},
        ],
    )
    experiment_start(project=project, actor=actor, experiment_id=made.slug)
    return {"gates": gate_names, "experiment": made.slug}


# ---------------------------------------------------------------------------------------------
# wrk


@dataclass
class Endpoint:
    label: str
    path: str
    body_prefix: str = ""  # the body up to a random number (a user id), then the suffix
    body_suffix: str = ""
    method: str = "POST"
    headers: dict[str, str] = field(default_factory=dict)
    id_range: int = 100_000


@dataclass
class Figures:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int
    sql: int | None = None
    sql_requests: int | None = None


LUA_COUNTING = """
sql, answered = 0, 0
response = function(status, headers, body)
  answered = answered + 1
  local n = headers["X-Bench-SQL"] or headers["x-bench-sql"]
  if n then sql = sql + tonumber(n) end
end
"""
LUA_DONE = """
local threads = {}
setup = function(thread) table.insert(threads, thread) end
done = function(summary, latency, requests)
  local total, answered = 0, 0
  for _, t in ipairs(threads) do
    total = total + t:get("sql"); answered = answered + t:get("answered")
  end
  io.write(string.format("BENCH_SQL %d %d\\n", total, answered))
end
"""


def lua_script(endpoint: Endpoint, counting: bool) -> str:
    lines = [f'wrk.method = "{endpoint.method}"']
    lines += [f'wrk.headers["{name}"] = "{value}"' for name, value in endpoint.headers.items()]
    if endpoint.body_prefix:
        lines += [
            f"local prefix = [==[{endpoint.body_prefix}]==]",
            f"local suffix = [==[{endpoint.body_suffix}]==]",
            "request = function()",
            f"  local body = prefix .. math.random(1, {endpoint.id_range}) .. suffix",
            "  return wrk.format(nil, nil, nil, body)",
            "end",
        ]
    if counting:
        lines += [LUA_COUNTING, LUA_DONE]
    return "\n".join(lines) + "\n"


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    return float(match.group(1)) * _UNITS[match.group(2)] if match else float("nan")


def run_wrk(url: str, script: Path, seconds: float, connections: int) -> Figures:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency"]
    output = subprocess.run(
        [*command, "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 60,
    ).stdout
    percentiles = dict(re.findall(r"^\s+(\d+)%\s+(\S+)$", output, re.MULTILINE))
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sql = re.search(r"BENCH_SQL (\d+) (\d+)", output)
    socket_errors = re.search(r"Socket errors:.*", output)
    if socket_errors:
        print(f"  note ({url}): {socket_errors.group(0)}", file=sys.stderr)
    return Figures(
        rps=float(rps.group(1)) if rps else 0.0,
        p50_ms=_ms(percentiles.get("50", "")),
        p99_ms=_ms(percentiles.get("99", "")),
        errors=int(errors.group(1)) if errors else 0,
        requests=int(total.group(1)) if total else 0,
        sql=int(sql.group(1)) if sql else None,
        sql_requests=int(sql.group(2)) if sql else None,
    )


# ---------------------------------------------------------------------------------------------
# Servers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, name: str, argv: list[str], env: dict[str, str], port: int) -> None:
        self.name = name
        self.base = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                raise SystemExit(f"{name} exited during start-up")
            try:
                with urllib.request.urlopen(self.base + "/v1/ping", timeout=2):
                    return
            except urllib.error.HTTPError:
                return  # answering (401 without a key)
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    raise SystemExit(f"{name} did not start in time") from None
                time.sleep(0.2)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def gunicorn(app: str, workers: int, env: dict[str, str]) -> Server:
    port = free_port()
    argv = [sys.executable, "-m", "gunicorn", app, "--workers", str(workers),
            "--bind", f"127.0.0.1:{port}", "--log-level", "warning"]  # fmt: skip
    return Server(f"gunicorn {app}", argv, env, port)


def granian(app: str, workers: int, env: dict[str, str]) -> Server:
    port = free_port()
    argv = [sys.executable, "-m", "granian", "--interface", "wsgi", "--workers", str(workers),
            "--blocking-threads", str(THREADS), "--backpressure", str(THREADS),
            "--port", str(port), "--log-level", "warning", app]  # fmt: skip
    return Server(f"granian {app}", argv, env, port)


def serve(workers: int, env: dict[str, str]) -> Server:
    port = free_port()
    argv = [sys.executable, "manage.py", "serve", "--bind", f"127.0.0.1:{port}",
            "--workers", str(workers), "--threads", str(THREADS)]  # fmt: skip
    return Server("manage.py serve", argv, env, port)


# ---------------------------------------------------------------------------------------------
# The run


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


def server_env(db_url: str, redis_url: str, folder: Path) -> dict[str, str]:
    """The environment of the servers and setup commands: production settings on the
    throwaway database."""
    return {
        **os.environ,
        "DATABASE_URL": db_url,
        "REDIS_URL": redis_url,
        "DJANGO_SETTINGS_MODULE": "console.settings",
        "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY", "bench-only-secret-key"),
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "DJANGO_STATIC_ROOT": str(folder),
        "PYTHONPATH": str(ROOT),
    }


def endpoints(keys: dict, download_key: str, setup: dict) -> list[Endpoint]:
    json_key = {"Content-Type": "application/json", "statsig-api-key": keys["server"]}
    user = '{"user": {"userID": "user-'
    user_end = '", "email": "u@example.com", "country": "DE", "custom": {"plan": "pro"}}'
    names = json.dumps(setup["gates"][:GATE_NAMES_PER_REQUEST])
    events = ",".join(
        '{"eventName": "purchase", "value": ' + str(n) + ', "user": {"userID": "user-' + str(n)
        + '"}, "metadata": {"sku": "sku-1"}}'
        for n in range(EVENTS_PER_BATCH)
    )  # fmt: skip
    return [
        Endpoint("/v1/check_gate", "/v1/check_gate", user,
                 user_end + ', "gateName": "' + setup["gates"][0] + '"}', headers=json_key),
        Endpoint("/v1/get_config (experiment in a layer)", "/v1/get_config", user,
                 user_end + ', "configName": "' + setup["experiment"] + '"}', headers=json_key),
        Endpoint(f"/v1/check_gate x{GATE_NAMES_PER_REQUEST} gateNames", "/v1/check_gate", user,
                 user_end + f', "gateNames": {names}}}', headers=json_key),
        Endpoint(f"/flags?v=2 ({FLAG_GATES + 1} flags)", "/flags?v=2",
                 '{"token": "' + keys["client"] + '", "distinct_id": "user-',
                 '", "person_properties": {"plan": "pro"}}',
                 headers={"Content-Type": "application/json"}, id_range=FLAG_USERS),
        Endpoint(f"download_config_specs ({DOWNLOAD_GATES} entities, gzip)",
                 f"/v1/download_config_specs/{download_key}.json", method="GET",
                 headers={"Accept-Encoding": "gzip"}),
        Endpoint(f"/v1/log_event ({EVENTS_PER_BATCH} events)", "/v1/log_event",
                 '{"statsigMetadata": {"n": ', '}, "events": [' + events + "]}",
                 headers=json_key),
    ]  # fmt: skip


def big_batch(keys: dict) -> Endpoint:
    events = ",".join(
        '{"eventName": "purchase", "value": ' + str(n) + ', "user": {"userID": "user-' + str(n)
        + '"}, "metadata": {"sku": "sku-1"}}'
        for n in range(BIG_BATCH)
    )  # fmt: skip
    return Endpoint(
        f"/v1/log_event ({BIG_BATCH:,} events, 1 connection)",
        "/v1/log_event",
        '{"statsigMetadata": {"n": ',
        '}, "events": [' + events + "]}",
        headers={"Content-Type": "application/json", "statsig-api-key": keys["server"]},
    )


FLOOR = Endpoint("floor: WSGI hello-world", "/v1/ping", method="GET")
SAME_REQUEST_FLOOR = "floor: hello-world, check_gate's POST"


def measure(server: Server, endpoint: Endpoint, folder: Path, args, *, connections: int,
            counting: bool = False, seconds: float | None = None) -> Figures:  # fmt: skip
    script = folder / "script.lua"
    script.write_text(lua_script(endpoint, counting))
    url = server.base + endpoint.path
    if not counting:
        run_wrk(url, script, args.warmup, connections)
    return run_wrk(url, script, seconds or args.seconds, connections)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="measured time per endpoint")
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up time per endpoint")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--only", nargs="+", metavar="LABEL", help="measure only the rows whose label has one"
    )
    parser.add_argument("--setup", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.setup:
        print(json.dumps(setup_entities(*args.setup)))
        return 0

    base_db, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
    if not base_db.startswith("postgres") or not redis_url:
        print("http_floor: skipped, set DATABASE_URL (PostgreSQL) and REDIS_URL.")
        return 0
    if shutil.which("wrk") is None:
        print("http_floor: skipped, wrk is not installed (apt-get install wrk).")
        return 0

    def wanted(label: str) -> bool:
        return not args.only or any(text in label for text in args.only)

    maintenance, db_url, db_name = database_urls(base_db)
    folder = Path(tempfile.mkdtemp(prefix="http-bench-"))
    env = server_env(db_url, redis_url, folder)
    python, workers, connections = sys.executable, args.workers, args.connections
    rows: list[tuple[str, str, Figures]] = []
    admin_sql(maintenance, f'CREATE DATABASE "{db_name}"')
    try:
        started = time.monotonic()
        setup_env = {**env, "CELERY_TASK_ALWAYS_EAGER": "1"}

        def manage(*argv: str) -> str:
            return subprocess.run(
                [python, "manage.py", *argv],
                cwd=ROOT, env=setup_env, capture_output=True, text=True, check=True,
            ).stdout  # fmt: skip

        manage("migrate", "--verbosity", "0")
        flags_project = json.loads(manage("create_project", f"HTTP bench {os.getpid()}"))
        download_project = json.loads(manage("create_project", f"Download bench {os.getpid()}"))
        keys = flags_project["keys"]
        setup = json.loads(
            subprocess.run(
                [python, __file__, "--setup", flags_project["project"], download_project["project"]],
                cwd=ROOT, env=setup_env, capture_output=True, text=True, check=True,
            ).stdout.strip().splitlines()[-1]
        )  # fmt: skip
        print(f"setup: database, 2 projects, {FLAG_GATES + DOWNLOAD_GATES} gates "
              f"in {time.monotonic() - started:.1f} s", flush=True)  # fmt: skip

        def on_own_server(name: str, start: Callable, app: str, endpoint: Endpoint) -> None:
            """One row measured on a server started for it alone."""
            if not wanted(endpoint.label):
                return
            server = start(app, workers, env)
            try:
                figures = measure(server, endpoint, folder, args, connections=connections)
                rows.append((name, endpoint.label, figures))
            finally:
                server.stop()

        hello = "bench.hello_wsgi:application"
        on_own_server("gunicorn sync", gunicorn, hello, FLOOR)
        on_own_server("granian", granian, hello, FLOOR)
        check_gate = endpoints(keys, download_project["keys"]["server"], setup)[0]
        # The floor for the same request: check_gate's POST body, headers and wrk script (wrk
        # builds each body in Lua, which costs it more than the bare GET) to a hello-world.
        same_request = replace(check_gate, label=SAME_REQUEST_FLOOR)
        on_own_server("granian", granian, hello, same_request)
        on_own_server("gunicorn sync", gunicorn, "console.wsgi:application", check_gate)

        measured = [
            endpoint
            for endpoint in endpoints(keys, download_project["keys"]["server"], setup)
            if wanted(endpoint.label)
        ]
        batch = big_batch(keys)
        server = serve(workers, env)
        try:
            for endpoint in measured:
                figures = measure(server, endpoint, folder, args, connections=connections)
                rows.append(("manage.py serve", endpoint.label, figures))
                print(f"  {endpoint.label}: {figures.rps:.0f} req/s", flush=True)
            if wanted(batch.label):
                rows.append(("manage.py serve", batch.label,
                             measure(server, batch, folder, args, connections=1)))  # fmt: skip
        finally:
            server.stop()

        sql = {}
        counted = granian("bench.counting_wsgi:application", workers, env) if measured else None
        try:
            for endpoint in measured:
                # Warm every worker's caches (keys, ruleset, the persons asked for) first.
                measure(counted, endpoint, folder, args, connections=connections, seconds=5)
                figures = measure(counted, endpoint, folder, args, connections=connections,
                                  counting=True, seconds=2)  # fmt: skip
                sql[endpoint.label] = figures
        finally:
            if counted is not None:
                counted.stop()
    finally:
        admin_sql(maintenance, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        shutil.rmtree(folder, ignore_errors=True)

    report(rows, sql, args)
    return 0


def report(rows: list[tuple[str, str, Figures]], sql: dict[str, Figures], args) -> None:
    floors = {server: figures.rps or 1.0 for server, label, figures in rows if label == FLOOR.label}
    floors.setdefault("gunicorn sync", float("nan"))
    floors.setdefault("granian", float("nan"))
    print(
        f"\nHTTP, {args.workers} workers ({THREADS} threads each under granian), wrk 1 thread "
        f"{args.connections} connections, {args.seconds:g} s per row after {args.warmup:g} s "
        "warm-up"
    )
    header = (
        f"{'server':<16} {'endpoint':<44} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'/gunicorn':>9} {'/granian':>8} {'SQL/req':>8} {'non-2xx':>7}"
    )
    print(header)
    print("-" * len(header))
    for server, label, figures in rows:
        counted = sql.get(label) if server == "manage.py serve" else None
        per_request = (
            f"{counted.sql / counted.sql_requests:.3f}"
            if counted is not None and counted.sql_requests
            else "-"
        )
        print(
            f"{server:<16} {label:<44} {figures.rps:>8.0f} {figures.p50_ms:>7.2f} "
            f"{figures.p99_ms:>7.2f} {figures.rps / floors['gunicorn sync']:>9.2f} "
            f"{figures.rps / floors['granian']:>8.2f} {per_request:>8} {figures.errors:>7}"
        )
    same_request = next((f.rps for s, label, f in rows if label == SAME_REQUEST_FLOOR), None)
    check_gate = next((f.rps for s, label, f in rows if label == "/v1/check_gate"
                       and s == "manage.py serve"), None)  # fmt: skip
    if same_request is None or check_gate is None:
        return
    print(f"\n/v1/check_gate under serve / the same POST to a hello-world under granian: "
          f"{check_gate / (same_request or 1.0):.2f}")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
