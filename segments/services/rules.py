"""The rules of rule-based segments: validated and given stable ids and salts as every entity's
rules are (``flags.services.rules.prepare_rules``) with the segment condition vocabulary, and
the references between segments checked (existing, targetable, no cycle). The change that
replaces a segment's rules is ``definitions.segment_update_rules``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from console.errors import ValidationError
from console.models import Project
from console.selectors import environment_names
from flags.services.rules import prepare_rules, reference_path
from ruleset.conditions import SEGMENT_VOCABULARY, referenced_ids
from segments import selectors


def normalise_rules(
    *,
    project: Project,
    segment_key: str,
    raw_rules: Any,
    existing: Iterable[dict[str, Any]] = (),
    path: str = "rules",
) -> list[dict[str, Any]]:
    """Segment rules validated with the segment vocabulary (reference §1.6), references checked
    (existing, targetable, no cycle), each rule with a stable ``id`` and ``salt`` as every
    entity's rules have them (``flags.services.rules.prepare_rules``: kept from the existing
    rule with the same id, else with the same name) and a ``baseID``."""

    def check_reference(kind: str, reference: str) -> str | None:
        if kind != "segment":
            return f"Segments cannot reference a {kind}."
        if reference == segment_key:
            return "A segment cannot target itself."
        return selectors.segment_reference_problem(project=project, segment_id=reference)

    previous = list(existing)
    rules = prepare_rules(
        raw_rules,
        old_rules=previous,
        environments=environment_names(project=project),
        check_reference=check_reference,
        path=path,
        vocabulary=SEGMENT_VOCABULARY,
    )
    # A segment's rule always names its base rule: itself unless given or kept.
    old_base_ids = {rule["id"]: rule.get("baseID") for rule in previous}
    for rule in rules:
        rule["baseID"] = rule.get("baseID") or old_base_ids.get(rule["id"]) or rule["id"]
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
