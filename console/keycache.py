"""Resolving an API key on the hot path without a database query.

Each process keeps the keys it has seen for ``API_KEY_CACHE_SECONDS``; a deactivation clears the
entry in the process that made it at once, and in every other process within that time. Use of a
key is noted in the shared cache (not the database); a beat job copies it to ``last_used_at``.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

USAGE_CACHE_PREFIX = "apikey-used:"
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


_lock = threading.Lock()
_resolved: dict[str, tuple[float, ResolvedKey | None]] = {}
_usage_noted: dict[int, float] = {}


def hash_secret(secret: str) -> str:
    """What is stored of a key. Keys are 32 random bytes, so a fast unsalted hash is enough, and
    looking a key up by its hash leaks nothing usable through timing (only bits of the hash)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _load(secret_hash: str) -> ResolvedKey | None:
    from console.models import ApiKey

    row = (
        ApiKey.objects.filter(secret_hash=secret_hash)
        .values("pk", "public_id", "project_id", "kind", "environments", "is_active")
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
    )


def resolve_api_key(secret: str) -> ResolvedKey | None:
    """The key a secret belongs to (active or not), or None. Lookup is by the secret's hash, so
    response time does not depend on how much of a guessed secret is right."""
    if not secret or len(secret) > 200:
        return None
    secret_hash = hash_secret(secret)
    now = time.monotonic()
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


def _note_usage(key: ResolvedKey, now: float) -> None:
    if _usage_noted.get(key.pk, 0.0) > now:
        return
    _usage_noted[key.pk] = now + USAGE_NOTE_INTERVAL_SECONDS
    with contextlib.suppress(Exception):
        cache.set(f"{USAGE_CACHE_PREFIX}{key.pk}", int(time.time()), timeout=24 * 3600)


def forget_api_key(secret_hash: str) -> None:
    with _lock:
        _resolved.pop(secret_hash, None)


def forget_all_api_keys() -> None:
    with _lock:
        _resolved.clear()
        _usage_noted.clear()
