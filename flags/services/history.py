"""An entity's history: bringing back a stored version (``flags.services.versions`` stores one
under every version) as an edit of the entity as it is now, through the kernel's ``submit``, so
it is validated, reviewed when the entity asks for review, audited and a new version."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from console.actors import Actor
from console.errors import NotFound, ValidationError
from console.models import Project
from console.services.reviews import ChangeOutcome
from flags.services import kernel
from flags.services.descriptor import EntityKind
from flags.services.versions import restorable_values, stored_snapshot


def _differs(kind: EntityKind, entity: Any, key: str, stored: Any) -> bool:
    """Whether a field's value in a version snapshot (JSON: a Decimal or a date as text) is
    not the entity's now."""
    if key in kind.versioned_references:
        return stored != kind.versioned_references[key](entity)
    return kind.model._meta.get_field(key).to_python(stored) != kind.value_of(entity, key)


def restored_fields(kind: EntityKind, entity: Any, snapshot: dict[str, Any]) -> dict[str, Any]:
    """What restoring a version's snapshot submits: its restorable fields that differ from now."""
    stored = restorable_values(kind, snapshot)
    for key, restored in kind.restored_values.items():
        if key in stored:
            stored[key] = restored(entity, stored[key])
    return {
        key: stored[key]
        for key in kind.restorable_fields
        if key in stored and _differs(kind, entity, key, stored[key])
    }


@transaction.atomic
def restore_version(
    kind: EntityKind,
    *,
    project: Project,
    actor: Actor,
    entity_id: str,
    version: Any,
    expected_version: int | None = None,
) -> ChangeOutcome:
    """Brings back the kind's ``restorable_fields`` as they were at a stored version: submitted
    as a field change (``<prefix>_restore``), so it is validated against the entity as it is
    now, reviewed when the entity asks for review, audited and versioned like any edit. A
    reference to something deleted since (a layer, a gate) is refused by its field's validator,
    naming it, before anything changes."""
    if not kind.restorable_fields:
        raise ValidationError.for_field("version", f"{kind.label} versions cannot be restored.")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ValidationError.for_field("version", "version must be an integer.")
    entity = kernel.locked(kind, project=project, actor=actor, entity_id=entity_id)
    snapshot = stored_snapshot(kind, entity, version)
    if snapshot is None:
        raise NotFound(f"{kind.label} version {version} not found.")
    fields = restored_fields(kind, entity, snapshot)
    if not fields:
        raise ValidationError.for_field(
            "version", f"{kind.label} is already as it was at version {version}."
        )
    return kernel.submit(
        kind,
        project=project,
        actor=actor,
        entity=entity,
        fields=fields,
        action=kind.restore_action,
        expected_version=expected_version,
    )
