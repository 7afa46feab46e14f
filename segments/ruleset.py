"""Segments as specs of the SDK ruleset (reference §2.3, §3.8): each targetable segment is a
gate named ``segment:<id>`` with ``entity: "segment"``.

- Rule-based: the segment's rules, compiled with ``ruleset.conditions``; a matching rule passes
  its pass percentage (salted by the segment and rule salts, as every gate rule).
- ID list with at most ``INLINE_ID_LIMIT`` ids: one rule ``unit_id any_case_sensitive [ids]``
  (exact match, the same as the list check, which compares hashes of exact ids).
- Larger ID list: one rule ``unit_id in_segment_list <segment id>``; SDKs check it against the
  list they download from ``/v1/get_id_lists``, our evaluator against
  ``segments.idlists.id_lists_for_project``.

``analysis_list`` segments are never compiled: they cannot be targeted.
"""

from __future__ import annotations

from typing import Any

from console.models import Project
from ruleset.conditions import compile_rule_conditions
from segments.models import Segment, SegmentMember, SegmentType

SEGMENT_GATE_PREFIX = "segment:"
# ID lists with at most this many ids compile inline into the ruleset; larger ones become
# ``in_segment_list`` conditions served from the id-list files and the in-memory membership.
INLINE_ID_LIMIT = 1000


def segment_gate_name(segment_id: str) -> str:
    return f"{SEGMENT_GATE_PREFIX}{segment_id}"


def _unit_condition(operator: str, target: Any, id_type: str) -> dict[str, Any]:
    return {
        "type": "unit_id",
        "targetValue": target,
        "operator": operator,
        "field": None,
        "additionalValues": {},
        "isDeviceBased": False,
        "idType": id_type,
    }


def _rule(
    *,
    rule_id: str,
    name: str,
    salt: str,
    pass_percentage: float | int,
    conditions: list[dict[str, Any]],
    id_type: str,
) -> dict[str, Any]:
    return {
        "name": name,
        "id": rule_id,
        "salt": salt,
        "passPercentage": pass_percentage,
        "conditions": conditions,
        "returnValue": True,
        "idType": id_type,
        "isDeviceBased": False,
    }


def _spec(segment: Segment, rules: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "name": segment_gate_name(segment.key),
        "type": "feature_gate",
        "entity": "segment",
        "salt": segment.salt,
        "enabled": segment.is_enabled,
        "defaultValue": False,
        "rules": rules,
        "idType": segment.id_type,
        "isDeviceBased": False,
        "version": segment.version,
    }


def compiles_inline(id_count: int) -> bool:
    """Whether an ID list of ``id_count`` ids compiles with its ids inline."""
    return id_count <= INLINE_ID_LIMIT


def uses_id_list_file(segment: Segment) -> bool:
    """Whether the compiled segment refers to its SDK id list instead of inlining the ids."""
    return segment.type == SegmentType.ID_LIST and not compiles_inline(segment.id_count)


def segment_specs(*, project: Project | int) -> list[dict[str, Any]]:
    """Every targetable segment of the project as an SDK spec dict (two queries)."""
    segments = list(
        Segment.objects.filter(project=project)
        .exclude(type=SegmentType.ANALYSIS_LIST)
        .order_by("key")
    )
    inline = [s.pk for s in segments if s.type == SegmentType.ID_LIST and not uses_id_list_file(s)]
    inline_ids: dict[int, list[str]] = {pk: [] for pk in inline}
    if inline:
        for segment_pk, unit_id in (
            SegmentMember.objects.filter(segment_id__in=inline)
            .order_by("segment_id", "unit_id")
            .values_list("segment_id", "unit_id")
        ):
            inline_ids[segment_pk].append(unit_id)

    specs: list[dict[str, Any]] = []
    for segment in segments:
        if segment.type == SegmentType.RULE_BASED:
            rules = [
                _rule(
                    rule_id=rule["id"],
                    name=rule.get("name") or rule["id"],
                    salt=rule.get("salt") or rule["id"],
                    pass_percentage=rule.get("passPercentage", 100),
                    conditions=compile_rule_conditions(rule, id_type=segment.id_type),
                    id_type=segment.id_type,
                )
                for rule in segment.rules
            ]
        else:
            # An ID list: one rule, naming the SDK file, or the members inline when few.
            membership = (
                _unit_condition("in_segment_list", segment.key, segment.id_type)
                if uses_id_list_file(segment)
                else _unit_condition("any_case_sensitive", inline_ids[segment.pk], segment.id_type)
            )
            rules = [
                _rule(
                    rule_id=f"{segment.key}:id_list",
                    name="id_list",
                    salt="",
                    pass_percentage=100,
                    conditions=[membership],
                    id_type=segment.id_type,
                )
            ]
        specs.append(_spec(segment, rules))
    return specs
