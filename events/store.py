"""Bulk writes to the event store: one statement per table per call.

PostgreSQL gets ``COPY ... FROM STDIN`` through psycopg 3 (rows are routed to their monthly
partition by the server); other databases get one ``bulk_create``. The exposure buffer's drain uses
``insert_exposures(..., idempotent=True)``: a multi-row ``INSERT ... ON CONFLICT DO NOTHING`` on
the exposure's uuid, so a batch written twice (a worker that died between the commit and the
removal from the queue) is stored once.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import orjson
from django.db import connection, models

from events.models import DroppedEventCount, Event, Exposure
from events.rows import EVENT_COLUMNS, EXPOSURE_COLUMNS


def use_copy() -> bool:
    return connection.vendor == "postgresql"


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=str)
_JSON_OPTIONS = orjson.OPT_NON_STR_KEYS
_EMPTY_JSON = {dict: "{}", list: "[]"}
NULL = "\\N"
# COPY data goes out in slices of this many rows: the server parses, routes and indexes one
# slice while the next one is formatted here, instead of starting once the whole batch is text
# (a 1,000-row batch, measured in-process: about 4 ms less of the write on two cores).
COPY_SLICE_ROWS = 200
# What a cell of COPY's text format must escape: its delimiters and the escape character itself.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _dump_json(value: Any) -> str:
    """orjson (a few times faster, and what dominated a large batch's write); the standard
    encoder for what orjson refuses (an integer beyond 64 bits, nesting past 255 levels)."""
    if not value and type(value) in _EMPTY_JSON:
        return _EMPTY_JSON[type(value)]  # most rows leave several JSON columns empty
    try:
        return orjson.dumps(value, option=_JSON_OPTIONS).decode()
    except orjson.JSONEncodeError:
        return _ENCODER.encode(value)


def _json_cells(values: list) -> list[str]:
    return [_dump_json(value) for value in values]


def _flag_cells(values: list) -> list[str]:
    return [NULL if value is None else ("t" if value else "f") for value in values]


def _nullable_text(value: Any) -> str:
    return NULL if value is None else str(value)


def _nullable_text_cells(values: list) -> list[str]:
    return [NULL if value is None else str(value) for value in values]


def _time_cells(values: list) -> list[str]:
    """Most rows of a batch share their received time (and often their time): each distinct
    value is formatted once."""
    texts = {
        value: value.isoformat() if type(value) is datetime else _nullable_text(value)
        for value in set(values)
    }
    return [texts[value] for value in values]


def _column_writer(field: models.Field) -> Callable[[list], list[str]] | None:
    """How a column's values become text cells; None for text columns, whose rows hold str."""
    if isinstance(field, models.JSONField):
        return _json_cells
    if isinstance(field, models.BooleanField):
        return _flag_cells
    if isinstance(field, models.DateTimeField):
        return _time_cells
    if isinstance(field, models.CharField | models.TextField) and not field.null:
        return None
    return _nullable_text_cells


def _copy_text(model: type[models.Model], columns: Sequence[str], rows: Sequence) -> str:
    """``rows`` in COPY's text format, built a column at a time (one comprehension per column
    costs less than a writer call per cell), then joined row by row. A batch where no cell holds
    a tab, newline, carriage return or backslash (the counts show it: the only backslashes are
    those of the NULL markers) needs no escaping, nearly every batch; otherwise every cell is
    escaped."""
    if not rows:
        return ""
    columns_cells: list[list[str]] = []
    nulls = 0
    for column in columns:
        values = [row[column] for row in rows]
        writer = _column_writer(model._meta.get_field(column))
        if writer is None:
            columns_cells.append(values)
            continue
        if writer is not _json_cells:
            nulls += values.count(None)  # the cells these writers turn into NULL markers
        columns_cells.append(writer(values))
    rows_cells = list(zip(*columns_cells, strict=True))
    text = "\n".join(["\t".join(cells) for cells in rows_cells])
    tabs = len(rows_cells) * (len(columns) - 1)
    if (
        text.count("\t") != tabs
        or text.count("\n") != len(rows_cells) - 1
        or text.count("\\") != nulls
        or "\r" in text
    ):
        text = "\n".join(
            [
                "\t".join(
                    [cell if cell is NULL else cell.translate(_COPY_ESCAPES) for cell in cells]
                )
                for cells in rows_cells
            ]
        )
    return text + "\n"


def copy_rows(model: type[models.Model], columns: Sequence[str], rows: Iterable) -> int:
    """``COPY table (columns) FROM STDIN`` with ``rows`` (dicts keyed by column), sent in slices
    of ``COPY_SLICE_ROWS``; returns the number of rows sent."""
    return copy_slices(model, columns, _slices(list(rows)))


def _slices(rows: Sequence) -> Iterable[Sequence]:
    return (rows[start : start + COPY_SLICE_ROWS] for start in range(0, len(rows), COPY_SLICE_ROWS))


def copy_slices(
    model: type[models.Model], columns: Sequence[str], slices: Iterable[Sequence]
) -> int:
    """``copy_rows`` of rows that come a slice at a time: each slice is sent as soon as the
    iterable yields it, so the work that makes the next one (parsing a request's next events)
    overlaps the server storing this one. No statement at all when every slice is empty."""
    slices = iter(slices)
    first = next((rows for rows in slices if rows), None)
    if first is None:
        return 0
    quote = connection.ops.quote_name
    table = model._meta.db_table
    sql = f"COPY {quote(table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    started = time.monotonic()
    count = 0
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for rows in itertools.chain((first,), slices):
            copy.write(_copy_text(model, columns, rows).encode())
            count += len(rows)
    if connection.queries_logged:
        # Django logs what goes through cursor.execute; COPY does not, so log it the same way
        # (the tests count statements per request with CaptureQueriesContext).
        connection.queries_log.append(
            {"sql": f"{sql} -- {count} rows", "time": f"{time.monotonic() - started:.3f}"}
        )
    return count


def insert_events(rows: Sequence[Mapping[str, Any]]) -> int:
    return insert_event_slices(_slices(rows))


def insert_event_slices(slices: Iterable[Sequence[Mapping[str, Any]]]) -> int:
    """Event rows that come a slice at a time (see ``copy_slices``), in one statement."""
    if use_copy():
        return copy_slices(Event, EVENT_COLUMNS, slices)
    rows = [row for rows in slices for row in rows]
    Event.objects.bulk_create([Event(**row) for row in rows])
    return len(rows)


def insert_exposures(rows: Sequence[Mapping[str, Any]], *, idempotent: bool = False) -> int:
    """Writes exposure rows in one statement. ``idempotent`` skips rows whose uuid is stored."""
    if not rows:
        return 0
    if use_copy() and not idempotent:
        return copy_rows(Exposure, EXPOSURE_COLUMNS, rows)
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
