"""Rule lists of gates and dynamic configs: validation through ``ruleset.conditions``, stable rule
ids and salts, what a rule change touches (for reviews), references and gate cycles, overrides."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from console.errors import FieldError, ValidationError
from console.models import Project
from console.selectors import environment_names
from console.validation import (
    distinct_strings,
)
from flags.models import Gate, new_rule_id, new_salt
from flags.services.descriptor import NO_REVIEW, ReviewScope
from ruleset import conditions
from segments.selectors import segment_reference_problem

RenamePath = Callable[[int], str | None]

RULE_KEYS = ("id", "baseID", "name", "passPercentage", "conditions", "environments", "returnValue")


def reference_checker(
    project: Project, *, gate_ids: Collection[str] | None = None
) -> Callable[[str, str], str | None]:
    """The ``check_reference`` callback of ``ruleset.conditions.validate_rules`` for a project."""
    known_gates = (
        set(gate_ids)
        if gate_ids is not None
        else set(Gate.objects.filter(project=project).values_list("slug", flat=True))
    )
    segment_answers: dict[str, str | None] = {}

    def check(kind: str, ref: str) -> str | None:
        if kind == "gate":
            return None if ref in known_gates else f"Unknown gate '{ref}'."
        if kind == "segment":
            if ref not in segment_answers:
                segment_answers[ref] = segment_reference_problem(project=project, segment_id=ref)
            return segment_answers[ref]
        return f"Unknown reference kind '{kind}'."

    return check


def prepare_rules(
    raw_rules: Any,
    *,
    old_rules: list[dict[str, Any]],
    environments: Collection[str],
    check_reference: Callable[[str, str], str | None],
    path: str = "rules",
    vocabulary: Collection[str] = conditions.GATE_VOCABULARY,
    return_value_required: bool = False,
) -> list[dict[str, Any]]:
    """Validated rules in the stored console shape. A rule without a salt keeps the salt of the
    existing rule with its id (a salt given explicitly re-salts it); a rule without an id is the
    existing rule of the same name if there is one; a new rule gets a new id (unless it brings
    an unused one) and a new salt."""
    validated = conditions.validate_rules(
        raw_rules,
        path=path,
        vocabulary=vocabulary,
        environments=environments,
        check_reference=check_reference,
        return_value_required=return_value_required,
    )
    old_salts = {rule["id"]: rule.get("salt") for rule in old_rules}
    # A rule sent without its id (e.g. by a client that keeps rules by name) is the existing
    # rule of the same name, so its id and salt stay.
    given_ids = {rule.get("id") for rule in validated if rule.get("id")}
    by_name: dict[str, str] = {}
    for rule in old_rules:
        if rule["id"] not in given_ids:
            by_name.setdefault(rule["name"], rule["id"])
    used: set[str] = set()
    out: list[dict[str, Any]] = []
    for index, rule in enumerate(validated):
        rule_id = rule.get("id")
        if rule_id in used:
            raise ValidationError.for_field(
                f"{path}[{index}].id", f"Duplicate rule id '{rule_id}'."
            )
        if not rule_id:
            rule_id = by_name.pop(rule["name"], None) or new_rule_id()
        used.add(rule_id)
        salt = rule.get("salt") or old_salts.get(rule_id) or new_salt()
        stored: dict[str, Any] = {
            "id": rule_id,
            "name": rule["name"],
            "passPercentage": rule["passPercentage"],
            "conditions": rule["conditions"],
            "environments": rule["environments"],
            "salt": salt,
        }
        if rule.get("baseID"):
            stored["baseID"] = rule["baseID"]
        if "returnValue" in rule:
            stored["returnValue"] = rule["returnValue"]
        out.append(stored)
    return out


def rules_review_scope(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> ReviewScope:
    """The environments a rules change touches: those of every added, removed, changed or moved
    rule; ``None`` (the whole entity) if one of them applies in every environment; ``NO_REVIEW``
    when nothing changed."""
    old_by_id = {rule["id"]: rule for rule in old}
    new_by_id = {rule["id"]: rule for rule in new}
    touched: list[dict[str, Any]] = []
    for rule_id in old_by_id.keys() | new_by_id.keys():
        before, after = old_by_id.get(rule_id), new_by_id.get(rule_id)
        if before != after:
            touched.extend(r for r in (before, after) if r is not None)
    old_order = [rule["id"] for rule in old if rule["id"] in new_by_id]
    new_order = [rule["id"] for rule in new if rule["id"] in old_by_id]
    for position, (before_id, after_id) in enumerate(zip(old_order, new_order, strict=True)):
        if before_id != after_id:
            touched.extend((old_by_id[old_order[position]], new_by_id[new_order[position]]))
    if not touched:
        return NO_REVIEW
    environments: set[str] = set()
    for rule in touched:
        if rule.get("environments") is None:
            return None
        environments.update(rule["environments"])
    return frozenset(environments)


@dataclass(frozen=True, slots=True)
class RuleListEdit:
    """A rule list after one edit of the console API, and how to name a validation error of the
    new list after the request's own fields (``rule.<field>``, not ``rules[3].<field>``)."""

    rules: list[dict[str, Any]]
    rename: RenamePath | None = None


def rules_appended(rules: list[dict[str, Any]], added: Any) -> RuleListEdit:
    if not isinstance(added, list):
        raise ValidationError.for_field("rules", "rules must be a list of rule objects.")
    offset = len(rules)
    return RuleListEdit([*rules, *added], lambda i: f"rules[{i - offset}]" if i >= offset else None)


def rule_appended(rules: list[dict[str, Any]], rule: Any) -> RuleListEdit:
    offset = len(rules)
    return RuleListEdit([*rules, rule], lambda i: "rule" if i == offset else None)


def rule_updated(
    rules: list[dict[str, Any]], rule_id: str, patch: Mapping[str, Any]
) -> RuleListEdit:
    index = rule_index(rules, rule_id)
    new_rules = list(rules)
    new_rules[index] = rule_patched(rules[index], patch)
    return RuleListEdit(new_rules, lambda i: "rule" if i == index else None)


def rule_removed(rules: list[dict[str, Any]], rule_id: str) -> RuleListEdit:
    index = rule_index(rules, rule_id)
    return RuleListEdit([rule for i, rule in enumerate(rules) if i != index])


def rule_index(rules: list[dict[str, Any]], rule_id: str) -> int:
    for index, rule in enumerate(rules):
        if rule["id"] == rule_id:
            return index
    raise ValidationError.for_field("ruleID", f"No rule with id '{rule_id}'.")


def rule_patched(rule: dict[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """A stored rule with the given console fields replaced (``RuleUpdateDto``)."""
    if not isinstance(patch, Mapping):
        raise ValidationError.for_field("rule", "A rule update must be an object.")
    unknown = set(patch) - set(RULE_KEYS) - {"salt"}
    if unknown:
        name = sorted(unknown)[0]
        raise ValidationError.for_field(f"rule.{name}", f"Unknown rule field '{name}'.")
    if "id" in patch and patch["id"] != rule["id"]:
        raise ValidationError.for_field("rule.id", "A rule's id cannot be changed.")
    merged = dict(rule)
    merged.update({key: value for key, value in patch.items() if key != "salt"})
    return merged


# -- gate dependencies ---------------------------------------------------------------------------


def gate_dependencies(rules: list[dict[str, Any]]) -> set[str]:
    return conditions.referenced_ids(rules, "gate")


def reference_path(
    graph: Mapping[str, Collection[str]], source: str, target: str
) -> list[str] | None:
    """A path ``source → … → target`` through a graph of references (``{id: ids it references}``:
    gates through ``passes_gate`` conditions, segments through segment conditions), if any."""
    stack: list[tuple[str, list[str]]] = [(source, [source])]
    seen: set[str] = set()
    while stack:
        node, trail = stack.pop()
        if node == target:
            return trail
        if node in seen:
            continue
        seen.add(node)
        stack.extend((nxt, [*trail, nxt]) for nxt in sorted(graph.get(node, ())))
    return None


def refuse_gate_cycle(
    *,
    project: Project,
    gate_id: str,
    rules: list[dict[str, Any]],
    path: str = "rules",
    graph: dict[str, set[str]] | None = None,
) -> None:
    """Refuses rules through which the gate would depend on itself, naming the condition."""
    if graph is None:
        graph = {
            slug: gate_dependencies(gate_rules)
            for slug, gate_rules in Gate.objects.filter(project=project).values_list(
                "slug", "rules"
            )
        }
    graph = {**graph, gate_id: gate_dependencies(rules)}
    errors: list[FieldError] = []
    for rule_index_, rule in enumerate(rules):
        for condition_index, condition in enumerate(rule.get("conditions", [])):
            spec = conditions.CONDITION_TYPES[condition["type"]]
            if spec.reference != "gate":
                continue
            trail = reference_path(graph, condition["targetValue"], gate_id)
            if trail is not None:
                chain = " -> ".join([gate_id, *trail])
                errors.append(
                    FieldError(
                        f"{path}[{rule_index_}].conditions[{condition_index}].targetValue",
                        f"Gate dependency cycle: {chain}.",
                    )
                )
    if errors:
        raise ValidationError(errors[0].message, errors=errors)


# -- overrides (gates, holdouts) ------------------------------------------------------------------

OVERRIDE_LISTS = ("passingUserIDs", "failingUserIDs", "passingCustomIDs", "failingCustomIDs")


def empty_overrides() -> dict[str, Any]:
    return {**{key: [] for key in OVERRIDE_LISTS}, "environmentOverrides": []}


def validate_overrides(
    raw: Any, *, environments: Collection[str], path: str = "overrides"
) -> dict[str, Any]:
    """Statsig's ``OverrideDto`` normalised: every list present, ids distinct strings."""
    if not isinstance(raw, Mapping):
        raise ValidationError.for_field(path, "overrides must be an object.")
    unknown = set(raw) - set(OVERRIDE_LISTS) - {"environmentOverrides"}
    if unknown:
        name = sorted(unknown)[0]
        raise ValidationError.for_field(f"{path}.{name}", f"Unknown overrides field '{name}'.")
    out = empty_overrides()
    for key in OVERRIDE_LISTS:
        if raw.get(key) is not None:
            out[key] = distinct_strings(raw[key], f"{path}.{key}")
    env_overrides = raw.get("environmentOverrides") or []
    if not isinstance(env_overrides, list):
        raise ValidationError.for_field(
            f"{path}.environmentOverrides", "environmentOverrides must be a list."
        )
    for index, item in enumerate(env_overrides):
        item_path = f"{path}.environmentOverrides[{index}]"
        if not isinstance(item, Mapping):
            raise ValidationError.for_field(item_path, "An environment override is an object.")
        environment = item.get("environment")
        if environment is not None and environment not in environments:
            raise ValidationError.for_field(
                f"{item_path}.environment", f"Unknown environment '{environment}'."
            )
        unit_id = item.get("unitID") or "userID"
        if not isinstance(unit_id, str):
            raise ValidationError.for_field(f"{item_path}.unitID", "unitID is a unit type.")
        out["environmentOverrides"].append(
            {
                "environment": environment,
                "unitID": unit_id,
                "passingIDs": distinct_strings(
                    item.get("passingIDs") or [], f"{item_path}.passingIDs"
                ),
                "failingIDs": distinct_strings(
                    item.get("failingIDs") or [], f"{item_path}.failingIDs"
                ),
            }
        )
    return out


def conditional_override_target(
    project: Project, item: Any, path: str, *, ref_key: str, gates: Collection[str]
) -> tuple[str, str]:
    """The ``(type, id)`` of the gate or segment a conditional override of an experiment or a
    layer names under ``ref_key`` (``gates``: the project's gate ids)."""
    if not isinstance(item, Mapping):
        raise ValidationError.for_field(path, "An override is an object.")
    kind, ref = item.get("type"), item.get(ref_key)
    if kind not in ("gate", "segment"):
        raise ValidationError.for_field(f"{path}.type", "type is gate or segment.")
    if not isinstance(ref, str) or not ref:
        raise ValidationError.for_field(f"{path}.{ref_key}", f"{ref_key} names a {kind}.")
    problem = (
        (None if ref in gates else f"Unknown gate '{ref}'.")
        if kind == "gate"
        else segment_reference_problem(project=project, segment_id=ref)
    )
    if problem:
        raise ValidationError.for_field(f"{path}.{ref_key}", problem)
    return kind, ref


def validate_project_overrides(project: Project, entity: Any, raw: Any) -> dict[str, Any]:
    """``validate_overrides`` against the project's environments (gates and holdouts)."""
    return validate_overrides(raw, environments=environment_names(project=project))


def overrides_merged(current: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    out = {**empty_overrides(), **current}
    for key in OVERRIDE_LISTS:
        out[key] = list(dict.fromkeys([*out.get(key, []), *extra.get(key, [])]))
    out["environmentOverrides"] = [
        *out.get("environmentOverrides", []),
        *extra.get("environmentOverrides", []),
    ]
    return out


def overrides_without(current: Mapping[str, Any], removed: Mapping[str, Any]) -> dict[str, Any]:
    out = {**empty_overrides(), **current}
    for key in OVERRIDE_LISTS:
        gone = set(removed.get(key, []))
        out[key] = [value for value in out.get(key, []) if value not in gone]
    remaining = []
    for item in out.get("environmentOverrides", []):
        matches = [
            r
            for r in removed.get("environmentOverrides", [])
            if r["environment"] == item["environment"] and r["unitID"] == item["unitID"]
        ]
        if not matches:
            remaining.append(item)
            continue
        gone_pass = {i for r in matches for i in r["passingIDs"]}
        gone_fail = {i for r in matches for i in r["failingIDs"]}
        kept = {
            **item,
            "passingIDs": [i for i in item["passingIDs"] if i not in gone_pass],
            "failingIDs": [i for i in item["failingIDs"] if i not in gone_fail],
        }
        if kept["passingIDs"] or kept["failingIDs"]:
            remaining.append(kept)
    out["environmentOverrides"] = remaining
    return out


def renamed_rule_errors(exc: ValidationError, rename: RenamePath) -> ValidationError:
    """Errors about ``rules[i]`` of a computed rule list, named as the caller's input named them
    (``rename(i)`` gives the new prefix, e.g. ``rule``; None keeps the path)."""
    errors: list[FieldError] = []
    for error in exc.errors:
        prop = error.property
        if prop.startswith("rules["):
            index_text, _, rest = prop[len("rules[") :].partition("]")
            if index_text.isdigit():
                prefix = rename(int(index_text))
                if prefix is not None:
                    prop = prefix + rest
        errors.append(FieldError(prop, error.message))
    if not errors:
        return exc
    return ValidationError(f"{errors[0].property}: {errors[0].message}", errors=errors)
