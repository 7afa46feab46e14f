"""A segment's definition: creating it, changing its metadata, archiving and deleting it.
Values are checked with ``console.validation``, the primitives every app shares."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from console.actors import Actor
from console.errors import FieldError, ValidationError
from console.models import Project, Review
from console.services.audit import field_changes
from console.services.reviews import ChangeOutcome, register_change
from console.validation import (
    NAME_MAX,
    NAME_MIN,
    FieldErrors,
    new_entity_id,
    validate_bool,
    validate_id_type,
    validate_tags,
    validate_text,
)
from segments import listfile, members, selectors
from segments.models import DEFAULT_ID_TYPE, DESCRIPTION_MAX_LENGTH, Segment, SegmentType
from segments.services.common import (
    ENTITY_TYPE,
    ChangeType,
    after_change,
    audit,
    definition_version,
    locked,
    require_editor,
    snapshot,
    submit,
    touch,
)
from segments.services.rules import normalise_rules

NAME_IN_USE = "Name is already in use"
# Free-text fields: their wire name and longest value.
TEXT_LIMITS = {
    "description": DESCRIPTION_MAX_LENGTH,
    "creatorID": 100,
    "creatorEmail": 254,
    "team": 200,
    "teamID": 100,
}
# What ``segment_update`` may change: wire name -> model field.
UPDATABLE = {
    "name": "name",
    "description": "description",
    "tags": "tags",
    "isEnabled": "is_enabled",
    "team": "team",
    "teamID": "team_id",
    "idType": "id_type",
}


def _name(value: Any) -> str:
    # Segment names, unlike gate names, may hold any character ("Enterprise (EU)!").
    return validate_text(value, "name", min_length=NAME_MIN, max_length=NAME_MAX, strip=True)


def _text(value: Any, path: str) -> str:
    return validate_text(value, path, max_length=TEXT_LIMITS[path], strip=True)


# -- create --------------------------------------------------------------------------------


def segment_create(
    *,
    project: Project,
    actor: Actor,
    name: Any,
    type: Any,
    id: Any = None,
    description: Any = "",
    id_type: Any = DEFAULT_ID_TYPE,
    tags: Any = None,
    rules: Any = None,
    creator_id: Any = None,
    creator_email: Any = None,
    team: Any = None,
    team_id: Any = None,
    is_enabled: bool = True,
    review_required: bool = False,
) -> Segment:
    """Creates a segment (the body of ``POST /console/v1/segments``); every field is validated
    and every problem reported at once. Creation never needs review."""
    require_editor(actor)
    errors = FieldErrors()
    clean_name = errors.check(_name, name)
    if type not in SegmentType.values:
        errors.add("type", f"type must be one of: {', '.join(SegmentType.values)}.")
    key = None
    if clean_name is not None or id not in (None, ""):
        key = errors.check(new_entity_id, id, name=clean_name or "")
    clean_description = errors.check(_text, description, "description")
    clean_id_type = errors.check(validate_id_type, DEFAULT_ID_TYPE if id_type is None else id_type)
    clean_tags = errors.check(validate_tags, tags)
    clean_creator_id = errors.check(_text, creator_id, "creatorID")
    clean_creator_email = errors.check(_text, creator_email, "creatorEmail")
    clean_team = errors.check(_text, team, "team")
    clean_team_id = errors.check(_text, team_id, "teamID")
    if rules not in (None, []) and type in SegmentType.values and type != SegmentType.RULE_BASED:
        errors.add("rules", "rules can only be given for segments of type 'rule_based'.")
    errors.raise_if_any()
    assert key is not None
    assert clean_name is not None

    clean_rules: list[dict[str, Any]] = []
    if type == SegmentType.RULE_BASED and rules not in (None, []):
        clean_rules = normalise_rules(project=project, segment_key=key, raw_rules=rules)

    in_use_field = "id" if id else "name"
    with transaction.atomic():
        if Segment.objects.filter(project=project, key=key).exists():
            raise ValidationError.for_field(in_use_field, NAME_IN_USE)
        segment = Segment(
            project=project,
            key=key,
            name=clean_name,
            description=clean_description or "",
            type=type,
            id_type=clean_id_type or DEFAULT_ID_TYPE,
            tags=clean_tags or [],
            is_enabled=bool(is_enabled),
            rules=clean_rules,
            salt=str(uuid.uuid4()),
            review_required=bool(review_required),
            creator_id=clean_creator_id or actor.id,
            creator_name=actor.name,
            creator_email=clean_creator_email or actor.email,
            team=clean_team or "",
            team_id=clean_team_id or "",
        )
        touch(segment, actor)
        if segment.is_id_list:
            listfile.start_new_file(segment)
        try:
            with transaction.atomic():
                segment.save()
        except IntegrityError:  # created concurrently under the same id
            raise ValidationError.for_field(in_use_field, NAME_IN_USE) from None
        audit(segment, actor, "segment_create", field_changes({}, snapshot(segment)))
        after_change(project.pk, ruleset=True, id_lists=segment.is_id_list)
    return segment


# -- metadata ------------------------------------------------------------------------------


def _clean_update(change: dict[str, Any]) -> dict[str, Any]:
    errors = FieldErrors()
    clean: dict[str, Any] = {}
    for field, value in change.items():
        if field not in UPDATABLE:
            errors.add(field, f"'{field}' cannot be changed here.")
        elif field == "name":
            clean[field] = errors.check(_name, value)
        elif field == "tags":
            clean[field] = errors.check(validate_tags, value)
        elif field == "isEnabled":
            clean[field] = errors.check(validate_bool, value, "isEnabled")
        elif field == "idType":
            clean[field] = errors.check(validate_id_type, value)
        else:
            clean[field] = errors.check(_text, value, field)
    errors.raise_if_any()
    return clean


def segment_update(
    *, project: Project, actor: Actor, segment_id: str, **change: Any
) -> ChangeOutcome:
    """Changes metadata: ``name, description, tags, isEnabled, team, teamID, idType``."""
    require_editor(actor)
    segment = selectors.segment_get(project=project, segment_id=segment_id)
    clean = _clean_update(change)
    return submit(
        project=project, actor=actor, segment=segment, change_type=ChangeType.UPDATE, change=clean
    )


@register_change(ChangeType.UPDATE, entity_type=ENTITY_TYPE, current_version=definition_version)
def _apply_update(
    *, project: Project, actor: Actor, entity_id: str, change: dict, review: Review | None = None
) -> Segment:
    clean = _clean_update(change)
    with transaction.atomic():
        segment = locked(project, entity_id)
        before = snapshot(segment)
        for field, value in clean.items():
            setattr(segment, UPDATABLE[field], value)
        changes = field_changes(before, snapshot(segment))
        if changes:
            segment.version += 1
            touch(segment, actor)
            segment.save()
            audit(segment, actor, "segment_update", changes, review)
            after_change(project.pk, ruleset=True)
    return segment


# -- archive -------------------------------------------------------------------------------


def segment_archive(
    *, project: Project, actor: Actor, segment_id: str, archived: bool = True
) -> ChangeOutcome:
    """Archives (or unarchives) a segment: hidden from pickers, still evaluated where used."""
    require_editor(actor)
    segment = selectors.segment_get(project=project, segment_id=segment_id)
    return submit(
        project=project,
        actor=actor,
        segment=segment,
        change_type=ChangeType.ARCHIVE if archived else ChangeType.UNARCHIVE,
        change={},
    )


def _set_archived(archived: bool) -> Callable[..., Segment]:
    def apply(
        *,
        project: Project,
        actor: Actor,
        entity_id: str,
        change: dict,
        review: Review | None = None,
    ) -> Segment:
        with transaction.atomic():
            segment = locked(project, entity_id)
            if segment.archived != archived:
                segment.archived = archived
                segment.archived_at = timezone.now() if archived else None
                segment.version += 1
                touch(segment, actor)
                segment.save()
                audit(
                    segment,
                    actor,
                    "segment_archive" if archived else "segment_unarchive",
                    {"archived": {"old": not archived, "new": archived}},
                    review,
                )
                after_change(project.pk, ruleset=True)
        return segment

    return apply


register_change(ChangeType.ARCHIVE, entity_type=ENTITY_TYPE, current_version=definition_version)(
    _set_archived(True)
)
register_change(ChangeType.UNARCHIVE, entity_type=ENTITY_TYPE, current_version=definition_version)(
    _set_archived(False)
)


# -- delete --------------------------------------------------------------------------------


def _refuse_if_referenced(project: Project, segment: Segment) -> None:
    referrers = selectors.segment_referrers(project=project, segment_id=segment.key)
    if referrers:
        names = ", ".join(str(referrer) for referrer in referrers)
        raise ValidationError(
            f"Segment '{segment.key}' is used by {names}. Remove it from them before deleting it.",
            errors=[
                FieldError("id", f"Used by {referrer.entity_type} '{referrer.entity_id}'.")
                for referrer in referrers
            ],
        )


def segment_delete(*, project: Project, actor: Actor, segment_id: str) -> ChangeOutcome:
    """Deletes a segment with its members and id-list file; refused while anything targets it."""
    require_editor(actor)
    segment = selectors.segment_get(project=project, segment_id=segment_id)
    _refuse_if_referenced(project, segment)
    return submit(
        project=project, actor=actor, segment=segment, change_type=ChangeType.DELETE, change={}
    )


@register_change(ChangeType.DELETE, entity_type=ENTITY_TYPE, current_version=definition_version)
def _apply_delete(
    *, project: Project, actor: Actor, entity_id: str, change: dict, review: Review | None = None
) -> None:
    with transaction.atomic():
        segment = locked(project, entity_id)
        _refuse_if_referenced(project, segment)
        was_list = segment.is_id_list
        audit(
            segment,
            actor,
            "segment_delete",
            {"deleted": {"old": False, "new": True}, "count": {"old": segment.id_count, "new": 0}},
            review,
        )
        # One set-based DELETE per table (no per-row collection of members).
        members.delete_all_members(segment.pk)
        segment.delete()
        after_change(project.pk, ruleset=True, id_lists=was_list)
