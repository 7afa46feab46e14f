"""Exposure buffering: the evaluation endpoints hand a request's exposures to
``buffer_request_exposures`` (contract dicts go to ``buffer_exposures``) and never write to the
database on the request path.

- With Redis (``settings.REDIS_URL``): JSON in a Redis list. A request's exposures are encoded
  in one call as one line (what they share written once: ``events.exposure_lines``), and
  queued requests share a list item, one per line, up to about ``ROWS_PER_QUEUE_ITEM`` rows. A
  request only appends its line to an in-process buffer; a background thread moves them to
  Redis every ``REDIS_FORWARD_SECONDS`` in one ``RPUSH`` (a round trip to Redis per request
  cost as much as the evaluation; a process killed outright loses at most that interval). A
  beat job (``events.tasks.drain_exposures``, every ~2 s) moves them to the database in batches
  of about ``DRAIN_BATCH_SIZE`` rows, one multi-row ``INSERT ... ON CONFLICT DO NOTHING`` per
  batch, and only then trims them from the list. Every row carries a uuid assigned when it is
  queued, so a drain that dies after its commit and before its ``LTRIM`` repeats the batch
  harmlessly: the drain is idempotent and a worker restart loses nothing.
- Without Redis, or while Redis is unreachable: the same in-process buffer, written to the
  database by that thread every ``LOCAL_FLUSH_SECONDS`` and at interpreter exit (a clean shutdown
  loses nothing). Without the thread (``EXPOSURE_FLUSH_THREAD`` off, as in the test suite) each
  request pushes to Redis itself.
  When that buffer is full, new exposures are counted as dropped (``buffer_full``), never raised.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import threading
import time
import uuid
from collections import Counter, deque
from typing import Any

from django.conf import settings

from console.breaker import REDIS, REDIS_ERRORS
from events.exposure_lines import (
    ROWS_PER_QUEUE_ITEM,
    UNKNOWN_PROJECT,
    UnstorableItem,
    contract_row,
    encode_request,
    lines_of,
    parkable,
    queue_items,
    rows_of_line,
)

logger = logging.getLogger(__name__)

QUEUE_KEY = "flag_events:exposures"
# Items the drain could not store: parked here (never read again by the drain) so one bad item
# cannot stop every project's exposures; the hash counts them by project for the console.
DEAD_LETTER_KEY = "flag_events:exposures:dead-letter"
DEAD_LETTER_COUNTS_KEY = "flag_events:exposures:dead-letter-counts"
DRAIN_LOCK_KEY = "flag_events:exposures:drain-lock"
DRAIN_BATCH_SIZE = 5_000
# A drain holds its lock this long at most (a crashed drain frees it by expiry).
DRAIN_LOCK_MS = 60_000
# Off the request path (the forwarding thread, the drain) a call to Redis may wait this long. The
# request path's 100 ms was once used for forwarding too: under load an RPUSH of a few thousand
# rows outlasted it, the breaker opened, and for its back-off every exposure was written to the
# database by the web process itself, holding the GIL for tens of milliseconds per batch.
BACKGROUND_SOCKET_TIMEOUT_SECONDS = 5.0
LOCAL_FLUSH_SECONDS = 1.0
REDIS_FORWARD_SECONDS = 0.1
REDIS_FORWARD_BATCH = 5_000
LOCAL_BUFFER_LIMIT = 200_000

_lock = threading.Lock()
# (rows, encoded rows): a request's rows, kept or dropped together.
_local: deque[tuple[int, bytes]] = deque()
_local_rows = 0
_local_dropped: Counter[int] = Counter()
_redis_clients: dict[str, tuple[str, Any]] = {}
_flusher: threading.Thread | None = None
_flusher_stop = threading.Event()


# ---------------------------------------------------------------------------------------------
# The request path.


def buffer_exposures(project_id: int, exposures: list[dict]) -> None:
    """Queues exposures for a bulk write later. Never raises, never touches the database.

    Each dict: ``kind`` ("gate"|"config"|"layer"), ``name``, ``rule_id``, ``value`` (bool|None),
    ``group_name``, ``user`` (the Statsig user dict), ``environment`` (tier|None),
    ``secondary_exposures`` (list), ``time`` (epoch ms), ``source``, optional ``parameter_name``,
    ``allocated_experiment`` and ``uuid``.
    """
    if not exposures:
        return
    try:
        rows = [contract_row(exposure) for exposure in exposures]
    except Exception:  # malformed input must not fail an evaluation
        logger.exception("exposure buffer: could not read exposures project_id=%s", project_id)
        return
    buffer_request_exposures(project_id, {}, rows)


def buffer_request_exposures(project_id: int, shared: dict, rows: list) -> None:
    """``buffer_exposures`` for one request's exposures, as the evaluation endpoints make them:
    ``shared`` holds the contract keys every exposure of the request has in common (``kind``,
    ``user``, ``environment``, ``time``, ``source``, ``allocated_experiment``...), and each row
    the values of ``ROW_FIELDS`` in that order (a tuple), or a contract dict of its own. The
    objects are encoded before this returns, so they may be shared and reused."""
    if not rows:
        return
    try:
        entries = encode_request(project_id, shared, rows, int(time.time() * 1000))
    except Exception:  # malformed input must not fail an evaluation
        logger.exception("exposure buffer: could not encode exposures project_id=%s", project_id)
        return
    _queue(project_id, entries)


def _queue(project_id: int, entries: list[tuple[int, bytes]]) -> None:
    if _flush_thread_enabled() or not _push_to_redis(entries):
        _push_local(project_id, entries)


def _redis(*, background: bool = False):
    """The Redis client: the request path's pushes give up after ``REDIS_SOCKET_TIMEOUT_MS``;
    the forwarding thread and the drain, off the request path and moving thousands of rows a
    call, wait up to ``BACKGROUND_SOCKET_TIMEOUT_SECONDS``."""
    url = settings.REDIS_URL
    purpose = "background" if background else "request"
    client = _redis_clients.get(purpose)
    if client is None or client[0] != url:
        import redis

        timeout = (
            BACKGROUND_SOCKET_TIMEOUT_SECONDS
            if background
            else settings.REDIS_SOCKET_TIMEOUT_MS / 1000
        )
        client = (
            url,
            redis.Redis.from_url(
                url,
                socket_connect_timeout=timeout,
                socket_timeout=timeout,
            ),
        )
        _redis_clients[purpose] = client
    return client[1]


def redis_enabled() -> bool:
    return bool(getattr(settings, "REDIS_URL", ""))


def _redis_usable() -> bool:
    """Redis is configured and its circuit breaker lets a call through (see console.breaker)."""
    return redis_enabled() and REDIS.allows()


def _push_to_redis(entries: list[tuple[int, bytes]], *, background: bool = False) -> bool:
    """Appends to the queue; False when Redis is unavailable. The forwarding thread
    (``background``) does not consult the request paths' circuit breaker: it waits on Redis
    longer than a request may, so a request's timeout must not send its rows to the database
    for the breaker's back-off. Its failure still opens the breaker for the requests."""
    if not (redis_enabled() if background else _redis_usable()):
        return False
    try:
        _redis(background=background).rpush(QUEUE_KEY, *queue_items(entries))
    except REDIS_ERRORS as exc:  # Redis down or hung: keep the exposures locally
        REDIS.failed(exc)
        logger.warning("exposure buffer: redis unavailable, buffering locally error=%s", exc)
        return False
    if not background:
        REDIS.succeeded()
    return True


def _push_local(project_id: int, entries: list[tuple[int, bytes]]) -> None:
    global _local_rows
    with _lock:
        for count, encoded in entries:
            if _local_rows + count > LOCAL_BUFFER_LIMIT:
                _local_dropped[project_id] += count
            else:
                _local.append((count, encoded))
                _local_rows += count
    _ensure_flusher()


def _take_local(limit: int) -> list[tuple[int, bytes]]:
    """Takes up to ``limit`` rows' worth of entries (at least one) from the front; call with
    ``_lock`` held."""
    global _local_rows
    entries: list[tuple[int, bytes]] = []
    rows = 0
    while _local and (not entries or rows + _local[0][0] <= limit):
        entry = _local.popleft()
        entries.append(entry)
        rows += entry[0]
    _local_rows -= rows
    return entries


def _put_back_local(entries: list[tuple[int, bytes]]) -> None:
    """Puts taken entries back at the front; call with ``_lock`` held."""
    global _local_rows
    _local.extendleft(reversed(entries))
    _local_rows += sum(count for count, _encoded in entries)


# ---------------------------------------------------------------------------------------------
# The local buffer: a daemon thread and an exit hook write it.


def _flush_thread_enabled() -> bool:
    # Off under the test suite (pytest-env): each test owns its database transaction, and a
    # thread writing on its own connection would leak rows between tests; tests flush
    # explicitly with flush_local_buffer.
    return settings.EXPOSURE_FLUSH_THREAD


def _ensure_flusher() -> None:
    global _flusher
    if _flusher is not None and _flusher.is_alive():
        return
    if not _flush_thread_enabled():
        return
    with _lock:
        if _flusher is not None and _flusher.is_alive():
            return
        _flusher_stop.clear()
        _flusher = threading.Thread(target=_flush_loop, name="exposure-buffer-flush", daemon=True)
        _flusher.start()


def _flush_loop() -> None:
    from django.db import connection

    last_write = time.monotonic()
    while not _flusher_stop.wait(REDIS_FORWARD_SECONDS):
        if not _local and not _local_dropped:
            continue
        if _forward_to_redis() and not _local_dropped:
            continue
        if time.monotonic() - last_write < LOCAL_FLUSH_SECONDS:
            continue
        last_write = time.monotonic()
        try:
            flush_local_buffer()
        except Exception:
            logger.exception("exposure buffer: flush failed, will retry")
        finally:
            with contextlib.suppress(Exception):
                connection.close()


def _forward_to_redis() -> bool:
    """Moves the in-process buffer to the Redis queue; False (the rows kept here) when there is
    no Redis or it failed."""
    if not redis_enabled():
        return False
    while _local:
        with _lock:
            entries = _take_local(REDIS_FORWARD_BATCH)
        if not _push_to_redis(entries, background=True):
            with _lock:
                _put_back_local(entries)
            return False
    return True


def stop_flusher(timeout: float = 5.0) -> None:
    """Stops the background thread (tests; the exit hook flushes what is left)."""
    global _flusher
    _flusher_stop.set()
    thread = _flusher
    if thread is not None:
        thread.join(timeout)
    _flusher = None


def local_buffer_size() -> int:
    """Exposures waiting in this process."""
    return _local_rows


def flush_local_buffer(*, limit: int | None = None) -> int:
    """Writes the in-process buffer (or its first ``limit`` items); returns rows written. Items
    are put back at the front when the database is unavailable; an item that can never be
    stored is parked (in Redis when it answers, otherwise counted as a failed write)."""
    from django.db import transaction

    from events.models import DropReason, EventSource
    from events.store import record_drops

    with _lock:
        entries = _take_local(_local_rows if limit is None else limit)
        dropped = dict(_local_dropped)
        _local_dropped.clear()
    try:
        with transaction.atomic():
            written, parked = _store([encoded for _count, encoded in entries])
            unparked = _park_if_possible(parked)
            for project_id in dropped.keys() | unparked.keys():
                record_drops(
                    project_id=project_id,
                    source=EventSource.STATSIG_HTTP,
                    counts={
                        DropReason.BUFFER_FULL: dropped.get(project_id, 0),
                        DropReason.BUFFER_WRITE_FAILED: unparked.get(project_id, 0),
                    },
                )
    except Exception:
        with _lock:
            _put_back_local(entries)
            for project_id, n in dropped.items():
                _local_dropped[project_id] += n
        raise
    return written


def _park_if_possible(parked: list[tuple[bytes | str, UnstorableItem]]) -> dict[int, int]:
    """Parks items in Redis when it answers; returns the counts by project it could not park
    (they are logged and counted as failed writes instead)."""
    if not parked:
        return {}
    if _redis_usable():
        try:
            _park(_redis(background=True), parked)
            return {}
        except Exception as exc:
            logger.warning("exposure buffer: could not park items error=%s", exc)
    unparked: Counter[int] = Counter()
    for _item, problem in parked:
        logger.error(
            "exposure buffer: unstorable item dropped project_id=%s reason=%s",
            problem.project_id,
            problem.reason,
        )
        if problem.project_id != UNKNOWN_PROJECT:
            unparked[problem.project_id] += 1
    return dict(unparked)


def discard_local_buffer() -> None:
    """Forgets buffered exposures and the Redis back-off (tests)."""
    global _local_rows
    with _lock:
        _local.clear()
        _local_rows = 0
        _local_dropped.clear()
    REDIS.reset()


@atexit.register
def _flush_at_exit() -> None:
    _flusher_stop.set()
    if not _local and not _local_dropped:
        return
    if _forward_to_redis() and not _local_dropped:
        return
    try:
        written = flush_local_buffer()
        logger.info("exposure buffer: flushed at exit rows=%s", written)
    except Exception:
        logger.exception("exposure buffer: flush at exit failed rows=%s", _local_rows)


# ---------------------------------------------------------------------------------------------
# The Redis queue's drain (a beat job).


_RELEASE_LOCK = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


def _store(items: list[bytes | str]) -> tuple[int, list[tuple[bytes | str, UnstorableItem]]]:
    """Stores what can be stored of ``items``; returns (rows written, the unstorable items with
    why). A row PostgreSQL refuses for its data is isolated by storing the batch one row at a
    time; a database outage raises, leaving every item to be retried."""
    from django.db import DataError, IntegrityError, transaction

    from events.store import insert_exposures

    rows: list[dict[str, Any]] = []
    row_sources: list[bytes | str | dict] = []
    parked: list[tuple[bytes | str, UnstorableItem]] = []
    for line in lines_of(items):
        for source, row in rows_of_line(line):
            if isinstance(row, UnstorableItem):
                parked.append((parkable(source), row))
            else:
                rows.append(row)
                row_sources.append(source)
    try:
        with transaction.atomic():
            for start in range(0, len(rows), DRAIN_BATCH_SIZE):
                insert_exposures(rows[start : start + DRAIN_BATCH_SIZE], idempotent=True)
        return len(rows), parked
    except (DataError, IntegrityError, ValueError):
        logger.warning("exposure buffer: a batch was refused, storing it row by row")
    written = 0
    for source, row in zip(row_sources, rows, strict=True):
        try:
            with transaction.atomic():
                insert_exposures([row], idempotent=True)
            written += 1
        except (DataError, IntegrityError, ValueError) as exc:
            reason = f"refused by the database: {type(exc).__name__}"
            parked.append((parkable(source), UnstorableItem(reason, row["project_id"])))
    return written, parked


def _park(client, parked: list[tuple[bytes | str, UnstorableItem]]) -> None:
    """Moves unstorable items to the dead-letter list and counts them by project."""
    if not parked:
        return
    pipe = client.pipeline()
    pipe.rpush(DEAD_LETTER_KEY, *(item for item, _problem in parked))
    for _item, problem in parked:
        pipe.hincrby(DEAD_LETTER_COUNTS_KEY, str(problem.project_id), 1)
    pipe.execute()
    for _item, problem in parked:
        logger.error(
            "exposure buffer: item parked in the dead-letter list project_id=%s reason=%s",
            problem.project_id,
            problem.reason,
        )


def drain_redis_queue(*, max_batches: int = 20, batch_size: int = DRAIN_BATCH_SIZE) -> int:
    """Moves queued exposures to the database; returns the rows written. Safe to run from
    several workers (a lock) and to repeat after a crash (idempotent inserts, trim after commit).
    An item that can never be stored is parked in the dead-letter list, so it costs no one else
    their exposures; a database outage raises (the task fails, the queue is kept)."""
    if not redis_enabled():
        return 0
    client = _redis(background=True)
    token = uuid.uuid4().hex
    if not client.set(DRAIN_LOCK_KEY, token, nx=True, px=DRAIN_LOCK_MS):
        return 0
    written = 0
    items_per_batch = max(1, batch_size // ROWS_PER_QUEUE_ITEM)
    try:
        for _ in range(max_batches):
            items = client.lrange(QUEUE_KEY, 0, items_per_batch - 1)
            if not items:
                break
            stored, parked = _store(items)
            _park(client, parked)
            # Only after the commit: a crash before this line repeats the batch next time.
            client.ltrim(QUEUE_KEY, len(items), -1)
            written += stored
            if len(items) < items_per_batch:
                break
    finally:
        with contextlib.suppress(Exception):
            client.eval(_RELEASE_LOCK, 1, DRAIN_LOCK_KEY, token)
    return written


def dead_letter_length() -> int:
    """Items parked since the list was last emptied by hand (0 without Redis)."""
    if not redis_enabled():
        return 0
    return int(_redis().llen(DEAD_LETTER_KEY))


def dead_letter_counts() -> dict[int, int]:
    """Parked items by project id (``UNKNOWN_PROJECT`` for unreadable ones)."""
    if not redis_enabled():
        return {}
    raw = _redis().hgetall(DEAD_LETTER_COUNTS_KEY)
    return {int(project): int(count) for project, count in raw.items()}


def parked_count(project_id: int) -> int:
    """How many of a project's exposures were parked; 0 when Redis cannot say."""
    if not redis_enabled():
        return 0
    try:
        count = _redis().hget(DEAD_LETTER_COUNTS_KEY, str(project_id))
    except Exception:
        return 0
    return int(count or 0)


def queue_length() -> int:
    """Exposures waiting in the Redis queue (or the local buffer without Redis); -1 when Redis
    does not answer. Reads the whole list: for tests and diagnosis, not for a hot path."""
    if not redis_enabled():
        return _local_rows
    try:
        return sum(len(rows_of_line(line)) for line in lines_of(_redis().lrange(QUEUE_KEY, 0, -1)))
    except Exception:
        return -1


def drain_all() -> int:
    """Everything buffered, wherever it is (the beat job, demo data and tests). Raises when
    either buffer could not be written, after trying both, so the task reports the failure."""
    written = 0
    failure: Exception | None = None
    if redis_enabled():
        try:
            written += drain_redis_queue()
        except Exception as exc:
            logger.exception("exposure buffer: redis drain failed")
            failure = exc
    if _local or _local_dropped:
        try:
            written += flush_local_buffer()
        except Exception as exc:
            logger.exception("exposure buffer: local flush failed")
            failure = failure or exc
    if failure is not None:
        raise failure
    return written
