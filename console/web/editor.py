"""The rule editor's data: the condition vocabulary of ``ruleset.conditions`` (types, the operators
of each type and the shape of their values), the project's environments, and the gates and
segments a condition may point at. Rendered into a ``<script type="application/json">`` block
that ``console/static/rules.js`` reads, so the browser offers exactly what the services accept.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from datetime import UTC, datetime
from typing import Any

from console.errors import DomainError
from console.selectors import environment_names
from flags.models import Gate
from ruleset import conditions
from segments.models import SegmentType
from segments.selectors import segment_list

PICKER_LIMIT = 1000

TYPE_LABELS = {
    "public": "Everyone",
    "user_id": "User ID",
    "email": "Email",
    "custom_field": "Custom field",
    "unit_id": "Unit ID (custom ID)",
    "app_version": "App version",
    "browser_name": "Browser name",
    "browser_version": "Browser version",
    "os_name": "Operating system",
    "os_version": "OS version",
    "country": "Country",
    "ip_address": "IP address",
    "locale": "Locale",
    "device_model": "Device model",
    "environment_tier": "Environment tier",
    "time": "Current time",
    "passes_gate": "Passes gate",
    "fails_gate": "Fails gate",
    "passes_segment": "In segment",
    "fails_segment": "Not in segment",
    "target_app": "Target app",
}
OPERATOR_LABELS = {
    "any": "is any of",
    "none": "is none of",
    "any_case_sensitive": "is any of (case sensitive)",
    "none_case_sensitive": "is none of (case sensitive)",
    "str_starts_with_any": "starts with any of",
    "str_ends_with_any": "ends with any of",
    "str_contains_any": "contains any of",
    "str_contains_none": "contains none of",
    "str_matches": "matches regex",
    "gt": ">",
    "gte": "≥",
    "lt": "<",
    "lte": "≤",
    "version_gt": "version >",
    "version_gte": "version ≥",
    "version_lt": "version <",
    "version_lte": "version ≤",
    "version_eq": "version =",
    "version_neq": "version ≠",
    "before": "is before",
    "after": "is after",
    "on": "is on the day of",
    "eq": "equals",
    "neq": "does not equal",
    "array_contains_any": "array contains any of",
    "array_contains_none": "array contains none of",
    "array_contains_all": "array contains all of",
    "not_array_contains_all": "array does not contain all of",
    "is_null": "is not set",
    "is_not_null": "is set",
}
# Types offered first in the picker, the rest alphabetically.
COMMON_TYPES = ("user_id", "email", "custom_field", "passes_gate", "passes_segment", "country")


def _type_order(names: Iterable[str]) -> list[str]:
    names = set(names)
    first = [name for name in COMMON_TYPES if name in names]
    rest = sorted(names - set(first), key=lambda name: TYPE_LABELS.get(name, name))
    return [*first, *rest]


def vocabulary(allowed: Collection[str]) -> list[dict[str, Any]]:
    types = []
    for name in _type_order(allowed):
        spec = conditions.CONDITION_TYPES[name]
        types.append(
            {
                "name": name,
                "label": TYPE_LABELS.get(name, name.replace("_", " ").capitalize()),
                "operators": None
                if spec.operators is None
                else [
                    {
                        "name": operator,
                        "label": OPERATOR_LABELS.get(operator, operator),
                        "target": str(target),
                    }
                    for operator, target in spec.operators.items()
                ],
                "needsField": spec.needs_field,
                "needsCustomID": spec.needs_custom_id,
                "reference": spec.reference,
            }
        )
    return types


def _segments(project, exclude: str | None = None) -> list[list[str]]:
    """The segments a condition may target (analysis lists never are)."""
    segments = segment_list(project=project, archived=False).exclude(type=SegmentType.ANALYSIS_LIST)
    if exclude:
        segments = segments.exclude(key=exclude)
    return [[key, name] for key, name in segments.values_list("key", "name")[:PICKER_LIMIT]]


def editor_config(
    *,
    project,
    allowed: Collection[str] = conditions.GATE_VOCABULARY,
    return_values: bool = False,
    exclude_gate: str | None = None,
    exclude_segment: str | None = None,
    errors: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    gates = Gate.objects.filter(project=project).order_by("slug")
    if exclude_gate:
        gates = gates.exclude(slug=exclude_gate)
    return {
        "types": vocabulary(allowed),
        "environments": environment_names(project=project),
        "gates": [[slug, name] for slug, name in gates.values_list("slug", "name")[:PICKER_LIMIT]],
        "segments": _segments(project, exclude_segment),
        "returnValues": return_values,
        "errors": errors or [],
        "maxRules": conditions.MAX_RULES,
    }


def rules_for_editor(rules: list[dict[str, Any]] | None) -> str:
    """Stored rules as the editor edits them (salts stay on the server: a rule keeps its salt
    through its id)."""
    shown = [{key: value for key, value in rule.items() if key != "salt"} for rule in rules or []]
    return json.dumps(shown, indent=2, ensure_ascii=False)


def field_errors(error: DomainError | None, prefix: str = "rules") -> list[dict[str, str]]:
    """The service's errors about rules, for the editor to show at the rule or condition."""
    if error is None:
        return []
    return [
        {"property": e.property, "message": e.message}
        for e in error.errors
        if e.property.startswith(prefix)
    ]


def _value_text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return "" if value is None else str(value)


def describe_condition(condition: dict[str, Any]) -> str:
    """ "Email ends with any of @example.com" (read-only rule lists)."""
    kind = condition.get("type", "")
    label = TYPE_LABELS.get(kind, kind)
    if kind == "custom_field":
        label = f"Custom field “{condition.get('field', '')}”"
    elif kind == "unit_id":
        label = f"Unit ID “{condition.get('customID', '')}”"
    if kind == "public":
        return "Everyone"
    operator = condition.get("operator")
    if not operator:
        return f"{label} {_value_text(condition.get('targetValue'))}".strip()
    target = condition.get("targetValue")
    if operator in ("before", "after", "on") and isinstance(target, int | float):
        target = datetime.fromtimestamp(target / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"{label} {OPERATOR_LABELS.get(operator, operator)} {_value_text(target)}".strip()


def describe_rules(rules: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    return [
        {
            "id": rule.get("id", ""),
            "name": rule.get("name", ""),
            "passPercentage": rule.get("passPercentage", 100),
            "conditions": [describe_condition(c) for c in rule.get("conditions", [])]
            or ["Everyone"],
            "environments": rule.get("environments"),
            "returnValue": rule.get("returnValue"),
            "has_return_value": "returnValue" in rule,
        }
        for rule in rules or []
    ]
