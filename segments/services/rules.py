"""The rules of rule-based segments: validation with the segment condition vocabulary, the
references between segments (existing, targetable, no cycle), stable rule ids and salts, and
the change that replaces a segment's rules (``POST /segments/{id}/conditional``)."""

from __future__ import annotations

import secrets
import string
import uuid
from collections.abc import Iterable
from typing import Any

from django.db import transaction

from console.actors import Actor
from console.errors import ValidationError
from console.models import Project, Review
from console.selectors import environment_names
from console.services.audit import field_changes
from console.services.reviews import ChangeOutcome, register_change
from console.validation import FieldErrors
from flags.services import as_sent
from ruleset.conditions import SEGMENT_VOCABULARY, referenced_ids, validate_rules
from segments import selectors
from segments.models import Segment, SegmentType
from segments.services.common import (
    ENTITY_TYPE,
    ChangeType,
    after_change,
    audit,
    definition_version,
    locked,
    require_editor,
    require_type,
    submit,
    touch,
)

_RULE_ID_ALPHABET = string.ascii_letters + string.digits


def _new_rule_id() -> str:
    return "".join(secrets.choice(_RULE_ID_ALPHABET) for _ in range(22))


def _find_cycle(graph: dict[str, set[str]], start: str) -> list[str] | None:
    """A path ``start → … → start`` through segment references, if any."""
    stack: list[tuple[str, list[str]]] = [(target, [start, target]) for target in graph[start]]
    seen: set[str] = set()
    while stack:
        node, path = stack.pop()
        if node == start:
            return path
        if node in seen:
            continue
        seen.add(node)
        stack.extend((target, [*path, target]) for target in graph.get(node, ()))
    return None


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

    raw_rules, sent_forms = as_sent.canonical_rules(raw_rules)
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
        as_sent.with_sent_forms(rule, rule, sent_forms[index] if sent_forms else {})
    errors.raise_if_any()
    graph = selectors.segment_graph(project=project)
    graph[segment_key] = referenced_ids(rules, "segment")
    cycle = _find_cycle(graph, segment_key)
    if cycle:
        raise ValidationError.for_field(
            path, "Segment references would form a cycle: " + " → ".join(cycle) + "."
        )
    return rules


def segment_update_rules(
    *, project: Project, actor: Actor, segment_id: str, rules: Any
) -> ChangeOutcome:
    """Replaces the rules of a rule-based segment (``POST /segments/{id}/conditional``)."""
    require_editor(actor)
    segment = selectors.segment_get(project=project, segment_id=segment_id)
    require_type(segment, SegmentType.RULE_BASED)
    clean = normalise_rules(
        project=project, segment_key=segment.key, raw_rules=rules, existing=segment.rules
    )
    return submit(
        project=project,
        actor=actor,
        segment=segment,
        change_type=ChangeType.CONDITIONAL,
        change={"rules": clean},
    )


@register_change(
    ChangeType.CONDITIONAL, entity_type=ENTITY_TYPE, current_version=definition_version
)
def _apply_conditional(
    *, project: Project, actor: Actor, entity_id: str, change: dict, review: Review | None = None
) -> Segment:
    with transaction.atomic():
        segment = locked(project, entity_id)
        require_type(segment, SegmentType.RULE_BASED)
        rules = normalise_rules(
            project=project,
            segment_key=segment.key,
            raw_rules=change.get("rules"),
            existing=segment.rules,
        )
        changes = field_changes({"rules": segment.rules}, {"rules": rules})
        segment.rules = rules
        segment.version += 1
        touch(segment, actor)
        segment.save()
        audit(segment, actor, "segment_conditional_update", changes, review)
        after_change(project.pk, ruleset=True)
    return segment
