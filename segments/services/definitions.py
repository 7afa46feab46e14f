"""A segment's definition: creating it, changing its metadata and rules, archiving, restoring
a stored version and deleting it, each a thin call to the entity core (``flags.services.kernel``
with the ``SEGMENTS`` kind): validated there, applied or filed for review, versioned, audited.
Values are checked with ``console.validation``, the primitives every app shares."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction

from console.actors import Actor
from console.errors import ValidationError
from console.models import Project
from console.services.audit import field_changes
from console.services.reviews import ChangeOutcome
from console.validation import FieldErrors, new_entity_id, validate_id_type, validate_tags
from flags.services import history, kernel, versions
from flags.services.descriptor import NAME_IN_USE
from segments import listfile
from segments.models import DEFAULT_ID_TYPE, Segment, SegmentType
from segments.services.common import ChangeType, after_change, snapshot
from segments.services.kind import SEGMENTS, validate_segment_name, validate_segment_text
from segments.services.rules import normalise_rules

# What ``segment_update`` may change: API name -> model field.
UPDATABLE = {
    "name": "name",
    "description": "description",
    "tags": "tags",
    "isEnabled": "is_enabled",
    "team": "team",
    "teamID": "team_id",
    "idType": "id_type",
}


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
    kernel.require_editor(actor, SEGMENTS.plural)
    errors = FieldErrors()
    clean_name = errors.check(validate_segment_name, name)
    if type not in SegmentType.values:
        errors.add("type", f"type must be one of: {', '.join(SegmentType.values)}.")
    key = None
    if clean_name is not None or id not in (None, ""):
        key = errors.check(new_entity_id, id, name=clean_name or "")
    clean_description = errors.check(validate_segment_text, description, "description")
    clean_id_type = errors.check(validate_id_type, DEFAULT_ID_TYPE if id_type is None else id_type)
    clean_tags = errors.check(validate_tags, tags)
    clean_creator_id = errors.check(validate_segment_text, creator_id, "creatorID")
    clean_creator_email = errors.check(validate_segment_text, creator_email, "creatorEmail")
    clean_team = errors.check(validate_segment_text, team, "team")
    clean_team_id = errors.check(validate_segment_text, team_id, "teamID")
    if rules not in (None, []) and type in SegmentType.values and type != SegmentType.RULE_BASED:
        errors.add("rules", "rules can only be given for segments of type 'rule_based'.")
    errors.raise_if_any()
    assert key is not None
    assert clean_name is not None

    clean_rules: list[dict[str, Any]] = []
    if type == SegmentType.RULE_BASED and rules not in (None, []):
        clean_rules = normalise_rules(project=project, segment_key=key, raw_rules=rules)

    with transaction.atomic():
        if Segment.objects.filter(project=project, key=key).exists():
            raise ValidationError.for_field("id" if id else "name", NAME_IN_USE)
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
            team=clean_team or "",
            team_id=clean_team_id or "",
        )
        versions.stamp_created(SEGMENTS, segment, actor)
        # The console API may name another creator than the caller.
        segment.creator_id = clean_creator_id or actor.id
        segment.creator_email = clean_creator_email or actor.email
        if segment.is_id_list:
            listfile.start_new_file(segment)
        kernel.store_new(
            SEGMENTS,
            project=project,
            actor=actor,
            entity=segment,
            changes=field_changes({}, snapshot(segment)),
        )
        after_change(project.pk, ruleset=False, id_lists=segment.is_id_list)
    return segment


# -- changes of the definition -------------------------------------------------------------


def segment_update(
    *, project: Project, actor: Actor, segment_id: str, **change: Any
) -> ChangeOutcome:
    """Changes metadata: ``name, description, tags, isEnabled, team, teamID, idType``."""
    kernel.require_editor(actor, SEGMENTS.plural)
    errors = FieldErrors()
    for field in change:
        if field not in UPDATABLE:
            errors.add(field, f"'{field}' cannot be changed here.")
    errors.raise_if_any()
    return kernel.submit_fields(
        SEGMENTS,
        project=project,
        actor=actor,
        entity_id=segment_id,
        fields={UPDATABLE[field]: value for field, value in change.items()},
        action=ChangeType.UPDATE,
    )


def segment_update_rules(
    *, project: Project, actor: Actor, segment_id: str, rules: Any
) -> ChangeOutcome:
    """Replaces the rules of a rule-based segment (``POST /segments/{id}/conditional``)."""
    return kernel.submit_fields(
        SEGMENTS,
        project=project,
        actor=actor,
        entity_id=segment_id,
        fields={"rules": rules},
        action=ChangeType.CONDITIONAL,
    )


def segment_archive(
    *, project: Project, actor: Actor, segment_id: str, archived: bool = True
) -> ChangeOutcome:
    """Archives (or unarchives) a segment: hidden from pickers, still evaluated where used."""
    return kernel.submit_fields(
        SEGMENTS,
        project=project,
        actor=actor,
        entity_id=segment_id,
        fields={"archived": archived},
        action=ChangeType.ARCHIVE if archived else ChangeType.UNARCHIVE,
    )


def segment_version_restore(
    *,
    project: Project,
    actor: Actor,
    segment_id: str,
    version: int,
    expected_version: int | None = None,
) -> ChangeOutcome:
    """Brings the segment's definition (name, description, tags, enabled, team, id type, rules)
    back to a stored version (``segments.selectors.segment_versions``), as a change of type
    ``segment_restore``: reviewed when the segment or project asks for review, audited, and a
    new version. 404 for a version never stored, 400 when nothing would change; a 409 when
    ``expected_version`` (the version the user looked at) is no longer the current one."""
    return history.restore_version(
        SEGMENTS,
        project=project,
        actor=actor,
        entity_id=segment_id,
        version=version,
        expected_version=expected_version,
    )


def segment_delete(*, project: Project, actor: Actor, segment_id: str) -> ChangeOutcome:
    """Deletes a segment with its members and id-list file; refused while anything targets it."""
    return kernel.delete(SEGMENTS, project=project, actor=actor, entity_id=segment_id)
