"""Segments as a kind of the entity core (``flags.services.descriptor.EntityKind``): what
differs from gates is written here once (fields and their validators, the review rule, who may
not be deleted and what goes with a deleted segment); the kernel does the rest, as for every
kind (lock, validate, apply or file for review, version snapshots, audit, rebuild).

Fields are model fields (``is_enabled``, ``team_id``); the services map the console API's names
onto them (``isEnabled``, ``teamID``), and validation errors name the API's field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from console.errors import FieldError, ValidationError
from console.models import Project
from console.validation import (
    NAME_MAX,
    NAME_MIN,
    validate_bool,
    validate_text,
)
from flags.services.descriptor import COMMON_VALIDATORS, EntityKind, FieldValidator, Ownership
from segments import idlists, members, selectors
from segments.models import DESCRIPTION_MAX_LENGTH, ENTITY_TYPE, Segment, SegmentType
from segments.services.common import ChangeType, require_type, snapshot
from segments.services.rules import normalise_rules

# Free-text fields: their API name and longest value.
TEXT_LIMITS = {
    "description": DESCRIPTION_MAX_LENGTH,
    "creatorID": 100,
    "creatorEmail": 254,
    "team": 200,
    "teamID": 100,
}


def validate_segment_name(value: Any) -> str:
    # Segment names, unlike gate names, may hold any character ("Enterprise (EU)!").
    return validate_text(value, "name", min_length=NAME_MIN, max_length=NAME_MAX, strip=True)


def validate_segment_text(value: Any, path: str) -> str:
    return validate_text(value, path, max_length=TEXT_LIMITS[path], strip=True)


def _text(path: str) -> FieldValidator:
    return lambda project, segment, value: validate_segment_text(value, path)


def _rules(project: Project, segment: Segment, value: Any) -> list[dict[str, Any]]:
    require_type(segment, SegmentType.RULE_BASED)
    return normalise_rules(
        project=project, segment_key=segment.key, raw_rules=value, existing=segment.rules
    )


VALIDATORS: dict[str, FieldValidator] = {
    # Tags and unit types as every kind checks them; names, texts and rules as segments do.
    "tags": COMMON_VALIDATORS["tags"],
    "id_type": COMMON_VALIDATORS["id_type"],
    "name": lambda project, segment, value: validate_segment_name(value),
    "description": _text("description"),
    "is_enabled": lambda project, segment, value: validate_bool(value, "isEnabled"),
    "team": _text("team"),
    "team_id": _text("teamID"),
    "archived": lambda project, segment, value: validate_bool(value, "archived"),
    "rules": _rules,
}


def _write(project: Project, segment: Segment, fields: Mapping[str, Any]) -> None:
    if "archived" in fields and fields["archived"] != segment.archived:
        segment.archived_at = timezone.now() if fields["archived"] else None
    for key, value in fields.items():
        setattr(segment, key, value)


def _referrers(project: Project, segment: Segment) -> list[selectors.Referrer]:
    return selectors.segment_referrers(project=project, segment_id=segment.key)


def _referenced_error(
    kind: EntityKind, segment: Segment, referrers: list[selectors.Referrer]
) -> ValidationError:
    names = ", ".join(str(referrer) for referrer in referrers)
    return ValidationError(
        f"Segment '{segment.key}' is used by {names}. Remove it from them before deleting it.",
        errors=[
            FieldError("id", f"Used by {referrer.entity_type} '{referrer.entity_id}'.")
            for referrer in referrers
        ],
    )


def _deleted_audit(segment: Segment) -> dict[str, Any]:
    return {"deleted": {"old": False, "new": True}, "count": {"old": segment.id_count, "new": 0}}


def _delete_members(project: Project, segment: Segment) -> None:
    # One set-based DELETE per table (no per-row collection of members); every process drops
    # the list once the delete commits.
    members.delete_all_members(segment.pk)
    if segment.is_id_list:
        project_id = project.pk
        transaction.on_commit(lambda: idlists.notify_changed(project_id))


SEGMENTS = EntityKind(
    model=Segment,
    entity_type=ENTITY_TYPE,
    label="Segment",
    plural="segments",
    action_prefix="segment",
    validators=VALIDATORS,
    update_actions=(
        ChangeType.UPDATE,
        ChangeType.CONDITIONAL,
        ChangeType.ARCHIVE,
        ChangeType.UNARCHIVE,
    ),
    # A segment applies in every environment at once: any change touches the whole entity.
    review_scope=lambda kind, segment, fields: None,
    referrers=_referrers,
    referenced_error=_referenced_error,
    deleted_audit=_deleted_audit,
    before_delete=_delete_members,
    restorable_fields=(
        "name",
        "description",
        "tags",
        "is_enabled",
        "team",
        "team_id",
        "id_type",
        "rules",
    ),
    write=_write,
    snapshot=snapshot,
    id_field="key",
    ownership=Ownership(creator="creator", modifier="last_modifier", modified_at="updated_at"),
)
