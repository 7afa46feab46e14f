"""What every segment write shares: the change kinds, the editor check, the row lock, the
review decision, the version a review compares, the audit entry, and what a change schedules
on commit (the ruleset rebuild, and for ID lists the notice to every process)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from console.actors import Actor
from console.errors import NotFound, PermissionDenied, ValidationError
from console.models import Project, Review, Role
from console.services.audit import audit_record
from console.services.reviews import ChangeOutcome, change_needs_review, submit_or_apply
from ruleset.changes import schedule_rebuild
from segments import idlists
from segments.models import Segment

ENTITY_TYPE = "segment"


class ChangeType:
    UPDATE = "segment_update"
    CONDITIONAL = "segment_conditional_update"
    ARCHIVE = "segment_archive"
    UNARCHIVE = "segment_unarchive"
    DELETE = "segment_delete"
    IDS_ADD = "segment_id_list_add"
    IDS_REMOVE = "segment_id_list_remove"
    IDS_RESET = "segment_id_list_reset"


def require_editor(actor: Actor) -> None:
    if not actor.has_role(Role.MEMBER):
        raise PermissionDenied("Viewers cannot change segments.")


def require_type(segment: Segment, kind: str) -> None:
    if segment.type != kind:
        raise ValidationError.for_field(
            "type", f"Segment must be of type '{kind}' to be modified on this endpoint."
        )


def locked(project: Project, segment_id: str) -> Segment:
    segment = Segment.objects.select_for_update().filter(project=project, key=segment_id).first()
    if segment is None:
        raise NotFound("Segment not found.")
    return segment


def touch(segment: Segment, actor: Actor) -> None:
    segment.last_modifier_id = actor.id
    segment.last_modifier_name = actor.name
    segment.last_modifier_email = actor.email


def after_change(project_id: int, *, ruleset: bool = True, id_lists: bool = False) -> None:
    """Inside the change's transaction: rebuild the ruleset and refresh id lists on commit."""
    if ruleset:
        schedule_rebuild(project_id)
    if id_lists:
        transaction.on_commit(lambda: idlists.notify_changed(project_id))


def submit(
    *, project: Project, actor: Actor, segment: Segment, change_type: str, change: dict
) -> ChangeOutcome:
    """Applies the change, or files it for review when the segment or project asks for one.
    Segments apply in every environment at once: the change touches the whole entity."""
    return submit_or_apply(
        project=project,
        actor=actor,
        change_type=change_type,
        entity_id=segment.key,
        change=change,
        needs_review=change_needs_review(
            project=project,
            actor=actor,
            entity_requires_review=segment.review_required,
            environments=None,
        ),
        entity_name=segment.name,
    )


def definition_version(project: Project, entity_id: str) -> int | None:
    return (
        Segment.objects.filter(project=project, key=entity_id)
        .values_list("version", flat=True)
        .first()
    )


def exists_version(project: Project, entity_id: str) -> int | None:
    """ID-list additions and removals commute: a review of them never goes stale."""
    return 0 if Segment.objects.filter(project=project, key=entity_id).exists() else None


def snapshot(segment: Segment) -> dict[str, Any]:
    return {
        "name": segment.name,
        "description": segment.description,
        "type": segment.type,
        "idType": segment.id_type,
        "tags": list(segment.tags),
        "isEnabled": segment.is_enabled,
        "team": segment.team,
        "teamID": segment.team_id,
        "archived": segment.archived,
        "rules": segment.rules,
    }


def audit(
    segment: Segment,
    actor: Actor,
    action_type: str,
    changes: dict[str, Any],
    review: Review | None = None,
) -> None:
    audit_record(
        project=segment.project,
        actor=actor,
        action_type=action_type,
        entity_type=ENTITY_TYPE,
        entity_id=segment.key,
        entity_name=segment.name,
        changes=changes,
        review=review,
    )
