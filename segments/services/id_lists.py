"""The members of ID-list segments: adding, removing and resetting ids (each change also
appended to the SDK id-list file), and rewriting the file after an erasure. Audit entries carry
counts, never the ids."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from console.actors import Actor
from console.errors import FieldError, ValidationError
from console.models import Project, Review
from console.services.reviews import ChangeOutcome, register_change
from console.validation import scan_ids
from flags.services import kernel, versions
from segments import listfile, members, selectors
from segments.models import ENTITY_TYPE, UNIT_ID_MAX_LENGTH, Segment, SegmentType
from segments.ruleset import compiles_inline
from segments.services.common import (
    ChangeType,
    after_change,
    exists_version,
    require_type,
)
from segments.services.kind import SEGMENTS

MAX_IDS_PER_SEGMENT = 10_000_000
BAD_IDS_REPORTED = 50


@dataclass(frozen=True, slots=True)
class IdListChange:
    """What an ID-list change did."""

    segment: Segment
    added: int = 0
    removed: int = 0


def normalise_ids(raw: Any, *, field: str = "ids", allow_empty: bool = False) -> list[str]:
    """Unit ids as given: trimmed strings of 1–256 characters, duplicates dropped, order kept.
    One bad entry refuses the whole batch, naming (up to 50 of) the bad entries."""
    if not isinstance(raw, list):
        raise ValidationError.for_field(field, f"{field} must be a list of strings.")
    if not raw and not allow_empty:
        raise ValidationError.for_field(field, f"{field} must contain at least one id.")
    ids, problems = scan_ids(raw, max_length=UNIT_ID_MAX_LENGTH)
    if problems:
        bad = [
            FieldError(f"{field}[{problem.index}]", f"{_shown(problem.value)} {problem.reason}.")
            for problem in problems[:BAD_IDS_REPORTED]
        ]
        raise ValidationError(
            f"{len(problems)} of {len(raw)} ids are invalid (ids are strings of 1 to "
            f"{UNIT_ID_MAX_LENGTH} characters after trimming); none of the request was applied. "
            f"First: {bad[0].property} {bad[0].message}",
            errors=bad,
        )
    return ids


def _shown(value: Any) -> str:
    """A bad entry as an error message quotes it: strings cut to 40 characters."""
    if isinstance(value, str):
        trimmed = value.strip()
        return f"'{trimmed[:40]}…'" if trimmed else repr(value)
    return repr(value)[:40]


def _id_list_segment(project: Project, segment_id: str) -> Segment:
    segment = selectors.segment_get(project=project, segment_id=segment_id)
    require_type(segment, SegmentType.ID_LIST)
    return segment


def _submit_ids(
    *,
    project: Project,
    actor: Actor,
    segment_id: str,
    change_type: str,
    ids: Any,
    allow_empty: bool = False,
) -> ChangeOutcome:
    kernel.require_editor(actor, SEGMENTS.plural)
    clean = normalise_ids(ids, allow_empty=allow_empty)
    segment = _id_list_segment(project, segment_id)
    return kernel.submit_change(
        SEGMENTS,
        project=project,
        actor=actor,
        entity=segment,
        change={"action": change_type, "ids": clean},
        scope=None,
    )


def segment_ids_add(*, project: Project, actor: Actor, segment_id: str, ids: Any) -> ChangeOutcome:
    """Adds ids to an ID list (adding a member again is harmless)."""
    return _submit_ids(
        project=project, actor=actor, segment_id=segment_id, change_type=ChangeType.IDS_ADD, ids=ids
    )


def segment_ids_remove(
    *, project: Project, actor: Actor, segment_id: str, ids: Any
) -> ChangeOutcome:
    """Removes ids from an ID list (removing a stranger is harmless)."""
    return _submit_ids(
        project=project,
        actor=actor,
        segment_id=segment_id,
        change_type=ChangeType.IDS_REMOVE,
        ids=ids,
    )


def segment_ids_reset(
    *, project: Project, actor: Actor, segment_id: str, ids: Any
) -> ChangeOutcome:
    """Replaces the members with ``ids`` and starts a new id-list file."""
    return _submit_ids(
        project=project,
        actor=actor,
        segment_id=segment_id,
        change_type=ChangeType.IDS_RESET,
        ids=ids,
        allow_empty=True,
    )


def _changes_inline_spec(old_count: int, new_count: int) -> bool:
    """Whether an ID-list change alters the compiled spec (inline ids, or the switch between
    inline and ``in_segment_list``)."""
    return compiles_inline(old_count) or compiles_inline(new_count)


def _finish_id_list_change(
    segment: Segment,
    actor: Actor,
    *,
    action_type: str,
    old_count: int,
    added: int,
    removed: int,
    review: Review | None,
    force_list_refresh: bool = False,
) -> IdListChange:
    new_count = old_count + added - removed
    if new_count > MAX_IDS_PER_SEGMENT:
        raise ValidationError.for_field(
            "ids",
            f"An ID list holds at most {MAX_IDS_PER_SEGMENT:,} ids; this change makes {new_count:,}.",
        )
    changed = bool(added or removed) or force_list_refresh
    segment.id_count = new_count
    if changed:
        segment.list_version += 1
    versions.stamp_modified(SEGMENTS, segment, actor)
    segment.save()
    # Counts only: audit entries never carry the ids themselves.
    kernel.audit(
        SEGMENTS,
        project=segment.project,
        actor=actor,
        entity=segment,
        action_type=action_type,
        changes={
            "count": {"old": old_count, "new": new_count},
            "added": added,
            "removed": removed,
        },
        review=review,
    )
    if changed:
        after_change(
            segment.project_id,
            ruleset=_changes_inline_spec(old_count, new_count),
            id_lists=True,
        )
    return IdListChange(segment=segment, added=added, removed=removed)


def _members_change(*, adding: bool) -> Callable[..., IdListChange]:
    """The registered change that adds (or removes) ids; only the ids that really changed get
    a line in the SDK file."""

    def apply(
        *,
        project: Project,
        actor: Actor,
        entity_id: str,
        change: dict,
        review: Review | None = None,
    ) -> IdListChange:
        ids = normalise_ids(change.get("ids"))
        with transaction.atomic():
            segment = kernel.get(SEGMENTS, project=project, entity_id=entity_id, lock=True)
            require_type(segment, SegmentType.ID_LIST)
            old_count = segment.id_count
            if adding:
                changed = members.insert_members(segment.pk, ids)
            else:
                changed = members.delete_members(segment.pk, ids)
            listfile.append_lines(segment, op="+" if adding else "-", unit_ids=changed)
            return _finish_id_list_change(
                segment,
                actor,
                action_type="segment_id_list_add" if adding else "segment_id_list_remove",
                old_count=old_count,
                added=len(changed) if adding else 0,
                removed=0 if adding else len(changed),
                review=review,
            )

    return apply


register_change(ChangeType.IDS_ADD, entity_type=ENTITY_TYPE, current_version=exists_version)(
    _members_change(adding=True)
)
register_change(ChangeType.IDS_REMOVE, entity_type=ENTITY_TYPE, current_version=exists_version)(
    _members_change(adding=False)
)


@register_change(ChangeType.IDS_RESET, entity_type=ENTITY_TYPE, current_version=exists_version)
def _apply_ids_reset(
    *, project: Project, actor: Actor, entity_id: str, change: dict, review: Review | None = None
) -> IdListChange:
    ids = normalise_ids(change.get("ids"), allow_empty=True)
    with transaction.atomic():
        segment = kernel.get(SEGMENTS, project=project, entity_id=entity_id, lock=True)
        require_type(segment, SegmentType.ID_LIST)
        old_count = segment.id_count
        members.delete_all_members(segment.pk)
        listfile.start_new_file(segment)
        inserted = members.insert_members(segment.pk, ids)
        listfile.append_lines(segment, op="+", unit_ids=inserted)
        return _finish_id_list_change(
            segment,
            actor,
            action_type="segment_id_list_reset",
            old_count=old_count,
            added=len(inserted),
            removed=old_count,
            review=review,
            force_list_refresh=True,
        )


def segment_list_file_rewrite(*, segment: Segment) -> None:
    """Starts a new id-list file holding exactly the current members (after an erasure, so no
    earlier line of an erased id survives). The caller holds the segment's row lock."""
    listfile.start_new_file(segment)
    for batch in members.iter_member_ids(segment.pk):
        listfile.append_lines(segment, op="+", unit_ids=batch)
    segment.id_count = members.member_count(segment.pk)
    segment.list_version += 1
    segment.save()
    after_change(segment.project_id, ruleset=True, id_lists=True)
