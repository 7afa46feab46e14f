"""Writes to the event store. ``ingest_batch`` (or ``ingest_parts``, for a request parsed a part
at a time) is the one way ingestion endpoints store what a request carried: committed before the
endpoint answers 2xx, one bulk statement per table."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from events.persons import GroupOp, PersonOp, groups_apply, persons_apply
from events.store import insert_event_slices, insert_exposures, record_drops


@dataclass
class IngestBatch:
    """What one request carried, already normalised into rows (``events.rows``)."""

    project_id: int
    source: str
    events: list[dict[str, Any]] = field(default_factory=list)
    exposures: list[dict[str, Any]] = field(default_factory=list)
    person_ops: list[PersonOp] = field(default_factory=list)
    group_ops: list[GroupOp] = field(default_factory=list)
    drops: Counter[str] = field(default_factory=Counter)
    # Wire events accepted (set by the parser: one wire event can be an event row, an exposure
    # row or a person update).
    accepted_events: int = 0

    @property
    def dropped(self) -> int:
        return sum(self.drops.values())


@dataclass(frozen=True)
class IngestResult:
    accepted: int
    dropped: int
    dropped_reasons: dict[str, int]


def ingest_batch(*, batch: IngestBatch) -> IngestResult:
    """Stores a request's events, exposures, person and group updates and drop counts in one
    transaction (committed when this returns)."""
    return ingest_parts(project_id=batch.project_id, source=batch.source, parts=[batch])


def ingest_parts(*, project_id: int, source: str, parts: Iterable[IngestBatch]) -> IngestResult:
    """``ingest_batch`` of a request parsed a part at a time: each part's events go to the store
    as the part is made (``insert_event_slices``), so parsing the next part overlaps the
    database storing this one; the rest of the parts is written after the events."""
    whole = IngestBatch(project_id=project_id, source=source)

    def event_slices() -> Iterator[list[dict[str, Any]]]:
        for part in parts:
            whole.exposures += part.exposures
            whole.person_ops += part.person_ops
            whole.group_ops += part.group_ops
            whole.drops.update(part.drops)
            whole.accepted_events += part.accepted_events
            yield part.events

    with transaction.atomic():
        insert_event_slices(event_slices())
        insert_exposures(whole.exposures)
        persons_apply(project_id=project_id, ops=whole.person_ops)
        groups_apply(project_id=project_id, ops=whole.group_ops)
        record_drops(project_id=project_id, source=source, counts=whole.drops)
    return IngestResult(
        accepted=whole.accepted_events,
        dropped=whole.dropped,
        dropped_reasons=dict(sorted(whole.drops.items())),
    )
