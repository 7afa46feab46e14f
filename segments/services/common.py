"""What every segment write shares beyond the entity core (``flags.services.kernel``): the
change types, the type check of type-specific changes, the snapshot audits compare, and what a
change schedules on commit (the ruleset rebuild, and for ID lists the notice to every
process)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from console.errors import ValidationError
from console.models import Project
from ruleset.changes import schedule_rebuild
from segments import idlists
from segments.models import Segment


class ChangeType:
    UPDATE = "segment_update"
    CONDITIONAL = "segment_conditional_update"
    ARCHIVE = "segment_archive"
    UNARCHIVE = "segment_unarchive"
    RESTORE = "segment_restore"
    DELETE = "segment_delete"
    IDS_ADD = "segment_id_list_add"
    IDS_REMOVE = "segment_id_list_remove"
    IDS_RESET = "segment_id_list_reset"


def require_type(segment: Segment, kind: str) -> None:
    if segment.type != kind:
        raise ValidationError.for_field(
            "type", f"Segment must be of type '{kind}' to be modified on this endpoint."
        )


def after_change(project_id: int, *, ruleset: bool = True, id_lists: bool = False) -> None:
    """Inside the change's transaction: rebuild the ruleset and refresh id lists on commit."""
    if ruleset:
        schedule_rebuild(project_id)
    if id_lists:
        transaction.on_commit(lambda: idlists.notify_changed(project_id))


def exists_version(project: Project, entity_id: str) -> int | None:
    """ID-list additions and removals commute: a review of them never goes stale."""
    return 0 if Segment.objects.filter(project=project, key=entity_id).exists() else None


def snapshot(segment: Segment) -> dict[str, Any]:
    """The definition as audit entries name it (wire names): a change is audited as the
    difference of its snapshots before and after."""
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
