"""A proposed change set beside the entity as it is, for a reviewer: rules as pairs of rule cards
(matched by rule id) with the conditions, percentages and environments that differ marked, every
other field as its before and after value (structured ones as indented JSON compared line by
line). Pure functions, no ORM."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from console.web.diffs import FieldDiff, change_diffs
from console.web.editor import describe_condition

# Kept by the services for their own bookkeeping; a reviewer has nothing to decide about them.
INTERNAL_FIELDS = frozenset({"action", "expected_version", "salt"})

ADDED, REMOVED, CHANGED, SAME = "added", "removed", "changed", "same"


def without_internal(value: Any) -> Any:
    """``value`` with every internal key taken out, at any depth (rules keep a salt each)."""
    if isinstance(value, Mapping):
        return {
            key: without_internal(item) for key, item in value.items() if key not in INTERNAL_FIELDS
        }
    if isinstance(value, list):
        return [without_internal(item) for item in value]
    return value


@dataclass(frozen=True, slots=True)
class ConditionLine:
    text: str
    kind: str  # ADDED, REMOVED or SAME


@dataclass(frozen=True, slots=True)
class RuleSide:
    """One rule as a card shows it."""

    name: str
    pass_percentage: Any
    environments: list[str] | None
    return_value: Any
    has_return_value: bool


@dataclass(frozen=True, slots=True)
class RulePair:
    """A rule now (``old``) and after the change (``new``); either is None when the rule is
    added or removed."""

    rule_id: str
    kind: str
    old: RuleSide | None
    new: RuleSide | None
    old_conditions: list[ConditionLine]
    new_conditions: list[ConditionLine]
    percentage_changed: bool
    environments_changed: bool
    return_value_changed: bool


@dataclass(frozen=True, slots=True)
class FieldComparison:
    field: str
    kind: str  # ADDED, REMOVED, CHANGED (only changed fields are compared)
    # One diff (a list, as the audit entry's template takes them).
    diffs: list[FieldDiff]
    rules: list[RulePair] = field(default_factory=list)

    @property
    def is_rules(self) -> bool:
        return bool(self.rules)


def _is_rule_list(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(rule, Mapping) and "conditions" in rule for rule in value
    )


def _side(rule: Mapping[str, Any]) -> RuleSide:
    return RuleSide(
        name=str(rule.get("name") or rule.get("id") or ""),
        pass_percentage=rule.get("passPercentage", 100),
        environments=rule.get("environments"),
        return_value=rule.get("returnValue"),
        has_return_value="returnValue" in rule,
    )


def _sentences(rule: Mapping[str, Any] | None) -> list[str]:
    if rule is None:
        return []
    return [describe_condition(condition) for condition in rule.get("conditions") or []] or [
        "Everyone"
    ]


def _marked(sentences: list[str], other: list[str], kind: str) -> list[ConditionLine]:
    return [ConditionLine(text, SAME if text in other else kind) for text in sentences]


def _rule_key(rule: Mapping[str, Any], index: int) -> str:
    return str(rule.get("id") or f"#{index + 1}")


def rule_pairs(old_rules: Any, new_rules: Any) -> list[RulePair]:
    """Rules matched by id in the proposed order, then the removed ones."""
    old_by_id = {_rule_key(rule, i): rule for i, rule in enumerate(old_rules or [])}
    new_by_id = {_rule_key(rule, i): rule for i, rule in enumerate(new_rules or [])}
    pairs = []
    for rule_id in [*new_by_id, *(key for key in old_by_id if key not in new_by_id)]:
        old, new = old_by_id.get(rule_id), new_by_id.get(rule_id)
        old_text, new_text = _sentences(old), _sentences(new)
        old_side = _side(old) if old is not None else None
        new_side = _side(new) if new is not None else None
        both = old_side is not None and new_side is not None
        if old is None:
            kind = ADDED
        elif new is None:
            kind = REMOVED
        else:
            kind = SAME if without_internal(old) == without_internal(new) else CHANGED
        pairs.append(
            RulePair(
                rule_id=rule_id,
                kind=kind,
                old=old_side,
                new=new_side,
                old_conditions=_marked(old_text, new_text, REMOVED),
                new_conditions=_marked(new_text, old_text, ADDED),
                percentage_changed=both and old_side.pass_percentage != new_side.pass_percentage,
                environments_changed=both and old_side.environments != new_side.environments,
                return_value_changed=both and old_side.return_value != new_side.return_value,
            )
        )
    return pairs


_ABSENT = object()


def compare(
    current: Mapping[str, Any] | None, proposed: Mapping[str, Any]
) -> tuple[list[FieldComparison], list[str]]:
    """The fields ``proposed`` changes against ``current`` (None: the entity does not exist),
    and the names of those it sets to the value they already have."""
    changed, unchanged = [], []
    for name, new in without_internal(dict(proposed)).items():
        old = _ABSENT if current is None else without_internal(current.get(name, _ABSENT))
        if old == new:
            unchanged.append(name)
            continue
        kind = ADDED if old is _ABSENT else REMOVED if new is None else CHANGED
        old_value = None if old is _ABSENT else old
        diffs = change_diffs({name: {"old": old_value, "new": new}})
        rules = []
        if _is_rule_list(new) and (old is _ABSENT or _is_rule_list(old)):
            rules = rule_pairs(old_value, new)
        changed.append(FieldComparison(field=name, kind=kind, diffs=diffs, rules=rules))
    return changed, unchanged
