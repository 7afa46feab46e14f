"""An entity's versions: who created and last changed it (the owner fields its kind names), the
version counter every applied change bumps, the expected-version check of an edit, and the
snapshot stored under each version (``GET /gates/{id}/versions``)."""

from __future__ import annotations

from typing import Any

from console.actors import Actor
from console.errors import Conflict, ValidationError
from flags.models import EntityVersion
from flags.services.descriptor import EntityKind

# The snapshot's key of the kind's ``versioned_references`` (no column is named so).
REFERENCES = "references"


def _stamp(entity: Any, prefix: str, actor: Actor) -> None:
    setattr(entity, f"{prefix}_id", actor.id)
    setattr(entity, f"{prefix}_name", actor.name)
    setattr(entity, f"{prefix}_email", actor.email)


def stamp_created(kind: EntityKind, entity: Any, actor: Actor) -> None:
    _stamp(entity, kind.ownership.creator, actor)
    _stamp(entity, kind.ownership.modifier, actor)


def stamp_modified(kind: EntityKind, entity: Any, actor: Actor) -> None:
    """The modifier of a change that is no new version of the definition (an ID list's
    members)."""
    _stamp(entity, kind.ownership.modifier, actor)


def bump(kind: EntityKind, entity: Any, actor: Actor) -> None:
    """Every applied change: a new version and the modifier."""
    entity.version += 1
    stamp_modified(kind, entity, actor)


def save_erased(kind: EntityKind, entity: Any, fields: list[str]) -> None:
    """Saves the ``fields`` a user-data eraser changed as a new version with its snapshot, as
    every change is (an open review of the old version is then stale, so it cannot bring the
    erased ids back); no one is its modifier."""
    entity.version += 1
    entity.save(update_fields=[*fields, "version", kind.ownership.modified_at])
    record_version(kind, entity)


def record_version(kind: EntityKind, entity: Any) -> None:
    """Stores the entity as it is now under its version (call after saving a change)."""
    if not kind.versioned:
        return
    snapshot = {
        model_field.attname: getattr(entity, model_field.attname)
        for model_field in entity._meta.concrete_fields
        if model_field.attname not in ("id", "project_id")
    }
    if kind.versioned_references:
        snapshot[REFERENCES] = {
            key: reference_of(entity) for key, reference_of in kind.versioned_references.items()
        }
    EntityVersion.objects.update_or_create(
        project_id=entity.project_id,
        entity_type=kind.entity_type,
        entity_id=kind.id_of(entity),
        version=entity.version,
        defaults={"snapshot": snapshot},
    )


def restorable_values(kind: EntityKind, snapshot: dict[str, Any]) -> dict[str, Any]:
    """A stored version's fields as a restore submits them: its columns, with each of the kind's
    ``versioned_references`` as kept beside them (absent from a version stored before they were
    kept: its column's row id is not what the field's validator takes)."""
    references = snapshot.get(REFERENCES, {})
    values = {
        key: value
        for key, value in snapshot.items()
        if key != REFERENCES and key not in kind.versioned_references
    }
    values.update(references)
    return values


def stored_snapshot(kind: EntityKind, entity: Any, version: int) -> dict[str, Any] | None:
    """The entity's fields as stored under ``version`` (model attribute names), if stored."""
    return (
        EntityVersion.objects.filter(
            project_id=entity.project_id,
            entity_type=kind.entity_type,
            entity_id=kind.id_of(entity),
            version=version,
        )
        .values_list("snapshot", flat=True)
        .first()
    )


def forget_versions(kind: EntityKind, entity: Any) -> None:
    EntityVersion.objects.filter(
        project_id=entity.project_id, entity_type=kind.entity_type, entity_id=kind.id_of(entity)
    ).delete()


def check_expected_version(entity: Any, expected_version: Any) -> None:
    if expected_version is None:
        return
    if not isinstance(expected_version, int) or isinstance(expected_version, bool):
        raise ValidationError.for_field("version", "version must be an integer.")
    if expected_version != entity.version:
        raise Conflict(
            f"'{entity}' was changed by someone else (you edited version "
            f"{expected_version}, it is now at version {entity.version}). Reload it and try again."
        )
