"""Rules read back as they were sent. ``ruleset.conditions`` validates a rule into its canonical
form (what the compiler reads); clients such as Terraform compare what they read with what they
sent, so the spellings the canonical form does not keep are stored beside it, under ``sent``,
and the console API returns them:

- the ``operator`` of a condition that takes none (``public``, ``passes_gate``,
  ``passes_segment``, ...): "" or the type's own name, which the LaunchDarkly migration script
  sends (``{"type": "passes_segment", "operator": "passes_segment", "targetValue":
  ["segment:beta"]}``), or "any";
- the ``targetValue`` of such a condition: a list of one id, or ids with the ``segment:`` prefix
  of the compiled document; ``[]`` or nothing for ``public``;
- a rule's ``environments`` in the order sent (the canonical form sorts them);
- the JSON5 text of a value (``returnValueJson5``, ``defaultValueJson5``), parsed here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import json5

from console.errors import ValidationError
from ruleset import conditions

SEGMENT_PREFIX = "segment:"
MAX_SENT_TARGETS = 100
JSON5_MAX_CHARS = 100_000


def _operator_accepted(spec: conditions.ConditionType, operator: Any) -> bool:
    return operator is None or operator in ("", "any", spec.name)


def _scalar(value: Any) -> bool:
    return isinstance(value, str) or (
        isinstance(value, int | float) and not isinstance(value, bool)
    )


def _plain_targets(value: Any) -> bool:
    """A target value worth keeping as sent: nothing, a string or number, or a short list of
    them."""
    if value is None or _scalar(value):
        return True
    return (
        isinstance(value, list)
        and len(value) <= MAX_SENT_TARGETS
        and all(_scalar(item) for item in value)
    )


def _without_segment_prefix(value: Any) -> Any:
    if isinstance(value, str):
        return value.removeprefix(SEGMENT_PREFIX)
    if isinstance(value, list):
        return [_without_segment_prefix(item) for item in value]
    return value


def canonical_condition(raw: Any) -> tuple[Any, dict[str, Any]]:
    """The condition as ``ruleset.conditions`` reads it, and what of it to keep as sent."""
    if not isinstance(raw, Mapping):
        return raw, {}
    condition = dict(raw)
    kept = condition.pop("sent", None)
    spec = conditions.CONDITION_TYPES.get(condition.get("type"))
    if kept is not None or spec is None:
        # A stored condition brings its sent form.
        return condition, dict(kept or {})
    if spec.operators is not None:
        # The operator is kept as it is; the value may be made canonical (["31"] -> 31).
        target = condition.get("targetValue")
        return condition, {"targetValue": target} if _plain_targets(target) else {}
    sent: dict[str, Any] = {}
    if "operator" in condition and _operator_accepted(spec, condition["operator"]):
        sent["operator"] = condition.pop("operator")
    if "targetValue" in condition and _plain_targets(condition["targetValue"]):
        sent["targetValue"] = condition["targetValue"]
        if spec.reference is None:
            condition.pop("targetValue")
        elif spec.reference == "segment":
            condition["targetValue"] = _without_segment_prefix(condition["targetValue"])
    return condition, sent


def canonical_rules(raw_rules: Any) -> tuple[Any, list[dict[str, Any]]]:
    """The rules as ``ruleset.conditions`` reads them, and per rule what to keep as sent:
    ``{"conditions": {index: sent}, "environments": [...]}``."""
    if not isinstance(raw_rules, list):
        return raw_rules, []
    rules, sent_forms = [], []
    for raw in raw_rules:
        if not isinstance(raw, Mapping):
            rules.append(raw)
            sent_forms.append({})
            continue
        rule = dict(raw)
        sent: dict[str, Any] = {}
        if isinstance(rule.get("conditions"), list):
            canonical = [canonical_condition(c) for c in rule["conditions"]]
            rule["conditions"] = [condition for condition, _ in canonical]
            sent["conditions"] = {i: form for i, (_, form) in enumerate(canonical) if form}
        if "sentEnvironments" in rule:  # a stored rule
            sent["environments"] = rule.pop("sentEnvironments")
        elif isinstance(rule.get("environments"), list):
            sent["environments"] = list(rule["environments"])
        rules.append(rule)
        sent_forms.append(sent)
    return rules, sent_forms


def with_sent_forms(stored: dict[str, Any], validated: Mapping[str, Any], sent: Mapping) -> None:
    """Attaches the sent forms to a stored rule (in place)."""
    for index, form in sent.get("conditions", {}).items():
        if index >= len(stored["conditions"]):
            continue
        condition = stored["conditions"][index]
        # Only what the canonical form spells differently is kept.
        different = {key: value for key, value in form.items() if condition.get(key) != value}
        if different:
            stored["conditions"][index] = {**condition, "sent": different}
    environments = sent.get("environments")
    if environments is not None and environments != validated.get("environments"):
        stored["sentEnvironments"] = environments


def parse_json5_object(text: Any, path: str) -> dict[str, Any]:
    """The JSON object a JSON5 text (comments, trailing commas, unquoted keys) spells."""
    if not isinstance(text, str) or len(text) > JSON5_MAX_CHARS:
        raise ValidationError.for_field(
            path, f"{path} is a JSON5 text of at most {JSON5_MAX_CHARS:,} characters."
        )
    try:
        value = json5.loads(text)
    except ValueError as exc:
        raise ValidationError.for_field(path, f"Not valid JSON5: {exc}.") from None
    except RecursionError:
        raise ValidationError.for_field(path, f"{path} nests too deeply.") from None
    if not isinstance(value, dict):
        raise ValidationError.for_field(path, f"{path} must spell a JSON object.")
    return value


def value_from_json5(value: Any, text: Any, *, value_path: str, text_path: str) -> Any:
    """The value a body means when it brings a JSON5 text: the text's object (the value, when
    also sent and not empty, must be the same)."""
    parsed = parse_json5_object(text, text_path)
    if value not in (None, {}) and value != parsed:
        raise ValidationError.for_field(
            text_path, f"{text_path} and {value_path} spell different values."
        )
    return parsed


def condition_output(condition: Mapping[str, Any]) -> dict[str, Any]:
    """A stored condition as the console API returns it: as it was sent."""
    spec = conditions.CONDITION_TYPES.get(condition["type"])
    takes_no_operator = spec is not None and spec.operators is None
    sent = condition.get("sent") or {}
    if "targetValue" in sent:
        target = sent["targetValue"]
    elif takes_no_operator and spec.reference is None:
        target = []
    else:
        target = condition.get("targetValue")
    operator = sent.get("operator", condition.get("operator"))
    return {
        "type": condition["type"],
        "operator": "" if operator is None and takes_no_operator else operator,
        "targetValue": target,
        "field": condition.get("field"),
        "customID": condition.get("customID"),
    }


def rule_environments_output(rule: Mapping[str, Any]) -> list[str] | None:
    return rule.get("sentEnvironments", rule.get("environments"))
