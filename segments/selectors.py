"""Reads of segments, their members and who references them."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import models
from django.db.models import QuerySet

from console.errors import NotFound, ValidationError
from console.models import Project
from segments import members
from segments.models import Segment, SegmentType

logger = logging.getLogger(__name__)

SEGMENT_CONDITION_TYPES = frozenset({"passes_segment", "fails_segment"})


def segment_list(
    *,
    project: Project,
    type: str | None = None,
    tags: Iterable[str] | None = None,
    id_type: str | None = None,
    archived: bool | None = None,
) -> QuerySet[Segment]:
    """Segments of the project by id. ``tags``: segments carrying any of them."""
    segments = Segment.objects.filter(project=project)
    if type:
        if type not in SegmentType.values:
            raise ValidationError.for_field(
                "type", f"type must be one of: {', '.join(SegmentType.values)}."
            )
        segments = segments.filter(type=type)
    if id_type:
        segments = segments.filter(id_type=id_type)
    if archived is not None:
        segments = segments.filter(archived=archived)
    wanted = {tag for tag in (tags or ()) if tag}
    if wanted:
        # Tags are a short JSON list; filter in Python rather than per-database JSON lookups.
        keys = [
            key
            for key, segment_tags in segments.values_list("key", "tags")
            if wanted.intersection(segment_tags or ())
        ]
        segments = segments.filter(key__in=keys)
    return segments.order_by("key")


def segment_get(*, project: Project, segment_id: str) -> Segment:
    segment = Segment.objects.filter(project=project, key=segment_id).first()
    if segment is None:
        raise NotFound("Segment not found.")
    return segment


def segment_member_page(*, segment: Segment, offset: int, limit: int) -> list[str]:
    """Member ids in id order."""
    return members.member_page(segment.pk, offset=offset, limit=limit)


def segment_member_page_after(*, segment: Segment, after: str, limit: int) -> list[str]:
    """Member ids after ``after`` in id order (keyset paging: no offset scan)."""
    return members.member_page_after(segment.pk, after=after, limit=limit)


def segment_reference_problem(*, project: Project | int, segment_id: str) -> str | None:
    """None when the segment exists and may be targeted by gates, experiments and other
    segments; otherwise why not."""
    kind = (
        Segment.objects.filter(project=project, key=segment_id)
        .values_list("type", flat=True)
        .first()
    )
    if kind is None:
        return f"Segment '{segment_id}' does not exist."
    if kind == SegmentType.ANALYSIS_LIST:
        return f"Segment '{segment_id}' is an analysis list and cannot be targeted."
    return None


# -- references ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, order=True)
class Referrer:
    entity_type: str
    entity_id: str

    def __str__(self) -> str:
        return f"{self.entity_type} '{self.entity_id}'"


def rules_segment_ids(rules: Iterable[dict[str, Any]]) -> set[str]:
    """Ids of the segments that stored console rules reference."""
    found: set[str] = set()
    for rule in rules or ():
        for condition in rule.get("conditions") or ():
            if condition.get("type") in SEGMENT_CONDITION_TYPES:
                target = condition.get("targetValue")
                if isinstance(target, list):
                    found.update(str(item) for item in target)
                elif target is not None:
                    found.add(str(target))
    return found


def segment_graph(*, project: Project) -> dict[str, set[str]]:
    """``{segment id: ids of the segments its rules reference}`` for rule-based segments."""
    return {
        key: rules_segment_ids(rules)
        for key, rules in Segment.objects.filter(
            project=project, type=SegmentType.RULE_BASED
        ).values_list("key", "rules")
    }


def _mentions_segment(node: Any, segment_id: str) -> bool:
    """Whether a stored JSON document targets the segment: console conditions
    (``passes_segment``/``fails_segment``) and override entries
    (``{"type": "segment", "id"|"name"}``)
    (not compiled rulesets: those are derived from the entities)."""
    if isinstance(node, dict):
        kind = node.get("type")
        if kind in SEGMENT_CONDITION_TYPES:
            target = node.get("targetValue")
            targets = target if isinstance(target, list) else [target]
            if segment_id in targets:
                return True
        if kind == "segment" and segment_id in (node.get("id"), node.get("name")):
            return True
        return any(_mentions_segment(value, segment_id) for value in node.values())
    if isinstance(node, list):
        return any(_mentions_segment(item, segment_id) for item in node)
    return False


_ENTITY_TYPES = {"dynamicconfig": "dynamic_config"}
_ENTITY_ID_FIELDS = ("slug", "key", "gate_id", "config_id", "experiment_id", "layer_id", "name")


def _scan_flags_models(project: Project, segment_id: str) -> list[Referrer]:
    """Fallback while ``flags.selectors.segment_referrers`` does not exist: every model of the
    flags app with a ``project`` and JSON fields, scanned for references to the segment."""
    try:
        config = apps.get_app_config("flags")
    except LookupError:
        return []
    found: list[Referrer] = []
    for model in config.get_models():
        field_names = {field.name for field in model._meta.get_fields()}
        if "project" not in field_names:
            continue
        json_fields = [
            field.name for field in model._meta.get_fields() if isinstance(field, models.JSONField)
        ]
        if not json_fields:
            continue
        id_field = next((name for name in _ENTITY_ID_FIELDS if name in field_names), None)
        if id_field is None:  # not an entity (e.g. stored compiled rulesets)
            continue
        rows = model._default_manager.filter(project=project).values_list(id_field, *json_fields)
        for entity_id, *documents in rows.iterator():
            if any(_mentions_segment(document, segment_id) for document in documents):
                kind = _ENTITY_TYPES.get(model._meta.model_name, model._meta.model_name)
                found.append(Referrer(kind, str(entity_id)))
    return found


def _as_referrer(item: Any) -> Referrer:
    if isinstance(item, Referrer):
        return item
    if isinstance(item, tuple | list) and len(item) == 2:
        return Referrer(str(item[0]), str(item[1]))
    if isinstance(item, dict):
        return Referrer(
            str(item.get("entity_type") or item.get("type")),
            str(item.get("entity_id") or item.get("id")),
        )
    return Referrer(
        str(getattr(item, "entity_type", "entity")),
        str(getattr(item, "entity_id", item)),
    )


def flags_segment_referrers(*, project: Project, segment_id: str) -> list[Referrer]:
    """Gates, configs, experiments and layers whose rules, targeting or overrides use the
    segment: asked of ``flags.selectors.segment_referrers`` when the flags side provides it."""
    try:
        from flags import selectors as flag_selectors
    except ImportError:
        flag_selectors = None
    provided = getattr(flag_selectors, "segment_referrers", None)
    if provided is not None:
        return [_as_referrer(item) for item in provided(project=project, segment_id=segment_id)]
    return _scan_flags_models(project, segment_id)


def segment_referrers(*, project: Project, segment_id: str) -> list[Referrer]:
    """Everything that targets the segment: other segments and the flags side's entities."""
    referrers = [
        Referrer("segment", key)
        for key, targets in segment_graph(project=project).items()
        if key != segment_id and segment_id in targets
    ]
    referrers.extend(flags_segment_referrers(project=project, segment_id=segment_id))
    return sorted(set(referrers))


# -- id lists ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IdListState:
    segment_pk: int
    name: str
    count: int
    file_id: str
    size: int
    created_ms: int
    version: int


def id_list_states(*, project_id: int) -> list[IdListState]:
    """Every ID-list segment of the project with its SDK file (one query)."""
    return [
        IdListState(*row)
        for row in Segment.objects.filter(project_id=project_id, type=SegmentType.ID_LIST)
        .order_by("key")
        .values_list(
            "pk",
            "key",
            "id_count",
            "list_file_id",
            "list_file_size",
            "list_file_created_ms",
            "list_version",
        )
    ]


def id_list_state_by_file(*, project_id: int, file_id: str) -> IdListState | None:
    row = (
        Segment.objects.filter(
            project_id=project_id, type=SegmentType.ID_LIST, list_file_id=file_id
        )
        .values_list(
            "pk",
            "key",
            "id_count",
            "list_file_id",
            "list_file_size",
            "list_file_created_ms",
            "list_version",
        )
        .first()
    )
    return IdListState(*row) if row else None
