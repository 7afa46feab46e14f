"""Resolving an API key on the hot path without a database query.

Each process keeps the keys it has seen for ``API_KEY_CACHE_SECONDS``. A deactivation clears the
entry in the process that made it at once and publishes a revocation notice (a new stamp under
``REVOCATION_CACHE_KEY`` in the shared cache, as rulesets announce new versions); every process
looks at that stamp at most every ``REVOCATION_CHECK_SECONDS`` while it resolves keys and forgets
every key it holds when the stamp changed, so a revoked key stops everywhere within that interval.
While Redis is unreachable (its circuit breaker open) or not shared, the stamp is read from the
database instead (the newest deactivation time). Use of a key is noted in the shared cache (not
the database); a beat job copies it to ``last_used_at``.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from console.breaker import REDIS, REDIS_ERRORS

USAGE_CACHE_PREFIX = "apikey-used:"
REVOCATION_CACHE_KEY = "apikey-revocations"
# How stale a process's view of revocations may be (the bound is one second).
REVOCATION_CHECK_SECONDS = 0.25
# A process notes a key's use at most this often, so a busy key costs one cache write a minute.
USAGE_NOTE_INTERVAL_SECONDS = 30


@dataclass(frozen=True, slots=True)
class ResolvedKey:
    pk: int
    public_id: str
    project_id: int
    kind: str
    environments: tuple[str, ...]
    is_active: bool
    scopes: tuple[str, ...] = ()


_lock = threading.Lock()
_resolved: dict[str, tuple[float, ResolvedKey | None]] = {}
_usage_noted: dict[int, float] = {}
# (next check on the monotonic clock, the revocation stamp last seen)
_revocations: list = [0.0, None]


def hash_secret(secret: str) -> str:
    """What is stored of a key. Keys are 32 random bytes, so a fast unsalted hash is enough, and
    looking a key up by its hash leaks nothing usable through timing (only bits of the hash)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _load(secret_hash: str) -> ResolvedKey | None:
    from console.models import ApiKey

    row = (
        ApiKey.objects.filter(secret_hash=secret_hash)
        .values("pk", "public_id", "project_id", "kind", "environments", "is_active", "scopes")
        .first()
    )
    if row is None:
        return None
    return ResolvedKey(
        pk=row["pk"],
        public_id=row["public_id"],
        project_id=row["project_id"],
        kind=row["kind"],
        environments=tuple(row["environments"] or ()),
        is_active=row["is_active"],
        scopes=tuple(row["scopes"] or ()),
    )


def resolve_api_key(secret: str) -> ResolvedKey | None:
    """The key a secret belongs to (active or not), or None. Lookup is by the secret's hash, so
    response time does not depend on how much of a guessed secret is right."""
    if not secret or len(secret) > 200:
        return None
    secret_hash = hash_secret(secret)
    now = time.monotonic()
    if now >= _revocations[0]:
        _check_revocations(now)
    cached = _resolved.get(secret_hash)
    if cached is not None and cached[0] > now:
        key = cached[1]
    else:
        key = _load(secret_hash)
        with _lock:
            _resolved[secret_hash] = (now + settings.API_KEY_CACHE_SECONDS, key)
    if key is not None and key.is_active:
        _note_usage(key, now)
    return key


def _revocation_stamp() -> str | None:
    """The newest revocation as the shared cache announces it, or (Redis unusable or not shared)
    as the database records it."""
    if settings.CACHE_IS_SHARED and REDIS.allows():
        try:
            stamp = cache.get(REVOCATION_CACHE_KEY)
        except REDIS_ERRORS as exc:
            REDIS.failed(exc)
        else:
            REDIS.succeeded()
            return None if stamp is None else f"cache:{stamp}"
    from django.db.models import Max

    from console.models import ApiKey

    newest = ApiKey.objects.aggregate(newest=Max("deactivated_at"))["newest"]
    return None if newest is None else f"db:{newest.isoformat()}"


def _check_revocations(now: float) -> None:
    with _lock:
        if now < _revocations[0]:
            return
        _revocations[0] = now + REVOCATION_CHECK_SECONDS
    try:
        stamp = _revocation_stamp()
    except Exception:  # the database is down too: keep the keys held, check again later
        return
    if stamp != _revocations[1]:
        with _lock:
            _resolved.clear()
            _revocations[1] = stamp


def resolve_api_key_from_database(secret: str) -> ResolvedKey | None:
    """The key as the database has it now, past every cache (for writes a revoked key must never
    make, such as creating keys or approving changes)."""
    if not secret or len(secret) > 200:
        return None
    secret_hash = hash_secret(secret)
    key = _load(secret_hash)
    with _lock:
        _resolved[secret_hash] = (time.monotonic() + settings.API_KEY_CACHE_SECONDS, key)
    return key


def _note_usage(key: ResolvedKey, now: float) -> None:
    if _usage_noted.get(key.pk, 0.0) > now:
        return
    _usage_noted[key.pk] = now + USAGE_NOTE_INTERVAL_SECONDS
    if not REDIS.allows():
        return
    try:
        cache.set(f"{USAGE_CACHE_PREFIX}{key.pk}", int(time.time()), timeout=24 * 3600)
    except REDIS_ERRORS as exc:
        REDIS.failed(exc)


def forget_api_key(secret_hash: str) -> None:
    """Forgets a deactivated key here at once and tells every other process (see above)."""
    with _lock:
        _resolved.pop(secret_hash, None)
    announce_revocation()


def announce_revocation() -> None:
    """Publishes a new revocation stamp; other processes drop their keys when they see it."""
    if not settings.CACHE_IS_SHARED:
        return
    with contextlib.suppress(*REDIS_ERRORS):
        cache.set(REVOCATION_CACHE_KEY, time.time_ns(), timeout=None)


def forget_all_api_keys() -> None:
    with _lock:
        _resolved.clear()
        _usage_noted.clear()
        _revocations[:] = [0.0, None]
