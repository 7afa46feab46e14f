"""Erasers for the event store (see ``privacy.erasers``): events, exposures, persons with their
distinct ids (aliases), and groups. Set-based deletes in chunks, idempotent, ids never logged."""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import Q, QuerySet

from events.models import Event, Exposure, Group, Person, PersonDistinctId

logger = logging.getLogger(__name__)

STABLE_ID_TYPES = frozenset({"stableid", "stable_id"})


def _unit_filter(unit_type: str, ids: list[str]) -> Q:
    """Rows of events/exposures carrying one of ``ids`` as a unit id of ``unit_type``."""
    from privacy.erasers import custom_id_keys, is_user_id_type

    if is_user_id_type(unit_type):
        return Q(user_id__in=ids)
    if unit_type.lower() in STABLE_ID_TYPES:
        return Q(stable_id__in=ids)
    query = Q()
    for key in custom_id_keys(unit_type):
        query |= Q(**{f"custom_ids__{key}__in": ids})
    return query


def _with_aliases(project_id: int, unit_type: str, ids: list[str]) -> list[str]:
    """User ids plus every distinct id merged into the same PostHog person (its aliases), so
    erasing a user also erases what was captured under its anonymous ids. Runs before the
    persons eraser (erasers run in name order)."""
    from privacy.erasers import is_user_id_type

    if not is_user_id_type(unit_type):
        return ids
    owners = PersonDistinctId.objects.filter(project_id=project_id, distinct_id__in=ids).values(
        "person_id"
    )
    aliases = PersonDistinctId.objects.filter(
        project_id=project_id, person_id__in=owners
    ).values_list("distinct_id", flat=True)
    return list(dict.fromkeys([*ids, *aliases]))


def _raw_delete(queryset: QuerySet) -> int:
    # One DELETE ... WHERE, without loading rows (no per-row hooks exist for these tables).
    return queryset._raw_delete(queryset.db)


def erase_events(*, project_id: int, unit_type: str, ids: list[str]) -> int:
    from privacy.erasers import chunked

    erased = 0
    for chunk in chunked(ids):
        chunk = _with_aliases(project_id, unit_type, chunk)
        erased += _raw_delete(
            Event.objects.filter(Q(project_id=project_id) & _unit_filter(unit_type, chunk))
        )
    return erased


def erase_exposures(*, project_id: int, unit_type: str, ids: list[str]) -> int:
    from privacy.erasers import chunked

    erased = 0
    for chunk in chunked(ids):
        chunk = _with_aliases(project_id, unit_type, chunk)
        erased += _raw_delete(
            Exposure.objects.filter(Q(project_id=project_id) & _unit_filter(unit_type, chunk))
        )
    return erased


def erase_persons(*, project_id: int, unit_type: str, ids: list[str]) -> int:
    """A distinct id erases its whole person: its properties and every alias merged into it."""
    from privacy.erasers import chunked, is_user_id_type

    if not is_user_id_type(unit_type):
        return 0
    erased = 0
    for chunk in chunked(ids):
        with transaction.atomic():
            person_ids = list(
                PersonDistinctId.objects.filter(project_id=project_id, distinct_id__in=chunk)
                .values_list("person_id", flat=True)
                .distinct()
            )
            if not person_ids:
                continue
            erased += _raw_delete(
                PersonDistinctId.objects.filter(project_id=project_id, person_id__in=person_ids)
            )
            erased += _raw_delete(Person.objects.filter(project_id=project_id, id__in=person_ids))
    return erased


def erase_groups(*, project_id: int, unit_type: str, ids: list[str]) -> int:
    """PostHog groups are custom unit ids (``groups`` → customIDs): erase by type and key."""
    from privacy.erasers import chunked, is_user_id_type

    if is_user_id_type(unit_type):
        return 0
    erased = 0
    for chunk in chunked(ids):
        erased += _raw_delete(
            Group.objects.filter(
                project_id=project_id, group_type__iexact=unit_type, group_key__in=chunk
            )
        )
    return erased


def register() -> None:
    from privacy.erasers import register_eraser

    register_eraser("flag_events.events", covers=["flag_events.Event"])(erase_events)
    register_eraser("flag_events.exposures", covers=["flag_events.Exposure"])(erase_exposures)
    register_eraser(
        "flag_events.persons", covers=["flag_events.Person", "flag_events.PersonDistinctId"]
    )(erase_persons)
    register_eraser("flag_events.groups")(erase_groups)
