"""The exposure queue's line format: a request's exposures encoded as one JSON line, and a line
read back as the rows the exposure store keeps (``events.exposures`` queues and drains them).

One JSON object per request:

    {"project_id", "received_ms", "uuid", "shared": {...}, "rows": [row, ...]}

An exposure is ``shared`` (what all of the request's exposures have in common: kind, user,
environment, time, source...) completed by its row: the values of ``ROW_FIELDS`` in that order,
or a dict of contract keys. Row ``i``'s uuid is the line's ``uuid`` plus ``i`` (unless its dict
brings one), so a repeated drain writes the same rows. A 100-gate check wrote its user, every
key name and a uuid a hundred times the other way: eight times the bytes, and most of the
request's time. Lines of earlier versions (a row dict, or an array of them) are still read.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from typing import Any

import orjson

from events.rows import exposure_row

ROW_FIELDS = ("name", "rule_id", "value", "group_name", "secondary_exposures")
# Queued requests share a Redis list item, a line each, up to about this many rows to an item.
# JSON has no raw newlines, so the drain reads each line, and each row of it, on its own.
ROWS_PER_QUEUE_ITEM = 100
# The project counted for an item too broken to name one.
UNKNOWN_PROJECT = 0
_UUID_SPACE = 1 << 128

# What json.dumps(default=str) would write for these, so the encoders agree.
_ORJSON_OPTIONS = (
    orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_SUBCLASS
)


def contract_row(exposure: dict) -> dict:
    """A contract dict as a row of its own (a dict row, with nothing shared)."""
    row = {
        "kind": exposure.get("kind"),
        "name": exposure.get("name"),
        "rule_id": exposure.get("rule_id"),
        "value": exposure.get("value"),
        "group_name": exposure.get("group_name"),
        "user": exposure.get("user"),
        "environment": exposure.get("environment"),
        "secondary_exposures": exposure.get("secondary_exposures"),
        "time": exposure.get("time"),
        "source": exposure.get("source"),
        "parameter_name": exposure.get("parameter_name"),
        "allocated_experiment": exposure.get("allocated_experiment"),
    }
    if exposure.get("uuid"):
        row["uuid"] = str(exposure["uuid"])
    return row


def _row_uuid(base: int, index: int) -> str:
    """Row ``index``'s uuid as 32 hex digits (which uuid.UUID and PostgreSQL read)."""
    return f"{(base + index) % _UUID_SPACE:032x}"


def encode_request(
    project_id: int, shared: dict, rows: list, received_ms: int
) -> list[tuple[int, bytes]]:
    """A request's exposures as one line, or, when orjson refuses it (a lone surrogate, an
    integer past 64 bits), a line per row, the refused ones by the standard encoder: the drain
    then parks just those. One read of the system's randomness per request."""
    base = secrets.token_hex(16)
    line = {
        "project_id": project_id,
        "received_ms": received_ms,
        "uuid": base,
        "shared": shared,
        "rows": rows,
    }
    try:
        return [(len(rows), orjson.dumps(line, default=str, option=_ORJSON_OPTIONS))]
    except (orjson.JSONEncodeError, TypeError):
        first = int(base, 16)
        return [
            (1, _encode_line({**line, "uuid": _row_uuid(first, index), "rows": [row]}))
            for index, row in enumerate(rows)
        ]


def _encode_line(line: dict) -> bytes:
    try:
        return orjson.dumps(line, default=str, option=_ORJSON_OPTIONS)
    except (orjson.JSONEncodeError, TypeError):
        return json.dumps(line, separators=(",", ":"), default=str).encode()


class UnstorableItem(ValueError):
    """An item no write could ever store (not JSON, a lone surrogate, NaN, nesting past the
    decoder): it is parked, not retried."""

    def __init__(self, reason: str, project_id: int = UNKNOWN_PROJECT) -> None:
        super().__init__(reason)
        self.reason = reason
        self.project_id = project_id


TEXT_COLUMNS = (
    "kind",
    "name",
    "rule_id",
    "group_name",
    "parameter_name",
    "allocated_experiment",
    "user_id",
    "stable_id",
    "environment",
    "source",
)
_STRICT_JSON = json.JSONEncoder(allow_nan=False, ensure_ascii=False, check_circular=False)


def rows_of_line(
    line: bytes | str,
) -> list[tuple[bytes | str | dict, dict[str, Any] | UnstorableItem]]:
    """Each row of a queued line with what to park it by, and its database row or why it can
    never be stored."""
    try:
        decoded = json.loads(line)
    except (ValueError, RecursionError) as exc:
        return [(line, UnstorableItem(f"unreadable: {type(exc).__name__}"))]
    if isinstance(decoded, dict) and "rows" in decoded:
        return _request_rows(line, decoded)
    if isinstance(decoded, list):
        return [(payload, stored_row(payload)) for payload in decoded]
    return [(line, stored_row(decoded))]


def _request_rows(
    line: bytes | str, request: dict
) -> list[tuple[bytes | str | dict, dict[str, Any] | UnstorableItem]]:
    """The rows of a request's line (see ``encode_request``), each completed as a row dict of its own."""
    try:
        project_id = int(request["project_id"])
        received_ms = request["received_ms"]
        base = int(request["uuid"], 16)
        shared, rows = request["shared"], request["rows"]
        if not isinstance(shared, dict) or not isinstance(rows, list):
            raise TypeError("shared must be an object and rows a list")
    except (ValueError, KeyError, TypeError) as exc:
        return [(line, UnstorableItem(f"unreadable: {type(exc).__name__}"))]
    found: list[tuple[bytes | str | dict, dict[str, Any] | UnstorableItem]] = []
    for index, values in enumerate(rows):
        payload = dict(shared)
        if isinstance(values, dict):
            payload.update(values)
        elif isinstance(values, list) and len(values) == len(ROW_FIELDS):
            payload.update(zip(ROW_FIELDS, values, strict=True))
        else:  # parked as a line of its own
            alone = {**request, "uuid": _row_uuid(base, index), "rows": [values]}
            found.append((alone, UnstorableItem("unreadable: row", project_id)))
            continue
        payload["project_id"] = project_id
        payload["received_ms"] = received_ms
        if not payload.get("uuid"):
            payload["uuid"] = _row_uuid(base, index)
        found.append((payload, stored_row(payload)))
    return found


def stored_row(payload: Any) -> dict[str, Any] | UnstorableItem:
    try:
        project_id = int(payload["project_id"])
    except (ValueError, KeyError, TypeError) as exc:
        return UnstorableItem(f"unreadable: {type(exc).__name__}")
    try:
        received_at = datetime.fromtimestamp(payload["received_ms"] / 1000, tz=UTC)
        row = exposure_row(project_id, payload, received_at=received_at)
        # What PostgreSQL refuses: text that is not UTF-8 (lone surrogates) and NaN/Infinity
        # or NUL inside jsonb. One C-level encode per JSON column; clean rows pass unchanged.
        for name in ("user", "custom_ids", "secondary_exposures"):
            encoded = _STRICT_JSON.encode(row[name])
            encoded.encode("utf-8")
            if "\\u0000" in encoded:
                raise ValueError(f"NUL in {name}")
        for name in TEXT_COLUMNS:
            str(row[name]).encode("utf-8")
    except (ValueError, KeyError, TypeError, OverflowError, RecursionError) as exc:
        return UnstorableItem(f"{type(exc).__name__}: {str(exc)[:100]}", project_id)
    return row


def parkable(source: bytes | str | dict) -> bytes | str:
    """The text a row is parked as: a row of a request's line is written on its own."""
    if isinstance(source, dict):
        return json.dumps(source, separators=(",", ":"), default=str).encode()
    return source


def queue_items(entries: list[tuple[int, bytes]]) -> list[bytes]:
    """Requests' encoded rows joined a line each into list items of about
    ``ROWS_PER_QUEUE_ITEM`` rows."""
    items: list[bytes] = []
    lines: list[bytes] = []
    rows = 0
    for count, encoded in entries:
        lines.append(encoded)
        rows += count
        if rows >= ROWS_PER_QUEUE_ITEM:
            items.append(b"\n".join(lines))
            lines, rows = [], 0
    if lines:
        items.append(b"\n".join(lines))
    return items


def lines_of(items: list[bytes | str]) -> list[bytes | str]:
    """The lines of queue items (the local buffer's items are one line each)."""
    lines: list[bytes | str] = []
    for item in items:
        lines.extend(item.split(b"\n" if isinstance(item, bytes) else "\n"))
    return lines
