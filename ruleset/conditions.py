"""The console's condition vocabulary: what a rule may say, how it is validated, and how each
console condition becomes a condition of the SDK ruleset (``download_config_specs``).

Used by every entity with rules (gates, dynamic configs, segments, experiment targeting):

    rules = validate_rules(payload, path="rules", vocabulary=GATE_VOCABULARY,
                           environments={"development", "staging", "production"},
                           check_reference=lambda kind, ref: None if exists(kind, ref) else "...")
    sdk_conditions = compile_rule_conditions(rule, id_type="userID")

``validate_rules`` collects every problem with its field path (``rules[0].conditions[1].operator``)
and raises one ``ValidationError``; it returns the rules normalised (lists for list operators,
numbers for numeric ones, epoch milliseconds for times) so the compiler never re-validates.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from console.errors import FieldError, ValidationError

MAX_TARGET_VALUES = 10_000
MAX_TARGET_STRING = 1_000
MAX_RULES = 200
MAX_CONDITIONS_PER_RULE = 50
RULE_NAME_MAX = 200


class Target(StrEnum):
    """The shape a condition's targetValue must have for its operator."""

    NONE = "none"
    LIST = "list"
    NUMBER = "number"
    VERSION = "version"
    TIME = "time"
    REGEX = "regex"
    SCALAR = "scalar"


STRING_LIST_OPERATORS = {
    "any": Target.LIST,
    "none": Target.LIST,
    "any_case_sensitive": Target.LIST,
    "none_case_sensitive": Target.LIST,
    "str_starts_with_any": Target.LIST,
    "str_ends_with_any": Target.LIST,
    "str_contains_any": Target.LIST,
    "str_contains_none": Target.LIST,
    "str_matches": Target.REGEX,
}
NUMBER_OPERATORS = dict.fromkeys(("gt", "gte", "lt", "lte"), Target.NUMBER)
VERSION_OPERATORS = dict.fromkeys(
    ("version_gt", "version_gte", "version_lt", "version_lte", "version_eq", "version_neq"),
    Target.VERSION,
)
DATE_OPERATORS = dict.fromkeys(("before", "after", "on"), Target.TIME)
EQUALITY_OPERATORS = {"eq": Target.SCALAR, "neq": Target.SCALAR}
ARRAY_OPERATORS = dict.fromkeys(
    ("array_contains_any", "array_contains_none", "array_contains_all", "not_array_contains_all"),
    Target.LIST,
)
# Console-only operators; compiled to SDK operators (the SDK drops specs it does not know).
NULL_OPERATORS = {"is_null": Target.NONE, "is_not_null": Target.NONE}
MEMBERSHIP_ONLY = {"any": Target.LIST, "none": Target.LIST}


@dataclass(frozen=True, slots=True)
class ConditionType:
    name: str
    # None: the condition takes no operator (public, passes_gate, ...).
    operators: Mapping[str, Target] | None
    # The SDK condition it compiles to: (type, field).
    sdk_type: str
    sdk_field: str | None = None
    needs_field: bool = False
    needs_custom_id: bool = False
    # passes_gate / passes_segment: targetValue names another entity.
    reference: str | None = None


def _ops(*groups: Mapping[str, Target]) -> dict[str, Target]:
    merged: dict[str, Target] = {}
    for group in groups:
        merged.update(group)
    return merged


STRING_OPS = _ops(STRING_LIST_OPERATORS, EQUALITY_OPERATORS)
VERSIONED_OPS = _ops(STRING_LIST_OPERATORS, VERSION_OPERATORS)

CONDITION_TYPES: dict[str, ConditionType] = {
    c.name: c
    for c in (
        ConditionType("public", None, "public"),
        ConditionType("user_id", STRING_OPS, "user_field", "userID"),
        ConditionType("email", STRING_OPS, "user_field", "email"),
        ConditionType(
            "custom_field",
            _ops(
                STRING_LIST_OPERATORS,
                NUMBER_OPERATORS,
                VERSION_OPERATORS,
                DATE_OPERATORS,
                EQUALITY_OPERATORS,
                ARRAY_OPERATORS,
            ),
            "user_field",
            needs_field=True,
        ),
        ConditionType(
            "unit_id",
            _ops(STRING_LIST_OPERATORS, EQUALITY_OPERATORS, NULL_OPERATORS),
            "unit_id",
            needs_custom_id=True,
        ),
        ConditionType("app_version", VERSIONED_OPS, "user_field", "appVersion"),
        ConditionType("browser_name", STRING_LIST_OPERATORS, "ua_based", "browser_name"),
        ConditionType("browser_version", VERSIONED_OPS, "ua_based", "browser_version"),
        ConditionType("os_name", STRING_LIST_OPERATORS, "ua_based", "os_name"),
        ConditionType("os_version", VERSIONED_OPS, "ua_based", "os_version"),
        ConditionType("country", MEMBERSHIP_ONLY, "ip_based", "country"),
        ConditionType("ip_address", MEMBERSHIP_ONLY, "user_field", "ip"),
        ConditionType("locale", STRING_LIST_OPERATORS, "user_field", "locale"),
        ConditionType("device_model", STRING_LIST_OPERATORS, "user_field", "device_model"),
        ConditionType("environment_tier", MEMBERSHIP_ONLY, "environment_field", "tier"),
        ConditionType("time", _ops(DATE_OPERATORS, NUMBER_OPERATORS), "current_time"),
        ConditionType("passes_gate", None, "pass_gate", reference="gate"),
        ConditionType("fails_gate", None, "fail_gate", reference="gate"),
        ConditionType("passes_segment", None, "pass_gate", reference="segment"),
        ConditionType("fails_segment", None, "fail_gate", reference="segment"),
        ConditionType("target_app", MEMBERSHIP_ONLY, "target_app"),
    )
}

# Conditions that only client SDKs can evaluate; server SDKs would drop the whole spec.
CLIENT_ONLY_TYPES = frozenset({"url", "javascript"})

GATE_VOCABULARY = frozenset(CONDITION_TYPES)
# Reference §1.6: conditional segments cannot use public, passes_gate/fails_gate or time.
SEGMENT_VOCABULARY = frozenset(
    {
        "app_version",
        "browser_name",
        "browser_version",
        "country",
        "custom_field",
        "email",
        "environment_tier",
        "fails_segment",
        "ip_address",
        "os_name",
        "os_version",
        "passes_segment",
        "unit_id",
        "user_id",
        "locale",
        "device_model",
    }
)

SEGMENT_GATE_PREFIX = "segment:"
ReferenceCheck = Callable[[str, str], str | None]


class _Collector:
    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def add(self, path: str, message: str) -> None:
        self.errors.append(FieldError(path, message))

    def raise_if_any(self) -> None:
        if self.errors:
            first = self.errors[0]
            raise ValidationError(f"{first.property}: {first.message}", errors=self.errors)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _as_number(value: Any) -> float | int | None:
    if _is_number(value):
        return value
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
        if math.isfinite(number):
            return int(number) if number.is_integer() else number
    return None


_VERSION_RE = re.compile(r"^\d+(\.\d+)*([-+].*)?$")


def _epoch_ms(value: Any) -> int | None:
    """Epoch seconds or milliseconds (told apart as the SDK does: 11+ digits are ms) or an ISO
    8601 date-time, as epoch milliseconds."""
    number = _as_number(value)
    if number is not None:
        number = int(number)
        return number if len(str(abs(number))) >= 11 else number * 1000
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            # Naive means UTC (not the server's zone, which cannot place 0001-01-01).
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=UTC)
            return int(parsed.timestamp() * 1000)
        except (ValueError, OverflowError, OSError):
            return None
    return None


def _validate_target(target: Target, value: Any, path: str, errors: _Collector) -> Any:
    if target is Target.NONE:
        if value not in (None, [], ""):
            errors.add(path, "This operator takes no targetValue.")
        return None
    if value is None:
        errors.add(path, "targetValue is required for this operator.")
        return None
    if target is Target.LIST:
        values = value if isinstance(value, list) else [value]
        if not values:
            errors.add(path, "targetValue needs at least one value.")
        if len(values) > MAX_TARGET_VALUES:
            errors.add(path, f"targetValue has at most {MAX_TARGET_VALUES} values.")
        for index, item in enumerate(values):
            if not (isinstance(item, str) or _is_number(item)):
                errors.add(f"{path}[{index}]", "Each value must be a string or a number.")
            elif isinstance(item, str) and len(item) > MAX_TARGET_STRING:
                errors.add(f"{path}[{index}]", f"At most {MAX_TARGET_STRING} characters.")
        return values
    single = value[0] if isinstance(value, list) and len(value) == 1 else value
    if target is Target.NUMBER:
        number = _as_number(single)
        if number is None:
            errors.add(path, "targetValue must be a number.")
        return number
    if target is Target.VERSION:
        text = str(single).strip() if isinstance(single, str) or _is_number(single) else ""
        if not _VERSION_RE.match(text):
            errors.add(path, "targetValue must be a version such as 1.2.3.")
        return text
    if target is Target.TIME:
        stamp = _epoch_ms(single)
        if stamp is None:
            errors.add(
                path, "targetValue must be a time: epoch seconds or milliseconds, or ISO 8601."
            )
        return stamp
    if target is Target.REGEX:
        if not isinstance(single, str):
            errors.add(path, "targetValue must be a regular expression string.")
            return None
        try:
            re.compile(single)
        except re.error as exc:
            errors.add(path, f"Invalid regular expression: {exc}.")
        return single
    if not (isinstance(single, str | bool) or _is_number(single)):
        errors.add(path, "targetValue must be a string, number or boolean.")
    return single


def _validate_condition(
    raw: Any,
    path: str,
    *,
    vocabulary: Collection[str],
    check_reference: ReferenceCheck | None,
    errors: _Collector,
) -> dict[str, Any] | None:
    if not isinstance(raw, dict):
        errors.add(path, "A condition must be an object.")
        return None
    kind = raw.get("type")
    if not isinstance(kind, str) or not kind:
        errors.add(f"{path}.type", "type is required.")
        return None
    if kind in CLIENT_ONLY_TYPES:
        errors.add(
            f"{path}.type",
            f"'{kind}' conditions are evaluated only by client SDKs; this server cannot evaluate them.",
        )
        return None
    spec = CONDITION_TYPES.get(kind)
    if spec is None or kind not in vocabulary:
        allowed = ", ".join(sorted(vocabulary))
        errors.add(f"{path}.type", f"Unknown condition type '{kind}'. Allowed here: {allowed}.")
        return None
    condition: dict[str, Any] = {"type": kind}
    operator = raw.get("operator")
    if spec.operators is None:
        if operator not in (None, ""):
            errors.add(f"{path}.operator", f"'{kind}' conditions take no operator.")
        if spec.reference is None:
            condition.update(operator=None, targetValue=None)
        else:
            target = raw.get("targetValue")
            if isinstance(target, list) and len(target) == 1:
                target = target[0]
            if not isinstance(target, str) or not target.strip():
                errors.add(f"{path}.targetValue", f"targetValue must name a {spec.reference} id.")
            else:
                target = target.strip()
                problem = check_reference(spec.reference, target) if check_reference else None
                if problem:
                    errors.add(f"{path}.targetValue", problem)
            condition.update(operator=None, targetValue=target)
    else:
        if not isinstance(operator, str) or operator not in spec.operators:
            allowed = ", ".join(spec.operators)
            errors.add(
                f"{path}.operator",
                f"Operator '{operator}' is not valid for '{kind}'. Use one of: {allowed}.",
            )
            return None
        condition["operator"] = operator
        condition["targetValue"] = _validate_target(
            spec.operators[operator], raw.get("targetValue"), f"{path}.targetValue", errors
        )
    if spec.needs_field:
        field = raw.get("field")
        if not isinstance(field, str) or not field.strip():
            errors.add(f"{path}.field", f"'{kind}' conditions need the name of the field.")
        else:
            condition["field"] = field.strip()
    if spec.needs_custom_id:
        custom_id = raw.get("customID") or raw.get("field")
        if not isinstance(custom_id, str) or not custom_id.strip():
            errors.add(
                f"{path}.customID",
                "unit_id conditions need customID, the unit type (e.g. companyID).",
            )
        else:
            condition["customID"] = custom_id.strip()
    return condition


def _validate_pass_percentage(raw: Any, path: str, errors: _Collector) -> float | int:
    if not _is_number(raw) or not 0 <= raw <= 100:
        errors.add(path, "passPercentage must be a number from 0 to 100.")
        return 0
    return int(raw) if float(raw).is_integer() else raw


def validate_rules(
    raw_rules: Any,
    *,
    path: str = "rules",
    vocabulary: Collection[str] = GATE_VOCABULARY,
    environments: Collection[str],
    check_reference: ReferenceCheck | None = None,
    return_value_required: bool = False,
) -> list[dict[str, Any]]:
    """Validates a list of console rules; returns them normalised, or raises ValidationError
    naming every bad field. Rule ``id`` and ``salt`` are passed through when given (services
    assign them for new rules)."""
    errors = _Collector()
    if not isinstance(raw_rules, list):
        errors.add(path, "rules must be a list of rule objects.")
        errors.raise_if_any()
    if len(raw_rules) > MAX_RULES:
        errors.add(path, f"At most {MAX_RULES} rules.")
    rules: list[dict[str, Any]] = []
    for index, raw in enumerate(raw_rules):
        rule_path = f"{path}[{index}]"
        if not isinstance(raw, dict):
            errors.add(rule_path, "A rule must be an object.")
            continue
        rules.append(
            _validate_rule(
                raw,
                rule_path,
                vocabulary=vocabulary,
                environments=environments,
                check_reference=check_reference,
                return_value_required=return_value_required,
                errors=errors,
            )
        )
    errors.raise_if_any()
    return rules


def validate_rule(
    raw: Any,
    *,
    path: str = "rule",
    vocabulary: Collection[str] = GATE_VOCABULARY,
    environments: Collection[str],
    check_reference: ReferenceCheck | None = None,
    return_value_required: bool = False,
) -> dict[str, Any]:
    """One rule (e.g. ``POST /gates/{id}/rule``)."""
    errors = _Collector()
    if not isinstance(raw, dict):
        errors.add(path, "A rule must be an object.")
        errors.raise_if_any()
    rule = _validate_rule(
        raw,
        path,
        vocabulary=vocabulary,
        environments=environments,
        check_reference=check_reference,
        return_value_required=return_value_required,
        errors=errors,
    )
    errors.raise_if_any()
    return rule


def _validate_rule(
    raw: dict[str, Any],
    path: str,
    *,
    vocabulary: Collection[str],
    environments: Collection[str],
    check_reference: ReferenceCheck | None,
    return_value_required: bool,
    errors: _Collector,
) -> dict[str, Any]:
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        errors.add(f"{path}.name", "Every rule needs a name.")
        name = ""
    elif len(name) > RULE_NAME_MAX:
        errors.add(f"{path}.name", f"At most {RULE_NAME_MAX} characters.")
    rule: dict[str, Any] = {
        "name": name.strip(),
        "passPercentage": _validate_pass_percentage(
            raw.get("passPercentage", 100), f"{path}.passPercentage", errors
        ),
    }
    for key in ("id", "baseID", "salt"):
        if isinstance(raw.get(key), str) and raw[key]:
            rule[key] = raw[key]
    conditions = raw.get("conditions", [])
    if not isinstance(conditions, list):
        errors.add(f"{path}.conditions", "conditions must be a list.")
        conditions = []
    if len(conditions) > MAX_CONDITIONS_PER_RULE:
        errors.add(f"{path}.conditions", f"At most {MAX_CONDITIONS_PER_RULE} conditions per rule.")
    rule["conditions"] = [
        condition
        for index, raw_condition in enumerate(conditions)
        if (
            condition := _validate_condition(
                raw_condition,
                f"{path}.conditions[{index}]",
                vocabulary=vocabulary,
                check_reference=check_reference,
                errors=errors,
            )
        )
        is not None
    ]
    rule_environments = raw.get("environments")
    if rule_environments is not None:
        if not isinstance(rule_environments, list) or not all(
            isinstance(e, str) for e in rule_environments
        ):
            errors.add(
                f"{path}.environments", "environments must be a list of environment names or null."
            )
            rule_environments = None
        else:
            for index, env in enumerate(rule_environments):
                if env not in environments:
                    errors.add(f"{path}.environments[{index}]", f"Unknown environment '{env}'.")
            rule_environments = sorted(set(rule_environments)) or None
    rule["environments"] = rule_environments
    if "returnValue" in raw:
        if not isinstance(raw["returnValue"], dict):
            errors.add(f"{path}.returnValue", "returnValue must be a JSON object.")
        else:
            rule["returnValue"] = raw["returnValue"]
    elif return_value_required:
        rule["returnValue"] = {}
    return rule


def referenced_ids(rules: list[dict[str, Any]], kind: str) -> set[str]:
    """Ids of the gates (``kind="gate"``) or segments a list of validated rules points at."""
    return {
        condition["targetValue"]
        for rule in rules
        for condition in rule.get("conditions", [])
        if CONDITION_TYPES[condition["type"]].reference == kind
    }


def compile_condition(condition: Mapping[str, Any], *, id_type: str) -> dict[str, Any]:
    """A validated console condition as the SDK ruleset's condition object."""
    spec = CONDITION_TYPES[condition["type"]]
    operator = condition.get("operator")
    target = condition.get("targetValue")
    field = spec.sdk_field
    condition_id_type = id_type
    if spec.needs_field:
        field = condition["field"]
    if spec.needs_custom_id:
        condition_id_type = condition["customID"]
    if operator == "is_null":
        operator, target = "eq", None
    elif operator == "is_not_null":
        operator, target = "neq", None
    if spec.reference == "segment":
        target = f"{SEGMENT_GATE_PREFIX}{target}"
    return {
        "type": spec.sdk_type,
        "targetValue": target,
        "operator": operator,
        "field": field,
        "additionalValues": {},
        "isDeviceBased": False,
        "idType": condition_id_type,
    }


def environment_condition(environments: list[str], *, id_type: str) -> dict[str, Any]:
    """A rule limited to some environments evaluates them like any other condition: the user's
    ``statsigEnvironment.tier`` (or the ruleset's default environment) must be one of them."""
    return {
        "type": "environment_field",
        "targetValue": list(environments),
        "operator": "any",
        "field": "tier",
        "additionalValues": {},
        "isDeviceBased": False,
        "idType": id_type,
    }


def compile_rule_conditions(rule: Mapping[str, Any], *, id_type: str) -> list[dict[str, Any]]:
    conditions = [compile_condition(c, id_type=id_type) for c in rule.get("conditions", [])]
    if rule.get("environments"):
        conditions.append(environment_condition(rule["environments"], id_type=id_type))
    if not conditions:
        # A rule without conditions matches everyone, as Statsig's "Everyone" rule.
        conditions.append(compile_condition({"type": "public"}, id_type=id_type))
    return conditions
