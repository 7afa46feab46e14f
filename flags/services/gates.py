"""Feature gates: create, update, rules, overrides, enable/disable/launch, archive, delete.

Every change other than create goes through one registered change kind per action (so a review
stores its intent and committing it re-runs the same function). The change payload is
``{"action": <audit action type>, "fields": {<model field>: <value>}, "expected_version": n}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction

from console.actors import Actor
from console.errors import ValidationError
from console.models import Project
from console.selectors import environment_names
from console.services.reviews import ChangeOutcome
from console.validation import validate_bool, validate_text
from flags.models import (
    DynamicConfig,
    Experiment,
    Gate,
    GateStatus,
    GateType,
    Holdout,
    Layer,
    new_salt,
)
from flags.services import kernel, rule_changes
from flags.services import rules as rule_lists
from flags.services.descriptor import (
    COMMON_VALIDATORS,
    OWNER_VALIDATORS,
    UNSET,
    EntityKind,
    Lifecycle,
    OverridesRule,
    RuleList,
    Transition,
    accepted_as_is,
    owner_named,
)
from flags.services.settings import Setting, settings_restorer, validate_settings

ARCHIVED = "Gate is archived: unarchive it first."
NOT_ARCHIVED_STATES = (GateStatus.IN_PROGRESS, GateStatus.LAUNCHED, GateStatus.DISABLED)


def gate_rules_for_validation(project: Project, gate: Gate, raw_rules: Any, path: str):
    """Validated rules for ``gate``, with references and cycles checked (a new gate's rules may
    reference other gates, never the new gate itself)."""
    graph = {
        slug: rule_lists.gate_dependencies(rules)
        for slug, rules in Gate.objects.filter(project=project).values_list("slug", "rules")
    }
    normalised = rule_lists.prepare_rules(
        raw_rules,
        old_rules=gate.rules,
        environments=environment_names(project=project),
        check_reference=rule_lists.reference_checker(project, gate_ids=graph.keys()),
        path=path,
    )
    rule_lists.refuse_gate_cycle(
        project=project, gate_id=gate.slug, rules=normalised, path=path, graph=graph
    )
    return normalised


def _type(project: Project, gate: Gate, value: Any) -> str:
    if value not in GateType.values:
        raise ValidationError.for_field("type", "type is PERMANENT or TEMPORARY.")
    return value


def _unarchived_status(gate: Gate) -> dict[str, Any]:
    return {
        "status": GateStatus.IN_PROGRESS if gate.is_enabled else GateStatus.DISABLED,
        "archive_reason": "",
    }


LIFECYCLE = Lifecycle(
    label="Gate",
    transitions=(
        Transition(
            action="gate_enable",
            verb="enable",
            from_states=NOT_ARCHIVED_STATES,
            refusal=ARCHIVED,
            fields=lambda gate: {
                "is_enabled": True,
                "status": GateStatus.LAUNCHED
                if gate.status == GateStatus.LAUNCHED
                else GateStatus.IN_PROGRESS,
            },
            label="Enable",
            done="Gate enabled: its rules apply again.",
        ),
        Transition(
            action="gate_disable",
            verb="disable",
            from_states=NOT_ARCHIVED_STATES,
            to_state=GateStatus.DISABLED,
            refusal=ARCHIVED,
            fields=lambda gate: {"is_enabled": False},
            label="Disable",
            confirm="Disable {name}? It fails for everyone until enabled again.",
            done="Gate disabled: it now fails for everyone.",
        ),
        Transition(
            action="gate_launch",
            verb="launch",
            from_states=NOT_ARCHIVED_STATES,
            to_state=GateStatus.LAUNCHED,
            refusal=ARCHIVED,
            fields=lambda gate: {"is_enabled": True},
            label="Launch to everyone",
            confirm="Launch {name}? It passes for everyone (rules are kept).",
            done="Gate launched: it passes for everyone.",
        ),
        Transition(
            action="gate_archive",
            verb="archive",
            from_states=(*NOT_ARCHIVED_STATES, GateStatus.ARCHIVED),
            to_state=GateStatus.ARCHIVED,
            label="Archive",
            confirm="Archive {name}? It fails for everyone.",
            done="Gate archived: it fails for everyone until unarchived.",
        ),
        Transition(
            action="gate_unarchive",
            verb="unarchive",
            from_states=(GateStatus.ARCHIVED,),
            refusal="Gate is not archived.",
            fields=_unarchived_status,
            label="Unarchive",
            done="Gate unarchived.",
        ),
    ),
)


# Statsig's gate fields nothing here evaluates, kept as sent (``flags.services.settings``).
GATE_SETTINGS: dict[str, Setting] = {
    "isTemplate": Setting("flag", "The gate is a template for new gates."),
    "measureMetricLifts": Setting("flag", "Measure metric lifts of the gate.", default=True),
    "monitoringMetrics": Setting("metrics", "Metrics watched for the gate: {name, type}."),
    "targetApps": Setting("texts", "Target apps of the gate."),
    "team": Setting("text", "The owning team.", True),
}


def gate_referrers(*, project: Project, gate: Gate) -> list[str]:
    """What uses the gate, as "gate 'x'", "dynamic config 'y'", "experiment 'z'" (targeting),
    "holdout 'h'". A global holdout holds every new gate of its id type on its own, so it never
    blocks a delete: the gate simply leaves it."""
    found: list[str] = []
    for slug, gate_rules in (
        Gate.objects.filter(project=project).exclude(pk=gate.pk).values_list("slug", "rules")
    ):
        if gate.slug in rule_lists.gate_dependencies(gate_rules):
            found.append(f"gate '{slug}'")
    for slug, config_rules in DynamicConfig.objects.filter(project=project).values_list(
        "slug", "rules"
    ):
        if gate.slug in rule_lists.gate_dependencies(config_rules):
            found.append(f"dynamic config '{slug}'")
    found.extend(
        f"experiment '{slug}'"
        for slug in Experiment.objects.filter(project=project, targeting_gate=gate).values_list(
            "slug", flat=True
        )
    )
    found.extend(
        f"experiment '{slug}' (overrides)"
        for slug, overrides in Experiment.objects.filter(project=project).values_list(
            "slug", "overrides"
        )
        if any(
            o.get("type") == "gate" and o.get("id") == gate.slug
            for o in (overrides or {}).get("overrides", [])
        )
    )
    found.extend(
        f"layer '{slug}' (overrides)"
        for slug, overrides in Layer.objects.filter(project=project).values_list(
            "slug", "overrides"
        )
        if any(
            o.get("type") == "gate" and o.get("name") == gate.slug
            for o in (overrides or {}).get("conditionalOverrides", [])
        )
    )
    found.extend(
        f"holdout '{slug}'"
        for slug in gate.holdouts.filter(is_global=False).values_list("slug", flat=True)
    )
    return found


GATES = EntityKind(
    model=Gate,
    entity_type="gate",
    label="Gate",
    plural="gates",
    action_prefix="gate",
    # What "Restore this version" brings back: what a person edits, not the lifecycle state.
    restorable_fields=(
        "name",
        "description",
        "tags",
        "type",
        "id_type",
        "rules",
        "overrides",
        "settings",
    ),
    restored_values={"settings": settings_restorer(GATE_SETTINGS)},
    validators={
        **COMMON_VALIDATORS,
        **OWNER_VALIDATORS,
        "is_enabled": lambda project, gate, value: validate_bool(value, "isEnabled"),
        "settings": lambda project, gate, value: validate_settings(
            GATE_SETTINGS, gate.settings, value
        ),
        "rules": lambda project, gate, value: gate_rules_for_validation(
            project, gate, value, "rules"
        ),
        "type": _type,
        "overrides": rule_lists.validate_project_overrides,
        # Set by the lifecycle actions only.
        "status": accepted_as_is,
        "archive_reason": accepted_as_is,
    },
    update_actions=(
        "gate_update",
        "gate_conditions_update",
        "gate_overrides_update",
        "gate_resalt",
    ),
    complete_fields=lambda project, gate, fields: owner_named(fields),
    whole_entity_fields=frozenset({"is_enabled", "id_type", "status", "overrides"}),
    review_scopes={"rules": rule_lists.rules_review_scope},
    lifecycle=LIFECYCLE,
    rule_list=RuleList(
        action="gate_conditions_update",
        frozen_states=(GateStatus.ARCHIVED,),
        frozen_refusal=ARCHIVED,
        frozen_fields=frozenset({"rules", "is_enabled"}),
    ),
    overrides=OverridesRule(
        validate=rule_lists.validate_project_overrides,
        merged=rule_lists.overrides_merged,
        without=rule_lists.overrides_without,
        action="gate_overrides_update",
    ),
    referrers=lambda project, gate: gate_referrers(project=project, gate=gate),
    global_holdout_relation="gates",
    created_audit=lambda gate: {
        "name": gate.name,
        "isEnabled": gate.is_enabled,
        "rules": gate.rules,
    },
    id_namespace=(Gate, Holdout),
)


# -- create ---------------------------------------------------------------------------------------


@transaction.atomic
def gate_create(
    *,
    project: Project,
    actor: Actor,
    name: str,
    gate_id: str | None = None,
    description: str = "",
    is_enabled: bool = True,
    rules: list[dict[str, Any]] | None = None,
    tags: list[str] | None = None,
    type: str = GateType.PERMANENT,
    id_type: str = "userID",
    review_required: bool = False,
    allowed_reviewers: list[Any] | None = None,
    overrides: dict[str, Any] | None = None,
    settings: dict[str, Any] | None = None,
    creator_id: str | None = None,
    creator_email: str | None = None,
) -> Gate:
    """``settings``: Statsig's fields kept as sent (``GATE_SETTINGS``); ``creator_*``: an owner
    other than the actor."""
    fields = {
        "description": description,
        "is_enabled": is_enabled,
        "tags": tags,
        "type": type,
        "id_type": id_type,
        "review_required": review_required,
        "allowed_reviewers": allowed_reviewers or [],
        "overrides": overrides or {},
        "status": GateStatus.IN_PROGRESS if is_enabled else GateStatus.DISABLED,
        "settings": settings or {},
    }
    owner = {"creator_id": creator_id, "creator_email": creator_email}
    fields.update({key: value for key, value in owner.items() if value})
    if rules:
        # Checking references reads every gate of the project: only when there are rules.
        fields["rules"] = rules
    return kernel.create(
        GATES, project=project, actor=actor, name=name, entity_id=gate_id, fields=fields
    )


# -- updates --------------------------------------------------------------------------------------


@transaction.atomic
def gate_update(
    *,
    project: Project,
    actor: Actor,
    gate_id: str,
    name: Any = UNSET,
    description: Any = UNSET,
    is_enabled: Any = UNSET,
    rules: Any = UNSET,
    tags: Any = UNSET,
    type: Any = UNSET,
    id_type: Any = UNSET,
    review_required: Any = UNSET,
    allowed_reviewers: Any = UNSET,
    overrides: Any = UNSET,
    settings: Any = UNSET,
    creator_id: Any = UNSET,
    creator_email: Any = UNSET,
    expected_version: int | None = None,
) -> ChangeOutcome:
    """Partial update (PATCH): only the fields passed change (``settings``: those sent)."""
    gate = kernel.locked(GATES, project=project, actor=actor, entity_id=gate_id)
    given = {
        "name": name,
        "description": description,
        "is_enabled": is_enabled,
        "rules": rules,
        "tags": tags,
        "type": type,
        "id_type": id_type,
        "review_required": review_required,
        "allowed_reviewers": allowed_reviewers,
        "overrides": overrides,
        "settings": settings,
        "creator_id": creator_id,
        "creator_email": creator_email,
    }
    fields = {key: value for key, value in given.items() if value is not UNSET}
    rule_changes.refuse_while_frozen(GATES, gate, fields)
    if "is_enabled" in fields and gate.status != GateStatus.LAUNCHED:
        fields["status"] = GateStatus.IN_PROGRESS if fields["is_enabled"] else GateStatus.DISABLED
    return kernel.submit(
        GATES,
        project=project,
        actor=actor,
        entity=gate,
        fields=fields,
        action=rule_changes.update_action(GATES, fields),
        expected_version=expected_version,
    )


@transaction.atomic
def gate_full_update(
    *,
    project: Project,
    actor: Actor,
    gate_id: str,
    is_enabled: bool,
    description: str,
    rules: list[dict[str, Any]],
    expected_version: int | None = None,
    **optional: Any,
) -> ChangeOutcome:
    """Full update (POST ``/gates/{id}``): ``isEnabled``, ``description`` and ``rules`` are
    required; ``optional`` takes the other fields of ``gate_update``."""
    return gate_update(
        project=project,
        actor=actor,
        gate_id=gate_id,
        is_enabled=is_enabled,
        description=description,
        rules=rules,
        expected_version=expected_version,
        **optional,
    )


# -- lifecycle ------------------------------------------------------------------------------------


def _transition(*, project: Project, actor: Actor, gate_id: str, action: str) -> ChangeOutcome:
    return kernel.submit_transition(
        GATES, project=project, actor=actor, entity_id=gate_id, action=action
    )


@transaction.atomic
def gate_enable(*, project: Project, actor: Actor, gate_id: str) -> ChangeOutcome:
    return _transition(project=project, actor=actor, gate_id=gate_id, action="gate_enable")


@transaction.atomic
def gate_disable(*, project: Project, actor: Actor, gate_id: str) -> ChangeOutcome:
    return _transition(project=project, actor=actor, gate_id=gate_id, action="gate_disable")


@transaction.atomic
def gate_launch(*, project: Project, actor: Actor, gate_id: str) -> ChangeOutcome:
    """Launched: the gate passes for everyone (after overrides and holdouts); rules are kept."""
    return _transition(project=project, actor=actor, gate_id=gate_id, action="gate_launch")


@transaction.atomic
def gate_archive(
    *, project: Project, actor: Actor, gate_id: str, force: bool = False, reason: str = ""
) -> ChangeOutcome:
    """Archived gates evaluate to false. Refused while other entities use the gate, unless
    ``force`` (Statsig's ``forceArchive``)."""
    gate = kernel.locked(GATES, project=project, actor=actor, entity_id=gate_id)
    if not force:
        referrers = gate_referrers(project=project, gate=gate)
        if referrers:
            raise ValidationError.for_field(
                "id", f"Gate is used by {', '.join(referrers)}; pass forceArchive to archive it."
            )
    return kernel.submit_transition(
        GATES,
        project=project,
        actor=actor,
        entity_id=gate_id,
        action="gate_archive",
        fields={"archive_reason": validate_text(reason, "reason")},
    )


@transaction.atomic
def gate_unarchive(
    *, project: Project, actor: Actor, gate_id: str, reason: str = ""
) -> ChangeOutcome:
    return _transition(project=project, actor=actor, gate_id=gate_id, action="gate_unarchive")


# -- rules ----------------------------------------------------------------------------------------


@transaction.atomic
def gate_rules_replace(
    *, project: Project, actor: Actor, gate_id: str, rules: list[dict[str, Any]]
) -> ChangeOutcome:
    """Replaces the rule list (PATCH ``/gates/{id}/rules``); rules keep salts by id."""
    return rule_changes.rules_replace(
        GATES, project=project, actor=actor, entity_id=gate_id, rules=rules
    )


@transaction.atomic
def gate_rules_add(
    *, project: Project, actor: Actor, gate_id: str, rules: list[dict[str, Any]]
) -> ChangeOutcome:
    """Appends rules (POST ``/gates/{id}/rules``)."""
    return rule_changes.rules_add(
        GATES, project=project, actor=actor, entity_id=gate_id, rules=rules
    )


@transaction.atomic
def gate_rule_add(
    *, project: Project, actor: Actor, gate_id: str, rule: dict[str, Any]
) -> ChangeOutcome:
    """Appends one rule (POST ``/gates/{id}/rule``); errors are named ``rule.<field>``."""
    return rule_changes.rule_add(GATES, project=project, actor=actor, entity_id=gate_id, rule=rule)


@transaction.atomic
def gate_rule_update(
    *, project: Project, actor: Actor, gate_id: str, rule_id: str, rule: Mapping[str, Any]
) -> ChangeOutcome:
    """Changes the given fields of one rule (PATCH ``/gates/{id}/rules/{ruleID}``)."""
    return rule_changes.rule_update(
        GATES, project=project, actor=actor, entity_id=gate_id, rule_id=rule_id, rule=rule
    )


@transaction.atomic
def gate_rule_delete(
    *, project: Project, actor: Actor, gate_id: str, rule_id: str
) -> ChangeOutcome:
    return rule_changes.rule_delete(
        GATES, project=project, actor=actor, entity_id=gate_id, rule_id=rule_id
    )


@transaction.atomic
def gate_resalt(
    *, project: Project, actor: Actor, gate_id: str, rule_id: str | None = None
) -> ChangeOutcome:
    """A new salt for one rule (or every rule): its users are bucketed afresh."""
    gate = kernel.locked(GATES, project=project, actor=actor, entity_id=gate_id)
    indexes = (
        range(len(gate.rules)) if rule_id is None else [rule_lists.rule_index(gate.rules, rule_id)]
    )
    new_rules = [
        {**rule, "salt": new_salt()} if i in indexes else rule for i, rule in enumerate(gate.rules)
    ]
    return kernel.submit(
        GATES,
        project=project,
        actor=actor,
        entity=gate,
        fields={"rules": new_rules},
        action="gate_resalt",
        scope=None,
    )


# -- overrides ------------------------------------------------------------------------------------


@transaction.atomic
def gate_overrides_set(
    *, project: Project, actor: Actor, gate_id: str, overrides: Mapping[str, Any]
) -> ChangeOutcome:
    """Replaces the overrides (POST ``/gates/{id}/overrides``)."""
    return kernel.overrides_set(
        GATES, project=project, actor=actor, entity_id=gate_id, overrides=overrides
    )


@transaction.atomic
def gate_overrides_add(
    *, project: Project, actor: Actor, gate_id: str, overrides: Mapping[str, Any]
) -> ChangeOutcome:
    return kernel.overrides_change(
        GATES, project=project, actor=actor, entity_id=gate_id, overrides=overrides
    )


@transaction.atomic
def gate_overrides_remove(
    *, project: Project, actor: Actor, gate_id: str, overrides: Mapping[str, Any]
) -> ChangeOutcome:
    return kernel.overrides_change(
        GATES,
        project=project,
        actor=actor,
        entity_id=gate_id,
        overrides=overrides,
        remove=True,
    )


# -- delete ---------------------------------------------------------------------------------------


@transaction.atomic
def gate_delete(*, project: Project, actor: Actor, gate_id: str) -> ChangeOutcome:
    """Refused (400, naming them) while gates, configs, experiments or holdouts use the gate."""
    return kernel.delete(GATES, project=project, actor=actor, entity_id=gate_id)
