"""``EXPERIMENTS``, the experiment's entity kind: its field validators (which fields each state
admits, from the lifecycle's ``STATES``), the control group and layer checks across fields, how
fields are written (layer placement and allocation move buckets), the snapshot its audit entries
compare, and who reviews what (changes to an experiment in setup are never reviewed: nobody sees
it yet; changes that reach users are)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from console.errors import ValidationError
from console.models import Project
from console.validation import json_number, validate_text
from flags.models import (
    EXPERIMENT_STATUSES_HOLDING_BUCKETS,
    DynamicConfig,
    Experiment,
    Gate,
    Layer,
)
from flags.services.allocation import place_keeping
from flags.services.descriptor import (
    ALLOWED_REVIEWERS,
    ALLOWED_REVIEWERS_FIELD,
    COMMON_VALIDATORS,
    NO_REVIEW,
    OWNER_VALIDATORS,
    EntityKind,
    OverridesRule,
    ReviewScope,
    accepted_as_is,
    owner_named,
)
from flags.services.experiments.analysis_settings import ANALYSIS_VALIDATORS
from flags.services.experiments.groups import (
    WIRE_NAMES,
    group_id_of,
    unchanged,
    validate_allocation,
    validate_groups,
)
from flags.services.experiments.lifecycle import LIFECYCLE, METADATA_FIELDS, state_of
from flags.services.experiments.overrides import (
    overrides_merged,
    overrides_without,
    validate_experiment_overrides,
)
from flags.services.experiments.settings import SETTINGS
from flags.services.layers import check_values_against_layer
from flags.services.settings import settings_restorer, validate_settings

# The overrides change by this action of their own; a restore brings them back where it may run.
OVERRIDES_ACTION = LIFECYCLE.transition("experiment_overrides_update")


def _admitted(experiment: Experiment, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The fields the experiment's state lets change; a field it does not is refused unless sent
    as it already is."""
    editable = state_of(experiment).editable
    kept: dict[str, Any] = {}
    for key, value in fields.items():
        if key == "control_group_id" and value in (experiment.control_group_id, None, ""):
            continue
        if key == "overrides":
            LIFECYCLE.refuse_unless_allowed(experiment, OVERRIDES_ACTION)
            kept[key] = value
            continue
        if editable is not None and key not in editable:
            if unchanged(experiment, key, value):
                continue
            wire = WIRE_NAMES.get(key, key)
            raise ValidationError.for_field(
                wire, f"Cannot change {wire} of an experiment that is {experiment.status}."
            )
        kept[key] = value
    return kept


def _groups(project: Project, experiment: Experiment, value: Any) -> list[dict[str, Any]]:
    groups = validate_groups(value, old_groups=experiment.groups)
    if state_of(experiment).running:
        before = [(g["id"], g["size"]) for g in experiment.groups]
        if [(g["id"], g["size"]) for g in groups] != before:
            raise ValidationError.for_field(
                "groups", "The groups and sizes of a running experiment cannot change."
            )
    return groups


def _reference(model: type, wire: str, label: str):
    def validate(project: Project, experiment: Experiment, value: Any) -> str | None:
        if (
            value not in (None, "")
            and not model.objects.filter(project=project, slug=value).exists()
        ):
            raise ValidationError.for_field(wire, f"Unknown {label} '{value}'.")
        return value or None

    return validate


def _control_group_and_layer(
    project: Project, experiment: Experiment, fields: dict[str, Any]
) -> dict[str, Any]:
    """An owner named by id replaces the caller's name. The control group is one of the groups
    (the first unless named); in a layer, the groups' values are the layer's parameters and the
    id type is the layer's."""
    groups = fields.get("groups", experiment.groups)
    if "control_group_id" in fields or "groups" in fields:
        given = fields.get("control_group_id")
        if given:
            fields["control_group_id"] = group_id_of(experiment, groups, given, "controlGroupID")
        elif experiment.control_group_id in {g["id"] for g in groups}:
            fields.pop("control_group_id", None)
        else:
            fields["control_group_id"] = groups[0]["id"]
    owner_named(fields)
    layer_slug = fields.get("layer_id", experiment.layer.slug if experiment.layer_id else None)
    if layer_slug and fields.keys() & {"groups", "layer_id", "id_type"}:
        layer = Layer.objects.get(project=project, slug=layer_slug)
        id_type = fields.get("id_type", experiment.id_type)
        if layer.id_type != id_type:
            raise ValidationError.for_field(
                "layerID",
                f"Layer '{layer.slug}' is for {layer.id_type}; the experiment uses {id_type}.",
            )
        for index, group in enumerate(groups):
            check_values_against_layer(
                layer.parameters,
                group["parameterValues"],
                f"groups[{index}].parameterValues",
                layer.slug,
            )
    return fields


def _write(project: Project, experiment: Experiment, fields: Mapping[str, Any]) -> None:
    placement_changed = False
    for key, value in fields.items():
        if key == "layer_id":
            layer = Layer.objects.get(project=project, slug=value) if value else None
            if layer != experiment.layer:
                # Buckets of the old layer mean nothing in the new one.
                experiment.buckets = []
                placement_changed = True
            experiment.layer = layer
        elif key == "targeting_gate_id":
            experiment.targeting_gate = (
                Gate.objects.get(project=project, slug=value) if value else None
            )
        elif key == "allocation":
            experiment.allocation = Decimal(str(value))
            placement_changed = True
        else:
            setattr(experiment, key, value)
    if placement_changed and experiment.status in EXPERIMENT_STATUSES_HOLDING_BUCKETS:
        place_keeping(experiment)


def _ms(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp() * 1000)


def snapshot(experiment: Experiment) -> dict[str, Any]:
    """The experiment as its audit entries show it (console API names)."""
    return {
        "name": experiment.name,
        "description": experiment.description,
        "hypothesis": experiment.hypothesis,
        "tags": experiment.tags,
        "idType": experiment.id_type,
        "groups": experiment.groups,
        "controlGroupID": experiment.control_group_id,
        "allocation": json_number(experiment.allocation),
        "layerID": experiment.layer.slug if experiment.layer_id else None,
        "targetingGateID": experiment.targeting_gate.slug if experiment.targeting_gate_id else None,
        "status": experiment.status,
        "launchedGroupID": experiment.launched_group_id or None,
        "decisionReason": experiment.decision_reason,
        "scheduledStartTime": _ms(experiment.scheduled_start_time),
        "overrides": experiment.overrides,
        "reviewSettings.requiredReview": experiment.review_required,
        ALLOWED_REVIEWERS_FIELD: experiment.allowed_reviewers,
        "buckets": len(experiment.buckets),
        "settings": experiment.settings,
        "creatorID": experiment.creator_id,
        "creatorEmail": experiment.creator_email,
        "primaryMetrics": experiment.primary_metrics,
        "secondaryMetrics": experiment.secondary_metrics,
        "bonferroniCorrection": experiment.bonferroni_correction,
        "defaultConfidenceInterval": str(experiment.default_confidence_interval),
    }


def _review_scope(
    kind: EntityKind, experiment: Experiment, fields: Mapping[str, Any]
) -> ReviewScope:
    reaches_users = state_of(experiment).seen_by_users and bool(set(fields) - METADATA_FIELDS)
    turns_reviews_off = experiment.review_required and fields.get("review_required") is False
    changes_reviewers = fields.get(ALLOWED_REVIEWERS, experiment.allowed_reviewers) != (
        experiment.allowed_reviewers
    )
    return None if reaches_users or turns_reviews_off or changes_reviewers else NO_REVIEW


EXPERIMENTS = EntityKind(
    model=Experiment,
    entity_type="experiment",
    label="Experiment",
    plural="experiments",
    action_prefix="experiment",
    # What "Restore this version" brings back: what a person edits, not the lifecycle state,
    # the owner or the review setting.
    restorable_fields=(
        "name",
        "description",
        "hypothesis",
        "tags",
        "id_type",
        "groups",
        "control_group_id",
        "allocation",
        "layer_id",
        "targeting_gate_id",
        *ANALYSIS_VALIDATORS,
        "settings",
        "overrides",
    ),
    restored_values={"settings": settings_restorer(SETTINGS)},
    versioned_references={
        "layer_id": lambda experiment: experiment.layer.slug if experiment.layer_id else None,
        "targeting_gate_id": lambda experiment: (
            experiment.targeting_gate.slug if experiment.targeting_gate_id else None
        ),
    },
    validators={
        **COMMON_VALIDATORS,
        "hypothesis": lambda project, experiment, value: validate_text(value, "hypothesis"),
        "allocation": lambda project, experiment, value: json_number(validate_allocation(value)),
        "groups": _groups,
        # Checked against the groups with the other fields.
        "control_group_id": accepted_as_is,
        "layer_id": _reference(Layer, "layerID", "layer"),
        "targeting_gate_id": _reference(Gate, "targetingGateID", "gate"),
        # Set by the overrides action; a field only when a restore brings them back.
        "overrides": validate_experiment_overrides,
        "settings": lambda project, experiment, value: validate_settings(
            SETTINGS, experiment.settings, value
        ),
        **OWNER_VALIDATORS,
        **ANALYSIS_VALIDATORS,
    },
    update_actions=("experiment_update",),
    admit_fields=_admitted,
    complete_fields=_control_group_and_layer,
    review_scope=_review_scope,
    lifecycle=LIFECYCLE,
    overrides=OverridesRule(
        validate=validate_experiment_overrides,
        merged=overrides_merged,
        without=overrides_without,
        action="experiment_overrides_update",
        as_field=False,
    ),
    global_holdout_relation="experiments",
    created_audit=snapshot,
    write=_write,
    snapshot=snapshot,
    id_namespace=(DynamicConfig, Experiment),
)
