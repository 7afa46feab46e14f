"""Layers: typed parameters shared by the experiments placed in them, and the 1000 layer buckets
those experiments own.

Bucket assignment is deterministic and stable: an experiment keeps the buckets it has; when its
allocation grows it takes free buckets in an order fixed by its allocation salt; when it shrinks
it gives back the last ones in that order. Allocations in a layer can never overlap or exceed
100%: assignment runs under a row lock on the layer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction

from console.actors import Actor
from console.errors import ValidationError
from console.models import Project, Review
from console.services.audit import audit_record
from console.services.reviews import ChangeOutcome, register_change
from console.validation import (
    validate_bool,
    validate_id_type,
    validate_name,
    validate_tags,
    validate_text,
)
from flags.models import (
    EXPERIMENT_STATUSES_HOLDING_BUCKETS,
    Experiment,
    Holdout,
    Layer,
    ParameterType,
)
from flags.services.common import (
    NO_REVIEW,
    UNSET,
    check_expected_version,
    current_version_of,
    ensure_name_free,
    forget_versions,
    get_entity,
    new_identity,
    require_editor,
    save_changed_fields,
    save_created,
    submit_change,
    wider_scope,
)
from ruleset import changes as ruleset_changes

ENTITY_TYPE = "layer"
LABEL = "Layer"
LAYER_BUCKETS = 1000
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


# -- buckets ----------------------------------------------------------------------------------


def _bucket_rank(seed: str, bucket: int) -> bytes:
    return hashlib.sha256(f"{seed}.{bucket}".encode()).digest()


def buckets_for(
    *, current: Iterable[int], wanted: int, taken: set[int], seed: str, layer_label: str
) -> list[int]:
    """``wanted`` buckets for an experiment that owns ``current`` and may not use ``taken``."""
    owned = sorted((b for b in set(current) if b not in taken), key=lambda b: _bucket_rank(seed, b))
    if wanted <= len(owned):
        return sorted(owned[:wanted])
    free = sorted(
        (b for b in range(LAYER_BUCKETS) if b not in taken and b not in set(owned)),
        key=lambda b: _bucket_rank(seed, b),
    )
    missing = wanted - len(owned)
    if missing > len(free):
        available = (len(owned) + len(free)) / 10
        raise ValidationError.for_field(
            "allocation",
            f"{layer_label} has only {available:g}% left for this experiment; "
            "allocations in a layer cannot overlap or exceed 100%.",
        )
    return sorted([*owned, *free[:missing]])


def layer_taken_buckets(layer: Layer, *, exclude_pk: int | None) -> set[int]:
    """Buckets owned by the layer's other experiments. Call with the layer row locked."""
    others = Experiment.objects.filter(layer=layer, status__in=EXPERIMENT_STATUSES_HOLDING_BUCKETS)
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    taken: set[int] = set()
    for buckets in others.values_list("buckets", flat=True):
        taken.update(buckets)
    return taken


def layer_free_percent(layer: Layer) -> float:
    return (LAYER_BUCKETS - len(layer_taken_buckets(layer, exclude_pk=None))) / 10


# -- services ---------------------------------------------------------------------------------


def _layer(project: Project, layer_id: str, *, lock: bool = False) -> Layer:
    return get_entity(Layer, project=project, slug=layer_id, label=LABEL, lock=lock)


def _validated_fields(project: Project, layer: Layer, fields: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in fields.items():
        if key == "name":
            name = validate_name(value)
            ensure_name_free(project=project, model=Layer, name=name, exclude_pk=layer.pk)
            out[key] = name
        elif key == "description":
            out[key] = validate_text(value, "description")
        elif key == "review_required":
            out[key] = validate_bool(value, "reviewSettings.requiredReview")
        elif key == "tags":
            out[key] = validate_tags(value)
        elif key == "id_type":
            out[key] = validate_id_type(value)
        elif key == "parameters":
            parameters = validate_parameters(value)
            if layer.pk is not None:
                _check_experiments_fit(layer, parameters)
            out[key] = parameters
        elif key == "overrides":
            out[key] = validate_layer_overrides(project, layer, value)
        else:
            raise ValidationError.for_field(key, f"Unknown layer field '{key}'.")
    if (
        "id_type" in out
        and layer.pk is not None
        and out["id_type"] != layer.id_type
        and layer.experiments.exists()
    ):
        raise ValidationError.for_field(
            "idType", "The id type of a layer with experiments cannot change."
        )
    return out


def _group_of(experiment: Experiment, ref: Any, path: str) -> dict[str, Any]:
    for group in experiment.groups:
        if isinstance(ref, str) and ref in (group["id"], group["name"]):
            return group
    raise ValidationError.for_field(path, f"No group '{ref}' in experiment '{experiment.slug}'.")


def validate_layer_overrides(project: Project, layer: Layer, raw: Any) -> dict[str, Any]:
    """Statsig's ``LayerOverridesDto``: each override names an experiment of the layer and one
    of its groups (stored with the group's id, which never changes)."""
    from console.validation import distinct_strings
    from flags.models import Gate
    from flags.services.common import environment_names
    from segments.selectors import segment_reference_problem

    if not isinstance(raw, Mapping):
        raise ValidationError.for_field("overrides", "overrides must be an object.")
    experiments = (
        {e.slug: e for e in Experiment.objects.filter(layer=layer)} if layer.pk is not None else {}
    )
    environments = set(environment_names(project))

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
        if not isinstance(item, Mapping):
            raise ValidationError.for_field(path, "An override is an object.")
        kind, name = item.get("type"), item.get("name")
        if kind not in ("gate", "segment"):
            raise ValidationError.for_field(f"{path}.type", "type is gate or segment.")
        if not isinstance(name, str) or not name:
            raise ValidationError.for_field(f"{path}.name", f"name names a {kind}.")
        problem = (
            (None if name in gates else f"Unknown gate '{name}'.")
            if kind == "gate"
            else segment_reference_problem(project=project, segment_id=name)
        )
        if problem:
            raise ValidationError.for_field(f"{path}.name", problem)
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


def _apply_fields(
    *, project: Project, actor: Actor, entity_id: str, change: dict, review: Review | None = None
) -> Layer:
    layer = _layer(project, entity_id, lock=True)
    check_expected_version(layer, change.get("expected_version"))
    fields = _validated_fields(project, layer, change["fields"])
    save_changed_fields(
        project=project,
        actor=actor,
        entity=layer,
        entity_type=ENTITY_TYPE,
        fields=fields,
        action_type=change.get("action") or "layer_update",
        review=review,
    )
    return layer


_current_version = current_version_of(Layer)
register_change("layer_update", entity_type=ENTITY_TYPE, current_version=_current_version)(
    _apply_fields
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
) -> Layer:
    require_editor(actor, "layers")
    with transaction.atomic():
        name, slug = new_identity(project=project, model=Layer, name=name, slug=layer_id)
        layer = Layer(project=project, name=name, slug=slug)
        fields = _validated_fields(
            project,
            layer,
            {
                "description": description,
                "id_type": id_type,
                "parameters": parameters or [],
                "tags": tags,
                "review_required": review_required,
            },
        )
        for key, value in fields.items():
            setattr(layer, key, value)
        save_created(
            project=project,
            actor=actor,
            entity=layer,
            entity_type=ENTITY_TYPE,
            action_type="layer_create",
            changes={
                "name": {"old": None, "new": layer.name},
                "parameters": {"old": None, "new": layer.parameters},
            },
        )
        for holdout in Holdout.objects.filter(
            project=project, is_global=True, id_type=layer.id_type
        ):
            holdout.layers.add(layer)
    return layer


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
    overrides: Any = UNSET,
    expected_version: int | None = None,
) -> ChangeOutcome:
    """Partial update (PATCH); a full update (POST) passes ``description`` and ``parameters``.
    Parameter defaults reach every user outside the layer's experiments, so they are reviewed."""
    require_editor(actor, "layers")
    layer = _layer(project, layer_id, lock=True)
    check_expected_version(layer, expected_version)
    given = {
        "name": name,
        "description": description,
        "parameters": parameters,
        "tags": tags,
        "id_type": id_type,
        "review_required": review_required,
        "overrides": overrides,
    }
    fields = _validated_fields(
        project, layer, {key: value for key, value in given.items() if value is not UNSET}
    )
    scope = wider_scope(
        *(
            None
            if (key in ("parameters", "id_type", "overrides") and getattr(layer, key) != value)
            or (key == "review_required" and layer.review_required and not value)
            else NO_REVIEW
            for key, value in fields.items()
        )
    )
    return submit_change(
        project=project,
        actor=actor,
        change_type="layer_update",
        entity=layer,
        change={"action": "layer_update", "fields": fields, "expected_version": expected_version},
        scope=scope,
    )


@transaction.atomic
def layer_overrides_set(
    *, project: Project, actor: Actor, layer_id: str, overrides: Mapping[str, Any]
) -> ChangeOutcome:
    """Replaces the layer's overrides (``LayerOverridesDto``); result: the layer."""
    return layer_update(project=project, actor=actor, layer_id=layer_id, overrides=overrides)


@transaction.atomic
def layer_overrides_add(
    *, project: Project, actor: Actor, layer_id: str, overrides: Mapping[str, Any]
) -> ChangeOutcome:
    layer = _layer(project, layer_id, lock=True)
    extra = validate_layer_overrides(project, layer, overrides)
    current = {"conditionalOverrides": [], "idOverrides": [], **(layer.overrides or {})}
    merged = {key: [*current[key], *extra[key]] for key in ("conditionalOverrides", "idOverrides")}
    return layer_overrides_set(project=project, actor=actor, layer_id=layer_id, overrides=merged)


@transaction.atomic
def layer_overrides_remove(
    *, project: Project, actor: Actor, layer_id: str, overrides: Mapping[str, Any]
) -> ChangeOutcome:
    """Removes the given conditional overrides, and the given ids from the id overrides."""
    layer = _layer(project, layer_id, lock=True)
    removed = validate_layer_overrides(project, layer, overrides)
    current = {"conditionalOverrides": [], "idOverrides": [], **(layer.overrides or {})}
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
    remaining = {
        "conditionalOverrides": [
            o
            for o in current["conditionalOverrides"]
            if (o["type"], o["name"], o["experimentName"]) not in gone
        ],
        "idOverrides": kept_ids,
    }
    return layer_overrides_set(project=project, actor=actor, layer_id=layer_id, overrides=remaining)


def layer_referrers(*, layer: Layer) -> list[str]:
    return [
        *(f"experiment '{slug}'" for slug in layer.experiments.values_list("slug", flat=True)),
        *(f"holdout '{slug}'" for slug in layer.holdouts.values_list("slug", flat=True)),
    ]


@register_change("layer_delete", entity_type=ENTITY_TYPE, current_version=_current_version)
def _apply_delete(
    *, project: Project, actor: Actor, entity_id: str, change: dict, review: Review | None = None
) -> None:
    layer = _layer(project, entity_id, lock=True)
    referrers = layer_referrers(layer=layer)
    if referrers:
        raise ValidationError.for_field(
            "id", f"Layer is used by {', '.join(referrers)}; remove those first."
        )
    audit_record(
        project=project,
        actor=actor,
        action_type="layer_delete",
        entity_type=ENTITY_TYPE,
        entity_id=layer.slug,
        entity_name=layer.name,
        changes={"name": {"old": layer.name, "new": None}},
        review=review,
    )
    forget_versions(layer, ENTITY_TYPE)
    layer.delete()
    ruleset_changes.schedule_rebuild(project.id)


@transaction.atomic
def layer_delete(*, project: Project, actor: Actor, layer_id: str) -> ChangeOutcome:
    """Refused (400, naming them) while experiments or holdouts use the layer."""
    require_editor(actor, "layers")
    layer = _layer(project, layer_id, lock=True)
    referrers = layer_referrers(layer=layer)
    if referrers:
        raise ValidationError.for_field(
            "id", f"Layer is used by {', '.join(referrers)}; remove those first."
        )
    return submit_change(
        project=project,
        actor=actor,
        change_type="layer_delete",
        entity=layer,
        change={"action": "layer_delete"},
        scope=None,
    )
