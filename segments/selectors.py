"""Reads of segments, their members and who references them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from console.errors import NotFound, ValidationError
from console.models import Project
from console.selectors import with_any_tag
from flags import selectors as flag_selectors
from ruleset.conditions import referenced_ids
from segments import members
from segments.models import ENTITY_TYPE, Segment, SegmentMember, SegmentType


def segment_list(
    *,
    project: Project,
    type: str | None = None,
    tags: Iterable[str] | None = None,
    id_type: str | None = None,
    archived: bool | None = None,
    search: str | None = None,
) -> QuerySet[Segment]:
    """Segments of the project by id. ``tags``: segments carrying any of them; ``search``: in
    the name or id. Filtered in the database, so a page costs the same queries with 10,000."""
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
    if search:
        segments = segments.filter(Q(name__icontains=search) | Q(key__icontains=search))
    return with_any_tag(segments, tags or ()).order_by("key")


def tagged_segments(project: Project) -> dict[tuple[str, str], list[str]]:
    """``{("segment", key): tags}`` of the project's tagged segments (the audit log's tags)."""
    rows = Segment.objects.filter(project=project).exclude(tags=[]).values_list("key", "tags")
    return {("segment", key): list(tags) for key, tags in rows if tags}


def segment_get(*, project: Project, segment_id: str) -> Segment:
    segment = Segment.objects.filter(project=project, key=segment_id).first()
    if segment is None:
        raise NotFound("Segment not found.")
    return segment


def segment_versions(*, project: Project, segment_id: str) -> list[Segment]:
    """The segment's definition at each of its versions, newest first (``version``, the
    fields, ``last_modifier_name`` / ``updated_at`` of who made it and when), as unsaved
    ``Segment`` instances: the same reader as ``flags.selectors.gate_versions``. 404 for a
    segment the project does not have."""
    segment = segment_get(project=project, segment_id=segment_id)
    return flag_selectors.entity_versions(
        project=project, entity=segment, entity_type=ENTITY_TYPE, entity_id=segment.key
    )


def segment_is_member(*, segment: Segment, unit_id: str) -> bool:
    """Whether ``unit_id`` is in the segment's ID list (one indexed lookup)."""
    return SegmentMember.objects.filter(segment=segment, unit_id=unit_id).exists()


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


def segment_graph(*, project: Project) -> dict[str, set[str]]:
    """``{segment id: ids of the segments its rules reference}`` for rule-based segments."""
    return {
        key: referenced_ids(rules, "segment")
        for key, rules in Segment.objects.filter(
            project=project, type=SegmentType.RULE_BASED
        ).values_list("key", "rules")
    }


def segment_referrers(*, project: Project, segment_id: str) -> list[Referrer]:
    """Everything that targets the segment: other segments, and the gates, dynamic configs,
    experiments and layers whose rules or overrides use it."""
    referrers = [
        Referrer("segment", key)
        for key, targets in segment_graph(project=project).items()
        if key != segment_id and segment_id in targets
    ]
    referrers.extend(
        Referrer(entity_type, entity_id)
        for entity_type, entity_id in flag_selectors.segment_referrers(
            project=project, segment_id=segment_id
        )
    )
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


# The columns of an ``IdListState``, in its order.
_ID_LIST_STATE_FIELDS = (
    "pk",
    "key",
    "id_count",
    "list_file_id",
    "list_file_size",
    "list_file_created_ms",
    "list_version",
)


def id_list_states(*, project_id: int) -> list[IdListState]:
    """Every ID-list segment of the project with its SDK file (one query)."""
    return [
        IdListState(*row)
        for row in Segment.objects.filter(project_id=project_id, type=SegmentType.ID_LIST)
        .order_by("key")
        .values_list(*_ID_LIST_STATE_FIELDS)
    ]


def id_list_state_by_file(*, project_id: int, file_id: str) -> IdListState | None:
    row = (
        Segment.objects.filter(
            project_id=project_id, type=SegmentType.ID_LIST, list_file_id=file_id
        )
        .values_list(*_ID_LIST_STATE_FIELDS)
        .first()
    )
    return IdListState(*row) if row else None
