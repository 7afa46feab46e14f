"""Tags of a project (Statsig's ``/console/v1/tags``). Entities carry tags by name, so renaming
or deleting a tag updates the tag lists of the project's gates, configs, experiments, layers and
holdouts in the same transaction (without new entity versions: tags are metadata)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from console.actors import Actor
from console.errors import NotFound, ValidationError
from console.models import Project
from console.services.audit import audit_record, field_changes
from console.validation import (
    validate_bool,
    validate_text,
)
from flags.models import DynamicConfig, Experiment, Gate, Holdout, Layer, Tag
from flags.services.descriptor import UNSET
from flags.services.kernel import require_editor

ENTITY_TYPE = "tag"
TAGGED_MODELS = (Gate, DynamicConfig, Experiment, Layer, Holdout)


def _tag(project: Project, tag_id: str, *, lock: bool = False) -> Tag:
    queryset = Tag.objects.filter(project=project, public_id=tag_id)
    if lock:
        queryset = queryset.select_for_update()
    tag = queryset.first()
    if tag is None:
        raise NotFound("Tag not found.")
    return tag


def _name(project: Project, value: Any, *, exclude_pk: int | None = None) -> str:
    if not isinstance(value, str) or not 1 <= len(value.strip()) <= 100:
        raise ValidationError.for_field("name", "A tag name has 1 to 100 characters.")
    name = value.strip()
    clash = Tag.objects.filter(project=project, name__iexact=name)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise ValidationError.for_field("name", "Name is already in use")
    return name


def _retag(project: Project, old: str, new: str | None) -> None:
    """Renames (``new``) or removes (None) a tag in every entity of the project carrying it."""
    for model in TAGGED_MODELS:
        for entity in model.objects.filter(project=project).only("pk", "tags"):
            if old not in (entity.tags or []):
                continue
            tags = [new if tag == old else tag for tag in entity.tags if new or tag != old]
            model.objects.filter(pk=entity.pk).update(tags=list(dict.fromkeys(tags)))


@transaction.atomic
def tag_create(
    *, project: Project, actor: Actor, name: str, description: str = "", is_core: bool = False
) -> Tag:
    require_editor(actor, "tags")
    tag = Tag.objects.create(
        project=project,
        name=_name(project, name),
        description=validate_text(description, "description"),
        is_core=validate_bool(is_core, "isCore"),
    )
    audit_record(
        project=project,
        actor=actor,
        action_type="tag_create",
        entity_type=ENTITY_TYPE,
        entity_id=tag.public_id,
        entity_name=tag.name,
        changes={"name": {"old": None, "new": tag.name}},
    )
    return tag


@transaction.atomic
def tag_update(
    *,
    project: Project,
    actor: Actor,
    tag_id: str,
    name: Any = UNSET,
    description: Any = UNSET,
    is_core: Any = UNSET,
) -> Tag:
    require_editor(actor, "tags")
    tag = _tag(project, tag_id, lock=True)
    before = {"name": tag.name, "description": tag.description, "isCore": tag.is_core}
    old_name = tag.name
    if name is not UNSET:
        tag.name = _name(project, name, exclude_pk=tag.pk)
    if description is not UNSET:
        tag.description = validate_text(description, "description")
    if is_core is not UNSET:
        tag.is_core = validate_bool(is_core, "isCore")
    changes = field_changes(
        before, {"name": tag.name, "description": tag.description, "isCore": tag.is_core}
    )
    if changes:
        tag.save()
        if tag.name != old_name:
            _retag(project, old_name, tag.name)
        audit_record(
            project=project,
            actor=actor,
            action_type="tag_edit",
            entity_type=ENTITY_TYPE,
            entity_id=tag.public_id,
            entity_name=tag.name,
            changes=changes,
        )
    return tag


@transaction.atomic
def tag_delete(*, project: Project, actor: Actor, tag_id: str) -> None:
    """Deletes the tag and removes it from every entity carrying it."""
    require_editor(actor, "tags")
    tag = _tag(project, tag_id, lock=True)
    _retag(project, tag.name, None)
    audit_record(
        project=project,
        actor=actor,
        action_type="tag_delete",
        entity_type=ENTITY_TYPE,
        entity_id=tag.public_id,
        entity_name=tag.name,
        changes={"name": {"old": tag.name, "new": None}},
    )
    tag.delete()
