"""Bulk writes to the event store: one statement per table per call.

PostgreSQL gets ``COPY ... FROM STDIN`` through psycopg 3 (rows are routed to their monthly
partition by the server); other databases get one ``bulk_create``. The exposure buffer's drain uses
``insert_exposures(..., idempotent=True)``: a multi-row ``INSERT ... ON CONFLICT DO NOTHING`` on
the exposure's uuid, so a batch written twice (a worker that died between the commit and the
removal from the queue) is stored once.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

import orjson
from django.db import connection

from events.models import DroppedEventCount, Event, Exposure
from events.rows import EVENT_COLUMNS, EXPOSURE_COLUMNS, JSON_COLUMNS


def use_copy() -> bool:
    return connection.vendor == "postgresql"


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=str)
_JSON_OPTIONS = orjson.OPT_NON_STR_KEYS


def _dump_json(value: Any) -> str:
    """orjson (a few times faster, and what dominated a large batch's write); the standard
    encoder for what orjson refuses (an integer beyond 64 bits, nesting past 255 levels)."""
    try:
        return orjson.dumps(value, option=_JSON_OPTIONS).decode()
    except orjson.JSONEncodeError:
        return _ENCODER.encode(value)


def copy_rows(table: str, columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> int:
    """``COPY table (columns) FROM STDIN`` with ``rows``; returns the number of rows sent."""
    quote = connection.ops.quote_name
    sql = f"COPY {quote(table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    json_positions = [i for i, column in enumerate(columns) if column in JSON_COLUMNS]
    started = time.monotonic()
    count = 0
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            values = [row[column] for column in columns]
            for position in json_positions:
                values[position] = _dump_json(values[position])
            copy.write_row(values)
            count += 1
    if connection.queries_logged:
        # Django logs what goes through cursor.execute; COPY does not, so log it the same way
        # (the tests count statements per request with CaptureQueriesContext).
        connection.queries_log.append(
            {"sql": f"{sql} -- {count} rows", "time": f"{time.monotonic() - started:.3f}"}
        )
    return count


def insert_events(rows: Sequence[Mapping[str, Any]]) -> int:
    if not rows:
        return 0
    if use_copy():
        return copy_rows(Event._meta.db_table, EVENT_COLUMNS, rows)
    Event.objects.bulk_create([Event(**row) for row in rows])
    return len(rows)


def insert_exposures(rows: Sequence[Mapping[str, Any]], *, idempotent: bool = False) -> int:
    """Writes exposure rows in one statement. ``idempotent`` skips rows whose uuid is stored."""
    if not rows:
        return 0
    if use_copy() and not idempotent:
        return copy_rows(Exposure._meta.db_table, EXPOSURE_COLUMNS, rows)
    objects = [Exposure(**row) for row in rows]
    Exposure.objects.bulk_create(objects, ignore_conflicts=idempotent, batch_size=None)
    return len(rows)


def record_drops(
    *, project_id: int, source: str, counts: Mapping[str, int], day: date | None = None
) -> None:
    """Adds ``counts`` ({reason: n}) to the day's dropped-event counters in one upsert."""
    counts = {reason: n for reason, n in counts.items() if n > 0}
    if not counts:
        return
    from events.rows import now

    day = day or now().date()
    table = connection.ops.quote_name(DroppedEventCount._meta.db_table)
    values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(counts))
    params: list[Any] = []
    for reason, n in sorted(counts.items()):
        params.extend([project_id, day, source, reason, n])
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (project_id, day, source, reason, count) VALUES {values} "
            "ON CONFLICT (project_id, day, source, reason) "
            f"DO UPDATE SET count = {table}.count + EXCLUDED.count",
            params,
        )
