"""An experiment's groups, sizes and allocation, validated: ids created once and kept by name,
sizes from 0 to 100 in steps of 0.1 adding up to 100, and group references (an id or a name)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from console.errors import ValidationError
from console.validation import json_number, validate_bool, validate_text
from flags.models import Experiment, new_rule_id

MAX_GROUPS = 50
DEFAULT_GROUPS = (
    {"name": "Control", "size": 50, "parameterValues": {}},
    {"name": "Test", "size": 50, "parameterValues": {}},
)
# The service's field names as the console API (and so its errors) names them.
WIRE_NAMES = {
    "id_type": "idType",
    "layer_id": "layerID",
    "targeting_gate_id": "targetingGateID",
    "control_group_id": "controlGroupID",
    "review_required": "reviewSettings.requiredReview",
}


def _size(value: Any, path: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValidationError.for_field(path, "A size is a number from 0 to 100.")
    try:
        size = Decimal(str(value))
    except InvalidOperation:
        raise ValidationError.for_field(path, "A size is a number from 0 to 100.") from None
    if not Decimal(0) <= size <= Decimal(100) or size * 10 != (size * 10).to_integral_value():
        raise ValidationError.for_field(path, "A size is from 0 to 100 in steps of 0.1.")
    return size


def validate_groups(raw: Any, *, old_groups: list[dict[str, Any]], path: str = "groups"):
    if not isinstance(raw, list) or not 2 <= len(raw) <= MAX_GROUPS:
        raise ValidationError.for_field(path, f"An experiment has 2 to {MAX_GROUPS} groups.")
    old_by_id = {g["id"]: g for g in old_groups}
    old_by_name = {g["name"].lower(): g for g in old_groups}
    out: list[dict[str, Any]] = []
    names: set[str] = set()
    ids: set[str] = set()
    total = Decimal(0)
    for index, item in enumerate(raw):
        item_path = f"{path}[{index}]"
        if not isinstance(item, Mapping):
            raise ValidationError.for_field(item_path, "A group is an object.")
        name = item.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > 100:
            raise ValidationError.for_field(
                f"{item_path}.name", "A group name has 1 to 100 characters."
            )
        name = name.strip()
        if name.lower() in names:
            raise ValidationError.for_field(f"{item_path}.name", f"Duplicate group name '{name}'.")
        names.add(name.lower())
        group_id = item.get("id")
        if group_id in (None, ""):
            previous = old_by_name.get(name.lower())
            group_id = previous["id"] if previous and previous["id"] not in ids else new_rule_id()
        elif not isinstance(group_id, str) or len(group_id) > 32:
            raise ValidationError.for_field(
                f"{item_path}.id", "A group id is a string of up to 32 characters."
            )
        if group_id in ids:
            raise ValidationError.for_field(f"{item_path}.id", f"Duplicate group id '{group_id}'.")
        ids.add(group_id)
        size = _size(item.get("size"), f"{item_path}.size")
        total += size
        values = item.get("parameterValues", {})
        if values is None:
            values = {}
        if not isinstance(values, dict):
            raise ValidationError.for_field(
                f"{item_path}.parameterValues", "parameterValues is a JSON object."
            )
        disabled = item.get("disabled", old_by_id.get(group_id, {}).get("disabled", False))
        foreign_id = item.get("foreignGroupID")
        out.append(
            {
                # Statsig's foreignGroupID (the group in an external assignment source).
                **(
                    {"foreignGroupID": validate_text(foreign_id, f"{item_path}.foreignGroupID")}
                    if foreign_id
                    else {}
                ),
                "id": group_id,
                "name": name,
                "size": json_number(size),
                "parameterValues": values,
                "disabled": validate_bool(disabled, f"{item_path}.disabled"),
                "description": validate_text(item.get("description"), f"{item_path}.description"),
            }
        )
    if total != Decimal(100):
        raise ValidationError.for_field(
            path, f"Group sizes must add up to 100 (they add up to {total:g})."
        )
    return out


def validate_allocation(value: Any) -> Decimal:
    try:
        allocation = _size(value, "allocation")
    except ValidationError:
        raise ValidationError.for_field(
            "allocation", "allocation is a percentage from 0 to 100 in steps of 0.1."
        ) from None
    return allocation


def group_id_of(experiment: Experiment, groups: list[dict[str, Any]], ref: Any, path: str) -> str:
    """The id of the group ``ref`` names (by id or by name)."""
    if isinstance(ref, str):
        for group in groups:
            if ref in (group["id"], group["name"]):
                return group["id"]
    raise ValidationError.for_field(path, f"No group '{ref}' in experiment '{experiment.slug}'.")


def unchanged(experiment: Experiment, key: str, value: Any) -> bool:
    """Whether a field is sent as it already is (a full update resends every field)."""
    if key == "layer_id":
        return (value or None) == (experiment.layer.slug if experiment.layer_id else None)
    if key == "targeting_gate_id":
        current = experiment.targeting_gate.slug if experiment.targeting_gate_id else None
        return (value or None) == current
    if key == "allocation":
        try:
            return Decimal(str(value)) == Decimal(experiment.allocation)
        except (InvalidOperation, ValueError):
            return False
    if key == "groups":
        try:
            return validate_groups(value, old_groups=experiment.groups) == experiment.groups
        except ValidationError:
            return False
    return getattr(experiment, key, object()) == value
