"""PostgreSQL or Redis cut while the server runs (a cut TCP proxy, not a stopped server):
evaluation keeps answering from memory; writes and ingestion answer 503 JSON with Retry-After;
everything recovers when the proxy is restored, without a restart."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from tests.resilience.conftest import LiveServer, Response

RECOVERY_SECONDS = 20


def _user(user_id: str = "resilience-user") -> dict:
    return {"userID": user_id, "email": "someone@example.com"}


def _decide(live: LiveServer) -> Response:
    body = {"token": live.keys["client"], "distinct_id": "resilience-user"}
    return live.request("POST", "/decide/?v=3", body)


def _evaluations(live: LiveServer, *, decide: bool = True) -> dict[str, Response]:
    answers = {
        "check_gate": live.sdk("/v1/check_gate", {"user": _user(), "gateName": live.gate}),
        "get_config": live.sdk("/v1/get_config", {"user": _user(), "configName": live.experiment}),
        "get_layer": live.sdk("/v1/get_layer", {"user": _user(), "layerName": "resilience_layer"}),
    }
    if decide:
        answers["decide"] = _decide(live)
    return answers


def _warm(live: LiveServer) -> None:
    for _ in range(3):
        for name, response in _evaluations(live).items():
            assert response.status == 200, (name, response.status, response.body[:300])
    # A database connection an earlier test's cut broke, and that no request has touched since
    # (evaluation needs none), fails its first query with a 503 and is then replaced.
    assert _until_ok(lambda: live.console("GET", "/console/v1/gates")).status == 200


def _assert_unavailable(response: Response, what: str) -> None:
    assert response.status == 503, (what, response.status, response.body[:300])
    assert int(response.headers["Retry-After"]) > 0
    body = response.json()
    assert body["message"]
    assert b"Traceback" not in response.body


def _log_event(live: LiveServer) -> Response:
    event = {"eventName": "purchase", "user": _user(), "time": int(time.time() * 1000)}
    return live.sdk("/v1/log_event", {"events": [event]})


@contextmanager
def _evaluation_load(live: LiveServer, threads: int = 4) -> Iterator[Counter]:
    """Evaluation requests from several threads, back to back, while the block runs; yields the
    count of answers by status (0: no answer at all)."""
    statuses: Counter = Counter()
    stop = threading.Event()

    def send(worker: int) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            user = _user(f"load-{worker}-{n}")
            try:
                if n % 2:
                    response = live.sdk("/v1/check_gate", {"user": user, "gateName": live.gate})
                else:
                    body = {"user": user, "configName": live.experiment}
                    response = live.sdk("/v1/get_config", body)
                statuses[response.status] += 1
            except OSError:
                statuses[0] += 1

    workers = [threading.Thread(target=send, args=(i,), daemon=True) for i in range(threads)]
    for worker in workers:
        worker.start()
    try:
        yield statuses
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=30)


def _until_ok(call, seconds: float = RECOVERY_SECONDS) -> Response:
    deadline = time.monotonic() + seconds
    while True:
        response = call()
        if response.status < 300 or time.monotonic() > deadline:
            return response
        time.sleep(0.5)


def test_database_cut__evaluation_keeps_answering__writes_503_then_recover(proxied_server):
    # Given a warm server
    live = proxied_server
    _warm(live)

    # When PostgreSQL becomes unreachable while evaluation requests keep coming
    with _evaluation_load(live) as load:
        time.sleep(0.5)
        live.database.cut()
        try:
            # Then evaluation answers from the in-memory ruleset (/decide: see the test below)
            for _ in range(3):
                for name, response in _evaluations(live, decide=False).items():
                    assert response.status == 200, (name, response.status, response.body[:300])
            # And console writes and ingestion answer 503 with Retry-After, never a traceback
            _assert_unavailable(
                live.console("POST", "/console/v1/gates", {"name": "During outage"}), "gate create"
            )
            _assert_unavailable(_log_event(live), "log_event")
            time.sleep(2)
        finally:
            live.database.restore()
        time.sleep(0.5)
    # And every request of the load before, during and after the cut was answered 200
    assert set(load) == {200}, load
    assert load[200] >= 100, load

    # When PostgreSQL is back, writes recover without a restart
    created = _until_ok(lambda: live.console("POST", "/console/v1/gates", {"name": "After outage"}))
    assert created.status in (200, 201), created.body[:300]
    assert _until_ok(lambda: _log_event(live)).status in (200, 202)
    for name, response in _evaluations(live).items():
        assert response.status == 200, name


def test_database_cut__decide__answers_from_memory(proxied_server):
    # Given a warm server
    live = proxied_server
    _warm(live)

    # When PostgreSQL becomes unreachable
    live.database.cut()
    try:
        response = _decide(live)
    finally:
        live.database.restore()

    # Then /decide still answers 200
    assert response.status == 200, response.body[:300]


def test_redis_cut__evaluation_and_exposures_keep_answering(proxied_server):
    # Given a warm server
    live = proxied_server
    _warm(live)

    # When Redis becomes unreachable while evaluation requests keep coming
    with _evaluation_load(live) as load:
        time.sleep(0.5)
        live.redis.cut()
        try:
            # Then evaluation (which buffers exposures) keeps answering
            for index in range(5):
                for name, response in _evaluations(live).items():
                    assert response.status == 200, (index, name, response.status, response.body)
            # And custom exposures are accepted or refused cleanly, never a 5xx other than 503
            exposure = live.sdk(
                "/v1/log_custom_exposure",
                {
                    "exposures": [
                        {"gate": live.gate, "gateValue": True, "ruleID": "r", "user": _user()}
                    ]
                },
            )
            assert exposure.status < 500 or exposure.status == 503, exposure.body[:300]
            time.sleep(2)
        finally:
            live.redis.restore()
        time.sleep(0.5)
    assert set(load) == {200}, load
    assert load[200] >= 100, load

    # When Redis is back, evaluation still answers
    for name, response in _evaluations(live).items():
        assert response.status == 200, name
