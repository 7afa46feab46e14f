"""Set-based writes and reads of ID-list members, in chunks, one statement per chunk.

On PostgreSQL an insert is ``INSERT ... SELECT unnest(%s) ON CONFLICT DO NOTHING RETURNING``, a
delete ``DELETE ... WHERE unit_id = ANY(%s) RETURNING``, so each chunk is one round trip that
also tells which ids really changed (those get a line in the SDK file). Other databases (the
SQLite of local runs) read the existing ids of the chunk first; the caller holds the segment's
row lock, so nothing changes in between.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from django.db import connection

from segments.models import SegmentMember

WRITE_CHUNK = 10_000
# SQLite binds at most 32766 variables (older builds 999): stay well below.
PORTABLE_CHUNK = 500

_TABLE = SegmentMember._meta.db_table


def _chunks(values: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for index in range(0, len(values), size):
        yield values[index : index + size]


def insert_members(segment_pk: int, unit_ids: Sequence[str]) -> list[str]:
    """Adds the ids (already unique); returns those that were not members yet, in id order.
    Inserting in key order keeps each statement's index writes on neighbouring pages."""
    unit_ids = sorted(unit_ids)
    inserted: list[str] = []
    if connection.vendor == "postgresql":
        sql = (
            f'INSERT INTO "{_TABLE}" ("segment_id", "unit_id") '
            "SELECT %s, unnest(%s::varchar[]) ON CONFLICT DO NOTHING RETURNING unit_id"
        )
        with connection.cursor() as cursor:
            for chunk in _chunks(unit_ids, WRITE_CHUNK):
                cursor.execute(sql, [segment_pk, list(chunk)])
                inserted.extend(sorted(row[0] for row in cursor.fetchall()))
        return inserted
    for chunk in _chunks(unit_ids, PORTABLE_CHUNK):
        existing = set(
            SegmentMember.objects.filter(segment_id=segment_pk, unit_id__in=chunk).values_list(
                "unit_id", flat=True
            )
        )
        new = [unit_id for unit_id in chunk if unit_id not in existing]
        SegmentMember.objects.bulk_create(
            [SegmentMember(segment_id=segment_pk, unit_id=unit_id) for unit_id in new],
            ignore_conflicts=True,
        )
        inserted.extend(new)
    return inserted


def delete_members(segment_pk: int, unit_ids: Sequence[str]) -> list[str]:
    """Removes the ids (already unique); returns those that were members, in id order."""
    unit_ids = sorted(unit_ids)
    removed: list[str] = []
    if connection.vendor == "postgresql":
        sql = (
            f'DELETE FROM "{_TABLE}" WHERE "segment_id" = %s '
            'AND "unit_id" = ANY(%s::varchar[]) RETURNING unit_id'
        )
        with connection.cursor() as cursor:
            for chunk in _chunks(unit_ids, WRITE_CHUNK):
                cursor.execute(sql, [segment_pk, list(chunk)])
                removed.extend(sorted(row[0] for row in cursor.fetchall()))
        return removed
    for chunk in _chunks(unit_ids, PORTABLE_CHUNK):
        members = SegmentMember.objects.filter(segment_id=segment_pk, unit_id__in=chunk)
        existing = list(members.values_list("unit_id", flat=True))
        if existing:
            members._raw_delete(members.db)
        removed.extend(existing)
    return removed


def delete_all_members(segment_pk: int) -> int:
    members = SegmentMember.objects.filter(segment_id=segment_pk)
    return members._raw_delete(members.db)


def member_count(segment_pk: int) -> int:
    return SegmentMember.objects.filter(segment_id=segment_pk).count()


def iter_member_ids(segment_pk: int, *, batch: int = WRITE_CHUNK) -> Iterator[list[str]]:
    """Every member id in primary-key order, in batches (keyset pagination: no offsets)."""
    after: str | None = None
    while True:
        members = SegmentMember.objects.filter(segment_id=segment_pk)
        if after is not None:
            members = members.filter(unit_id__gt=after)
        ids = list(members.order_by("unit_id").values_list("unit_id", flat=True)[:batch])
        if not ids:
            return
        yield ids
        after = ids[-1]


def member_page(segment_pk: int, *, offset: int, limit: int) -> list[str]:
    return list(
        SegmentMember.objects.filter(segment_id=segment_pk)
        .order_by("unit_id")
        .values_list("unit_id", flat=True)[offset : offset + limit]
    )


def member_page_after(segment_pk: int, *, after: str, limit: int) -> list[str]:
    return list(
        SegmentMember.objects.filter(segment_id=segment_pk, unit_id__gt=after)
        .order_by("unit_id")
        .values_list("unit_id", flat=True)[:limit]
    )
