"""A paused Redis (SIGSTOP: connections accepted, nothing answered) costs evaluation nothing
measurable: short socket timeouts and one circuit breaker with back-off keep the ruleset check,
the key revocation notice and the exposure buffer away from it.

The test starts its own redis-server on a free port (the shared one is never paused), points the
cache and the exposure buffer at it, and measures evaluation requests before and during the pause.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest

from console.breaker import MAX_BACKOFF_SECONDS, REDIS
from events import exposures
from events.exposures import local_buffer_size

REDIS_SERVER = shutil.which("redis-server")
pytestmark = pytest.mark.skipif(REDIS_SERVER is None, reason="needs a redis-server binary")

REQUESTS = 150
SPACING_SECONDS = 0.015  # ~2.5 s of requests: several ruleset checks and breaker trials
SLOW_SECONDS = 0.05
PRODUCTION_SOCKET_TIMEOUT_MS = 100


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def own_redis(settings) -> Iterator[subprocess.Popen]:
    port = _free_port()
    server = subprocess.Popen(
        [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                server.kill()
                pytest.fail("redis-server did not start")
            time.sleep(0.05)
    settings.REDIS_URL = url
    # The production default (the suite runs with a longer one: its shared Redis is busy).
    settings.REDIS_SOCKET_TIMEOUT_MS = PRODUCTION_SOCKET_TIMEOUT_MS
    timeout = PRODUCTION_SOCKET_TIMEOUT_MS / 1000
    settings.CACHES = {
        "default": {
            **settings.CACHES["default"],
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "OPTIONS": {"socket_connect_timeout": timeout, "socket_timeout": timeout},
        }
    }
    REDIS.reset()
    try:
        yield server
    finally:
        os.kill(server.pid, signal.SIGCONT)
        server.terminate()
        server.wait(timeout=10)
        REDIS.reset()
        exposures.discard_local_buffer()


def _timed_evaluations(api, key: str) -> list[float]:
    body = {"gateName": "a_gate", "user": {"userID": "u1"}}
    durations = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        response = api.post("/v1/check_gate", body, key=key)
        durations.append(time.perf_counter() - started)
        assert response.status_code == 200
        time.sleep(SPACING_SECONDS)
    return durations


def test_redis_paused__evaluation_keeps_answering_fast__recovers_after(api, world, own_redis):
    key = world.keys["server"]
    created = api.post("/console/v1/gates", {"name": "a_gate"}, key=world.keys["console"])
    assert created.status_code in (200, 201)
    # Given a warm process talking to its Redis
    baseline = _timed_evaluations(api, key)

    # When Redis is paused
    os.kill(own_redis.pid, signal.SIGSTOP)
    try:
        paused = _timed_evaluations(api, key)
    finally:
        os.kill(own_redis.pid, signal.SIGCONT)

    # Then no request waited more than one short socket timeout, and at most a handful
    # (the breaker's trials) were slow at all
    slow = [d for d in paused if d > SLOW_SECONDS]
    assert max(paused) < 0.5, sorted(paused)[-5:]
    assert len(slow) <= 6, (len(slow), sorted(paused)[-8:])
    # And the pause cost less than half a second over the whole run
    assert sum(paused) - sum(baseline) < 0.5, (sum(paused), sum(baseline))
    # And exposures were kept in the process meanwhile
    assert local_buffer_size() > 0

    # When Redis answers again, the breaker closes after its back-off and exposures go there
    body = {"gateName": "a_gate", "user": {"userID": "u"}}
    deadline = time.monotonic() + 3 * MAX_BACKOFF_SECONDS
    while REDIS.is_open and time.monotonic() < deadline:
        assert api.post("/v1/check_gate", body, key=key).status_code == 200
        time.sleep(0.1)
    queued = exposures.queue_length()
    assert api.post("/v1/check_gate", body, key=key).status_code == 200
    assert not REDIS.is_open
    assert exposures.queue_length() == queued + 1
