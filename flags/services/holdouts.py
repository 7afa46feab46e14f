"""Holdouts: a percentage (0–10) of units kept out of the gates, experiments and layers they
name (or, when global, of every new one). Compiled as a ``feature_gates`` spec with entity
``holdout`` that the held entities check first."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction

from console.actors import Actor
from console.errors import ValidationError
from console.models import Project, Review
from console.services.audit import audit_record
from console.services.reviews import ChangeOutcome, register_change
from console.validation import (
    json_number,
    validate_bool,
    validate_id_type,
    validate_name,
    validate_tags,
    validate_text,
)
from flags.models import Experiment, Gate, Holdout, Layer
from flags.services import rules as rule_lists
from flags.services.common import (
    NO_REVIEW,
    UNSET,
    bump,
    check_expected_version,
    current_version_of,
    ensure_name_free,
    environment_names,
    forget_versions,
    get_entity,
    new_identity,
    record_version,
    require_editor,
    save_unique,
    stamp_created,
    submit_change,
    wider_scope,
)
from ruleset import changes as ruleset_changes

ENTITY_TYPE = "holdout"
LABEL = "Holdout"
LINKS = {
    "gate_ids": (Gate, "gates", "gateIDs"),
    "experiment_ids": (Experiment, "experiments", "experimentIDs"),
    "layer_ids": (Layer, "layers", "layerIDs"),
}
METADATA_FIELDS = {"name", "description", "tags"}


def _holdout(project: Project, holdout_id: str, *, lock: bool = False) -> Holdout:
    return get_entity(Holdout, project=project, slug=holdout_id, label=LABEL, lock=lock)


def _percentage(value: Any) -> float | int:
    try:
        number = Decimal(str(value)) if not isinstance(value, bool) else None
    except InvalidOperation:
        number = None
    if (
        number is None
        or not Decimal(0) <= number <= Decimal(10)
        or number != number.quantize(Decimal("0.01"))
    ):
        raise ValidationError.for_field(
            "passPercentage", "passPercentage is from 0 to 10 in steps of 0.01."
        )
    return json_number(number)


def _links(holdout: Holdout, key: str) -> list[str]:
    if holdout.pk is None:
        return []
    _model, relation, _wire = LINKS[key]
    return sorted(getattr(holdout, relation).values_list("slug", flat=True))


def _validated_fields(
    project: Project, holdout: Holdout, fields: Mapping[str, Any]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in fields.items():
        if key == "name":
            name = validate_name(value)
            ensure_name_free(project=project, model=Holdout, name=name, exclude_pk=holdout.pk)
            out[key] = name
        elif key == "description":
            out[key] = validate_text(value, "description")
        elif key in ("is_enabled", "is_global", "review_required"):
            out[key] = validate_bool(
                value,
                {
                    "is_enabled": "isEnabled",
                    "is_global": "isGlobal",
                    "review_required": "reviewSettings.requiredReview",
                }[key],
            )
        elif key == "tags":
            out[key] = validate_tags(value)
        elif key == "id_type":
            out[key] = validate_id_type(value)
        elif key == "pass_percentage":
            out[key] = _percentage(value)
        elif key == "overrides":
            out[key] = rule_lists.validate_overrides(value, environments=environment_names(project))
        elif key in LINKS:
            model, _relation, wire = LINKS[key]
            if value is None:
                value = []
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValidationError.for_field(wire, f"{wire} is a list of ids.")
            wanted = sorted(set(value))
            found = dict(
                model.objects.filter(project=project, slug__in=wanted).values_list(
                    "slug", "id_type"
                )
            )
            missing = [slug for slug in wanted if slug not in found]
            if missing:
                raise ValidationError.for_field(wire, f"Unknown id(s): {', '.join(missing)}.")
            out[key] = wanted
        else:
            raise ValidationError.for_field(key, f"Unknown holdout field '{key}'.")
    id_type = out.get("id_type", holdout.id_type)
    for key, (model, _relation, wire) in LINKS.items():
        slugs = out.get(key, _links(holdout, key) if "id_type" in out else [])
        mismatched = list(
            model.objects.filter(project=project, slug__in=slugs)
            .exclude(id_type=id_type)
            .values_list("slug", flat=True)
        )
        if mismatched:
            raise ValidationError.for_field(
                wire,
                f"{', '.join(sorted(mismatched))} use another id type than the holdout's {id_type}.",
            )
    return out


def _state(holdout: Holdout) -> dict[str, Any]:
    return {
        "name": holdout.name,
        "description": holdout.description,
        "tags": holdout.tags,
        "id_type": holdout.id_type,
        "is_enabled": holdout.is_enabled,
        "is_global": holdout.is_global,
        "pass_percentage": json_number(holdout.pass_percentage),
        "overrides": holdout.overrides,
        "review_required": holdout.review_required,
        **{key: _links(holdout, key) for key in LINKS},
    }


def _set(project: Project, holdout: Holdout, fields: Mapping[str, Any]) -> None:
    for key, value in fields.items():
        if key in LINKS:
            continue
        if key == "pass_percentage":
            value = Decimal(str(value))
        setattr(holdout, key, value)
    save_unique(holdout)
    for key, (model, relation, _wire) in LINKS.items():
        if key in fields:
            getattr(holdout, relation).set(
                model.objects.filter(project=project, slug__in=fields[key])
            )


@register_change(
    "holdout_update", entity_type=ENTITY_TYPE, current_version=current_version_of(Holdout)
)
def _apply_update(
    *, project: Project, actor: Actor, entity_id: str, change: dict, review: Review | None = None
) -> Holdout:
    from console.services.audit import field_changes

    holdout = _holdout(project, entity_id, lock=True)
    check_expected_version(holdout, change.get("expected_version"))
    fields = _validated_fields(project, holdout, change["fields"])
    before = _state(holdout)
    changes = field_changes(before, {**before, **fields})
    if not changes:
        return holdout
    bump(holdout, actor)
    _set(project, holdout, fields)
    record_version(holdout, ENTITY_TYPE)
    audit_record(
        project=project,
        actor=actor,
        action_type=change.get("action") or "holdout_update",
        entity_type=ENTITY_TYPE,
        entity_id=holdout.slug,
        entity_name=holdout.name,
        changes=changes,
        review=review,
    )
    ruleset_changes.schedule_rebuild(project.id)
    return holdout


@transaction.atomic
def holdout_create(
    *,
    project: Project,
    actor: Actor,
    name: str,
    holdout_id: str | None = None,
    description: str = "",
    id_type: str = "userID",
    pass_percentage: float | int | str = 0,
    is_enabled: bool = True,
    is_global: bool = False,
    gate_ids: list[str] | None = None,
    experiment_ids: list[str] | None = None,
    layer_ids: list[str] | None = None,
    tags: list[str] | None = None,
    review_required: bool = False,
) -> Holdout:
    require_editor(actor, "holdouts")
    with transaction.atomic():
        name, slug = new_identity(project=project, model=Holdout, name=name, slug=holdout_id)
        holdout = Holdout(project=project, name=name, slug=slug)
        fields = _validated_fields(
            project,
            holdout,
            {
                "description": description,
                "id_type": id_type,
                "pass_percentage": pass_percentage,
                "is_enabled": is_enabled,
                "is_global": is_global,
                "tags": tags,
                "review_required": review_required,
                "gate_ids": gate_ids or [],
                "experiment_ids": experiment_ids or [],
                "layer_ids": layer_ids or [],
            },
        )
        stamp_created(holdout, actor)
        _set(project, holdout, fields)
        record_version(holdout, ENTITY_TYPE)
        audit_record(
            project=project,
            actor=actor,
            action_type="holdout_create",
            entity_type=ENTITY_TYPE,
            entity_id=holdout.slug,
            entity_name=holdout.name,
            changes={key: {"old": None, "new": value} for key, value in _state(holdout).items()},
        )
        ruleset_changes.schedule_rebuild(project.id)
    return holdout


@transaction.atomic
def holdout_update(
    *,
    project: Project,
    actor: Actor,
    holdout_id: str,
    name: Any = UNSET,
    description: Any = UNSET,
    id_type: Any = UNSET,
    pass_percentage: Any = UNSET,
    is_enabled: Any = UNSET,
    is_global: Any = UNSET,
    gate_ids: Any = UNSET,
    experiment_ids: Any = UNSET,
    layer_ids: Any = UNSET,
    overrides: Any = UNSET,
    tags: Any = UNSET,
    review_required: Any = UNSET,
    expected_version: int | None = None,
) -> ChangeOutcome:
    """Partial update (PATCH); a full update passes every field. Anything but the name,
    description and tags changes who is held out, so it is reviewed."""
    require_editor(actor, "holdouts")
    holdout = _holdout(project, holdout_id, lock=True)
    check_expected_version(holdout, expected_version)
    given = {
        "name": name,
        "description": description,
        "id_type": id_type,
        "pass_percentage": pass_percentage,
        "is_enabled": is_enabled,
        "is_global": is_global,
        "gate_ids": gate_ids,
        "experiment_ids": experiment_ids,
        "layer_ids": layer_ids,
        "overrides": overrides,
        "tags": tags,
        "review_required": review_required,
    }
    fields = _validated_fields(project, holdout, {k: v for k, v in given.items() if v is not UNSET})
    state = _state(holdout)
    scope = wider_scope(
        *(
            NO_REVIEW
            if key in METADATA_FIELDS
            or state.get(key) == value
            or (key == "review_required" and value)
            else None
            for key, value in fields.items()
        )
    )
    return submit_change(
        project=project,
        actor=actor,
        change_type="holdout_update",
        entity=holdout,
        change={"action": "holdout_update", "fields": fields, "expected_version": expected_version},
        scope=scope,
    )


@transaction.atomic
def holdout_overrides_set(
    *, project: Project, actor: Actor, holdout_id: str, overrides: Mapping[str, Any]
) -> ChangeOutcome:
    """Replaces the overrides (``OverrideDto``)."""
    return holdout_update(project=project, actor=actor, holdout_id=holdout_id, overrides=overrides)


@transaction.atomic
def holdout_overrides_add(
    *, project: Project, actor: Actor, holdout_id: str, overrides: Mapping[str, Any]
) -> ChangeOutcome:
    """Adds ids to the override lists (PATCH ``/holdouts/{id}/overrides``)."""
    holdout = _holdout(project, holdout_id, lock=True)
    extra = rule_lists.validate_overrides(overrides, environments=environment_names(project))
    return holdout_overrides_set(
        project=project,
        actor=actor,
        holdout_id=holdout_id,
        overrides=rule_lists.overrides_merged(holdout.overrides or {}, extra),
    )


@transaction.atomic
def holdout_overrides_remove(
    *, project: Project, actor: Actor, holdout_id: str, overrides: Mapping[str, Any]
) -> ChangeOutcome:
    """Removes ids from the override lists (DELETE ``/holdouts/{id}/overrides``)."""
    holdout = _holdout(project, holdout_id, lock=True)
    removed = rule_lists.validate_overrides(overrides, environments=environment_names(project))
    return holdout_overrides_set(
        project=project,
        actor=actor,
        holdout_id=holdout_id,
        overrides=rule_lists.overrides_without(holdout.overrides or {}, removed),
    )


@register_change(
    "holdout_delete", entity_type=ENTITY_TYPE, current_version=current_version_of(Holdout)
)
def _apply_delete(
    *, project: Project, actor: Actor, entity_id: str, change: dict, review: Review | None = None
) -> Holdout:
    holdout = _holdout(project, entity_id, lock=True)
    audit_record(
        project=project,
        actor=actor,
        action_type="holdout_delete",
        entity_type=ENTITY_TYPE,
        entity_id=holdout.slug,
        entity_name=holdout.name,
        changes={"name": {"old": holdout.name, "new": None}},
        review=review,
    )
    forget_versions(holdout, ENTITY_TYPE)
    # The deleted instance cannot reach its relations any more: keep what outputs show.
    holdout.links_at_delete = {key: _links(holdout, key) for key in LINKS}
    holdout.delete()
    ruleset_changes.schedule_rebuild(project.id)
    return holdout


@transaction.atomic
def holdout_delete(*, project: Project, actor: Actor, holdout_id: str) -> ChangeOutcome:
    """Deleting a holdout releases the units it held out. ``result``: the deleted holdout
    (``pk`` None; ``links_at_delete`` = ``{"gate_ids", "experiment_ids", "layer_ids"}``)."""
    require_editor(actor, "holdouts")
    holdout = _holdout(project, holdout_id, lock=True)
    return submit_change(
        project=project,
        actor=actor,
        change_type="holdout_delete",
        entity=holdout,
        change={"action": "holdout_delete"},
        scope=None,
    )
