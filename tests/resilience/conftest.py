"""A live server for the resilience tests: gunicorn in a subprocess on a throwaway PostgreSQL
database, reaching PostgreSQL and Redis through TCP proxies the tests can cut and restore, so an
outage is a cut proxy, never a stopped shared server.

Skipped with a reason when DATABASE_URL (PostgreSQL) or REDIS_URL is not set.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_SECONDS = 60
REQUEST_TIMEOUT_SECONDS = 15


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a target; ``cut()`` drops every connection and refuses new
    ones (closes them at once) until ``restore()``."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.enabled = True
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _address = self.listener.accept()
            except OSError:
                return
            if not self.enabled:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                self._close(sock)

    def _close(self, sock: socket.socket) -> None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            sock.close()
        with self._lock:
            self._sockets.discard(sock)

    def cut(self) -> None:
        self.enabled = False
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            self._close(sock)

    def restore(self) -> None:
        self.enabled = True

    def close(self) -> None:
        self._closed = True
        self.cut()
        self.listener.close()


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class LiveServer:
    base: str
    keys: dict[str, str]
    database: TcpProxy
    redis: TcpProxy
    log_path: Path
    project: str
    # The server's environment (services through the proxies), for processes that must see the
    # same database and Redis: a worker, a management command.
    env: dict[str, str]
    # Past the proxies: what a test reads or publishes with must not be cut with the server.
    direct_database_url: str
    direct_redis_url: str
    gate: str = "resilience_gate"
    experiment: str = "resilience_experiment"
    user_ids: list[str] = field(default_factory=list)

    def request(
        self,
        method: str,
        path: str,
        body: bytes | dict | list | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        data = json.dumps(body).encode() if isinstance(body, dict | list) else body
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        request = urllib.request.Request(
            self.base + path, data=data, method=method, headers=all_headers
        )
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_SECONDS) as response:
                return Response(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as error:
            return Response(error.code, dict(error.headers), error.read())

    def sdk(self, path: str, body: dict | bytes | None, key: str = "server", **headers: str):
        return self.request("POST", path, body, {"statsig-api-key": self.keys[key], **headers})

    def console(self, method: str, path: str, body: dict | None = None) -> Response:
        return self.request(method, path, body, {"STATSIG-API-KEY": self.keys["console"]})

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def sql(self, query: str, params: tuple | list = ()) -> list[tuple]:
        import psycopg

        with psycopg.connect(self.direct_database_url, autocommit=True) as conn:
            return conn.execute(query, params).fetchall()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _admin_sql(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)


@pytest.fixture(scope="session")
def proxied_server(tmp_path_factory) -> Iterator[LiveServer]:
    database_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    if not database_url.startswith("postgres") or not redis_url:
        pytest.skip("resilience tests need DATABASE_URL (PostgreSQL) and REDIS_URL")
    db_parts, redis_parts = urlsplit(database_url), urlsplit(redis_url)
    name = f"{db_parts.path.lstrip('/') or 'flagconsole'}_live_{os.getpid()}"
    maintenance = urlunsplit(db_parts._replace(path="/postgres"))
    direct_url = urlunsplit(db_parts._replace(path=f"/{name}"))
    _admin_sql(maintenance, f'CREATE DATABASE "{name}"')
    database = TcpProxy(db_parts.hostname or "127.0.0.1", db_parts.port or 5432)
    redis = TcpProxy(redis_parts.hostname or "127.0.0.1", redis_parts.port or 6379)
    folder = tmp_path_factory.mktemp("live")
    log_path = folder / "server.log"

    def netloc(parts, port: int) -> str:
        credentials = parts.netloc.rpartition("@")[0]
        return (credentials + "@" if credentials else "") + f"127.0.0.1:{port}"

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "console.settings",
        "DJANGO_SECRET_KEY": "resilience-tests-only-secret-key",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_DEBUG": "0",
        "DJANGO_STATIC_ROOT": str(folder),
        "CELERY_TASK_ALWAYS_EAGER": "1",
        # As in production, not as under pytest-env (whose default this process inherits): the
        # local exposure buffer used while Redis is unreachable is written by its thread.
        "EXPOSURE_FLUSH_THREAD": "1",
        "LOG_LEVEL": "DEBUG",
        "API_KEY_CACHE_SECONDS": "600",
        "DATABASE_URL": direct_url,
        "REDIS_URL": redis_url,
        "PYTHONPATH": str(ROOT),
    }
    server = None
    log_file = log_path.open("wb")
    try:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--verbosity", "0"],
            cwd=ROOT, env=env, check=True, capture_output=True,
        )  # fmt: skip
        created = json.loads(
            subprocess.run(
                [sys.executable, "manage.py", "create_project", "Resilience"],
                cwd=ROOT, env=env, check=True, capture_output=True, text=True,
            ).stdout.strip().splitlines()[-1]
        )  # fmt: skip
        env["DATABASE_URL"] = urlunsplit(
            db_parts._replace(netloc=netloc(db_parts, database.port), path=f"/{name}")
        )
        env["REDIS_URL"] = urlunsplit(redis_parts._replace(netloc=netloc(redis_parts, redis.port)))
        port = _free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "console.wsgi:application", "--workers", "1",
             "--bind", f"127.0.0.1:{port}", "--timeout", "60", "--log-level", "debug"],
            cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT,
        )  # fmt: skip
        live = LiveServer(
            base=f"http://127.0.0.1:{port}",
            keys=created["keys"],
            database=database,
            redis=redis,
            log_path=log_path,
            project=created["project"],
            env=env,
            direct_database_url=direct_url,
            direct_redis_url=redis_url,
        )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            if server.poll() is not None:
                pytest.fail(f"the server exited during start-up:\n{live.log_text()[-3000:]}")
            try:
                live.console("GET", "/console/v1/gates")
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    pytest.fail("the server did not start in time")
                time.sleep(0.2)
        _create_entities(live)
        yield live
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        log_file.close()
        database.close()
        redis.close()
        _admin_sql(maintenance, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _create_entities(live: LiveServer) -> None:
    """A gate, and an experiment in a layer, through the console API (rebuilds run inline)."""
    steps = [
        ("POST", "/console/v1/gates", {"name": "Resilience gate", "id": live.gate}),
        (
            "POST",
            "/console/v1/layers",
            {
                "name": "Resilience layer",
                "id": "resilience_layer",
                "idType": "userID",
                "parameters": [{"name": "color", "type": "string", "defaultValue": "blue"}],
            },
        ),
        (
            "POST",
            "/console/v1/experiments",
            {
                "name": "Resilience experiment",
                "id": live.experiment,
                "idType": "userID",
                "layerID": "resilience_layer",
            },
        ),
        ("PUT", f"/console/v1/experiments/{live.experiment}/start", {}),
    ]
    for method, path, body in steps:
        response = live.console(method, path, body)
        assert response.status in (200, 201), (path, response.status, response.body[:500])
