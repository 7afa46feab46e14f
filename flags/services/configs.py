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
from flags.models import ConfigStatus, DynamicConfig
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

ENTITY_TYPE = "dynamic_config"
LABEL = "Dynamic config"
WHOLE_ENTITY_FIELDS = {"is_enabled", "id_type", "status", "default_value", "schema"}
MAX_VALUE_BYTES = 100_000


def _config(project: Project, config_id: str, *, lock: bool = False) -> DynamicConfig:
    return get_entity(DynamicConfig, project=project, slug=config_id, label=LABEL, lock=lock)


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


def _validated_fields(
    project: Project, config: DynamicConfig, fields: Mapping[str, Any]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in fields.items():
        if key == "name":
            name = validate_name(value)
            ensure_name_free(project=project, model=DynamicConfig, name=name, exclude_pk=config.pk)
            out[key] = name
        elif key == "description":
            out[key] = validate_text(value, "description")
        elif key in ("is_enabled", "review_required"):
            out[key] = validate_bool(
                value, "isEnabled" if key == "is_enabled" else "reviewSettings.requiredReview"
            )
        elif key == "rules":
            out[key] = rule_lists.prepare_rules(
                value,
                old_rules=config.rules,
                environments=environment_names(project),
                check_reference=rule_lists.reference_checker(project),
                return_value_required=True,
            )
        elif key == "tags":
            out[key] = validate_tags(value)
        elif key == "id_type":
            out[key] = validate_id_type(value)
        elif key == "default_value":
            out[key] = _json_object(value, "defaultValue")
        elif key == "schema":
            out[key] = _schema(value)
        elif key == "status":
            out[key] = value
        else:
            raise ValidationError.for_field(key, f"Unknown dynamic config field '{key}'.")
    schema = out.get("schema", config.schema) if "schema" in out else config.schema
    if schema is not None and out.keys() & {"schema", "default_value", "rules"}:
        errors = _schema_errors(
            schema, out.get("default_value", config.default_value), "defaultValue"
        )
        for index, rule in enumerate(out.get("rules", config.rules)):
            errors.extend(
                _schema_errors(schema, rule.get("returnValue", {}), f"rules[{index}].returnValue")
            )
        if errors:
            raise ValidationError(f"{errors[0].property}: {errors[0].message}", errors=errors)
    return out


def _review_scope(config: DynamicConfig, fields: Mapping[str, Any]):
    scopes = []
    for key, value in fields.items():
        if key == "rules":
            scopes.append(rule_lists.rules_review_scope(config.rules, value))
        elif key in WHOLE_ENTITY_FIELDS:
            scopes.append(None if getattr(config, key) != value else NO_REVIEW)
        elif key == "review_required":
            scopes.append(None if config.review_required and not value else NO_REVIEW)
        else:
            scopes.append(NO_REVIEW)
    return wider_scope(*scopes)


def _submit(
    *,
    project: Project,
    actor: Actor,
    config: DynamicConfig,
    fields: dict[str, Any],
    action: str,
    expected_version: int | None = None,
    scope: Any = UNSET,
) -> ChangeOutcome:
    check_expected_version(config, expected_version)
    validated = _validated_fields(project, config, fields)
    return submit_change(
        project=project,
        actor=actor,
        change_type=action,
        entity=config,
        change={"action": action, "fields": validated, "expected_version": expected_version},
        scope=_review_scope(config, validated) if scope is UNSET else scope,
    )


def _apply_fields(
    *, project: Project, actor: Actor, entity_id: str, change: dict, review: Review | None = None
) -> DynamicConfig:
    config = _config(project, entity_id, lock=True)
    check_expected_version(config, change.get("expected_version"))
    fields = _validated_fields(project, config, change["fields"])
    save_changed_fields(
        project=project,
        actor=actor,
        entity=config,
        entity_type=ENTITY_TYPE,
        fields=fields,
        action_type=change.get("action") or "config_update",
        review=review,
    )
    return config


_current_version = current_version_of(DynamicConfig)
for _action in (
    "config_update",
    "config_conditions_update",
    "config_enable",
    "config_disable",
    "config_archive",
    "config_unarchive",
):
    register_change(_action, entity_type=ENTITY_TYPE, current_version=_current_version)(
        _apply_fields
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
    schema: Any = None,
    tags: list[str] | None = None,
    id_type: str = "userID",
    review_required: bool = False,
) -> DynamicConfig:
    require_editor(actor, "dynamic configs")
    with transaction.atomic():
        name, slug = new_identity(project=project, model=DynamicConfig, name=name, slug=config_id)
        config = DynamicConfig(project=project, name=name, slug=slug)
        fields = _validated_fields(
            project,
            config,
            {
                "description": description,
                "is_enabled": is_enabled,
                "tags": tags,
                "id_type": id_type,
                "review_required": review_required,
                "schema": schema,
                "default_value": {} if default_value is None else default_value,
                "rules": rules or [],
            },
        )
        for key, value in fields.items():
            setattr(config, key, value)
        config.status = ConfigStatus.ENABLED if config.is_enabled else ConfigStatus.DISABLED
        save_created(
            project=project,
            actor=actor,
            entity=config,
            entity_type=ENTITY_TYPE,
            action_type="config_create",
            changes={
                "name": {"old": None, "new": config.name},
                "defaultValue": {"old": None, "new": config.default_value},
                "rules": {"old": None, "new": config.rules},
            },
        )
    return config


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
    schema: Any = UNSET,
    tags: Any = UNSET,
    id_type: Any = UNSET,
    review_required: Any = UNSET,
    expected_version: int | None = None,
) -> ChangeOutcome:
    """Partial update: only the fields passed change (a full update passes them all)."""
    require_editor(actor, "dynamic configs")
    config = _config(project, config_id, lock=True)
    given = {
        "name": name,
        "description": description,
        "is_enabled": is_enabled,
        "rules": rules,
        "default_value": default_value,
        "schema": schema,
        "tags": tags,
        "id_type": id_type,
        "review_required": review_required,
    }
    fields = {key: value for key, value in given.items() if value is not UNSET}
    if config.status == ConfigStatus.ARCHIVED and fields.keys() & {"is_enabled", "rules"}:
        raise ValidationError.for_field("status", "Dynamic config is archived: unarchive it first.")
    if "is_enabled" in fields:
        fields["status"] = ConfigStatus.ENABLED if fields["is_enabled"] else ConfigStatus.DISABLED
    action = "config_conditions_update" if set(fields) == {"rules"} else "config_update"
    return _submit(
        project=project,
        actor=actor,
        config=config,
        fields=fields,
        action=action,
        expected_version=expected_version,
    )


def _lifecycle(
    *, project: Project, actor: Actor, config_id: str, action: str, fields: dict[str, Any]
) -> ChangeOutcome:
    require_editor(actor, "dynamic configs")
    config = _config(project, config_id, lock=True)
    if config.status == ConfigStatus.ARCHIVED and action != "config_unarchive":
        raise ValidationError.for_field("status", "Dynamic config is archived: unarchive it first.")
    return _submit(
        project=project, actor=actor, config=config, fields=fields, action=action, scope=None
    )


@transaction.atomic
def dynamic_config_enable(*, project: Project, actor: Actor, config_id: str) -> ChangeOutcome:
    return _lifecycle(
        project=project,
        actor=actor,
        config_id=config_id,
        action="config_enable",
        fields={"is_enabled": True, "status": ConfigStatus.ENABLED},
    )


@transaction.atomic
def dynamic_config_disable(*, project: Project, actor: Actor, config_id: str) -> ChangeOutcome:
    return _lifecycle(
        project=project,
        actor=actor,
        config_id=config_id,
        action="config_disable",
        fields={"is_enabled": False, "status": ConfigStatus.DISABLED},
    )


@transaction.atomic
def dynamic_config_archive(*, project: Project, actor: Actor, config_id: str) -> ChangeOutcome:
    """Archived configs evaluate as disabled (their default value)."""
    return _lifecycle(
        project=project,
        actor=actor,
        config_id=config_id,
        action="config_archive",
        fields={"status": ConfigStatus.ARCHIVED},
    )


@transaction.atomic
def dynamic_config_unarchive(*, project: Project, actor: Actor, config_id: str) -> ChangeOutcome:
    config = _config(project, config_id, lock=True)
    if config.status != ConfigStatus.ARCHIVED:
        raise ValidationError.for_field("status", "Dynamic config is not archived.")
    return _lifecycle(
        project=project,
        actor=actor,
        config_id=config_id,
        action="config_unarchive",
        fields={"status": ConfigStatus.ENABLED if config.is_enabled else ConfigStatus.DISABLED},
    )


def _rules_change(
    *, project: Project, actor: Actor, config: DynamicConfig, edit: rule_lists.RuleListEdit
) -> ChangeOutcome:
    if config.status == ConfigStatus.ARCHIVED:
        raise ValidationError.for_field("status", "Dynamic config is archived: unarchive it first.")
    try:
        return _submit(
            project=project,
            actor=actor,
            config=config,
            fields={"rules": edit.rules},
            action="config_conditions_update",
        )
    except ValidationError as exc:
        if edit.rename is None:
            raise
        raise rule_lists.renamed_rule_errors(exc, edit.rename) from None


def _locked_for_rules(project: Project, actor: Actor, config_id: str) -> DynamicConfig:
    require_editor(actor, "dynamic configs")
    return _config(project, config_id, lock=True)


@transaction.atomic
def dynamic_config_rules_replace(
    *, project: Project, actor: Actor, config_id: str, rules: list[dict[str, Any]]
) -> ChangeOutcome:
    config = _locked_for_rules(project, actor, config_id)
    return _rules_change(
        project=project, actor=actor, config=config, edit=rule_lists.RuleListEdit(rules)
    )


@transaction.atomic
def dynamic_config_rule_add(
    *, project: Project, actor: Actor, config_id: str, rule: dict[str, Any]
) -> ChangeOutcome:
    config = _locked_for_rules(project, actor, config_id)
    edit = rule_lists.rule_appended(config.rules, rule)
    return _rules_change(project=project, actor=actor, config=config, edit=edit)


@transaction.atomic
def dynamic_config_rule_update(
    *, project: Project, actor: Actor, config_id: str, rule_id: str, rule: Mapping[str, Any]
) -> ChangeOutcome:
    config = _locked_for_rules(project, actor, config_id)
    edit = rule_lists.rule_updated(config.rules, rule_id, rule)
    return _rules_change(project=project, actor=actor, config=config, edit=edit)


@transaction.atomic
def dynamic_config_rule_delete(
    *, project: Project, actor: Actor, config_id: str, rule_id: str
) -> ChangeOutcome:
    config = _locked_for_rules(project, actor, config_id)
    edit = rule_lists.rule_removed(config.rules, rule_id)
    return _rules_change(project=project, actor=actor, config=config, edit=edit)


@register_change("config_delete", entity_type=ENTITY_TYPE, current_version=_current_version)
def _apply_delete(
    *, project: Project, actor: Actor, entity_id: str, change: dict, review: Review | None = None
) -> None:
    config = _config(project, entity_id, lock=True)
    audit_record(
        project=project,
        actor=actor,
        action_type="config_delete",
        entity_type=ENTITY_TYPE,
        entity_id=config.slug,
        entity_name=config.name,
        changes={"name": {"old": config.name, "new": None}},
        review=review,
    )
    forget_versions(config, ENTITY_TYPE)
    config.delete()
    ruleset_changes.schedule_rebuild(project.id)


@transaction.atomic
def dynamic_config_delete(*, project: Project, actor: Actor, config_id: str) -> ChangeOutcome:
    require_editor(actor, "dynamic configs")
    config = _config(project, config_id, lock=True)
    return submit_change(
        project=project,
        actor=actor,
        change_type="config_delete",
        entity=config,
        change={"action": "config_delete"},
        scope=None,
    )
