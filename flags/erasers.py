"""The flags app's eraser: user ids named in overrides and in ID conditions of rules, in the
entities, in their stored versions and in the compiled rulesets built from them.

Entities are few per project (thousands at most) while ids may be many, so the eraser reads each
entity once, drops every erased id from it in Python, and writes back only the rows that changed,
each as a new version with its snapshot (as every change is: an open review of the old version is
then stale, so it cannot bring the ids back); then it scrubs the older snapshots, compiles a fresh
ruleset and deletes the older ones, which still name the ids.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from flags.models import EntityVersion
from flags.services import versions
from flags.services.kinds import FLAG_KINDS
from privacy.erasers import is_user_id_type, register_eraser
from ruleset import store as ruleset_store

ERASER_NAME = "flags.entities"
# Console condition types whose targetValue lists unit ids.
ID_CONDITION_TYPES = frozenset({"user_id", "unit_id"})


def _without_ids(value: Any, erased: set[str]) -> tuple[Any, bool]:
    """``value`` with every string equal to an erased id removed from the lists it appears in."""
    if isinstance(value, list):
        changed = False
        kept = []
        for item in value:
            if isinstance(item, str) and item in erased:
                changed = True
                continue
            new_item, item_changed = _without_ids(item, erased)
            changed |= item_changed
            kept.append(new_item)
        return kept, changed
    if isinstance(value, dict):
        changed = False
        out = {}
        for key, item in value.items():
            out[key], item_changed = _without_ids(item, erased)
            changed |= item_changed
        return out, changed
    return value, False


def _condition_names_unit(condition: dict, unit_type: str) -> bool:
    if condition.get("type") == "user_id":
        return is_user_id_type(unit_type)
    if condition.get("type") == "unit_id":
        return str(condition.get("customID", "")).lower() == unit_type.lower()
    return False


def _rules_without_ids(rules: Any, unit_type: str, erased: set[str]) -> tuple[Any, bool]:
    if not isinstance(rules, list):
        return rules, False
    changed = False
    for rule in rules:
        for condition in rule.get("conditions", []) if isinstance(rule, dict) else []:
            if isinstance(condition, dict) and _condition_names_unit(condition, unit_type):
                condition["targetValue"], condition_changed = _without_ids(
                    condition.get("targetValue"), erased
                )
                changed |= condition_changed
    return rules, changed


def _scrub(fields: dict[str, Any], unit_type: str, erased: set[str]) -> bool:
    """Drops the ids from the ``overrides`` and ``rules`` of an entity's field dict, in place."""
    changed = False
    if "overrides" in fields:
        fields["overrides"], overrides_changed = _without_ids(fields["overrides"], erased)
        changed |= overrides_changed
    if "rules" in fields:
        fields["rules"], rules_changed = _rules_without_ids(fields["rules"], unit_type, erased)
        changed |= rules_changed
    return changed


@register_eraser(
    ERASER_NAME,
    covers=[
        "flags.Gate",
        "flags.DynamicConfig",
        "flags.Experiment",
        "flags.Layer",
        "flags.Holdout",
        "flags.EntityVersion",
        "flags.CompiledRuleset",
    ],
)
def erase_entity_ids(*, project_id: int, unit_type: str, ids: list[str]) -> int:
    erased = set(ids)
    touched = 0
    with transaction.atomic():
        for kind in FLAG_KINDS:
            for entity in kind.model.objects.select_for_update().filter(project_id=project_id):
                fields = {
                    name: getattr(entity, name)
                    for name in ("overrides", "rules")
                    if hasattr(entity, name)
                }
                if _scrub(fields, unit_type, erased):
                    for name, value in fields.items():
                        setattr(entity, name, value)
                    versions.save_erased(kind, entity, list(fields))
                    touched += 1
        for version in EntityVersion.objects.select_for_update().filter(project_id=project_id):
            if isinstance(version.snapshot, dict) and _scrub(version.snapshot, unit_type, erased):
                version.save(update_fields=["snapshot"])
                touched += 1
        if touched:
            ruleset_store.rebuild_forgetting_history(project_id)
    return touched
