"""Layers: typed parameters shared by the experiments placed in them, whose 1000 buckets those
experiments own (``flags.services.allocation``), and the layer's overrides of experiment groups.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction

from console.actors import Actor
from console.errors import ValidationError
from console.models import Project
from console.selectors import environment_names
from console.services.reviews import ChangeOutcome
from console.validation import distinct_strings
from flags.models import Experiment, Gate, Layer, ParameterType
from flags.services import kernel
from flags.services.descriptor import COMMON_VALIDATORS, UNSET, EntityKind, OverridesRule
from flags.services.rules import conditional_override_target

MAX_PARAMETERS = 200


# -- parameter values -------------------------------------------------------------------------


def value_has_type(value: Any, type_: str) -> bool:
    if type_ == ParameterType.STRING:
        return isinstance(value, str)
    if type_ == ParameterType.NUMBER:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if type_ == ParameterType.BOOLEAN:
        return isinstance(value, bool)
    if type_ == ParameterType.OBJECT:
        return isinstance(value, dict)
    if type_ == ParameterType.ARRAY:
        return isinstance(value, list)
    return False


def validate_parameters(raw: Any, path: str = "parameters") -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        raise ValidationError.for_field(path, "parameters must be a list.")
    if len(raw) > MAX_PARAMETERS:
        raise ValidationError.for_field(path, f"At most {MAX_PARAMETERS} parameters.")
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        item_path = f"{path}[{index}]"
        if not isinstance(item, Mapping):
            raise ValidationError.for_field(item_path, "A parameter is an object.")
        name = item.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > 100:
            raise ValidationError.for_field(
                f"{item_path}.name", "A parameter name has 1 to 100 characters."
            )
        if name in seen:
            raise ValidationError.for_field(f"{item_path}.name", f"Duplicate parameter '{name}'.")
        seen.add(name)
        type_ = item.get("type")
        if type_ not in ParameterType.values:
            raise ValidationError.for_field(
                f"{item_path}.type", f"type is one of {', '.join(ParameterType.values)}."
            )
        if "defaultValue" not in item or not value_has_type(item["defaultValue"], type_):
            raise ValidationError.for_field(
                f"{item_path}.defaultValue", f"defaultValue must be a {type_}."
            )
        out.append({"name": name, "type": type_, "defaultValue": item["defaultValue"]})
    return out


def check_values_against_layer(
    parameters: list[dict[str, Any]], values: Mapping[str, Any], path: str, layer_slug: str
) -> None:
    types = {p["name"]: p["type"] for p in parameters}
    for key, value in values.items():
        if key not in types:
            raise ValidationError.for_field(
                f"{path}.{key}", f"Layer '{layer_slug}' has no parameter '{key}'."
            )
        if not value_has_type(value, types[key]):
            raise ValidationError.for_field(
                f"{path}.{key}", f"Parameter '{key}' of layer '{layer_slug}' is a {types[key]}."
            )


# -- validation -----------------------------------------------------------------------------


def _parameters(project: Project, layer: Layer, value: Any) -> list[dict[str, Any]]:
    parameters = validate_parameters(value)
    if layer.pk is not None:
        _check_experiments_fit(layer, parameters)
    return parameters


def _id_type_kept_with_experiments(
    project: Project, layer: Layer, fields: dict[str, Any]
) -> dict[str, Any]:
    if (
        "id_type" in fields
        and layer.pk is not None
        and fields["id_type"] != layer.id_type
        and layer.experiments.exists()
    ):
        raise ValidationError.for_field(
            "idType", "The id type of a layer with experiments cannot change."
        )
    return fields


def _group_of(experiment: Experiment, ref: Any, path: str) -> dict[str, Any]:
    for group in experiment.groups:
        if isinstance(ref, str) and ref in (group["id"], group["name"]):
            return group
    raise ValidationError.for_field(path, f"No group '{ref}' in experiment '{experiment.slug}'.")


def validate_layer_overrides(project: Project, layer: Layer, raw: Any) -> dict[str, Any]:
    """Statsig's ``LayerOverridesDto``: each override names an experiment of the layer and one
    of its groups (stored with the group's id, which never changes)."""
    if not isinstance(raw, Mapping):
        raise ValidationError.for_field("overrides", "overrides must be an object.")
    experiments = (
        {e.slug: e for e in Experiment.objects.filter(layer=layer)} if layer.pk is not None else {}
    )
    environments = set(environment_names(project=project))

    def experiment_of(name: Any, path: str) -> Experiment:
        if name is None and len(experiments) == 1:
            return next(iter(experiments.values()))
        if not isinstance(name, str) or name not in experiments:
            raise ValidationError.for_field(
                path, f"Layer '{layer.slug}' has no experiment '{name}'."
            )
        return experiments[name]

    out: dict[str, Any] = {"conditionalOverrides": [], "idOverrides": []}
    conditional = raw.get("conditionalOverrides") or []
    if not isinstance(conditional, list):
        raise ValidationError.for_field("conditionalOverrides", "conditionalOverrides is a list.")
    gates = set(Gate.objects.filter(project=project).values_list("slug", flat=True))
    for index, item in enumerate(conditional):
        path = f"conditionalOverrides[{index}]"
        kind, name = conditional_override_target(project, item, path, ref_key="name", gates=gates)
        experiment = experiment_of(item.get("experimentName"), f"{path}.experimentName")
        group = _group_of(experiment, item.get("groupName"), f"{path}.groupName")
        out["conditionalOverrides"].append(
            {
                "type": kind,
                "name": name,
                "experimentName": experiment.slug,
                "groupName": group["name"],
                "groupID": group["id"],
            }
        )
    id_overrides = raw.get("idOverrides") or []
    if not isinstance(id_overrides, list):
        raise ValidationError.for_field("idOverrides", "idOverrides is a list.")
    for index, item in enumerate(id_overrides):
        path = f"idOverrides[{index}]"
        if not isinstance(item, Mapping):
            raise ValidationError.for_field(path, "An override is an object.")
        experiment = experiment_of(item.get("experimentName"), f"{path}.experimentName")
        group = _group_of(experiment, item.get("groupName"), f"{path}.groupName")
        environment = item.get("environment")
        if environment is not None and environment not in environments:
            raise ValidationError.for_field(
                f"{path}.environment", f"Unknown environment '{environment}'."
            )
        id_type = item.get("idType") or layer.id_type
        if not isinstance(id_type, str):
            raise ValidationError.for_field(f"{path}.idType", "idType is a unit type.")
        out["idOverrides"].append(
            {
                "groupName": group["name"],
                "groupID": group["id"],
                "ids": distinct_strings(item.get("ids") or [], f"{path}.ids"),
                "idType": id_type,
                "environment": environment,
                "experimentName": experiment.slug,
            }
        )
    return out


def _check_experiments_fit(layer: Layer, parameters: list[dict[str, Any]]) -> None:
    for slug, groups in layer.experiments.values_list("slug", "groups"):
        for group in groups:
            try:
                check_values_against_layer(
                    parameters, group.get("parameterValues", {}), "parameters", layer.slug
                )
            except ValidationError as exc:
                raise ValidationError.for_field(
                    "parameters",
                    f"Experiment '{slug}' (group '{group['name']}') uses it: {exc.message}",
                ) from None


def _overrides_merged(current: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    current = {"conditionalOverrides": [], "idOverrides": [], **current}
    return {key: [*current[key], *extra[key]] for key in ("conditionalOverrides", "idOverrides")}


def _overrides_without(current: Mapping[str, Any], removed: Mapping[str, Any]) -> dict[str, Any]:
    """Without the given conditional overrides, and without the given ids in the id overrides."""
    current = {"conditionalOverrides": [], "idOverrides": [], **current}
    gone = {(o["type"], o["name"], o["experimentName"]) for o in removed["conditionalOverrides"]}
    gone_ids = {
        (o["experimentName"], o["groupID"], o["idType"], o["environment"], unit)
        for o in removed["idOverrides"]
        for unit in o["ids"]
    }
    kept_ids = []
    for item in current["idOverrides"]:
        key = (item["experimentName"], item["groupID"], item["idType"], item["environment"])
        ids = [unit for unit in item["ids"] if (*key, unit) not in gone_ids]
        if ids:
            kept_ids.append({**item, "ids": ids})
    return {
        "conditionalOverrides": [
            o
            for o in current["conditionalOverrides"]
            if (o["type"], o["name"], o["experimentName"]) not in gone
        ],
        "idOverrides": kept_ids,
    }


def layer_referrers(*, layer: Layer) -> list[str]:
    """Its experiments and the holdouts chosen for it (a global holdout joins every new layer
    by itself, so it does not block a delete)."""
    held_by = layer.holdouts.filter(is_global=False).values_list("slug", flat=True)
    return [
        *(f"experiment '{slug}'" for slug in layer.experiments.values_list("slug", flat=True)),
        *(f"holdout '{slug}'" for slug in held_by),
    ]


LAYERS = EntityKind(
    model=Layer,
    entity_type="layer",
    label="Layer",
    plural="layers",
    action_prefix="layer",
    # What "Restore this version" brings back: what a person edits, not the lifecycle state.
    restorable_fields=("name", "description", "tags", "id_type", "parameters", "overrides"),
    validators={
        **COMMON_VALIDATORS,
        "parameters": _parameters,
        "overrides": lambda project, layer, value: validate_layer_overrides(project, layer, value),
    },
    update_actions=("layer_update",),
    complete_fields=_id_type_kept_with_experiments,
    # Parameter defaults reach every user outside the layer's experiments.
    whole_entity_fields=frozenset({"parameters", "id_type", "overrides"}),
    overrides=OverridesRule(
        validate=validate_layer_overrides,
        merged=_overrides_merged,
        without=_overrides_without,
        action="layer_update",
    ),
    referrers=lambda project, layer: layer_referrers(layer=layer),
    global_holdout_relation="layers",
    created_audit=lambda layer: {"name": layer.name, "parameters": layer.parameters},
)


@transaction.atomic
def layer_create(
    *,
    project: Project,
    actor: Actor,
    name: str,
    layer_id: str | None = None,
    description: str = "",
    id_type: str = "userID",
    parameters: list[dict[str, Any]] | None = None,
    tags: list[str] | None = None,
    review_required: bool = False,
    allowed_reviewers: list[Any] | None = None,
) -> Layer:
    return kernel.create(
        LAYERS,
        project=project,
        actor=actor,
        name=name,
        entity_id=layer_id,
        fields={
            "description": description,
            "id_type": id_type,
            "parameters": parameters or [],
            "tags": tags,
            "review_required": review_required,
            "allowed_reviewers": allowed_reviewers or [],
        },
    )


@transaction.atomic
def layer_update(
    *,
    project: Project,
    actor: Actor,
    layer_id: str,
    name: Any = UNSET,
    description: Any = UNSET,
    parameters: Any = UNSET,
    tags: Any = UNSET,
    id_type: Any = UNSET,
    review_required: Any = UNSET,
    allowed_reviewers: Any = UNSET,
    overrides: Any = UNSET,
    expected_version: int | None = None,
) -> ChangeOutcome:
    """Partial update (PATCH); a full update (POST) passes ``description`` and ``parameters``.
    Parameter defaults reach every user outside the layer's experiments, so they are reviewed."""
    layer = kernel.locked(LAYERS, project=project, actor=actor, entity_id=layer_id)
    given = {
        "name": name,
        "description": description,
        "parameters": parameters,
        "tags": tags,
        "id_type": id_type,
        "review_required": review_required,
        "allowed_reviewers": allowed_reviewers,
        "overrides": overrides,
    }
    return kernel.submit(
        LAYERS,
        project=project,
        actor=actor,
        entity=layer,
        fields={key: value for key, value in given.items() if value is not UNSET},
        expected_version=expected_version,
    )


@transaction.atomic
def layer_overrides_set(
    *, project: Project, actor: Actor, layer_id: str, overrides: Mapping[str, Any]
) -> ChangeOutcome:
    """Replaces the layer's overrides (``LayerOverridesDto``); result: the layer."""
    return kernel.overrides_set(
        LAYERS, project=project, actor=actor, entity_id=layer_id, overrides=overrides
    )


@transaction.atomic
def layer_overrides_add(
    *, project: Project, actor: Actor, layer_id: str, overrides: Mapping[str, Any]
) -> ChangeOutcome:
    return kernel.overrides_change(
        LAYERS, project=project, actor=actor, entity_id=layer_id, overrides=overrides
    )


@transaction.atomic
def layer_overrides_remove(
    *, project: Project, actor: Actor, layer_id: str, overrides: Mapping[str, Any]
) -> ChangeOutcome:
    """Removes the given conditional overrides, and the given ids from the id overrides."""
    return kernel.overrides_change(
        LAYERS,
        project=project,
        actor=actor,
        entity_id=layer_id,
        overrides=overrides,
        remove=True,
    )


@transaction.atomic
def layer_delete(*, project: Project, actor: Actor, layer_id: str) -> ChangeOutcome:
    """Refused (400, naming them) while experiments or holdouts use the layer."""
    return kernel.delete(LAYERS, project=project, actor=actor, entity_id=layer_id)
