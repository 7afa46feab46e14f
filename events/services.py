"""Writes to the event store. ``ingest_batch`` is the one way ingestion endpoints store what a
request carried: committed before the endpoint answers 2xx, one bulk statement per table."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from events.persons import GroupOp, PersonOp, groups_apply, persons_apply
from events.store import insert_events, insert_exposures, record_drops


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
    with transaction.atomic():
        insert_events(batch.events)
        insert_exposures(batch.exposures)
        persons_apply(project_id=batch.project_id, ops=batch.person_ops)
        groups_apply(project_id=batch.project_id, ops=batch.group_ops)
        record_drops(project_id=batch.project_id, source=batch.source, counts=batch.drops)
    return IngestResult(
        accepted=batch.accepted_events,
        dropped=batch.dropped,
        dropped_reasons=dict(sorted(batch.drops.items())),
    )
