"""The privacy eraser for segments (see ``privacy.erasers``): erased ids leave every ID list of
the unit type (members, counts) and every id-list file, and rule-based segments' id conditions
(a scrubbed segment gets a new version, as every change does; its stored versions are scrubbed).

A file is an append-only log, so an appended ``-hash`` would leave the ``+hash`` line in it:
each affected list instead gets a new file with only its remaining members (SDKs reload it,
as after a reset). Set-based deletes in chunks; idempotent; ids never logged.
"""

from __future__ import annotations

import logging

from django.db import transaction

from flags.models import EntityVersion
from flags.services import versions
from privacy.erasers import chunked, is_user_id_type, register_eraser
from ruleset.store import rebuild_forgetting_history
from segments import members
from segments.models import Segment, SegmentType
from segments.services.common import after_change
from segments.services.id_lists import segment_list_file_rewrite
from segments.services.kind import SEGMENTS

logger = logging.getLogger(__name__)

ERASER_NAME = "segments.id_lists"
ID_CONDITION_TYPES = frozenset({"user_id", "unit_id"})


def _matches_unit_type(segment_id_type: str, unit_type: str) -> bool:
    if is_user_id_type(unit_type):
        return is_user_id_type(segment_id_type)
    return segment_id_type.lower() == unit_type.lower()


def _condition_unit_type(condition: dict, segment_id_type: str) -> str:
    if condition.get("type") == "user_id":
        return "userID"
    return condition.get("customID") or segment_id_type


def _scrub_rules(rules: list[dict], unit_type: str, erased: set[str], id_type: str) -> int:
    removed = 0
    for rule in rules:
        for condition in rule.get("conditions", []):
            if condition.get("type") not in ID_CONDITION_TYPES:
                continue
            if not _matches_unit_type(_condition_unit_type(condition, id_type), unit_type):
                continue
            target = condition.get("targetValue")
            if isinstance(target, list):
                kept = [value for value in target if str(value) not in erased]
                removed += len(target) - len(kept)
                condition["targetValue"] = kept
            elif target is not None and str(target) in erased:
                condition["targetValue"] = []
                removed += 1
    return removed


def _scrub_stored_versions(segment: Segment, unit_type: str, erased: set[str]) -> int:
    """Drops the ids from the rules of the segment's stored versions (its history)."""
    removed = 0
    stored = EntityVersion.objects.select_for_update().filter(
        project_id=segment.project_id, entity_type=SEGMENTS.entity_type, entity_id=segment.key
    )
    for version in stored:
        rules = version.snapshot.get("rules") if isinstance(version.snapshot, dict) else None
        if not isinstance(rules, list):
            continue
        scrubbed = _scrub_rules(rules, unit_type, erased, segment.id_type)
        if scrubbed:
            version.save(update_fields=["snapshot"])
            removed += scrubbed
    return removed


def erase_segment_ids(*, project_id: int, unit_type: str, ids: list[str]) -> int:
    erased_rows = 0
    ruleset_changed = False
    segments = Segment.objects.filter(project_id=project_id).exclude(type=SegmentType.ANALYSIS_LIST)
    for segment_pk, kind, id_type in segments.values_list("pk", "type", "id_type"):
        if kind == SegmentType.ID_LIST and not _matches_unit_type(id_type, unit_type):
            continue
        with transaction.atomic():
            segment = Segment.objects.select_for_update().get(pk=segment_pk)
            if kind == SegmentType.ID_LIST:
                removed = 0
                for chunk in chunked(ids):
                    removed += len(members.delete_members(segment.pk, chunk))
                if removed:
                    # Rewrites the file and recounts the members.
                    segment_list_file_rewrite(segment=segment)
                    erased_rows += removed
                    ruleset_changed = True
            else:
                rules = segment.rules
                removed = _scrub_rules(rules, unit_type, set(ids), segment.id_type)
                if removed:
                    segment.rules = rules
                    versions.save_erased(SEGMENTS, segment, ["rules"])
                    after_change(project_id, ruleset=True)
                    erased_rows += removed
                    ruleset_changed = True
                erased_rows += _scrub_stored_versions(segment, unit_type, set(ids))
    if ruleset_changed:
        # Compiled rulesets hold rules and inline small id lists: every older version still
        # names the erased ids.
        rebuild_forgetting_history(project_id)
    return erased_rows


def register() -> None:
    register_eraser(
        ERASER_NAME,
        covers=[
            "segments.Segment",
            "segments.SegmentMember",
            "segments.IdListFileChunk",
            "flags.EntityVersion",
        ],
    )(erase_segment_ids)
