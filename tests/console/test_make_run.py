"""What ``make run`` relies on: ``seed_demo`` reuses its keys on a restart instead of minting
new ones, and ``devserver`` stops its web server, worker and beat on SIGTERM as on Ctrl-C."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.core.management import call_command

from console.actors import Actor
from console.keycache import hash_secret
from console.models import ApiKey, Project, Role
from console.services.api_keys import api_key_deactivate

ROOT = Path(__file__).resolve().parents[2]


def seed(output: Path) -> dict:
    call_command("seed_demo", "--output", str(output), "--verbosity", "0", stdout=io.StringIO())
    return json.loads(output.read_text())


def test_seed_demo__run_again__same_keys_no_new_ones(db, tmp_path):
    output = tmp_path / "demo.json"
    # Given a first run
    first = seed(output)
    project = Project.objects.get(slug=first["project"])
    keys_after_first = ApiKey.objects.filter(project=project).count()
    assert oct(output.stat().st_mode & 0o777) == "0o600"
    # When it runs again (a restart of make run)
    second = seed(output)
    # Then the same secrets are printed and no key was added
    assert second["keys"] == first["keys"]
    assert ApiKey.objects.filter(project=project).count() == keys_after_first
    for kind, secret in second["keys"].items():
        key = ApiKey.objects.get(secret_hash=hash_secret(secret))
        assert (key.project, key.kind, key.is_active) == (project, kind, True)


def test_seed_demo__a_written_key_deactivated__only_that_one_replaced(db, tmp_path):
    output = tmp_path / "demo.json"
    first = seed(output)
    project = Project.objects.get(slug=first["project"])
    server_key = ApiKey.objects.get(secret_hash=hash_secret(first["keys"]["server"]))
    owner = project.memberships.get(role=Role.ADMIN).user
    api_key_deactivate(
        project=project, actor=Actor.for_user(owner, Role.ADMIN), key_ref=server_key.public_id
    )
    second = seed(output)
    assert second["keys"]["server"] != first["keys"]["server"]
    assert second["keys"]["client"] == first["keys"]["client"]
    assert second["keys"]["console"] == first["keys"]["console"]
    assert ApiKey.objects.get(secret_hash=hash_secret(second["keys"]["server"])).is_active


def test_seed_demo__file_missing__new_keys_written(db, tmp_path):
    first = seed(tmp_path / "demo.json")
    second = seed(tmp_path / "elsewhere.json")
    assert set(second["keys"]) == {"server", "client", "console"}
    assert second["keys"]["server"] != first["keys"]["server"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def _descendants(pid: int) -> list[int]:
    """Children, their children (the web server's workers), and so on."""
    found, queue = [], _children(pid)
    while queue:
        child = queue.pop()
        found.append(child)
        try:
            queue += _children(child)
        except FileNotFoundError:
            continue
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads child processes from /proc")
def test_devserver__sigterm__stops_web_worker_and_beat(tmp_path):
    # Given devserver on its own SQLite, broker folders and port, with a welcome file
    port = _free_port()
    welcome = tmp_path / "welcome.json"
    welcome.write_text('{"keys": "shown after start-up"}')
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CELERY_TASK_ALWAYS_EAGER"}
    }
    env.update(DJANGO_DEBUG="1", CONSOLE_VAR_DIR=str(tmp_path / "var"))
    log = (tmp_path / "devserver.log").open("w")
    devserver = subprocess.Popen(
        [sys.executable, "manage.py", "devserver", "--addr", f"127.0.0.1:{port}",
         "--welcome-file", str(welcome)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while "shown after start-up" not in (tmp_path / "devserver.log").read_text():
            assert devserver.poll() is None, (tmp_path / "devserver.log").read_text()
            assert time.monotonic() < deadline, "devserver did not start"
            time.sleep(0.3)
        assert len(_children(devserver.pid)) == 3  # web server, worker, beat
        descendants = _descendants(devserver.pid)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=5) as r:
            assert r.status == 200
        # When only devserver gets SIGTERM (as from a supervisor or `kill`)
        devserver.send_signal(signal.SIGTERM)
        # Then it exits, and so do its web server (with its workers), worker and beat
        devserver.wait(timeout=30)
        deadline = time.monotonic() + 15
        while any(_alive(pid) for pid in descendants) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not [pid for pid in descendants if _alive(pid)]
    finally:
        if devserver.poll() is None:
            devserver.kill()
        log.close()
