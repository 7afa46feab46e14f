"""Which unit types a project uses, so that a deletion request naming another one is refused.

A project uses ``user_id`` (Statsig ``userID``, PostHog ``distinct_id``) and ``stableID`` always,
plus every id type its entities target (any model with a ``project`` and an ``id_type`` /
``unit_type`` field: gates, configs, experiments, segments…) and every custom id key seen in its
recent events and exposures. The lookup is lazy (asked at submission, never at import), so it
follows the models the other apps define without importing them.

Apps can add their own source with ``register_unit_type_source``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from django.apps import apps
from django.db import DatabaseError, models

logger = logging.getLogger(__name__)

USER_ID = "user_id"
STABLE_ID = "stableID"
#: Spellings of the user id accepted on the wire, all stored as ``user_id``.
USER_ID_ALIASES = frozenset({"user_id", "userid", "userID", "user"})
#: Id-type field names on entity models (Statsig ``idType``).
ID_TYPE_FIELDS = ("id_type", "unit_type", "idType")
#: Custom-id JSON fields on event-like models.
CUSTOM_IDS_FIELDS = ("custom_ids", "customIDs")
#: How many recent events/exposures are sampled for custom id keys.
RECENT_SAMPLE = 2_000

_SOURCES: list[Callable[[int], Iterable[str]]] = []


def register_unit_type_source(fn: Callable[[int], Iterable[str]]) -> Callable[[int], Iterable[str]]:
    """Register ``fn(project_id) -> unit types`` that the project uses."""
    if fn not in _SOURCES:
        _SOURCES.append(fn)
    return fn


def canonical_user_id(unit_type: str) -> str | None:
    if unit_type in USER_ID_ALIASES or unit_type.lower() in {a.lower() for a in USER_ID_ALIASES}:
        return USER_ID
    return None


def _project_models_with(field_names: tuple[str, ...]) -> list[tuple[type[models.Model], str]]:
    found = []
    for model in apps.get_models():
        if model._meta.app_label == "privacy":
            continue
        names = {f.name for f in model._meta.get_fields() if getattr(f, "concrete", False)}
        if "project" not in names:
            continue
        for field_name in field_names:
            if field_name in names:
                found.append((model, field_name))
                break
    return found


def _entity_id_types(project_id: int) -> set[str]:
    found: set[str] = set()
    for model, field_name in _project_models_with(ID_TYPE_FIELDS):
        field = model._meta.get_field(field_name)
        if not isinstance(field, models.CharField):
            continue
        try:
            values = (
                model._default_manager.filter(project_id=project_id)
                .exclude(**{field_name: ""})
                .values_list(field_name, flat=True)
                .distinct()
            )
            found.update(v for v in values if v)
        except DatabaseError:  # a table another engineer has not migrated yet
            logger.warning("privacy.unit_types.lookup_failed", extra={"model": model._meta.label})
    return found


def _recent_custom_id_keys(project_id: int) -> set[str]:
    found: set[str] = set()
    for model, field_name in _project_models_with(CUSTOM_IDS_FIELDS):
        field = model._meta.get_field(field_name)
        if not isinstance(field, models.JSONField):
            continue
        order = ["-time"] if "time" in {f.name for f in model._meta.concrete_fields} else ["-pk"]
        try:
            rows = (
                model._default_manager.filter(project_id=project_id)
                .order_by(*order)
                .values_list(field_name, flat=True)[:RECENT_SAMPLE]
            )
            for value in rows:
                if isinstance(value, dict):
                    found.update(str(k) for k in value if k)
        except DatabaseError:
            logger.warning("privacy.unit_types.lookup_failed", extra={"model": model._meta.label})
    return found


def project_unit_types(project_id: int) -> list[str]:
    """Every unit type the project uses, user id first (``user_id``, ``stableID``, then custom)."""
    found = _entity_id_types(project_id) | _recent_custom_id_keys(project_id)
    for source in _SOURCES:
        found.update(str(v) for v in source(project_id) if v)
    custom = sorted(
        {t for t in found if canonical_user_id(t) is None and t.lower() != STABLE_ID.lower()},
        key=str.lower,
    )
    return [USER_ID, STABLE_ID, *custom]


def resolve_unit_type(project_id: int, unit_type: str) -> str | None:
    """The canonical spelling of ``unit_type`` in this project, or None when it does not use it.

    Custom id types match case-insensitively, as the SDKs match ``customIDs`` keys.
    """
    unit_type = unit_type.strip()
    if not unit_type:
        return None
    if canonical_user_id(unit_type):
        return USER_ID
    for known in project_unit_types(project_id):
        if known.lower() == unit_type.lower():
            return known
    return None
