"""Per-request locks held while a worker erases a request's data.

Both kinds are released by the operating system or the database when the process dies, so a
killed worker never leaves a request locked: the next run claims it at once.

- PostgreSQL: a session-level advisory lock, taken while the request row is held with
  ``SELECT ... FOR UPDATE SKIP LOCKED`` (so concurrent claimers skip it without waiting), kept
  across the chunk transactions, released explicitly or when the connection closes.
- Elsewhere (SQLite, one machine by nature): an exclusive ``flock`` on a file under
  ``VAR_DIR/locks``, released when its descriptor closes, i.e. at the latest when the process exits.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.db import connection

#: High bits of the advisory lock key, so our keys do not collide with other advisory locks.
_ADVISORY_NAMESPACE = 0x5052_4956  # "PRIV"


class RequestLock(Protocol):
    def try_acquire(self, pk: int) -> bool: ...

    def release(self, pk: int) -> None: ...


class PostgresAdvisoryLock:
    @staticmethod
    def _key(pk: int) -> int:
        return (_ADVISORY_NAMESPACE << 32) | (pk & 0xFFFF_FFFF)

    def try_acquire(self, pk: int) -> bool:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [self._key(pk)])
            return bool(cursor.fetchone()[0])

    def release(self, pk: int) -> None:
        if connection.connection is None:  # the connection is gone, and its locks with it
            return
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [self._key(pk)])


class FileLock:
    def __init__(self) -> None:
        self._held: dict[int, int] = {}
        database = str(connection.settings_dict.get("NAME") or "default")
        self._prefix = hashlib.sha256(database.encode()).hexdigest()[:12]
        self._dir = Path(settings.VAR_DIR) / "locks"

    def _path(self, pk: int) -> Path:
        return self._dir / f"deletion-{self._prefix}-{pk}.lock"

    def try_acquire(self, pk: int) -> bool:
        import fcntl

        if pk in self._held:
            return False
        self._dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._path(pk), os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._held[pk] = fd
        return True

    def release(self, pk: int) -> None:
        import fcntl

        fd = self._held.pop(pk, None)
        if fd is None:
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


def request_lock() -> RequestLock:
    if connection.vendor == "postgresql":
        return PostgresAdvisoryLock()
    return FileLock()
