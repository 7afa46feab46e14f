"""Holdouts: a percentage (0–10) of units kept out of the gates, experiments and layers they
name (or, when global, of every new one). Compiled as a ``feature_gates`` spec with entity
``holdout`` that the held entities check first."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any

from django.db import transaction

from console.actors import Actor
from console.errors import ValidationError
from console.models import Project
from console.services.reviews import ChangeOutcome
from console.validation import json_number, validate_bool
from flags.models import Experiment, Gate, Holdout, Layer
from flags.services import kernel
from flags.services import rules as rule_lists
from flags.services.descriptor import COMMON_VALIDATORS, UNSET, EntityKind, OverridesRule

# The entities a holdout holds out: its field, the model, the relation and the wire name.
LINKS = {
    "gate_ids": (Gate, "gates", "gateIDs"),
    "experiment_ids": (Experiment, "experiments", "experimentIDs"),
    "layer_ids": (Layer, "layers", "layerIDs"),
}
# Anything else changes who is held out, so it is reviewed.
METADATA_FIELDS = {"name", "description", "tags", "review_required"}


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


def _link_validator(key: str):
    model, _relation, wire = LINKS[key]

    def validate(project: Project, holdout: Holdout, value: Any) -> list[str]:
        if value is None:
            value = []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValidationError.for_field(wire, f"{wire} is a list of ids.")
        wanted = sorted(set(value))
        found = set(
            model.objects.filter(project=project, slug__in=wanted).values_list("slug", flat=True)
        )
        missing = [slug for slug in wanted if slug not in found]
        if missing:
            raise ValidationError.for_field(
                wire, f"Unknown {model._meta.verbose_name}(s): {', '.join(missing)}."
            )
        return wanted

    return validate


def _links_share_id_type(
    project: Project, holdout: Holdout, fields: dict[str, Any]
) -> dict[str, Any]:
    """Everything held out uses the holdout's id type (the new one when it changes)."""
    id_type = fields.get("id_type", holdout.id_type)
    for key, (model, _relation, wire) in LINKS.items():
        slugs = fields.get(key, _links(holdout, key) if "id_type" in fields else [])
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
    return fields


def _value_of(holdout: Holdout, key: str) -> Any:
    if key in LINKS:
        return _links(holdout, key)
    if key == "pass_percentage":
        return json_number(holdout.pass_percentage)
    return getattr(holdout, key)


def _write(project: Project, holdout: Holdout, fields: Mapping[str, Any]) -> None:
    """The holdout's own fields (the links are relations, set once it is saved)."""
    for key, value in fields.items():
        if key in LINKS:
            continue
        setattr(holdout, key, Decimal(str(value)) if key == "pass_percentage" else value)


_FIELDS = (
    "name",
    "description",
    "tags",
    "id_type",
    "is_enabled",
    "is_global",
    "pass_percentage",
    "overrides",
    "review_required",
    *LINKS,
)

HOLDOUTS = EntityKind(
    model=Holdout,
    entity_type="holdout",
    label="Holdout",
    plural="holdouts",
    action_prefix="holdout",
    # What "Restore this version" brings back: what a person edits (with what it holds out),
    # not whether it is enabled or the review setting.
    restorable_fields=(
        "name",
        "description",
        "tags",
        "id_type",
        "pass_percentage",
        "is_global",
        "overrides",
        *LINKS,
    ),
    versioned_references={key: partial(_links, key=key) for key in LINKS},
    validators={
        **COMMON_VALIDATORS,
        "is_enabled": lambda project, holdout, value: validate_bool(value, "isEnabled"),
        "is_global": lambda project, holdout, value: validate_bool(value, "isGlobal"),
        "pass_percentage": lambda project, holdout, value: _percentage(value),
        "overrides": rule_lists.validate_project_overrides,
        **{key: _link_validator(key) for key in LINKS},
    },
    update_actions=("holdout_update",),
    complete_fields=_links_share_id_type,
    whole_entity_fields=frozenset(_FIELDS) - METADATA_FIELDS,
    overrides=OverridesRule(
        validate=rule_lists.validate_project_overrides,
        merged=rule_lists.overrides_merged,
        without=rule_lists.overrides_without,
        action="holdout_update",
    ),
    created_audit=lambda holdout: {key: _value_of(holdout, key) for key in _FIELDS},
    value_of=_value_of,
    write=_write,
    relations={key: (model, relation) for key, (model, relation, _wire) in LINKS.items()},
    id_namespace=(Gate, Holdout),
)


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
    return kernel.create(
        HOLDOUTS,
        project=project,
        actor=actor,
        name=name,
        entity_id=holdout_id,
        fields={
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
    holdout = kernel.locked(HOLDOUTS, project=project, actor=actor, entity_id=holdout_id)
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
    return kernel.submit(
        HOLDOUTS,
        project=project,
        actor=actor,
        entity=holdout,
        fields={key: value for key, value in given.items() if value is not UNSET},
        expected_version=expected_version,
    )


@transaction.atomic
def holdout_overrides_set(
    *, project: Project, actor: Actor, holdout_id: str, overrides: Mapping[str, Any]
) -> ChangeOutcome:
    """Replaces the overrides (``OverrideDto``)."""
    return kernel.overrides_set(
        HOLDOUTS, project=project, actor=actor, entity_id=holdout_id, overrides=overrides
    )


@transaction.atomic
def holdout_overrides_add(
    *, project: Project, actor: Actor, holdout_id: str, overrides: Mapping[str, Any]
) -> ChangeOutcome:
    """Adds ids to the override lists (PATCH ``/holdouts/{id}/overrides``)."""
    return kernel.overrides_change(
        HOLDOUTS, project=project, actor=actor, entity_id=holdout_id, overrides=overrides
    )


@transaction.atomic
def holdout_overrides_remove(
    *, project: Project, actor: Actor, holdout_id: str, overrides: Mapping[str, Any]
) -> ChangeOutcome:
    """Removes ids from the override lists (DELETE ``/holdouts/{id}/overrides``)."""
    return kernel.overrides_change(
        HOLDOUTS,
        project=project,
        actor=actor,
        entity_id=holdout_id,
        overrides=overrides,
        remove=True,
    )


@transaction.atomic
def holdout_delete(*, project: Project, actor: Actor, holdout_id: str) -> ChangeOutcome:
    """Deleting a holdout releases the units it held out. ``result``: the deleted holdout."""
    return kernel.delete(HOLDOUTS, project=project, actor=actor, entity_id=holdout_id)
