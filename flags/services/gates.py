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
from console.models import Project, Review
from console.services.audit import audit_record
from console.services.reviews import ChangeOutcome, register_change
from console.validation import (
    validate_bool,
    validate_id_type,
    validate_name,
    validate_tags,
    validate_text,
)
from flags.models import DynamicConfig, Experiment, Gate, GateStatus, GateType, Holdout, Layer
from flags.services import rules as rule_lists
from flags.services.common import (
    NO_REVIEW,
    UNSET,
    check_expected_version,
    current_version_of,
    ensure_name_free,
    environment_names,
    forget_versions,
    get_entity,
    new_identity,
    require_editor,
    save_changed_fields,
    save_created,
    submit_change,
    wider_scope,
)
from ruleset import changes as ruleset_changes

ENTITY_TYPE = "gate"
LABEL = "Gate"
# Fields a caller may set; ``status`` and ``archive_reason`` are set by the lifecycle services.
PUBLIC_FIELDS = (
    "name",
    "description",
    "is_enabled",
    "rules",
    "tags",
    "type",
    "id_type",
    "review_required",
    "overrides",
)
INTERNAL_FIELDS = ("status", "archive_reason")
# Whole-entity changes: review applies to them regardless of environments.
WHOLE_ENTITY_FIELDS = {"is_enabled", "id_type", "status"}


def _gate(project: Project, gate_id: str, *, lock: bool = False) -> Gate:
    return get_entity(Gate, project=project, slug=gate_id, label=LABEL, lock=lock)


def gate_rules_for_validation(project: Project, gate: Gate | None, raw_rules: Any, path: str):
    """Validated rules for ``gate`` (None: a new gate), with references and cycles checked."""
    graph = {
        slug: rule_lists.gate_dependencies(rules)
        for slug, rules in Gate.objects.filter(project=project).values_list("slug", "rules")
    }
    normalised = rule_lists.prepare_rules(
        raw_rules,
        old_rules=gate.rules if gate is not None else [],
        environments=environment_names(project),
        check_reference=rule_lists.reference_checker(project, gate_ids=graph.keys()),
        path=path,
    )
    if gate is not None:
        rule_lists.refuse_gate_cycle(
            project=project, gate_id=gate.slug, rules=normalised, path=path, graph=graph
        )
    return normalised


def _validated_fields(project: Project, gate: Gate, fields: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in fields.items():
        if key == "name":
            name = validate_name(value)
            ensure_name_free(project=project, model=Gate, name=name, exclude_pk=gate.pk)
            out[key] = name
        elif key == "description":
            out[key] = validate_text(value, "description")
        elif key in ("is_enabled", "review_required"):
            out[key] = validate_bool(
                value, "isEnabled" if key == "is_enabled" else "reviewSettings.requiredReview"
            )
        elif key == "rules":
            out[key] = gate_rules_for_validation(project, gate, value, "rules")
        elif key == "tags":
            out[key] = validate_tags(value)
        elif key == "type":
            if value not in GateType.values:
                raise ValidationError.for_field("type", "type is PERMANENT or TEMPORARY.")
            out[key] = value
        elif key == "id_type":
            out[key] = validate_id_type(value)
        elif key == "overrides":
            out[key] = rule_lists.validate_overrides(value, environments=environment_names(project))
        elif key in INTERNAL_FIELDS:
            out[key] = value
        else:
            raise ValidationError.for_field(key, f"Unknown gate field '{key}'.")
    return out


def _review_scope(gate: Gate, fields: Mapping[str, Any]):
    scopes = []
    for key, value in fields.items():
        if key == "rules":
            scopes.append(rule_lists.rules_review_scope(gate.rules, value))
        elif key == "overrides":
            scopes.append(None if value != gate.overrides else NO_REVIEW)
        elif key in WHOLE_ENTITY_FIELDS:
            scopes.append(None if getattr(gate, key) != value else NO_REVIEW)
        elif key == "review_required":
            # Turning reviews off is itself reviewed.
            scopes.append(None if gate.review_required and not value else NO_REVIEW)
        else:
            scopes.append(NO_REVIEW)
    return wider_scope(*scopes)


def _action_for(fields: Mapping[str, Any], default: str) -> str:
    if set(fields) == {"rules"}:
        return "gate_conditions_update"
    if set(fields) == {"overrides"}:
        return "gate_overrides_update"
    return default


def _submit(
    *,
    project: Project,
    actor: Actor,
    gate: Gate,
    fields: dict[str, Any],
    action: str,
    expected_version: int | None = None,
    scope: Any = UNSET,
) -> ChangeOutcome:
    check_expected_version(gate, expected_version)
    validated = _validated_fields(project, gate, fields)
    return submit_change(
        project=project,
        actor=actor,
        change_type=action,
        entity=gate,
        change={"action": action, "fields": validated, "expected_version": expected_version},
        scope=_review_scope(gate, validated) if scope is UNSET else scope,
    )


def _apply_fields(
    *, project: Project, actor: Actor, entity_id: str, change: dict, review: Review | None = None
) -> Gate:
    gate = _gate(project, entity_id, lock=True)
    check_expected_version(gate, change.get("expected_version"))
    fields = _validated_fields(project, gate, change["fields"])
    save_changed_fields(
        project=project,
        actor=actor,
        entity=gate,
        entity_type=ENTITY_TYPE,
        fields=fields,
        action_type=change.get("action") or _action_for(fields, "gate_update"),
        review=review,
    )
    return gate


_current_version = current_version_of(Gate)
for _action in (
    "gate_update",
    "gate_conditions_update",
    "gate_overrides_update",
    "gate_enable",
    "gate_disable",
    "gate_launch",
    "gate_archive",
    "gate_unarchive",
    "gate_resalt",
):
    register_change(_action, entity_type=ENTITY_TYPE, current_version=_current_version)(
        _apply_fields
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
    overrides: dict[str, Any] | None = None,
) -> Gate:
    require_editor(actor, "gates")
    with transaction.atomic():
        name, slug = new_identity(project=project, model=Gate, name=name, slug=gate_id)
        gate = Gate(project=project, name=name, slug=slug)
        fields = _validated_fields(
            project,
            gate,
            {
                "description": description,
                "is_enabled": is_enabled,
                "tags": tags,
                "type": type,
                "id_type": id_type,
                "review_required": review_required,
                "overrides": overrides or {},
            },
        )
        for key, value in fields.items():
            setattr(gate, key, value)
        gate.status = GateStatus.IN_PROGRESS if gate.is_enabled else GateStatus.DISABLED
        if rules:
            # Rules may reference other gates but never the new gate itself.
            gate.rules = gate_rules_for_validation(project, gate, rules, "rules")
        save_created(
            project=project,
            actor=actor,
            entity=gate,
            entity_type=ENTITY_TYPE,
            action_type="gate_create",
            changes={
                "name": {"old": None, "new": gate.name},
                "isEnabled": {"old": None, "new": gate.is_enabled},
                "rules": {"old": None, "new": gate.rules},
            },
        )
        for holdout in Holdout.objects.filter(
            project=project, is_global=True, id_type=gate.id_type
        ):
            holdout.gates.add(gate)
    return gate


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
    overrides: Any = UNSET,
    expected_version: int | None = None,
) -> ChangeOutcome:
    """Partial update (PATCH): only the fields passed change."""
    require_editor(actor, "gates")
    gate = _gate(project, gate_id, lock=True)
    given = {
        "name": name,
        "description": description,
        "is_enabled": is_enabled,
        "rules": rules,
        "tags": tags,
        "type": type,
        "id_type": id_type,
        "review_required": review_required,
        "overrides": overrides,
    }
    fields = {key: value for key, value in given.items() if value is not UNSET}
    if gate.status == GateStatus.ARCHIVED and fields.keys() & {"is_enabled", "rules"}:
        raise ValidationError.for_field("status", "Gate is archived: unarchive it first.")
    if "is_enabled" in fields and gate.status != GateStatus.LAUNCHED:
        fields["status"] = GateStatus.IN_PROGRESS if fields["is_enabled"] else GateStatus.DISABLED
    action = _action_for(fields, "gate_update")
    return _submit(
        project=project,
        actor=actor,
        gate=gate,
        fields=fields,
        action=action,
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


def _lifecycle(
    *, project: Project, actor: Actor, gate_id: str, action: str, fields: dict[str, Any]
) -> ChangeOutcome:
    require_editor(actor, "gates")
    gate = _gate(project, gate_id, lock=True)
    if gate.status == GateStatus.ARCHIVED and action not in ("gate_unarchive", "gate_archive"):
        raise ValidationError.for_field("status", "Gate is archived: unarchive it first.")
    return _submit(
        project=project, actor=actor, gate=gate, fields=fields, action=action, scope=None
    )


@transaction.atomic
def gate_enable(*, project: Project, actor: Actor, gate_id: str) -> ChangeOutcome:
    gate = _gate(project, gate_id, lock=True)
    status = GateStatus.LAUNCHED if gate.status == GateStatus.LAUNCHED else GateStatus.IN_PROGRESS
    return _lifecycle(
        project=project,
        actor=actor,
        gate_id=gate_id,
        action="gate_enable",
        fields={"is_enabled": True, "status": status},
    )


@transaction.atomic
def gate_disable(*, project: Project, actor: Actor, gate_id: str) -> ChangeOutcome:
    return _lifecycle(
        project=project,
        actor=actor,
        gate_id=gate_id,
        action="gate_disable",
        fields={"is_enabled": False, "status": GateStatus.DISABLED},
    )


@transaction.atomic
def gate_launch(*, project: Project, actor: Actor, gate_id: str) -> ChangeOutcome:
    """Launched: the gate passes for everyone (after overrides and holdouts); rules are kept."""
    return _lifecycle(
        project=project,
        actor=actor,
        gate_id=gate_id,
        action="gate_launch",
        fields={"is_enabled": True, "status": GateStatus.LAUNCHED},
    )


@transaction.atomic
def gate_archive(
    *, project: Project, actor: Actor, gate_id: str, force: bool = False, reason: str = ""
) -> ChangeOutcome:
    """Archived gates evaluate to false. Refused while other entities use the gate, unless
    ``force`` (Statsig's ``forceArchive``)."""
    gate = _gate(project, gate_id, lock=True)
    if not force:
        referrers = gate_referrers(project=project, gate=gate)
        if referrers:
            raise ValidationError.for_field(
                "id", f"Gate is used by {', '.join(referrers)}; pass forceArchive to archive it."
            )
    return _lifecycle(
        project=project,
        actor=actor,
        gate_id=gate_id,
        action="gate_archive",
        fields={"status": GateStatus.ARCHIVED, "archive_reason": validate_text(reason, "reason")},
    )


@transaction.atomic
def gate_unarchive(
    *, project: Project, actor: Actor, gate_id: str, reason: str = ""
) -> ChangeOutcome:
    gate = _gate(project, gate_id, lock=True)
    if gate.status != GateStatus.ARCHIVED:
        raise ValidationError.for_field("status", "Gate is not archived.")
    return _lifecycle(
        project=project,
        actor=actor,
        gate_id=gate_id,
        action="gate_unarchive",
        fields={
            "status": GateStatus.IN_PROGRESS if gate.is_enabled else GateStatus.DISABLED,
            "archive_reason": "",
        },
    )


# -- rules ----------------------------------------------------------------------------------------


def _rules_change(
    *, project: Project, actor: Actor, gate: Gate, edit: rule_lists.RuleListEdit
) -> ChangeOutcome:
    if gate.status == GateStatus.ARCHIVED:
        raise ValidationError.for_field("status", "Gate is archived: unarchive it first.")
    try:
        validated = gate_rules_for_validation(project, gate, edit.rules, "rules")
    except ValidationError as exc:
        if edit.rename is None:
            raise
        raise rule_lists.renamed_rule_errors(exc, edit.rename) from None
    return _submit(
        project=project,
        actor=actor,
        gate=gate,
        fields={"rules": validated},
        action="gate_conditions_update",
    )


def _locked_for_rules(project: Project, actor: Actor, gate_id: str) -> Gate:
    require_editor(actor, "gates")
    return _gate(project, gate_id, lock=True)


@transaction.atomic
def gate_rules_replace(
    *, project: Project, actor: Actor, gate_id: str, rules: list[dict[str, Any]]
) -> ChangeOutcome:
    """Replaces the rule list (PATCH ``/gates/{id}/rules``); rules keep salts by id."""
    gate = _locked_for_rules(project, actor, gate_id)
    return _rules_change(
        project=project, actor=actor, gate=gate, edit=rule_lists.RuleListEdit(rules)
    )


@transaction.atomic
def gate_rules_add(
    *, project: Project, actor: Actor, gate_id: str, rules: list[dict[str, Any]]
) -> ChangeOutcome:
    """Appends rules (POST ``/gates/{id}/rules``)."""
    gate = _locked_for_rules(project, actor, gate_id)
    edit = rule_lists.rules_appended(gate.rules, rules)
    return _rules_change(project=project, actor=actor, gate=gate, edit=edit)


@transaction.atomic
def gate_rule_add(
    *, project: Project, actor: Actor, gate_id: str, rule: dict[str, Any]
) -> ChangeOutcome:
    """Appends one rule (POST ``/gates/{id}/rule``); errors are named ``rule.<field>``."""
    gate = _locked_for_rules(project, actor, gate_id)
    edit = rule_lists.rule_appended(gate.rules, rule)
    return _rules_change(project=project, actor=actor, gate=gate, edit=edit)


@transaction.atomic
def gate_rule_update(
    *, project: Project, actor: Actor, gate_id: str, rule_id: str, rule: Mapping[str, Any]
) -> ChangeOutcome:
    """Changes the given fields of one rule (PATCH ``/gates/{id}/rules/{ruleID}``)."""
    gate = _locked_for_rules(project, actor, gate_id)
    edit = rule_lists.rule_updated(gate.rules, rule_id, rule)
    return _rules_change(project=project, actor=actor, gate=gate, edit=edit)


@transaction.atomic
def gate_rule_delete(
    *, project: Project, actor: Actor, gate_id: str, rule_id: str
) -> ChangeOutcome:
    gate = _locked_for_rules(project, actor, gate_id)
    edit = rule_lists.rule_removed(gate.rules, rule_id)
    return _rules_change(project=project, actor=actor, gate=gate, edit=edit)


@transaction.atomic
def gate_resalt(
    *, project: Project, actor: Actor, gate_id: str, rule_id: str | None = None
) -> ChangeOutcome:
    """A new salt for one rule (or every rule): its users are bucketed afresh."""
    from flags.models import new_salt

    require_editor(actor, "gates")
    gate = _gate(project, gate_id, lock=True)
    indexes = (
        range(len(gate.rules)) if rule_id is None else [rule_lists.rule_index(gate.rules, rule_id)]
    )
    new_rules = [
        {**rule, "salt": new_salt()} if i in indexes else rule for i, rule in enumerate(gate.rules)
    ]
    return _submit(
        project=project,
        actor=actor,
        gate=gate,
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
    require_editor(actor, "gates")
    gate = _gate(project, gate_id, lock=True)
    return _submit(
        project=project,
        actor=actor,
        gate=gate,
        fields={"overrides": overrides},
        action="gate_overrides_update",
    )


@transaction.atomic
def gate_overrides_add(
    *, project: Project, actor: Actor, gate_id: str, overrides: Mapping[str, Any]
) -> ChangeOutcome:
    gate = _gate(project, gate_id, lock=True)
    extra = rule_lists.validate_overrides(overrides, environments=environment_names(project))
    return gate_overrides_set(
        project=project,
        actor=actor,
        gate_id=gate_id,
        overrides=rule_lists.overrides_merged(gate.overrides, extra),
    )


@transaction.atomic
def gate_overrides_remove(
    *, project: Project, actor: Actor, gate_id: str, overrides: Mapping[str, Any]
) -> ChangeOutcome:
    gate = _gate(project, gate_id, lock=True)
    removed = rule_lists.validate_overrides(overrides, environments=environment_names(project))
    return gate_overrides_set(
        project=project,
        actor=actor,
        gate_id=gate_id,
        overrides=rule_lists.overrides_without(gate.overrides, removed),
    )


# -- delete ---------------------------------------------------------------------------------------


def gate_referrers(*, project: Project, gate: Gate) -> list[str]:
    """What uses the gate, as "gate 'x'", "dynamic config 'y'", "experiment 'z'" (targeting),
    "holdout 'h'"."""
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
    found.extend(f"holdout '{slug}'" for slug in gate.holdouts.values_list("slug", flat=True))
    return found


@register_change("gate_delete", entity_type=ENTITY_TYPE, current_version=_current_version)
def _apply_delete(
    *, project: Project, actor: Actor, entity_id: str, change: dict, review: Review | None = None
) -> None:
    gate = _gate(project, entity_id, lock=True)
    referrers = gate_referrers(project=project, gate=gate)
    if referrers:
        raise ValidationError.for_field(
            "id", f"Gate is used by {', '.join(referrers)}; remove those references first."
        )
    audit_record(
        project=project,
        actor=actor,
        action_type="gate_delete",
        entity_type=ENTITY_TYPE,
        entity_id=gate.slug,
        entity_name=gate.name,
        changes={"name": {"old": gate.name, "new": None}},
        review=review,
    )
    forget_versions(gate, ENTITY_TYPE)
    gate.delete()
    ruleset_changes.schedule_rebuild(project.id)


@transaction.atomic
def gate_delete(*, project: Project, actor: Actor, gate_id: str) -> ChangeOutcome:
    """Refused (400, naming them) while gates, configs, experiments or holdouts use the gate."""
    require_editor(actor, "gates")
    gate = _gate(project, gate_id, lock=True)
    referrers = gate_referrers(project=project, gate=gate)
    if referrers:
        raise ValidationError.for_field(
            "id", f"Gate is used by {', '.join(referrers)}; remove those references first."
        )
    return submit_change(
        project=project,
        actor=actor,
        change_type="gate_delete",
        entity=gate,
        change={"action": "gate_delete"},
        scope=None,
    )
