"""Monthly partitions of the event and exposure tables on PostgreSQL, created ahead by a beat job."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.conf import settings
from django.db import connection

from events.partitioning import (
    PARTITIONED_TABLES,
    _add_months,
    ensure_partitions,
    existing_partitions,
    is_partitioned,
)
from events.tasks import ensure_event_partitions

pytestmark = pytest.mark.skipif(
    not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
    reason="declarative partitioning is PostgreSQL's (SQLite has plain tables)",
)


def month_names(table: str, first: date, count: int) -> set[str]:
    return {f"{table}_p{_add_months(first, i):%Y%m}" for i in range(count)}


@pytest.mark.django_db
@pytest.mark.parametrize("table", PARTITIONED_TABLES)
def test_migration__tables_partitioned_by_month_with_default(table):
    assert is_partitioned(table)
    present = set(existing_partitions(table))
    this_month = datetime.now(UTC).date().replace(day=1)
    assert month_names(table, this_month, 4) <= present
    assert f"{table}_default" in present


@pytest.mark.django_db
def test_ensure_partitions__months_ahead__created_once():
    # Given a day five months from now
    later = _add_months(datetime.now(UTC).date().replace(day=1), 5)
    # When the beat job runs then
    created = ensure_partitions(today=later)
    # Then the partitions from that month to three months later exist, for both tables
    for table in PARTITIONED_TABLES:
        assert month_names(table, later, 4) <= set(existing_partitions(table))
    assert len(created) >= 2
    # And running it again creates nothing
    assert ensure_partitions(today=later) == []


@pytest.mark.django_db
def test_ensure_partitions__rows_waiting_in_default__moved_into_new_partition(world):
    from events.models import Event

    # Given an event dated in a month that has no partition yet (it landed in DEFAULT)
    far = _add_months(datetime.now(UTC).date().replace(day=1), 9)
    when = datetime(far.year, far.month, 15, tzinfo=UTC)
    event = Event.objects.create(
        project=world.project,
        name="late",
        source="statsig_http",
        time=when,
        received_at=when,
    )

    def partition_of() -> str:
        with connection.cursor() as cursor:
            cursor.execute(
                'SELECT tableoid::regclass::text FROM "flag_events_event" WHERE id = %s', [event.pk]
            )
            return cursor.fetchone()[0]

    assert partition_of() == "flag_events_event_default"
    # When its month's partition is created
    ensure_partitions(today=far, months_ahead=0)
    # Then the row moved into it and is still found
    assert partition_of() == f"flag_events_event_p{far:%Y%m}"
    assert Event.objects.get(pk=event.pk).name == "late"


@pytest.mark.django_db
def test_beat_task__runs_the_job():
    assert isinstance(ensure_event_partitions(), list)
    assert "ensure-event-partitions" in settings.CELERY_BEAT_SCHEDULE
    assert "drain-exposure-buffer" in settings.CELERY_BEAT_SCHEDULE
