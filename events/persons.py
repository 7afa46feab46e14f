"""PostHog persons and groups: the properties ``$identify``, ``$set``, ``$set_once``, ``$unset``,
``$create_alias`` and ``$groupidentify`` maintain, applied per request in a few set-based
statements (never a query per event).

A person owns one or more distinct ids. Merging (an alias, or ``$identify`` with
``$anon_distinct_id``) moves the source person's distinct ids to the target person, whose
properties win over the source's, and deletes the source person.

``/decide`` and ``/flags`` read a person's stored properties through a per-process cache
(``cached_person_properties``): one query the first time a distinct id is asked for, none after,
for ``PERSON_CACHE_SECONDS``. A change made in this process (ingestion) forgets the ids it
touched on commit (a merge forgets the project's entries); a change made by another process is
seen when the entry expires.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from events.models import Group, Person, PersonDistinctId
from events.rows import clean_text


@dataclass(frozen=True, slots=True)
class PersonOp:
    """``kind``: "set" (properties of ``distinct_id``), "merge" (``other_id``'s person into
    ``distinct_id``'s) or "identify" (merge then mark identified)."""

    kind: str
    distinct_id: str
    other_id: str = ""
    set: dict[str, Any] = field(default_factory=dict)
    set_once: dict[str, Any] = field(default_factory=dict)
    unset: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class GroupOp:
    group_type: str
    group_key: str
    set: dict[str, Any] = field(default_factory=dict)
    set_once: dict[str, Any] = field(default_factory=dict)


@dataclass(eq=False)
class _Person:
    row: Person | None
    properties: dict[str, Any]
    is_identified: bool
    distinct_ids: set[str]
    changed: bool = False
    deleted: bool = False
    merged_into: _Person | None = None


def persons_apply(*, project_id: int, ops: list[PersonOp]) -> None:
    """Applies ``ops`` in order; retried once when a concurrent request created the same ids."""
    if not ops:
        return
    touched = {op.distinct_id for op in ops} | {op.other_id for op in ops if op.other_id}
    merges = any(op.kind in {"merge", "identify"} and op.other_id for op in ops)
    for attempt in range(2):
        try:
            with transaction.atomic():
                _persons_apply(project_id, ops)
                transaction.on_commit(lambda: _forget(project_id, None if merges else touched))
            return
        except IntegrityError:
            if attempt:
                raise


def _persons_apply(project_id: int, ops: list[PersonOp]) -> None:
    wanted = {op.distinct_id for op in ops} | {op.other_id for op in ops if op.other_id}
    by_id: dict[str, _Person] = {}
    original_owner: dict[str, int] = {}
    rows = PersonDistinctId.objects.filter(
        project_id=project_id, distinct_id__in=wanted
    ).select_related("person")
    persons_by_pk: dict[int, _Person] = {}
    for link in rows:
        person = persons_by_pk.get(link.person_id)
        if person is None:
            person = _Person(
                row=link.person,
                properties=dict(link.person.properties or {}),
                is_identified=link.person.is_identified,
                distinct_ids=set(),
            )
            persons_by_pk[link.person_id] = person
        person.distinct_ids.add(link.distinct_id)
        by_id[link.distinct_id] = person
        original_owner[link.distinct_id] = link.person_id

    def person_for(distinct_id: str) -> _Person:
        person = by_id.get(distinct_id)
        if person is None:
            person = _Person(
                row=None, properties={}, is_identified=False, distinct_ids={distinct_id}
            )
            person.changed = True
            by_id[distinct_id] = person
        return person

    merged: list[_Person] = []
    for op in ops:
        if op.kind in {"merge", "identify"} and op.other_id and op.other_id != op.distinct_id:
            target = person_for(op.distinct_id)
            source = by_id.get(op.other_id)
            if source is None:
                target.distinct_ids.add(op.other_id)
                by_id[op.other_id] = target
                target.changed = True
            elif source is not target:
                target.properties = {**source.properties, **target.properties}
                target.is_identified = target.is_identified or source.is_identified
                for moved in source.distinct_ids:
                    by_id[moved] = target
                target.distinct_ids |= source.distinct_ids
                source.distinct_ids = set()
                source.deleted = True
                source.merged_into = target
                merged.append(source)
                target.changed = True
        person = person_for(op.distinct_id)
        if op.kind == "identify" and not person.is_identified:
            person.is_identified = True
            person.changed = True
        for key, value in op.set_once.items():
            if key not in person.properties:
                person.properties[key] = value
                person.changed = True
        if op.set:
            person.properties.update(op.set)
            person.changed = True
        for key in op.unset:
            if person.properties.pop(key, None) is not None:
                person.changed = True

    _write_persons(project_id, by_id, original_owner, merged)


def _final(person: _Person) -> _Person:
    while person.merged_into is not None:
        person = person.merged_into
    return person


def _write_persons(
    project_id: int,
    by_id: dict[str, _Person],
    original_owner: dict[str, int],
    merged: list[_Person],
) -> None:
    live = list({id(p): p for p in by_id.values() if not p.deleted}.values())
    new = [p for p in live if p.row is None]
    if new:
        rows = Person.objects.bulk_create(
            [
                Person(
                    project_id=project_id, properties=p.properties, is_identified=p.is_identified
                )
                for p in new
            ]
        )
        for person, row in zip(new, rows, strict=True):
            person.row = row
    now = timezone.now()
    changed = []
    for person in live:
        if person.changed and person not in new:
            person.row.properties = person.properties
            person.row.is_identified = person.is_identified
            person.row.updated_at = now
            changed.append(person.row)
    if changed:
        Person.objects.bulk_update(changed, ["properties", "is_identified", "updated_at"])
    # Every distinct id of a merged person (loaded here or not) moves to the surviving person.
    stored_merged = [p for p in merged if p.row is not None and p.row.pk is not None]
    for person in stored_merged:
        PersonDistinctId.objects.filter(project_id=project_id, person_id=person.row.pk).update(
            person_id=_final(person).row.pk
        )
    if stored_merged:
        Person.objects.filter(
            project_id=project_id, pk__in=[p.row.pk for p in stored_merged]
        ).delete()
    links = [
        PersonDistinctId(project_id=project_id, distinct_id=distinct_id, person=person.row)
        for distinct_id, person in by_id.items()
        if distinct_id not in original_owner
    ]
    if links:
        PersonDistinctId.objects.bulk_create(links)


def groups_apply(*, project_id: int, ops: list[GroupOp]) -> None:
    if not ops:
        return
    for attempt in range(2):
        try:
            with transaction.atomic():
                _groups_apply(project_id, ops)
            return
        except IntegrityError:
            if attempt:
                raise


def _groups_apply(project_id: int, ops: list[GroupOp]) -> None:
    keys = {(op.group_type, op.group_key) for op in ops}
    query = Q()
    for group_type, group_key in keys:
        query |= Q(group_type=group_type, group_key=group_key)
    existing = {
        (g.group_type, g.group_key): g
        for g in Group.objects.filter(Q(project_id=project_id) & query)
    }
    new: dict[tuple[str, str], Group] = {}
    changed: dict[tuple[str, str], Group] = {}
    for op in ops:
        key = (op.group_type, op.group_key)
        group = existing.get(key) or new.get(key)
        if group is None:
            group = Group(project_id=project_id, group_type=op.group_type, group_key=op.group_key)
            group.properties = {}
            new[key] = group
        elif key in existing:
            changed[key] = group
        for prop, value in op.set_once.items():
            group.properties.setdefault(prop, value)
        group.properties.update(op.set)
    if new:
        Group.objects.bulk_create(list(new.values()))
    if changed:
        now = timezone.now()
        for group in changed.values():
            group.updated_at = now
        Group.objects.bulk_update(list(changed.values()), ["properties", "updated_at"])


# (project id) -> distinct id -> (expires at, properties): least recently used first.
_cached: dict[int, OrderedDict[str, tuple[float, dict[str, Any]]]] = {}
_cache_lock = threading.Lock()


def cached_person_properties(*, project_id: int, distinct_id: str) -> dict[str, Any]:
    """``person_properties`` from the process's cache: no query for an id asked for within
    ``PERSON_CACHE_SECONDS`` (a person-less id is cached as ``{}`` too). Do not modify."""
    distinct_id = clean_text(distinct_id)
    entries = _cached.get(project_id)
    now = time.monotonic()
    if entries is not None:
        entry = entries.get(distinct_id)
        if entry is not None and entry[0] > now:
            return entry[1]
    properties = person_properties(project_id=project_id, distinct_id=distinct_id)
    with _cache_lock:
        entries = _cached.setdefault(project_id, OrderedDict())
        entries[distinct_id] = (now + settings.PERSON_CACHE_SECONDS, properties)
        entries.move_to_end(distinct_id)
        while len(entries) > settings.PERSON_CACHE_ENTRIES:
            entries.popitem(last=False)
    return properties


def _forget(project_id: int, distinct_ids: set[str] | None) -> None:
    """Forgets the cached properties of ``distinct_ids``, or of the whole project when None."""
    with _cache_lock:
        entries = _cached.get(project_id)
        if entries is None:
            return
        if distinct_ids is None:
            del _cached[project_id]
            return
        for distinct_id in distinct_ids:
            entries.pop(clean_text(distinct_id), None)


def forget_cached_properties() -> None:
    """Drops every cached person (tests)."""
    with _cache_lock:
        _cached.clear()


def person_properties(*, project_id: int, distinct_id: str) -> dict[str, Any]:
    """The stored properties of the person owning ``distinct_id`` ({} when none): one query.
    The id is cleaned as ingestion cleans it before storing (no NUL characters)."""
    row = (
        PersonDistinctId.objects.filter(project_id=project_id, distinct_id=clean_text(distinct_id))
        .values_list("person__properties", flat=True)
        .first()
    )
    return dict(row) if isinstance(row, dict) else {}
