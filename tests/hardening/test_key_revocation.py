"""A deactivated key stops in every process within a second: the deactivating process publishes
a notice in Redis (as rulesets announce new versions) and every process looks for it at most
every 250 ms; with Redis unreachable the database tells. Console-key writes ask the database.

"The other process" is simulated the way it would act: it changes the database row and publishes
the notice, without touching this process's in-memory copy of the key."""

from __future__ import annotations

import time

from django.utils import timezone

from console.breaker import REDIS
from console.keycache import announce_revocation, hash_secret, resolve_api_key
from console.models import ApiKey

ONE_SECOND = 1.0


def _deactivated_elsewhere(secret_hash: str, *, announce: bool) -> None:
    ApiKey.objects.filter(secret_hash=secret_hash).update(
        is_active=False, deactivated_at=timezone.now()
    )
    if announce:
        announce_revocation()


def _seconds_until_refused(request) -> float:
    started = time.monotonic()
    while time.monotonic() - started < 3 * ONE_SECOND:
        if request() in (401, 403):
            return time.monotonic() - started
        time.sleep(0.02)
    raise AssertionError("the revoked key kept working for 3 s")


def test_server_key_revoked_in_another_process__refused_here_within_one_second(api, world):
    # Given this process has the server key in memory (it answered a request)
    secret = world.keys["server"]
    body = {"gateName": "g", "user": {"userID": "u"}}
    assert api.post("/v1/check_gate", body, key=secret).status_code == 200

    # When another process deactivates it and announces the revocation
    _deactivated_elsewhere(hash_secret(secret), announce=True)

    # Then this process refuses it within a second
    waited = _seconds_until_refused(
        lambda: api.post("/v1/check_gate", body, key=secret).status_code
    )
    assert waited < ONE_SECOND


def test_key_revoked_while_redis_unreachable__database_tells_within_one_second(api, world):
    secret = world.keys["server"]
    body = {"gateName": "g", "user": {"userID": "u"}}
    assert api.post("/v1/check_gate", body, key=secret).status_code == 200
    # Given Redis is out of reach (its circuit breaker open), so no notice can travel
    REDIS.failed(ConnectionError("redis down"))
    try:
        _deactivated_elsewhere(hash_secret(secret), announce=False)

        waited = _seconds_until_refused(
            lambda: api.post("/v1/check_gate", body, key=secret).status_code
        )
    finally:
        REDIS.reset()
    assert waited < ONE_SECOND


def test_console_key_revoked_elsewhere__cannot_create_a_key_even_before_the_notice(api, world):
    # Given the console key is in this process's memory
    secret = world.keys["console"]
    assert api.get("/console/v1/gates", key=secret).status_code == 200

    # When another process deactivates it and no notice has arrived yet
    assert resolve_api_key(secret).is_active
    _deactivated_elsewhere(hash_secret(secret), announce=False)

    # Then a write with it is refused at once: writes ask the database
    response = api.post("/console/v1/keys", {"description": "x", "type": "CONSOLE"}, key=secret)
    assert response.status_code == 401
    assert ApiKey.objects.filter(project=world.project).count() == 3
