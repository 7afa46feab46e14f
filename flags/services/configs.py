"""Dynamic configs: like gates, with a JSON ``defaultValue``, a ``returnValue`` per rule and an
optional JSON Schema (2020-12) that the default and every rule's value must satisfy."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import jsonschema
from django.db import transaction

from console.actors import Actor
from console.errors import FieldError, ValidationError
from console.models import Project
from console.selectors import environment_names
from console.services.reviews import ChangeOutcome
from console.validation import validate_bool, validate_text
from flags.models import ConfigStatus, DynamicConfig, Experiment
from flags.services import as_sent, kernel, rule_changes
from flags.services import rules as rule_lists
from flags.services.descriptor import (
    COMMON_VALIDATORS,
    OWNER_VALIDATORS,
    UNSET,
    EntityKind,
    Lifecycle,
    RuleList,
    Transition,
    accepted_as_is,
    owner_named,
)
from flags.services.settings import Setting, settings_restorer, validate_settings

MAX_VALUE_BYTES = 100_000
ARCHIVED = "Dynamic config is archived: unarchive it first."
NOT_ARCHIVED_STATES = (ConfigStatus.ENABLED, ConfigStatus.DISABLED)


def _json_object(value: Any, path: str) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise ValidationError.for_field(path, f"Not valid JSON: {exc}.") from None
    if not isinstance(value, dict):
        raise ValidationError.for_field(path, f"{path} must be a JSON object.")
    if len(json.dumps(value)) > MAX_VALUE_BYTES:
        raise ValidationError.for_field(path, f"At most {MAX_VALUE_BYTES} bytes of JSON.")
    return value


def _schema(value: Any) -> dict[str, Any] | None:
    if value in (None, "", {}):
        return None
    schema = _json_object(value, "schema")
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise ValidationError.for_field(
            "schema", f"Not a valid JSON Schema: {exc.message}."
        ) from None
    return schema


def _schema_errors(schema: dict[str, Any] | None, value: Any, path: str) -> list[FieldError]:
    if schema is None:
        return []
    validator = jsonschema.Draft202012Validator(schema)
    return [
        FieldError(
            path + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.path),
            f"Does not match the config's schema: {error.message}.",
        )
        for error in validator.iter_errors(value)
    ]


def _rules(project: Project, config: DynamicConfig, value: Any) -> list[dict[str, Any]]:
    return rule_lists.prepare_rules(
        value,
        old_rules=config.rules,
        environments=environment_names(project=project),
        check_reference=rule_lists.reference_checker(project),
        return_value_required=True,
    )


# Statsig's config fields nothing here evaluates, kept as sent (``flags.services.settings``).
CONFIG_SETTINGS: dict[str, Setting] = {
    "isTemplate": Setting("flag", "The config is a template for new configs."),
    "targetApps": Setting("texts", "Target apps of the config."),
    "team": Setting("text", "The owning team.", True),
}


def _default_from_json5(fields: dict[str, Any]) -> None:
    """A ``defaultValueJson5`` sent is the default value (kept verbatim beside it); a default
    value sent without it makes the old text stale, so it goes."""
    text = fields.get("default_value_json5")
    if text:
        fields["default_value"] = as_sent.value_from_json5(
            fields.get("default_value"),
            text,
            value_path="defaultValue",
            text_path="defaultValueJson5",
        )
    elif "default_value" in fields:
        fields["default_value_json5"] = ""


def _values_match_schema(
    project: Project, config: DynamicConfig, fields: dict[str, Any]
) -> dict[str, Any]:
    """The default value and every rule's value satisfy the config's schema (the new one when
    the change brings one)."""
    _default_from_json5(fields)
    owner_named(fields)
    schema = fields.get("schema", config.schema)
    if schema is not None and fields.keys() & {"schema", "default_value", "rules"}:
        errors = _schema_errors(
            schema, fields.get("default_value", config.default_value), "defaultValue"
        )
        for index, rule in enumerate(fields.get("rules", config.rules)):
            errors.extend(
                _schema_errors(schema, rule.get("returnValue", {}), f"rules[{index}].returnValue")
            )
        if errors:
            raise ValidationError(f"{errors[0].property}: {errors[0].message}", errors=errors)
    return fields


LIFECYCLE = Lifecycle(
    label="Dynamic config",
    transitions=(
        Transition(
            action="config_enable",
            verb="enable",
            from_states=NOT_ARCHIVED_STATES,
            to_state=ConfigStatus.ENABLED,
            refusal=ARCHIVED,
            fields=lambda config: {"is_enabled": True},
            label="Enable",
            done="Dynamic config enabled.",
        ),
        Transition(
            action="config_disable",
            verb="disable",
            from_states=NOT_ARCHIVED_STATES,
            to_state=ConfigStatus.DISABLED,
            refusal=ARCHIVED,
            fields=lambda config: {"is_enabled": False},
            label="Disable",
            confirm="Disable {name}? Everyone gets its default value.",
            done="Dynamic config disabled: everyone gets its default value.",
        ),
        Transition(
            action="config_archive",
            verb="archive",
            from_states=NOT_ARCHIVED_STATES,
            to_state=ConfigStatus.ARCHIVED,
            refusal=ARCHIVED,
            label="Archive",
            confirm="Archive {name}? Everyone gets its default value.",
            done="Dynamic config archived: everyone gets its default value.",
        ),
        Transition(
            action="config_unarchive",
            verb="unarchive",
            from_states=(ConfigStatus.ARCHIVED,),
            refusal="Dynamic config is not archived.",
            fields=lambda config: {
                "status": ConfigStatus.ENABLED if config.is_enabled else ConfigStatus.DISABLED
            },
            label="Unarchive",
            done="Dynamic config unarchived.",
        ),
    ),
)

DYNAMIC_CONFIGS = EntityKind(
    model=DynamicConfig,
    entity_type="dynamic_config",
    label="Dynamic config",
    plural="dynamic configs",
    action_prefix="config",
    # What "Restore this version" brings back: what a person edits, not the lifecycle state.
    restorable_fields=(
        "name",
        "description",
        "tags",
        "id_type",
        "rules",
        "default_value",
        # The default value as its author wrote it (comments, trailing commas).
        "default_value_json5",
        "schema",
        "settings",
    ),
    restored_values={"settings": settings_restorer(CONFIG_SETTINGS)},
    validators={
        **COMMON_VALIDATORS,
        **OWNER_VALIDATORS,
        "is_enabled": lambda project, config, value: validate_bool(value, "isEnabled"),
        "settings": lambda project, config, value: validate_settings(
            CONFIG_SETTINGS, config.settings, value
        ),
        "rules": _rules,
        "default_value": lambda project, config, value: _json_object(value, "defaultValue"),
        "default_value_json5": lambda project, config, value: validate_text(
            value, "defaultValueJson5", max_length=as_sent.JSON5_MAX_CHARS
        ),
        "schema": lambda project, config, value: _schema(value),
        # Set by the lifecycle actions only.
        "status": accepted_as_is,
    },
    update_actions=("config_update", "config_conditions_update"),
    complete_fields=_values_match_schema,
    whole_entity_fields=frozenset(
        {"is_enabled", "id_type", "status", "default_value", "default_value_json5", "schema"}
    ),
    review_scopes={"rules": rule_lists.rules_review_scope},
    lifecycle=LIFECYCLE,
    rule_list=RuleList(
        action="config_conditions_update",
        frozen_states=(ConfigStatus.ARCHIVED,),
        frozen_refusal=ARCHIVED,
        frozen_fields=frozenset({"rules", "is_enabled"}),
    ),
    created_audit=lambda config: {
        "name": config.name,
        "defaultValue": config.default_value,
        "rules": config.rules,
    },
    id_namespace=(DynamicConfig, Experiment),
)


@transaction.atomic
def dynamic_config_create(
    *,
    project: Project,
    actor: Actor,
    name: str,
    config_id: str | None = None,
    description: str = "",
    is_enabled: bool = True,
    rules: list[dict[str, Any]] | None = None,
    default_value: Any = None,
    default_value_json5: str = "",
    schema: Any = None,
    tags: list[str] | None = None,
    id_type: str = "userID",
    review_required: bool = False,
    allowed_reviewers: list[Any] | None = None,
    settings: dict[str, Any] | None = None,
    creator_id: str | None = None,
    creator_email: str | None = None,
) -> DynamicConfig:
    """``default_value_json5``: the default value as JSON5 text, kept verbatim (it spells the
    default value when that is not sent)."""
    owner = {"creator_id": creator_id, "creator_email": creator_email}
    return kernel.create(
        DYNAMIC_CONFIGS,
        project=project,
        actor=actor,
        name=name,
        entity_id=config_id,
        fields={
            "description": description,
            "is_enabled": is_enabled,
            "tags": tags,
            "id_type": id_type,
            "review_required": review_required,
            "allowed_reviewers": allowed_reviewers or [],
            "schema": schema,
            "default_value": {} if default_value is None else default_value,
            "default_value_json5": default_value_json5,
            "settings": settings or {},
            **{key: value for key, value in owner.items() if value},
            "rules": rules or [],
            "status": ConfigStatus.ENABLED if is_enabled else ConfigStatus.DISABLED,
        },
    )


@transaction.atomic
def dynamic_config_update(
    *,
    project: Project,
    actor: Actor,
    config_id: str,
    name: Any = UNSET,
    description: Any = UNSET,
    is_enabled: Any = UNSET,
    rules: Any = UNSET,
    default_value: Any = UNSET,
    default_value_json5: Any = UNSET,
    schema: Any = UNSET,
    tags: Any = UNSET,
    id_type: Any = UNSET,
    review_required: Any = UNSET,
    allowed_reviewers: Any = UNSET,
    settings: Any = UNSET,
    creator_id: Any = UNSET,
    creator_email: Any = UNSET,
    expected_version: int | None = None,
) -> ChangeOutcome:
    """Partial update: only the fields passed change (a full update passes them all)."""
    config = kernel.locked(DYNAMIC_CONFIGS, project=project, actor=actor, entity_id=config_id)
    given = {
        "name": name,
        "description": description,
        "is_enabled": is_enabled,
        "rules": rules,
        "default_value": default_value,
        "default_value_json5": default_value_json5,
        "schema": schema,
        "tags": tags,
        "id_type": id_type,
        "review_required": review_required,
        "allowed_reviewers": allowed_reviewers,
        "settings": settings,
        "creator_id": creator_id,
        "creator_email": creator_email,
    }
    fields = {key: value for key, value in given.items() if value is not UNSET}
    rule_changes.refuse_while_frozen(DYNAMIC_CONFIGS, config, fields)
    if "is_enabled" in fields:
        fields["status"] = ConfigStatus.ENABLED if fields["is_enabled"] else ConfigStatus.DISABLED
    return kernel.submit(
        DYNAMIC_CONFIGS,
        project=project,
        actor=actor,
        entity=config,
        fields=fields,
        action=rule_changes.update_action(DYNAMIC_CONFIGS, fields),
        expected_version=expected_version,
    )


def _transition(*, project: Project, actor: Actor, config_id: str, action: str) -> ChangeOutcome:
    return kernel.submit_transition(
        DYNAMIC_CONFIGS, project=project, actor=actor, entity_id=config_id, action=action
    )


@transaction.atomic
def dynamic_config_enable(*, project: Project, actor: Actor, config_id: str) -> ChangeOutcome:
    return _transition(project=project, actor=actor, config_id=config_id, action="config_enable")


@transaction.atomic
def dynamic_config_disable(*, project: Project, actor: Actor, config_id: str) -> ChangeOutcome:
    return _transition(project=project, actor=actor, config_id=config_id, action="config_disable")


@transaction.atomic
def dynamic_config_archive(*, project: Project, actor: Actor, config_id: str) -> ChangeOutcome:
    """Archived configs evaluate as disabled (their default value)."""
    return _transition(project=project, actor=actor, config_id=config_id, action="config_archive")


@transaction.atomic
def dynamic_config_unarchive(*, project: Project, actor: Actor, config_id: str) -> ChangeOutcome:
    return _transition(project=project, actor=actor, config_id=config_id, action="config_unarchive")


@transaction.atomic
def dynamic_config_rules_replace(
    *, project: Project, actor: Actor, config_id: str, rules: list[dict[str, Any]]
) -> ChangeOutcome:
    return rule_changes.rules_replace(
        DYNAMIC_CONFIGS, project=project, actor=actor, entity_id=config_id, rules=rules
    )


@transaction.atomic
def dynamic_config_rule_add(
    *, project: Project, actor: Actor, config_id: str, rule: dict[str, Any]
) -> ChangeOutcome:
    return rule_changes.rule_add(
        DYNAMIC_CONFIGS, project=project, actor=actor, entity_id=config_id, rule=rule
    )


@transaction.atomic
def dynamic_config_rule_update(
    *, project: Project, actor: Actor, config_id: str, rule_id: str, rule: Mapping[str, Any]
) -> ChangeOutcome:
    return rule_changes.rule_update(
        DYNAMIC_CONFIGS,
        project=project,
        actor=actor,
        entity_id=config_id,
        rule_id=rule_id,
        rule=rule,
    )


@transaction.atomic
def dynamic_config_rule_delete(
    *, project: Project, actor: Actor, config_id: str, rule_id: str
) -> ChangeOutcome:
    return rule_changes.rule_delete(
        DYNAMIC_CONFIGS, project=project, actor=actor, entity_id=config_id, rule_id=rule_id
    )


@transaction.atomic
def dynamic_config_delete(*, project: Project, actor: Actor, config_id: str) -> ChangeOutcome:
    return kernel.delete(DYNAMIC_CONFIGS, project=project, actor=actor, entity_id=config_id)
