"""What ingestion keeps of a body: one bad event never costs the batch, and a key limited to
environments cannot file events under another.

A body that orjson reads (nearly all) is stored as read: NUL characters are taken out column by
column (``events.rows``), and one C-level encode of the events shows that none is nested deeper
than the store takes. A body only Python's parser reads (a lone surrogate, NaN, Infinity, an
integer beyond 64 bits) has each event repaired by the rules of ``console.wire.values``; an event
nested more than ``wire.MAX_DEPTH`` levels deep is dropped (``invalid_event``) and counted.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from console import wire
from console.keycache import ResolvedKey
from events.models import DropReason
from events.services import IngestBatch


def storable_events(events: list, *, exact: bool) -> tuple[list, int]:
    """``(events fit to store, how many were dropped)``."""
    if exact:
        try:
            orjson.dumps(events)
        except orjson.JSONEncodeError:
            pass
        else:
            return events, 0
    kept: list = []
    dropped = 0
    for event in events:
        try:
            kept.append(wire.repaired(event))
        except wire.TooDeep:
            dropped += 1
    return kept, dropped


def storable_payload(payload: Any, list_key: str, *, exact: bool) -> tuple[Any, int]:
    """A Statsig body (``{list_key: [...], user?, statsigMetadata?}``) with its events made
    storable one by one (``storable_events``) and its other fields repaired."""
    if not isinstance(payload, dict) or not isinstance(payload.get(list_key), list):
        return payload, 0  # the parser refuses the shape, naming what is wrong
    if exact:
        try:
            orjson.dumps(payload)
        except orjson.JSONEncodeError:
            pass
        else:
            return payload, 0
    events, dropped = storable_events(payload[list_key], exact=False)
    repaired: dict[str, Any] = {}
    for field, value in payload.items():
        if field == list_key:
            repaired[field] = events
            continue
        try:
            repaired[wire.repaired(field)] = wire.repaired(value)
        except wire.TooDeep:
            continue  # a batch-level field too deep to keep: the events stand without it
    return repaired, dropped


def count_dropped(batch: IngestBatch, dropped: int) -> None:
    if dropped:
        batch.drops[DropReason.INVALID_EVENT] += dropped


def keep_to_key_environments(batch: IngestBatch, key: ResolvedKey) -> None:
    """A key limited to environments files what it sends in them: a row claiming another
    environment is stored under the key's first one (as evaluation with that key answers)."""
    if not key.environments:
        return
    rows: Iterable[dict[str, Any]] = (*batch.events, *batch.exposures)
    for row in rows:
        if row["environment"] and row["environment"] not in key.environments:
            row["environment"] = key.environments[0]
