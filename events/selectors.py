"""Reads of the event store for the console's Events screen, the gate/experiment charts and the
check counts that entity lists show beside each entity."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import TruncDate

from console.models import Project
from events.models import DroppedEventCount, Event, Exposure, ExposureKind
from events.rows import now

DEFAULT_DAYS = 14
MAX_DAYS = 90
TAIL_LIMIT = 100

# ``exposure_counts(kind=...)`` accepts the console's entity names too.
KIND_ALIASES = {
    "gate": ExposureKind.GATE,
    "feature_gate": ExposureKind.GATE,
    "config": ExposureKind.CONFIG,
    "dynamic_config": ExposureKind.CONFIG,
    "experiment": ExposureKind.CONFIG,
    "layer": ExposureKind.LAYER,
}


def _since(days: int) -> datetime:
    days = max(1, min(int(days), MAX_DAYS))
    start = now().replace(hour=0, minute=0, second=0, microsecond=0)
    return start - timedelta(days=days - 1)


def _as_date(value: Any) -> date:
    return value.date() if isinstance(value, datetime) else value


def exposure_counts(
    *, project: Project, kind: str, name: str, days: int = DEFAULT_DAYS
) -> list[dict[str, Any]]:
    """Exposures per day of one gate (by ``value``: pass/fail) or config/experiment/layer (by
    ``group``: the experiment group, "" when none), oldest day first:
    ``[{"day": date, "value": bool | None, "count": n, "users": distinct users}]`` for gates,
    ``[{"day": date, "group": str, "count": n, "users": n}]`` otherwise."""
    stored_kind = KIND_ALIASES.get(kind, kind)
    split = "value" if stored_kind == ExposureKind.GATE else "group_name"
    rows = (
        Exposure.objects.filter(
            project_id=project.pk, kind=stored_kind, name=name, time__gte=_since(days)
        )
        .annotate(day=TruncDate("time"))
        .values("day", split)
        .annotate(count=Count("id"), users=Count("user_id", distinct=True))
        .order_by("day", split)
    )
    out = []
    for row in rows:
        item: dict[str, Any] = {"day": _as_date(row["day"])}
        if split == "value":
            item["value"] = row["value"]
        else:
            item["group"] = row["group_name"]
        item.update(count=row["count"], users=row["users"])
        out.append(item)
    return out


def exposure_totals(
    *, project: Project, kind: str, names: Iterable[str], since: datetime
) -> dict[str, int]:
    """Exposures (checks) of each named entity since ``since``, for a page of entities: one
    aggregated query whatever the number of names. Every name asked for is in the answer (0 when
    it has none); no query at all when there is no name."""
    wanted = list(dict.fromkeys(name for name in names if name))
    if not wanted:
        return {}
    rows = (
        Exposure.objects.filter(
            project_id=project.pk,
            kind=KIND_ALIASES.get(kind, kind),
            name__in=wanted,
            time__gte=since,
        )
        .values("name")
        .annotate(count=Count("id"))
        .order_by()
    )
    totals = dict.fromkeys(wanted, 0)
    totals.update((row["name"], row["count"]) for row in rows)
    return totals


def event_counts_per_day(
    *, project: Project, days: int = DEFAULT_DAYS, names: list[str] | None = None
) -> list[dict[str, Any]]:
    """``[{"day": date, "name": str, "count": n}]`` per event name per day, oldest day first."""
    queryset = Event.objects.filter(project_id=project.pk, time__gte=_since(days))
    if names:
        queryset = queryset.filter(name__in=names)
    rows = (
        queryset.annotate(day=TruncDate("time"))
        .values("day", "name")
        .annotate(count=Count("id"))
        .order_by("day", "name")
    )
    return [{"day": _as_date(r["day"]), "name": r["name"], "count": r["count"]} for r in rows]


def recent_events(
    *,
    project: Project,
    name: str | None = None,
    user_id: str | None = None,
    source: str | None = None,
    after_id: int | None = None,
    limit: int = TAIL_LIMIT,
) -> QuerySet[Event]:
    """The live tail: the newest received events, newest first; ``after_id`` returns only the
    ones stored since a previous poll."""
    # The time bound lets PostgreSQL skip old partitions.
    queryset = Event.objects.filter(project_id=project.pk, time__gte=_since(MAX_DAYS))
    if name:
        queryset = queryset.filter(name=name)
    if user_id:
        queryset = queryset.filter(user_id=user_id)
    if source:
        queryset = queryset.filter(source=source)
    if after_id:
        queryset = queryset.filter(id__gt=after_id)
    return queryset.order_by("-id")[: max(1, min(int(limit), 500))]


def dropped_counts(*, project: Project, days: int = DEFAULT_DAYS) -> list[dict[str, Any]]:
    """``[{"day": date, "source": str, "reason": str, "count": n}]``, newest day first."""
    start = _since(days).date()
    rows = (
        DroppedEventCount.objects.filter(project_id=project.pk, day__gte=start)
        .values("day", "source", "reason")
        .annotate(count=Sum("count"))
        .order_by("-day", "source", "reason")
    )
    return [dict(row) for row in rows]


def project_has_received_data(*, project: Project) -> bool:
    """Whether any event or exposure of the project has been stored: the "waiting for the first
    event" indicator of the console's Connect an SDK page."""
    return (
        Event.objects.filter(project_id=project.pk).exists()
        or Exposure.objects.filter(project_id=project.pk).exists()
    )


def parked_exposure_count(*, project: Project) -> int:
    """Exposures of the project the drain could not store and parked in its dead-letter list."""
    from events.exposures import parked_count

    return parked_count(project.pk)
