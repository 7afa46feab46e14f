"""``manage.py serve`` (granian) as in production: it answers the data plane, the console and
its static files (WhiteNoise), masks the server secret in its access log, and restarts its workers on SIGHUP without refusing
a request."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

from console.models import Role
from flags.services.gates import gate_create

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _call(base: str, path: str, body: dict | None = None, key: str | None = None):
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json", **({"statsig-api-key": key} if key else {})}
    request = urllib.request.Request(base + path, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.fixture
def served(tmp_path):
    """``manage.py serve --access-log`` on the test database (transactional tests only)."""
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgres") or not os.environ.get("REDIS_URL"):
        pytest.skip("needs the PostgreSQL and Redis of CI (make test sets them)")
    port = _free_port()
    log = tmp_path / "serve.log"
    env = {
        **os.environ,
        "DATABASE_URL": f"{database_url.rsplit('/', 1)[0]}/{connection.settings_dict['NAME']}",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_STATIC_ROOT": str(tmp_path),
        "LOG_LEVEL": "WARNING",
    }
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=ROOT, env=env, check=True,
    )  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--bind", f"127.0.0.1:{port}",
             "--workers", "1", "--threads", "2", "--access-log", "--graceful-timeout", "5"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while _ready(base) is False:
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        yield base, process, log
    finally:
        process.terminate()
        process.wait(timeout=30)


def _ready(base: str) -> bool:
    try:
        return _call(base, "/v1/ping")[0] == 401
    except OSError:
        return False


@pytest.mark.django_db(transaction=True)
def test_serve__data_plane_console_and_sighup__answers_throughout(served, world):
    base, process, log = served
    # Given a gate
    gate_create(project=world.project, actor=world.actor(Role.MEMBER), name="Everyone")
    server = world.keys["server"]
    check = {"user": {"userID": "u1"}, "gateName": "everyone"}

    # When the SDK endpoints, the ruleset download and a console page are asked
    status, body = _call(base, "/v1/check_gate", check, server)
    assert (status, json.loads(body)["name"]) == (200, "everyone")
    status, body = _call(base, f"/v1/download_config_specs/{server}.json")
    assert status == 200
    assert [spec["name"] for spec in json.loads(body)["feature_gates"]] == ["everyone"]
    assert _call(base, "/accounts/login/")[0] == 200
    static = _call(base, "/static/console.css")
    assert static[0] == 200

    # And the workers are restarted with SIGHUP while requests keep coming
    process.send_signal(signal.SIGHUP)
    statuses = set()
    deadline = time.monotonic() + 4
    while time.monotonic() < deadline:
        statuses.add(_call(base, "/v1/check_gate", check, server)[0])
        time.sleep(0.05)

    # Then every answer was a 200, and the access log names the paths without the secret
    assert statuses == {200}
    assert process.poll() is None
    time.sleep(0.5)
    text = log.read_text()
    assert "POST /v1/check_gate 200" in text
    assert "GET /v1/download_config_specs/***.json 200" in text
    assert server not in text
