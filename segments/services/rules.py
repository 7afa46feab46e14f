"""The rules of rule-based segments: validation with the segment condition vocabulary, the
references between segments (existing, targetable, no cycle), stable rule ids and salts. The
change that replaces a segment's rules is ``definitions.segment_update_rules``."""

from __future__ import annotations

import secrets
import string
import uuid
from collections.abc import Iterable
from typing import Any

from console.errors import ValidationError
from console.models import Project
from console.selectors import environment_names
from console.validation import FieldErrors
from flags.services.rules import reference_path
from ruleset.conditions import SEGMENT_VOCABULARY, referenced_ids, validate_rules
from segments import selectors

_RULE_ID_ALPHABET = string.ascii_letters + string.digits


def _new_rule_id() -> str:
    return "".join(secrets.choice(_RULE_ID_ALPHABET) for _ in range(22))


def normalise_rules(
    *,
    project: Project,
    segment_key: str,
    raw_rules: Any,
    existing: Iterable[dict[str, Any]] = (),
    path: str = "rules",
) -> list[dict[str, Any]]:
    """Segment rules validated with the segment vocabulary (reference §1.6), references checked
    (existing, targetable, no cycle), and each rule with a stable ``id`` and ``salt``: a rule
    keeps the id and salt of the existing rule with the same id, else with the same name."""

    def check_reference(kind: str, reference: str) -> str | None:
        if kind != "segment":
            return f"Segments cannot reference a {kind}."
        if reference == segment_key:
            return "A segment cannot target itself."
        return selectors.segment_reference_problem(project=project, segment_id=reference)

    rules = validate_rules(
        raw_rules,
        path=path,
        vocabulary=SEGMENT_VOCABULARY,
        environments=environment_names(project=project),
        check_reference=check_reference,
    )
    errors = FieldErrors()
    previous = list(existing)
    by_id = {rule.get("id"): rule for rule in previous if rule.get("id")}
    by_name = {rule.get("name"): rule for rule in previous if rule.get("name")}
    seen: set[str] = set()
    for index, rule in enumerate(rules):
        match = by_id.get(rule.get("id")) or (None if rule.get("id") else by_name.get(rule["name"]))
        rule_id = rule.get("id") or (match or {}).get("id") or _new_rule_id()
        if rule_id in seen:
            errors.add(f"{path}[{index}].id", f"Rule id '{rule_id}' appears twice.")
        seen.add(rule_id)
        rule["id"] = rule_id
        rule["baseID"] = rule.get("baseID") or (match or {}).get("baseID") or rule_id
        rule["salt"] = rule.get("salt") or (match or {}).get("salt") or str(uuid.uuid4())
    errors.raise_if_any()
    graph = selectors.segment_graph(project=project)
    graph[segment_key] = referenced_ids(rules, "segment")
    cycle = next(
        (
            [segment_key, *trail]
            for target in sorted(graph[segment_key])
            if (trail := reference_path(graph, target, segment_key))
        ),
        None,
    )
    if cycle:
        raise ValidationError.for_field(
            path, "Segment references would form a cycle: " + " → ".join(cycle) + "."
        )
    return rules
