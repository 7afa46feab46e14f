"""End to end: the unmodified ``statsig`` SDK initialises from a running server, checks a gate,
and sees a rules change made through the service after its next sync: once against the test
server thread, once against a separate gunicorn process as in production."""

from __future__ import annotations

import os
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
from flags.services.gates import gate_create, gate_update

statsig = pytest.importorskip("statsig")
from statsig import StatsigOptions, StatsigUser  # noqa: E402
from statsig.statsig_server import StatsigServer  # noqa: E402

SYNC_WAIT_SECONDS = 15


ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db(transaction=True)
def test_sdk__pointed_at_our_server__evaluates_and_follows_changes(live_server, world, settings):
    settings.RULESET_CHECK_INTERVAL_MS = 50
    _sdk_follows_gate_changes(world, f"{live_server.url}/v1")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server_process():
    """gunicorn serving the test database (committed data: transactional tests only)."""
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgres") or not os.environ.get("REDIS_URL"):
        pytest.skip("needs the PostgreSQL and Redis of CI (make test sets them)")
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"{database_url.rsplit('/', 1)[0]}/{connection.settings_dict['NAME']}",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "RULESET_CHECK_INTERVAL_MS": "50",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "console.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", "1", "--log-level", "warning"],
        cwd=ROOT,
        env=env,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{base}/v1/ping", timeout=1)
            except urllib.error.HTTPError:
                break  # answering (401 without a key)
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.mark.django_db(transaction=True)
def test_sdk__pointed_at_a_gunicorn_process__evaluates_and_follows_changes(server_process, world):
    _sdk_follows_gate_changes(world, f"{server_process}/v1")


def _sdk_follows_gate_changes(world, api_base: str) -> None:
    # Given a gate passing only example.com staff, served by a running server
    actor = world.actor(Role.MEMBER)
    gate_create(
        project=world.project,
        actor=actor,
        name="Staff",
        rules=[
            {
                "name": "Staff",
                "passPercentage": 100,
                "conditions": [
                    {
                        "type": "email",
                        "operator": "str_ends_with_any",
                        "targetValue": ["@example.com"],
                    }
                ],
            }
        ],
    )
    staff = StatsigUser(user_id="1", email="ada@example.com")
    guest = StatsigUser(user_id="2", email="bob@elsewhere.org")

    # When the unmodified SDK initialises against it
    server = StatsigServer()
    details = server.initialize(
        world.keys["server"],
        StatsigOptions(api=api_base, rulesets_sync_interval=1, disable_all_logging=True),
    )
    try:
        assert details.source.name.lower() == "network"
        assert server.check_gate(staff, "staff") is True
        assert server.check_gate(guest, "staff") is False

        # And the rules change through the service
        gate_update(
            project=world.project,
            actor=actor,
            gate_id="staff",
            rules=[{"name": "Everyone", "passPercentage": 100, "conditions": []}],
        )

        # Then the SDK sees the change after its next sync
        deadline = time.monotonic() + SYNC_WAIT_SECONDS
        while not server.check_gate(guest, "staff") and time.monotonic() < deadline:
            time.sleep(0.2)
        assert server.check_gate(guest, "staff") is True
    finally:
        server.shutdown()
