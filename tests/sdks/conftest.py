"""The official SDKs against a live test server: the Node packages pinned in
``tests/sdks/node/package-lock.json`` are installed with ``npm ci`` into a cache directory outside
the tree (once per lock file), and every SDK's answers are compared with our own HTTP API."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from console.models import Role
from flags.services.gates import gate_create
from ruleset import store as ruleset_store
from tests.sdks.world import SdkWorld, build_sdk_world

NODE_DIR = Path(__file__).resolve().parent / "node"
LAYER_PARAMS = {"homepage": ["color", "count"]}
HARNESS_TIMEOUT_SECONDS = 180


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "flagconsole-sdk-tests"


def _install_node_packages() -> Path:
    """``npm ci`` of the pinned SDKs into ``<cache>/<lock digest>``; reused while the lock file
    is unchanged. Returns the ``node_modules`` directory."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip(
            "Node.js and npm are needed for the Node SDK tests (.ci/services installs them)"
        )
    lock = (NODE_DIR / "package-lock.json").read_bytes()
    target = _cache_root() / hashlib.sha256(lock).hexdigest()[:16]
    target.mkdir(parents=True, exist_ok=True)
    with open(target / ".install-lock", "w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        done = target / ".installed"
        if not done.exists():
            for name in ("package.json", "package-lock.json"):
                shutil.copyfile(NODE_DIR / name, target / name)
            subprocess.run(
                ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=target,
                check=True,
                timeout=600,
            )
            done.touch()
    return target / "node_modules"


@pytest.fixture(scope="session")
def node_modules() -> Path:
    return _install_node_packages()


def run_harness(command: list[str], job: dict[str, Any], env: dict[str, str]) -> list[dict]:
    """Runs an SDK harness (``command job.json answers.json``) and returns its answers."""
    with tempfile.TemporaryDirectory() as folder:
        job_file, answers_file = Path(folder) / "job.json", Path(folder) / "answers.json"
        job_file.write_text(json.dumps(job))
        completed = subprocess.run(
            [*command, str(job_file), str(answers_file)],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=HARNESS_TIMEOUT_SECONDS,
        )
        assert completed.returncode == 0, completed.stderr + completed.stdout
        return json.loads(answers_file.read_text())["answers"]


@pytest.fixture
def run_node_sdk(node_modules):
    """``run_node_sdk(job)`` runs ``node/harness.cjs`` with ``job`` and returns its answers."""

    def run(job: dict[str, Any]) -> list[dict[str, Any]]:
        command = ["node", str(NODE_DIR / "harness.cjs")]
        return run_harness(command, job, {"NODE_PATH": str(node_modules)})

    return run


@pytest.fixture
def live_base(live_server) -> str:
    # 127.0.0.1, not "localhost": no IPv6 attempt before each request.
    return live_server.url.replace("localhost", "127.0.0.1")


@pytest.fixture
def sdk_world(world) -> SdkWorld:
    built = build_sdk_world(world)
    ruleset_store.rebuild(world.project.id)
    return built


@pytest.fixture
def staff_gate(world) -> str:
    """One gate, ``staff``: users whose email ends with ``@a.com`` pass."""
    gate_create(
        project=world.project,
        actor=world.actor(Role.MEMBER),
        name="Staff",
        rules=[
            {
                "name": "Staff",
                "passPercentage": 100,
                "conditions": [
                    {"type": "email", "operator": "str_ends_with_any", "targetValue": ["@a.com"]}
                ],
            }
        ],
    )
    ruleset_store.rebuild(world.project.id)
    return "staff"


def wait_for(predicate, timeout: float = 15.0) -> bool:
    """Polls until ``predicate()`` holds (what an SDK flushed is written by the server thread)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


def reference_answers(
    base: str, key: str, users: list[dict[str, Any]], world: SdkWorld
) -> list[dict[str, Any]]:
    """What our own ``/v1/check_gate``, ``get_config`` and ``get_layer`` answer for each user,
    in the shape the harness prints (without logging exposures)."""
    session = requests.Session()
    session.headers["STATSIG-API-KEY"] = key
    quiet = {"statsigMetadata": {"exposureLoggingDisabled": True}}

    def call(endpoint: str, body: dict[str, Any]):
        response = session.post(f"{base}/v1/{endpoint}", json={**body, **quiet}, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    answers = []
    for user in users:
        gates = call("check_gate", {"user": user, "gateNames": world.gates})
        layers = {
            layer: call("get_layer", {"user": user, "layerName": layer})["value"]
            for layer in world.layers
        }
        answers.append(
            {
                "gates": {gate["name"]: gate["value"] for gate in gates},
                "configs": {
                    name: call("get_config", {"user": user, "configName": name})["value"]
                    for name in world.configs
                },
                "experiments": {
                    name: call("get_config", {"user": user, "configName": name})["value"]
                    for name in world.experiments
                },
                "layers": {
                    layer: {param: layers[layer].get(param) for param in params}
                    for layer, params in LAYER_PARAMS.items()
                },
            }
        )
    session.close()
    return answers


def sdk_job(sdk: str, base: str, key: str, users: list[dict], world: SdkWorld, event: str):
    return {
        "sdk": sdk,
        "base": base,
        "key": key,
        "users": users,
        "gates": world.gates,
        "configs": world.configs,
        "experiments": world.experiments,
        "layers": LAYER_PARAMS,
        "event": event,
    }
