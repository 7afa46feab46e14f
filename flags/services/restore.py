"""Restoring a gate, config, experiment or layer to one of its versions (the snapshots
``flags.services.versions`` stores): the version's fields are submitted as an ordinary update of
the entity, so the restore is validated against the entity as it is now, reviewed when an edit
would be, and audited like any edit.

What a version restores: every field a person edits. Not its lifecycle state (enabled, launched,
archived: the kind's actions change those, with their confirmations) nor whether it requires
review."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from console.actors import Actor
from console.errors import ValidationError
from console.models import Project
from console.services.reviews import ChangeOutcome
from flags.selectors import entity_version_get
from flags.services import kernel
from flags.services.descriptor import EntityKind

NOT_RESTORED = frozenset({"is_enabled", "archive_reason", "review_required"})


def _restored_keys(kind: EntityKind) -> list[str]:
    skip = set(NOT_RESTORED)
    if kind.lifecycle is not None:
        skip.add(kind.lifecycle.state_field)
    return [key for key in kind.validators if key not in skip]


def version_fields(kind: EntityKind, values: dict[str, Any]) -> dict[str, Any]:
    """The fields a version restores, from its snapshot (``{attname: value}``), as the kind's
    validators take them: a reference as the referred entity's id, or None when that entity is
    gone."""
    fields: dict[str, Any] = {}
    for key in _restored_keys(kind):
        if key not in values:
            continue
        value = values[key]
        model_field = kind.model._meta.get_field(key)
        if not model_field.is_relation:
            value = model_field.to_python(value)
        elif value is not None:
            value = (
                model_field.related_model.objects.filter(pk=value)
                .values_list("slug", flat=True)
                .first()
            )
        fields[key] = value
    return fields


def state_fields(kind: EntityKind, values: dict[str, Any]) -> dict[str, Any]:
    """What a version recorded of the entity's lifecycle state (shown, never restored)."""
    keys = [*NOT_RESTORED, *([kind.lifecycle.state_field] if kind.lifecycle else [])]
    return {key: values[key] for key in keys if key in values}


def current_fields(kind: EntityKind, entity: Any) -> dict[str, Any]:
    return version_fields(
        kind, {field.attname: getattr(entity, field.attname) for field in entity._meta.fields}
    )


@transaction.atomic
def version_restore(
    kind: EntityKind, *, project: Project, actor: Actor, entity_id: str, version: int
) -> ChangeOutcome:
    """Submits the fields of ``version`` that differ from the entity's now as an update of the
    entity (filed for review when an edit of those fields would be)."""
    entity = kernel.locked(kind, project=project, actor=actor, entity_id=entity_id)
    stored = entity_version_get(project=project, kind=kind, entity_id=entity_id, version=version)
    restored = version_fields(kind, stored.snapshot)
    now = current_fields(kind, entity)
    fields = {key: value for key, value in restored.items() if now.get(key) != value}
    if not fields:
        raise ValidationError.for_field(
            "version", f"Version {version} is what the {kind.label.lower()} is now."
        )
    validated = kernel.validated_fields(kind, project, entity, fields)
    return kernel.submit_change(
        kind,
        project=project,
        actor=actor,
        entity=entity,
        change={
            "action": kind.update_action,
            "fields": validated,
            "expected_version": entity.version,
        },
        scope=kind.review_scope(kind, entity, validated),
        description=f"Restore version {version} of {entity.name}",
    )
