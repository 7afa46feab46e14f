"""An experiment's overrides (Statsig's ``ExperimentOverridesDto``): units of a gate or segment,
or listed ids, put into a group whatever their bucket; group references stored as group ids."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from console.errors import ValidationError
from console.models import Project
from console.selectors import environment_names
from console.validation import distinct_strings
from flags.models import Experiment, Gate
from flags.services.experiments.groups import group_id_of
from flags.services.rules import conditional_override_target


def validate_experiment_overrides(
    project: Project, experiment: Experiment, raw: Any
) -> dict[str, Any]:
    """Statsig's ``ExperimentOverridesDto``; group references become group ids."""
    groups = experiment.groups
    if not isinstance(raw, Mapping):
        raise ValidationError.for_field("overrides", "overrides must be an object.")
    environments = set(environment_names(project=project))
    out: dict[str, Any] = {"overrides": [], "userIDOverrides": []}
    conditional = raw.get("overrides") or []
    if not isinstance(conditional, list):
        raise ValidationError.for_field("overrides", "overrides must be a list.")
    gates = set(Gate.objects.filter(project=project).values_list("slug", flat=True))
    for index, item in enumerate(conditional):
        path = f"overrides[{index}]"
        kind, ref = conditional_override_target(project, item, path, ref_key="id", gates=gates)
        environment = item.get("environment")
        if environment is not None and environment not in environments:
            raise ValidationError.for_field(
                f"{path}.environment", f"Unknown environment '{environment}'."
            )
        out["overrides"].append(
            {
                "type": kind,
                "id": ref,
                "groupID": group_id_of(experiment, groups, item.get("groupID"), f"{path}.groupID"),
                "environment": environment,
            }
        )
    id_overrides = raw.get("userIDOverrides") or []
    if not isinstance(id_overrides, list):
        raise ValidationError.for_field("userIDOverrides", "userIDOverrides must be a list.")
    for index, item in enumerate(id_overrides):
        path = f"userIDOverrides[{index}]"
        if not isinstance(item, Mapping):
            raise ValidationError.for_field(path, "An override is an object.")
        environment = item.get("environment")
        if environment is not None and environment not in environments:
            raise ValidationError.for_field(
                f"{path}.environment", f"Unknown environment '{environment}'."
            )
        unit_type = item.get("unitType") or experiment.id_type
        if not isinstance(unit_type, str):
            raise ValidationError.for_field(f"{path}.unitType", "unitType is a unit type.")
        out["userIDOverrides"].append(
            {
                "groupID": group_id_of(experiment, groups, item.get("groupID"), f"{path}.groupID"),
                "ids": distinct_strings(item.get("ids") or [], f"{path}.ids"),
                "environment": environment,
                "unitType": unit_type,
            }
        )
    return out


def overrides_merged(current: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    current = {"overrides": [], "userIDOverrides": [], **current}
    return {
        "overrides": [*current["overrides"], *extra["overrides"]],
        "userIDOverrides": [*current["userIDOverrides"], *extra["userIDOverrides"]],
    }


def overrides_without(current: Mapping[str, Any], removed: Mapping[str, Any]) -> dict[str, Any]:
    """Without the given conditional overrides, and without the given ids in the id overrides."""
    current = {"overrides": [], "userIDOverrides": [], **current}
    gone_conditional = {(o["type"], o["id"], o["environment"]) for o in removed["overrides"]}
    gone_ids = {
        (o["groupID"], o["environment"], o["unitType"], i)
        for o in removed["userIDOverrides"]
        for i in o["ids"]
    }
    kept_ids = []
    for item in current["userIDOverrides"]:
        ids = [
            i
            for i in item["ids"]
            if (item["groupID"], item["environment"], item["unitType"], i) not in gone_ids
        ]
        if ids:
            kept_ids.append({**item, "ids": ids})
    return {
        "overrides": [
            o
            for o in current["overrides"]
            if (o["type"], o["id"], o["environment"]) not in gone_conditional
        ],
        "userIDOverrides": kept_ids,
    }
