"""The one path every kind of flags entity takes, reading its ``EntityKind`` descriptor
(``flags.services.descriptor``): ``get`` (and lock) and ``new_identity`` (one id-from-name rule);
``submit`` a field change (applied now or filed for review) and ``apply_fields`` (the same change
applied directly or when its review is committed); ``create``; ``delete`` (refused while
referenced); ``overrides_set`` / ``overrides_change``; ``submit_transition`` /
``apply_transition`` for the kind's lifecycle table (version snapshots: ``flags.services.versions``;
restoring one: ``flags.services.history``). Segments are a kind too (``segments.services.kind``).

The named services (``flags.services.gates.gate_update`` ...) are thin typed functions over these.
``register_kind``, called from ``FlagsConfig.ready()`` and ``SegmentsConfig.ready()``, registers
every change type of a kind with ``console.services.reviews``, so any process can commit any
review. A field change is stored as
``{"action": <change type>, "fields": {<model field>: value}, "expected_version": n}``; an effect
transition as ``{"action": ..., <its parameters>}``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from django.db import IntegrityError, models, transaction

from console.actors import Actor
from console.errors import NotFound, PermissionDenied, ValidationError
from console.models import Project, Review, Role
from console.services.audit import audit_record, field_changes
from console.services.reviews import (
    ChangeOutcome,
    change_needs_review,
    register_change,
    submit_or_apply,
)
from console.validation import validate_name, validate_slug
from flags.models import FlagEntity, Holdout
from flags.services.descriptor import (
    NAME_IN_USE,
    NO_REVIEW,
    UNSET,
    EntityKind,
    OverridesRule,
    ReviewScope,
    ensure_name_free,
)
from flags.services.versions import (
    bump,
    check_expected_version,
    forget_versions,
    record_version,
    stamp_created,
)
from ruleset import changes as ruleset_changes

_KINDS: dict[str, EntityKind] = {}


def register_kind(kind: EntityKind) -> None:
    """Registers the kind and its change types (its app's ``AppConfig.ready()``): a review of any of
    them can then be committed by any process, whatever it imported."""
    _KINDS[kind.entity_type] = kind
    version = current_version(kind)
    reviewers = stored_allowed_reviewers(kind) if issubclass(kind.model, FlagEntity) else None
    for change_type, apply in change_types(kind):
        register_change(
            change_type,
            entity_type=kind.entity_type,
            current_version=version,
            allowed_reviewers=reviewers,
        )(apply)


def registered_kinds() -> list[EntityKind]:
    return list(_KINDS.values())


def change_types(kind: EntityKind) -> list[tuple[str, Callable[..., Any]]]:
    """Every change type of the kind with the function that applies it."""
    found: list[tuple[str, Callable[..., Any]]] = [
        (action, partial(apply_fields, kind)) for action in kind.update_actions
    ]
    if kind.restorable_fields:
        found.append((kind.restore_action, partial(apply_fields, kind)))
    for transition in kind.lifecycle.transitions if kind.lifecycle else ():
        apply = apply_fields if transition.effect is None else apply_transition
        found.append((transition.action, partial(apply, kind)))
    found.append((kind.delete_action, partial(apply_delete, kind)))
    return found


# -- small pieces -----------------------------------------------------------------------------


def require_editor(actor: Actor, what: str = "this project") -> None:
    if not actor.has_role(Role.MEMBER):
        raise PermissionDenied(f"Viewers cannot change {what}.")


def get(kind: EntityKind, *, project: Project, entity_id: str, lock: bool = False) -> Any:
    queryset = kind.model.objects.filter(project=project, **{kind.id_field: entity_id})
    if lock:
        queryset = queryset.select_for_update()
    entity = queryset.first()
    if entity is None:
        raise NotFound(f"{kind.label} not found.")
    return entity


def current_version(kind: EntityKind) -> Callable[[Project, str], int | None]:
    def version(project: Project, entity_id: str) -> int | None:
        return (
            kind.model.objects.filter(project=project, **{kind.id_field: entity_id})
            .values_list("version", flat=True)
            .first()
        )

    return version


def stored_allowed_reviewers(kind: EntityKind) -> Callable[[Project, str], list[str]]:
    """The ids of the members the entity lets approve its reviews (none: no entity)."""

    def allowed_reviewers(project: Project, entity_id: str) -> list[str]:
        stored = (
            kind.model.objects.filter(project=project, **{kind.id_field: entity_id})
            .values_list("allowed_reviewers", flat=True)
            .first()
        )
        return list(stored or [])

    return allowed_reviewers


def new_identity(
    kind: EntityKind, *, project: Project, name: Any, entity_id: Any = None
) -> tuple[str, str]:
    """The validated name and id of a new entity (the id made from the name unless given);
    refuses names and ids already in use."""
    clean_name = validate_name(name)
    clean_id = validate_slug(entity_id if entity_id not in (None, "") else kind.id_rule(clean_name))
    ensure_name_free(project=project, model=kind.model, name=clean_name)
    for model in kind.id_namespace or (kind.model,):
        if model.objects.filter(project=project, **{f"{kind.id_field}__iexact": clean_id}).exists():
            raise ValidationError.for_field("name", NAME_IN_USE)
    return clean_name, clean_id


def save_unique(entity: models.Model) -> None:
    """Saves an entity whose name or id a concurrent request may have just taken: the database
    constraint then answers "Name is already in use" (400), not a 500."""
    try:
        with transaction.atomic():
            entity.save()
    except IntegrityError:
        raise ValidationError.for_field("name", NAME_IN_USE) from None


# -- validation -------------------------------------------------------------------------------


def validated_fields(
    kind: EntityKind, project: Project, entity: Any, fields: Mapping[str, Any]
) -> dict[str, Any]:
    """The fields as stored, each checked by the kind's validator, then the cross-field rules."""
    if kind.admit_fields is not None:
        fields = kind.admit_fields(entity, fields)
    out: dict[str, Any] = {}
    for key, value in fields.items():
        validator = kind.validators.get(key)
        if validator is None:
            raise ValidationError.for_field(key, f"Unknown {kind.label.lower()} field '{key}'.")
        out[key] = validator(project, entity, value)
    if kind.complete_fields is not None:
        out = kind.complete_fields(project, entity, out)
    return out


def refuse_if_referenced(kind: EntityKind, project: Project, entity: Any) -> None:
    referrers = kind.referrers(project, entity) if kind.referrers else []
    if referrers:
        raise kind.referenced_error(kind, entity, referrers)


# -- reviews ----------------------------------------------------------------------------------


def submit_change(
    kind: EntityKind,
    *,
    project: Project,
    actor: Actor,
    entity: Any,
    change: dict[str, Any],
    scope: ReviewScope,
    description: str = "",
) -> ChangeOutcome:
    """Apply a validated change (``change["action"]`` names its change type) now, or file it for
    review when the entity, the project and the touched environments say so (``scope``:
    ``NO_REVIEW``, ``None`` for the whole entity, or a set of environment names)."""
    # A forced review (``console.services.reviews.review_forced``) is filed whatever this says.
    needs_review = change_needs_review(
        project=project,
        actor=actor,
        entity_requires_review=entity.review_required,
        environments=None if scope is None else [] if scope is NO_REVIEW else sorted(scope),
    )
    return submit_or_apply(
        project=project,
        actor=actor,
        change_type=change["action"],
        entity_id=kind.id_of(entity),
        change=change,
        needs_review=needs_review,
        entity_name=entity.name,
        description=description,
    )


# -- changing fields --------------------------------------------------------------------------


def locked(kind: EntityKind, *, project: Project, actor: Actor, entity_id: str) -> Any:
    """The entity, locked for a change by an editor."""
    require_editor(actor, kind.plural)
    return get(kind, project=project, entity_id=entity_id, lock=True)


def submit(
    kind: EntityKind,
    *,
    project: Project,
    actor: Actor,
    entity: Any,
    fields: Mapping[str, Any],
    action: str | None = None,
    expected_version: int | None = None,
    scope: ReviewScope = UNSET,
) -> ChangeOutcome:
    """Validates a field change of a locked entity and applies it, or files it for review
    (``scope``: the kind's review rule unless given)."""
    check_expected_version(entity, expected_version)
    validated = validated_fields(kind, project, entity, fields)
    action = action or kind.update_action
    return submit_change(
        kind,
        project=project,
        actor=actor,
        entity=entity,
        change={"action": action, "fields": validated, "expected_version": expected_version},
        scope=kind.review_scope(kind, entity, validated) if scope is UNSET else scope,
    )


@transaction.atomic
def submit_fields(
    kind: EntityKind,
    *,
    project: Project,
    actor: Actor,
    entity_id: str,
    fields: Mapping[str, Any],
    action: str | None = None,
) -> ChangeOutcome:
    """``submit`` of fields that do not depend on the entity's current values: locks it first."""
    entity = locked(kind, project=project, actor=actor, entity_id=entity_id)
    return submit(kind, project=project, actor=actor, entity=entity, fields=fields, action=action)


def _set_relations(kind: EntityKind, project: Project, entity: Any, fields: Mapping) -> None:
    for key, (model, relation) in kind.relations.items():
        if key in fields:
            getattr(entity, relation).set(
                model.objects.filter(project=project, slug__in=fields[key])
            )


def _store(
    kind: EntityKind,
    *,
    project: Project,
    actor: Actor,
    entity: Any,
    fields: Mapping[str, Any],
    action_type: str,
    changes: Callable[[], dict[str, Any]],
    review: Review | None,
) -> None:
    """Saves the entity (and its relations among ``fields``), its version snapshot and its audit
    entry (``changes()``, read once saved); the ruleset is rebuilt when the transaction commits."""
    save_unique(entity)
    _set_relations(kind, project, entity, fields)
    record_version(kind, entity)
    audit(
        kind,
        project=project,
        actor=actor,
        entity=entity,
        action_type=action_type,
        changes=changes(),
        review=review,
    )
    ruleset_changes.schedule_rebuild(project.id)


def audit(
    kind: EntityKind,
    *,
    project: Project,
    actor: Actor,
    entity: Any,
    action_type: str,
    changes: dict[str, Any],
    review: Review | None = None,
) -> None:
    """The audit entry of a change to the entity, named as its kind names it."""
    audit_record(
        project=project,
        actor=actor,
        action_type=action_type,
        entity_type=kind.entity_type,
        entity_id=kind.id_of(entity),
        entity_name=entity.name,
        changes=changes,
        review=review,
    )


def save_fields(
    kind: EntityKind,
    *,
    project: Project,
    actor: Actor,
    entity: Any,
    fields: Mapping[str, Any],
    action_type: str,
    review: Review | None = None,
) -> None:
    """Applies validated fields to a locked entity. Only a real change costs a version, an audit
    entry and a rebuild: re-sending the same values (a retried request) writes nothing."""
    if kind.snapshot is None:
        changes = {
            key: {"old": kind.value_of(entity, key), "new": value}
            for key, value in fields.items()
            if kind.value_of(entity, key) != value
        }
        if changes:
            kind.write(project, entity, fields)
    else:
        before = kind.snapshot(entity)
        kind.write(project, entity, fields)
        changes = field_changes(before, kind.snapshot(entity))
    if not changes:
        return
    bump(kind, entity, actor)
    _store(
        kind,
        project=project,
        actor=actor,
        entity=entity,
        fields=fields,
        action_type=action_type,
        changes=lambda: changes,
        review=review,
    )


def apply_fields(
    kind: EntityKind,
    *,
    project: Project,
    actor: Actor,
    entity_id: str,
    change: dict[str, Any],
    review: Review | None = None,
) -> Any:
    """Applies a stored field change: validated again against the entity as it is now."""
    entity = get(kind, project=project, entity_id=entity_id, lock=True)
    check_expected_version(entity, change.get("expected_version"))
    fields = validated_fields(kind, project, entity, change["fields"])
    save_fields(
        kind,
        project=project,
        actor=actor,
        entity=entity,
        fields=fields,
        action_type=change.get("action") or kind.update_action,
        review=review,
    )
    return entity


# -- create -----------------------------------------------------------------------------------


def create(
    kind: EntityKind,
    *,
    project: Project,
    actor: Actor,
    name: Any,
    entity_id: Any,
    fields: Mapping[str, Any],
) -> Any:
    """A new entity with its first version and audit entry; it joins the global holdouts of its
    id type. Creates are never reviewed (nothing uses the entity yet)."""
    require_editor(actor, kind.plural)
    name, clean_id = new_identity(kind, project=project, name=name, entity_id=entity_id)
    entity = kind.model(project=project, name=name, **{kind.id_field: clean_id})
    validated = validated_fields(kind, project, entity, fields)
    # Stamped first: a kind that takes its owner from the body (Statsig's creatorID) writes it.
    stamp_created(kind, entity, actor)
    kind.write(project, entity, validated)
    _store(
        kind,
        project=project,
        actor=actor,
        entity=entity,
        fields=validated,
        action_type=kind.create_action,
        changes=lambda: {
            key: {"old": None, "new": value} for key, value in kind.created_audit(entity).items()
        },
        review=None,
    )
    if kind.global_holdout_relation:
        join_global_holdouts(kind, project=project, entity=entity)
    return entity


def join_global_holdouts(kind: EntityKind, *, project: Project, entity: Any) -> None:
    for holdout in Holdout.objects.filter(project=project, is_global=True, id_type=entity.id_type):
        getattr(holdout, kind.global_holdout_relation).add(entity)


def store_created(
    kind: EntityKind,
    *,
    project: Project,
    actor: Actor,
    entity: Any,
    changes: dict[str, Any],
    review: Review | None = None,
) -> None:
    """Stores an entity an effect built (restart as new) as created by ``actor``."""
    stamp_created(kind, entity, actor)
    store_new(kind, project=project, actor=actor, entity=entity, changes=changes, review=review)


def store_new(
    kind: EntityKind,
    *,
    project: Project,
    actor: Actor,
    entity: Any,
    changes: dict[str, Any],
    review: Review | None = None,
) -> None:
    """Stores a new entity whose owners are already stamped (``versions.stamp_created``, then
    whatever the caller was given), with its first version and its create audit entry."""
    _store(
        kind,
        project=project,
        actor=actor,
        entity=entity,
        fields={},
        action_type=kind.create_action,
        changes=lambda: changes,
        review=review,
    )


# -- lifecycle --------------------------------------------------------------------------------


def submit_transition(
    kind: EntityKind,
    *,
    project: Project,
    actor: Actor,
    entity_id: str,
    action: str,
    parameters: Mapping[str, Any] | None = None,
    fields: Mapping[str, Any] | None = None,
) -> ChangeOutcome:
    """A lifecycle action of the kind's table, checked against the entity's state now, then
    applied or filed for review (always reviewable: it changes the entity as a whole).

    A field transition submits its ``fields(entity)`` (with the caller's ``fields``, such as an
    archive reason) as a field change. An effect transition stores ``{"action": ...,
    **parameters}``; it is tried in a savepoint that is rolled back, so a refusal is answered at
    once, and applying it runs the effect again on the entity as it is then."""
    if kind.lifecycle is None:
        raise ValidationError.for_field("action", f"{kind.label} has no lifecycle.")
    entity = locked(kind, project=project, actor=actor, entity_id=entity_id)
    transition = kind.lifecycle.transition(action)
    if transition.effect is None:
        kind.lifecycle.refuse_unless_allowed(entity, transition)
        return submit(
            kind,
            project=project,
            actor=actor,
            entity=entity,
            fields={
                **(transition.fields(entity) if transition.fields else {}),
                **(
                    {kind.lifecycle.state_field: transition.to_state} if transition.to_state else {}
                ),
                **(fields or {}),
            },
            action=transition.action,
            scope=None,
        )
    change = {"action": transition.action, **(parameters or {})}
    with transaction.atomic():
        savepoint = transaction.savepoint()
        try:
            trial = get(kind, project=project, entity_id=entity_id, lock=True)
            kind.lifecycle.refuse_unless_allowed(trial, transition)
            if transition.to_state:
                setattr(trial, kind.lifecycle.state_field, transition.to_state)
            transition.effect(kind, project, trial, change)
        finally:
            transaction.savepoint_rollback(savepoint)
    return submit_change(
        kind, project=project, actor=actor, entity=entity, change=change, scope=None
    )


def apply_transition(
    kind: EntityKind,
    *,
    project: Project,
    actor: Actor,
    entity_id: str,
    change: dict[str, Any],
    review: Review | None = None,
) -> Any:
    """Applies an effect transition to the locked entity, with a new version and its audit entry
    (the difference of its snapshots; a version even when nothing shown changed: the action
    happened). Returns the entity, or the entity the effect created (restart as new), stored as
    created with its audit entry naming the entity it was restarted from."""
    lifecycle, snapshot = kind.lifecycle, kind.snapshot
    if lifecycle is None or snapshot is None:
        raise ValidationError.for_field("action", f"{kind.label} has no lifecycle effects.")
    entity = get(kind, project=project, entity_id=entity_id, lock=True)
    transition = lifecycle.transition(change["action"])
    lifecycle.refuse_unless_allowed(entity, transition)
    before = snapshot(entity)
    if transition.to_state:
        setattr(entity, lifecycle.state_field, transition.to_state)
    created = transition.effect(kind, project, entity, change)
    bump(kind, entity, actor)
    _store(
        kind,
        project=project,
        actor=actor,
        entity=entity,
        fields={},
        action_type=transition.action,
        changes=lambda: field_changes(before, snapshot(entity)),
        review=review,
    )
    if created is None:
        return entity
    store_created(
        kind,
        project=project,
        actor=actor,
        entity=created,
        changes={"restartedFrom": {"old": None, "new": kind.id_of(entity)}},
        review=review,
    )
    return created


# -- delete -----------------------------------------------------------------------------------


@transaction.atomic
def delete(kind: EntityKind, *, project: Project, actor: Actor, entity_id: str) -> ChangeOutcome:
    """Deletes the entity, or files the delete for review; refused (400, naming them) while
    other entities refer to it."""
    entity = locked(kind, project=project, actor=actor, entity_id=entity_id)
    refuse_if_referenced(kind, project, entity)
    return submit_change(
        kind,
        project=project,
        actor=actor,
        entity=entity,
        change={"action": kind.delete_action},
        scope=None,
    )


def apply_delete(
    kind: EntityKind,
    *,
    project: Project,
    actor: Actor,
    entity_id: str,
    change: dict[str, Any],
    review: Review | None = None,
) -> Any:
    """Returns the deleted entity (``pk`` None)."""
    entity = get(kind, project=project, entity_id=entity_id, lock=True)
    refuse_if_referenced(kind, project, entity)
    audit(
        kind,
        project=project,
        actor=actor,
        entity=entity,
        action_type=kind.delete_action,
        changes=kind.deleted_audit(entity),
        review=review,
    )
    if kind.versioned:
        forget_versions(kind, entity)
    if kind.before_delete is not None:
        kind.before_delete(project, entity)
    entity.delete()
    ruleset_changes.schedule_rebuild(project.id)
    return entity


# -- overrides --------------------------------------------------------------------------------


def _overrides_rule(kind: EntityKind) -> OverridesRule:
    if kind.overrides is None:
        raise ValidationError.for_field("overrides", f"{kind.label} has no overrides.")
    return kind.overrides


def overrides_set(
    kind: EntityKind,
    *,
    project: Project,
    actor: Actor,
    entity_id: str,
    overrides: Mapping[str, Any],
) -> ChangeOutcome:
    """Replaces the entity's overrides (reviewed as a change of the whole entity)."""
    rule = _overrides_rule(kind)
    if rule.as_field:
        return submit_fields(
            kind,
            project=project,
            actor=actor,
            entity_id=entity_id,
            fields={"overrides": overrides},
            action=rule.action,
        )
    entity = locked(kind, project=project, actor=actor, entity_id=entity_id)
    return submit_transition(
        kind,
        project=project,
        actor=actor,
        entity_id=entity_id,
        action=rule.action,
        parameters={"overrides": rule.validate(project, entity, overrides)},
    )


def overrides_change(
    kind: EntityKind,
    *,
    project: Project,
    actor: Actor,
    entity_id: str,
    overrides: Mapping[str, Any],
    remove: bool = False,
) -> ChangeOutcome:
    """Adds the given overrides to the entity's, or (``remove``) takes them out."""
    rule = _overrides_rule(kind)
    entity = get(kind, project=project, entity_id=entity_id, lock=True)
    given = rule.validate(project, entity, overrides)
    combine = rule.without if remove else rule.merged
    return overrides_set(
        kind,
        project=project,
        actor=actor,
        entity_id=entity_id,
        overrides=combine(entity.overrides or {}, given),
    )
