"""Helpers every flags service shares: roles, names and ids, versions, review decisions."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, models, transaction

from console.actors import Actor
from console.errors import Conflict, NotFound, PermissionDenied, ValidationError
from console.models import Environment, Project, Review, Role
from console.services.audit import audit_record
from console.services.reviews import (
    ChangeOutcome,
    change_needs_review,
    submit_or_apply,
)
from console.validation import (
    id_from_name,
    validate_name,
    validate_slug,
)
from flags import models as flag_models

# The markers and the forced-review switch are the kernel's: one identity for every service.
from flags.services.descriptor import NO_REVIEW, UNSET, ReviewScope, wider_scope
from flags.services.kernel import _forced_review, review_forced
from ruleset import changes as ruleset_changes

__all__ = ["NO_REVIEW", "UNSET", "ReviewScope", "review_forced", "wider_scope"]

NAME_IN_USE = "Name is already in use"

# Specs that share one list of the compiled ruleset may not share an id.
SPEC_NAMESPACES: dict[type[models.Model], tuple[type[models.Model], ...]] = {
    flag_models.Gate: (flag_models.Gate, flag_models.Holdout),
    flag_models.Holdout: (flag_models.Gate, flag_models.Holdout),
    flag_models.DynamicConfig: (flag_models.DynamicConfig, flag_models.Experiment),
    flag_models.Experiment: (flag_models.DynamicConfig, flag_models.Experiment),
    flag_models.Layer: (flag_models.Layer,),
}


def require_editor(actor: Actor, what: str = "this project") -> None:
    if not actor.has_role(Role.MEMBER):
        raise PermissionDenied(f"Viewers cannot change {what}.")


def new_identity(
    *, project: Project, model: type[models.Model], name: Any, slug: Any = None
) -> tuple[str, str]:
    """The validated name and id of a new entity; refuses names and ids already in use."""
    clean_name = validate_name(name)
    clean_slug = (
        validate_slug(slug) if slug not in (None, "") else validate_slug(id_from_name(clean_name))
    )
    ensure_name_free(project=project, model=model, name=clean_name, slug=clean_slug)
    return clean_name, clean_slug


def ensure_name_free(
    *,
    project: Project,
    model: type[models.Model],
    name: str | None = None,
    slug: str | None = None,
    exclude_pk: int | None = None,
) -> None:
    if name is not None:
        same_name = model.objects.filter(project=project, name__iexact=name)
        if exclude_pk is not None:
            same_name = same_name.exclude(pk=exclude_pk)
        if same_name.exists():
            raise ValidationError.for_field("name", NAME_IN_USE)
    if slug is not None:
        for other in SPEC_NAMESPACES[model]:
            same_slug = other.objects.filter(project=project, slug__iexact=slug)
            if other is model and exclude_pk is not None:
                same_slug = same_slug.exclude(pk=exclude_pk)
            if same_slug.exists():
                raise ValidationError.for_field("name", NAME_IN_USE)


def save_unique(entity: models.Model) -> None:
    """Saves an entity whose name or id a concurrent request may have just taken: the database
    constraint then answers "Name is already in use" (400), not a 500."""
    try:
        with transaction.atomic():
            entity.save()
    except IntegrityError:
        raise ValidationError.for_field("name", NAME_IN_USE) from None


def environment_names(project: Project) -> list[str]:
    return list(Environment.objects.filter(project=project).values_list("name", flat=True))


def stamp_created(entity: flag_models.FlagEntity, actor: Actor) -> None:
    entity.creator_id = entity.modifier_id = actor.id
    entity.creator_name = entity.modifier_name = actor.name
    entity.creator_email = entity.modifier_email = actor.email


def bump(entity: flag_models.FlagEntity, actor: Actor) -> None:
    """Every applied change: a new version and the modifier."""
    entity.version += 1
    entity.modifier_id = actor.id
    entity.modifier_name = actor.name
    entity.modifier_email = actor.email


def record_version(entity: flag_models.FlagEntity, entity_type: str) -> None:
    """Stores the entity as it is now under its version (call after saving a change)."""
    snapshot = {
        field.attname: getattr(entity, field.attname)
        for field in entity._meta.concrete_fields
        if field.attname not in ("id", "project_id")
    }
    flag_models.EntityVersion.objects.update_or_create(
        project_id=entity.project_id,
        entity_type=entity_type,
        entity_id=entity.slug,
        version=entity.version,
        defaults={"snapshot": snapshot},
    )


def save_version(
    *,
    project: Project,
    actor: Actor,
    entity: flag_models.FlagEntity,
    entity_type: str,
    action_type: str,
    changes: dict[str, Any],
    review: Review | None = None,
) -> None:
    """Saves an entity whose fields (and version) the caller has set, with its version snapshot
    and audit entry; the ruleset is rebuilt when the transaction commits."""
    save_unique(entity)
    record_version(entity, entity_type)
    audit_record(
        project=project,
        actor=actor,
        action_type=action_type,
        entity_type=entity_type,
        entity_id=entity.slug,
        entity_name=entity.name,
        changes=changes,
        review=review,
    )
    ruleset_changes.schedule_rebuild(project.id)


def save_created(
    *,
    project: Project,
    actor: Actor,
    entity: flag_models.FlagEntity,
    entity_type: str,
    action_type: str,
    changes: dict[str, Any],
    review: Review | None = None,
) -> None:
    """Stores a new entity with its first version and its audit entry; the ruleset is rebuilt
    when the transaction commits."""
    stamp_created(entity, actor)
    save_version(
        project=project,
        actor=actor,
        entity=entity,
        entity_type=entity_type,
        action_type=action_type,
        changes=changes,
        review=review,
    )


def save_changed_fields(
    *,
    project: Project,
    actor: Actor,
    entity: flag_models.FlagEntity,
    entity_type: str,
    fields: dict[str, Any],
    action_type: str,
    review: Review | None = None,
) -> None:
    """Applies validated fields to a locked entity. Only a real change costs a version, an audit
    entry and a rebuild: re-sending the same values (a retried request) writes nothing."""
    changes = {
        key: {"old": getattr(entity, key), "new": value}
        for key, value in fields.items()
        if getattr(entity, key) != value
    }
    if not changes:
        return
    for key, value in fields.items():
        setattr(entity, key, value)
    bump(entity, actor)
    save_version(
        project=project,
        actor=actor,
        entity=entity,
        entity_type=entity_type,
        action_type=action_type,
        changes=changes,
        review=review,
    )


def forget_versions(entity: flag_models.FlagEntity, entity_type: str) -> None:
    flag_models.EntityVersion.objects.filter(
        project_id=entity.project_id, entity_type=entity_type, entity_id=entity.slug
    ).delete()


def check_expected_version(entity: flag_models.FlagEntity, expected_version: Any) -> None:
    if expected_version is None:
        return
    if not isinstance(expected_version, int) or isinstance(expected_version, bool):
        raise ValidationError.for_field("version", "version must be an integer.")
    if expected_version != entity.version:
        raise Conflict(
            f"'{entity.slug}' was changed by someone else (you edited version "
            f"{expected_version}, it is now at version {entity.version}). Reload it and try again."
        )


def get_entity(
    model: type[models.Model], *, project: Project, slug: str, label: str, lock: bool = False
):
    queryset = model.objects.filter(project=project, slug=slug)
    if lock:
        queryset = queryset.select_for_update()
    entity = queryset.first()
    if entity is None:
        raise NotFound(f"{label} not found.")
    return entity


def current_version_of(model: type[models.Model]):
    def current_version(project: Project, entity_id: str) -> int | None:
        return (
            model.objects.filter(project=project, slug=entity_id)
            .values_list("version", flat=True)
            .first()
        )

    return current_version


def submit_change(
    *,
    project: Project,
    actor: Actor,
    change_type: str,
    entity: flag_models.FlagEntity,
    change: dict[str, Any],
    scope: ReviewScope,
    description: str = "",
) -> ChangeOutcome:
    """Apply a validated change now, or file it for review when the entity, the project and the
    touched environments say so (``scope``: ``NO_REVIEW``, ``None`` for the whole entity, or a set
    of environment names)."""
    forced = _forced_review.get()
    if forced is not None:
        needs_review = True
        description = forced or description
    else:
        needs_review = scope is not NO_REVIEW and change_needs_review(
            project=project,
            actor=actor,
            entity_requires_review=entity.review_required,
            environments=None if scope is None else sorted(scope),
        )
    return submit_or_apply(
        project=project,
        actor=actor,
        change_type=change_type,
        entity_id=entity.slug,
        change=change,
        needs_review=needs_review,
        entity_name=entity.name,
        description=description,
    )
