"""Audit entries: written by every service inside the transaction of the change it records."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q

from console.actors import Actor
from console.models import AuditLog, Project, Review


def field_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``{field: {"old": ..., "new": ...}}`` for every field whose value differs."""
    return {
        field: {"old": old.get(field), "new": new.get(field)}
        for field in sorted(set(old) | set(new))
        if old.get(field) != new.get(field)
    }


def audit_record(
    *,
    project: Project,
    actor: Actor,
    action_type: str,
    entity_type: str,
    entity_id: str,
    entity_name: str = "",
    changes: Mapping[str, Any] | None = None,
    review: Review | None = None,
) -> AuditLog:
    if not transaction.get_connection().in_atomic_block:
        # An entry outside the change's transaction could outlive a rolled-back change.
        raise RuntimeError("audit_record must run inside the transaction of the change")
    return AuditLog.objects.create(
        project=project,
        actor_type=actor.type,
        actor_user=actor.user,
        actor_key=actor.api_key,
        actor_name=actor.name,
        actor_email=actor.email,
        action_type=action_type,
        entity_type=entity_type,
        entity_id=entity_id,
        entity_name=entity_name or entity_id,
        changes=dict(changes or {}),
        review=review,
    )


# -- Statsig's names for the entries ------------------------------------------------------------
# Entries keep the action type they were written with (the browser's audit screen and the
# segment upload job read those); the console API shows and filters them by Statsig's
# ``actionType`` names (its ``audit_logs`` enum). A change Statsig has no name for keeps ours.


@dataclass(frozen=True, slots=True)
class StatsigAction:
    """Statsig's ``name`` for entries written as any of ``stored``; with ``field``, only when the
    change touched that field. A stored type's rules are tried in order, the first match wins."""

    name: str
    stored: tuple[str, ...]
    field: str | None = None


REVIEW_VERBS = {
    "create": "create",
    "approve": "accept",
    "reject": "reject",
    "commit": "commit",
    "cancel": "delete",
}
# Field edits of gates, dynamic configs and segments, as Statsig names them for any "config".
CONFIG_FIELD_EDITS = (
    ("is_enabled", "config_state_toggle"),
    ("rules", "config_conditions_update"),
    ("default_value", "config_default_value_update"),
    ("description", "config_description_update"),
    ("tags", "config_edit_tags"),
    ("id_type", "config_id_type_update"),
    ("target_apps", "config_edit_target_apps"),
    ("review_required", "config_review_required_update"),
)
STATSIG_ACTIONS: tuple[StatsigAction, ...] = (
    StatsigAction("update_gate_display_name", ("gate_update",), "name"),
    StatsigAction("config_display_name_update", ("config_update",), "name"),
    *(
        StatsigAction(name, ("gate_update", "config_update", "segment_update"), field)
        for field, name in CONFIG_FIELD_EDITS
    ),
    StatsigAction("gate_update", ("gate_update", "gate_launch")),
    StatsigAction(
        "config_conditions_update",
        (
            "gate_conditions_update",
            "config_conditions_update",
            "segment_conditional_update",
        ),
    ),
    StatsigAction(
        "config_state_toggle",
        (
            "gate_enable",
            "gate_disable",
            "config_enable",
            "config_disable",
        ),
    ),
    StatsigAction("config_resalt", ("gate_resalt",)),
    StatsigAction("dynamic_config_create", ("config_create",)),
    StatsigAction("config_delete", ("gate_delete", "config_delete", "segment_delete")),
    *(
        StatsigAction(
            f"config_review_{statsig}",
            tuple(f"{entity}_review_{ours}" for entity in ("gate", "dynamic_config", "segment")),
        )
        for ours, statsig in REVIEW_VERBS.items()
    ),
    StatsigAction(
        "config_review_info_update",
        (
            "gate_review_update",
            "dynamic_config_review_update",
            "segment_review_update",
        ),
    ),
    StatsigAction("experiment_review_info_update", ("experiment_review_update",)),
    StatsigAction("layer_review_info_update", ("layer_review_update",)),
    StatsigAction("experiment_description_edit", ("experiment_update",), "description"),
    StatsigAction("experiment_display_name_edit", ("experiment_update",), "name"),
    StatsigAction("hypothesis_edit", ("experiment_update",), "hypothesis"),
    StatsigAction("experiment_edit", ("experiment_update",)),
    StatsigAction("experiment_overrides_edit", ("experiment_overrides_update",)),
    StatsigAction("experiment_restart", ("experiment_reset",)),
    StatsigAction("schedule_experiment_start", ("experiment_schedule_start",)),
    StatsigAction("archive_experiment", ("experiment_archive",)),
    StatsigAction("unarchive_experiment", ("experiment_unarchive",)),
    StatsigAction("experiment_group_disable", ("experiment_groups_disable",)),
    StatsigAction("experiment_review_accept", ("experiment_review_approve",)),
    StatsigAction("apply_experiment_review", ("experiment_review_commit",)),
    StatsigAction("experiment_review_delete", ("experiment_review_cancel",)),
    StatsigAction("layer_description_edit", ("layer_update",), "description"),
    StatsigAction("layer_parameters_edit", ("layer_update",), "parameters"),
    StatsigAction("layer_edit", ("layer_update",)),
    StatsigAction("layer_overrides_edit", ("layer_overrides_update",)),
    StatsigAction("layer_review_accept", ("layer_review_approve",)),
    StatsigAction("layer_review_delete", ("layer_review_cancel",)),
    StatsigAction(
        "ID_list_update",
        (
            "segment_id_list_add",
            "segment_id_list_remove",
            "segment_id_list_reset",
        ),
    ),
    StatsigAction("sdk_key_create", ("key_create",)),
    StatsigAction("sdk_key_rotate", ("key_rotate",)),
    StatsigAction("sdk_key_deactivate", ("key_deactivate",)),
    StatsigAction("company_environments_edit", ("environment_create",)),
    StatsigAction("user_role_update", ("member_role_update",)),
    StatsigAction("company_member_remove", ("member_remove",)),
)


def _rules_of(stored: str) -> list[StatsigAction]:
    return [rule for rule in STATSIG_ACTIONS if stored in rule.stored]


def statsig_action_type(action_type: str, changes: Mapping[str, Any]) -> str:
    """Statsig's ``actionType`` for an entry written as ``action_type`` with ``changes``."""
    for rule in _rules_of(action_type):
        if rule.field is None or rule.field in changes:
            return rule.name
    return action_type


def statsig_action_filter(names: Iterable[str]) -> Q:
    """The entries ``statsig_action_type`` names as any of ``names``, as one query condition."""
    wanted = set(names)
    condition = Q(pk__in=[])
    for stored in {s for rule in STATSIG_ACTIONS for s in rule.stored} | wanted:
        earlier: list[str] = []  # fields of the rules tried before (their entries are theirs)
        for rule in [*_rules_of(stored), None]:
            if rule is not None and rule.name not in wanted and rule.field is None:
                break
            match = Q(action_type=stored)
            if rule is not None and rule.field is not None:
                match &= Q(changes__has_key=rule.field)
            if earlier:
                match &= ~Q(changes__has_any_keys=list(earlier))
            if (rule.name if rule is not None else stored) in wanted:
                condition |= match
            if rule is None or rule.field is None:
                break
            earlier.append(rule.field)
    return condition


# -- the tags of audited entities ---------------------------------------------------------------
# Statsig's audit entries carry, and filter by, the tags of their entity. The apps whose entities
# have tags register where to read them (``FlagsConfig.ready()``), so this module imports none.

TagSource = Callable[[Project], Mapping[tuple[str, str], list[str]]]
_TAG_SOURCES: list[TagSource] = []


def register_tag_source(source: TagSource) -> TagSource:
    """``source(project)`` → ``{(entity_type, entity_id): [tag, ...]}`` of its tagged entities."""
    if source not in _TAG_SOURCES:
        _TAG_SOURCES.append(source)
    return source


def entity_tags(project: Project) -> dict[tuple[str, str], list[str]]:
    tags: dict[tuple[str, str], list[str]] = {}
    for source in _TAG_SOURCES:
        tags.update(source(project))
    return tags
