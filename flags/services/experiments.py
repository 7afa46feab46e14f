"""Experiments: groups, allocation, layer placement, targeting, overrides and the lifecycle
setup -> active -> decision_made / abandoned (and archived).

Lifecycle actions are stored as their intent (``{"action": "experiment_start", ...}``) and
applied by ``_apply_action``: a start committed from a review starts the experiment when it is
committed, and the state checks run again then. Field updates are ``{"action":
"experiment_update", "fields": {...}}``.

What may change when:
- setup: everything;
- active: metadata, allocation, targeting gate, group names/values/descriptions (not the group
  ids, sizes or count);
- decision_made / abandoned / archived: metadata only.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone

from console.actors import Actor
from console.errors import ValidationError
from console.models import Project, Review
from console.services.audit import audit_record
from console.services.reviews import ChangeOutcome, register_change
from console.validation import (
    distinct_strings,
    json_number,
    validate_bool,
    validate_id_type,
    validate_name,
    validate_tags,
    validate_text,
)
from flags.models import (
    EXPERIMENT_STATUSES_HOLDING_BUCKETS,
    Experiment,
    ExperimentStatus,
    Gate,
    Holdout,
    Layer,
    new_rule_id,
    new_salt,
)
from flags.services.allocation import buckets_for, layer_taken_buckets
from flags.services.common import (
    NO_REVIEW,
    UNSET,
    bump,
    check_expected_version,
    current_version_of,
    ensure_name_free,
    environment_names,
    forget_versions,
    get_entity,
    new_identity,
    require_editor,
    save_created,
    save_unique,
    save_version,
    submit_change,
)
from flags.services.layers import check_values_against_layer
from ruleset import changes as ruleset_changes
from segments.selectors import segment_reference_problem

ENTITY_TYPE = "experiment"
LABEL = "Experiment"
NOT_STARTED = "Experiment has not yet started"
MAX_GROUPS = 50
METADATA_FIELDS = {"name", "description", "hypothesis", "tags", "review_required"}
ACTIVE_FIELDS = METADATA_FIELDS | {"allocation", "targeting_gate_id", "groups"}
DEFAULT_GROUPS = (
    {"name": "Control", "size": 50, "parameterValues": {}},
    {"name": "Test", "size": 50, "parameterValues": {}},
)


def _experiment(project: Project, experiment_id: str, *, lock: bool = False) -> Experiment:
    return get_entity(Experiment, project=project, slug=experiment_id, label=LABEL, lock=lock)


# -- validation -------------------------------------------------------------------------------


def _size(value: Any, path: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValidationError.for_field(path, "A size is a number from 0 to 100.")
    try:
        size = Decimal(str(value))
    except InvalidOperation:
        raise ValidationError.for_field(path, "A size is a number from 0 to 100.") from None
    if not Decimal(0) <= size <= Decimal(100) or size * 10 != (size * 10).to_integral_value():
        raise ValidationError.for_field(path, "A size is from 0 to 100 in steps of 0.1.")
    return size


def validate_groups(raw: Any, *, old_groups: list[dict[str, Any]], path: str = "groups"):
    if not isinstance(raw, list) or not 2 <= len(raw) <= MAX_GROUPS:
        raise ValidationError.for_field(path, f"An experiment has 2 to {MAX_GROUPS} groups.")
    old_by_id = {g["id"]: g for g in old_groups}
    old_by_name = {g["name"].lower(): g for g in old_groups}
    out: list[dict[str, Any]] = []
    names: set[str] = set()
    ids: set[str] = set()
    total = Decimal(0)
    for index, item in enumerate(raw):
        item_path = f"{path}[{index}]"
        if not isinstance(item, Mapping):
            raise ValidationError.for_field(item_path, "A group is an object.")
        name = item.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > 100:
            raise ValidationError.for_field(
                f"{item_path}.name", "A group name has 1 to 100 characters."
            )
        name = name.strip()
        if name.lower() in names:
            raise ValidationError.for_field(f"{item_path}.name", f"Duplicate group name '{name}'.")
        names.add(name.lower())
        group_id = item.get("id")
        if group_id in (None, ""):
            previous = old_by_name.get(name.lower())
            group_id = previous["id"] if previous and previous["id"] not in ids else new_rule_id()
        elif not isinstance(group_id, str) or len(group_id) > 32:
            raise ValidationError.for_field(
                f"{item_path}.id", "A group id is a string of up to 32 characters."
            )
        if group_id in ids:
            raise ValidationError.for_field(f"{item_path}.id", f"Duplicate group id '{group_id}'.")
        ids.add(group_id)
        size = _size(item.get("size"), f"{item_path}.size")
        total += size
        values = item.get("parameterValues", {})
        if values is None:
            values = {}
        if not isinstance(values, dict):
            raise ValidationError.for_field(
                f"{item_path}.parameterValues", "parameterValues is a JSON object."
            )
        disabled = item.get("disabled", old_by_id.get(group_id, {}).get("disabled", False))
        out.append(
            {
                "id": group_id,
                "name": name,
                "size": json_number(size),
                "parameterValues": values,
                "disabled": validate_bool(disabled, f"{item_path}.disabled"),
                "description": validate_text(item.get("description"), f"{item_path}.description"),
            }
        )
    if total != Decimal(100):
        raise ValidationError.for_field(
            path, f"Group sizes must add up to 100 (they add up to {total:g})."
        )
    return out


def _allocation(value: Any) -> Decimal:
    try:
        allocation = _size(value, "allocation")
    except ValidationError:
        raise ValidationError.for_field(
            "allocation", "allocation is a percentage from 0 to 100 in steps of 0.1."
        ) from None
    return allocation


def _group_id_of(experiment: Experiment, groups: list[dict[str, Any]], ref: Any, path: str) -> str:
    if isinstance(ref, str):
        for group in groups:
            if ref in (group["id"], group["name"]):
                return group["id"]
    raise ValidationError.for_field(path, f"No group '{ref}' in experiment '{experiment.slug}'.")


def _validated_fields(
    project: Project, experiment: Experiment, fields: Mapping[str, Any]
) -> dict[str, Any]:
    """Public fields normalised to JSON; checks the status allows them."""
    allowed = {
        ExperimentStatus.SETUP: None,
        ExperimentStatus.ACTIVE: ACTIVE_FIELDS,
    }.get(experiment.status, METADATA_FIELDS)
    kept: dict[str, Any] = {}
    for key, value in fields.items():
        if key == "control_group_id" and value in (experiment.control_group_id, None, ""):
            continue
        if allowed is not None and key not in allowed:
            if _unchanged(experiment, key, value):
                continue
            raise ValidationError.for_field(
                _wire_name(key),
                f"Cannot change {_wire_name(key)} of an experiment that is {experiment.status}.",
            )
        kept[key] = value
    fields = kept
    out: dict[str, Any] = {}
    for key, value in fields.items():
        if key == "name":
            name = validate_name(value)
            ensure_name_free(project=project, model=Experiment, name=name, exclude_pk=experiment.pk)
            out[key] = name
        elif key in ("description", "hypothesis"):
            out[key] = validate_text(value, key)
        elif key == "review_required":
            out[key] = validate_bool(value, "reviewSettings.requiredReview")
        elif key == "tags":
            out[key] = validate_tags(value)
        elif key == "id_type":
            out[key] = validate_id_type(value)
        elif key == "allocation":
            out[key] = json_number(_allocation(value))
        elif key == "groups":
            groups = validate_groups(value, old_groups=experiment.groups)
            if experiment.status == ExperimentStatus.ACTIVE:
                before = [(g["id"], g["size"]) for g in experiment.groups]
                if [(g["id"], g["size"]) for g in groups] != before:
                    raise ValidationError.for_field(
                        "groups", "The groups and sizes of a running experiment cannot change."
                    )
            out[key] = groups
        elif key == "control_group_id":
            out[key] = value
        elif key == "layer_id":
            if (
                value not in (None, "")
                and not Layer.objects.filter(project=project, slug=value).exists()
            ):
                raise ValidationError.for_field("layerID", f"Unknown layer '{value}'.")
            out[key] = value or None
        elif key == "targeting_gate_id":
            if (
                value not in (None, "")
                and not Gate.objects.filter(project=project, slug=value).exists()
            ):
                raise ValidationError.for_field("targetingGateID", f"Unknown gate '{value}'.")
            out[key] = value or None
        else:
            raise ValidationError.for_field(key, f"Unknown experiment field '{key}'.")
    groups = out.get("groups", experiment.groups)
    if "control_group_id" in out or "groups" in out:
        given = out.get("control_group_id")
        if given:
            out["control_group_id"] = _group_id_of(experiment, groups, given, "controlGroupID")
        elif experiment.control_group_id in {g["id"] for g in groups}:
            out.pop("control_group_id", None)
        else:
            out["control_group_id"] = groups[0]["id"]
    layer_slug = out.get("layer_id", experiment.layer.slug if experiment.layer_id else None)
    if layer_slug and out.keys() & {"groups", "layer_id", "id_type"}:
        layer = Layer.objects.get(project=project, slug=layer_slug)
        id_type = out.get("id_type", experiment.id_type)
        if layer.id_type != id_type:
            raise ValidationError.for_field(
                "layerID",
                f"Layer '{layer.slug}' is for {layer.id_type}; the experiment uses {id_type}.",
            )
        for index, group in enumerate(groups):
            check_values_against_layer(
                layer.parameters,
                group["parameterValues"],
                f"groups[{index}].parameterValues",
                layer.slug,
            )
    return out


def _unchanged(experiment: Experiment, key: str, value: Any) -> bool:
    """Whether a field sent as it already is (a full update resends every field)."""
    if key == "layer_id":
        return (value or None) == (experiment.layer.slug if experiment.layer_id else None)
    if key == "targeting_gate_id":
        current = experiment.targeting_gate.slug if experiment.targeting_gate_id else None
        return (value or None) == current
    if key == "allocation":
        try:
            return Decimal(str(value)) == Decimal(experiment.allocation)
        except (InvalidOperation, ValueError):
            return False
    if key == "groups":
        try:
            return validate_groups(value, old_groups=experiment.groups) == experiment.groups
        except ValidationError:
            return False
    return getattr(experiment, key, object()) == value


def _wire_name(field: str) -> str:
    return {
        "id_type": "idType",
        "layer_id": "layerID",
        "targeting_gate_id": "targetingGateID",
        "control_group_id": "controlGroupID",
        "review_required": "reviewSettings.requiredReview",
    }.get(field, field)


def validate_experiment_overrides(
    project: Project, experiment: Experiment, raw: Any, groups: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Statsig's ``ExperimentOverridesDto``; group references become group ids."""
    groups = experiment.groups if groups is None else groups
    if not isinstance(raw, Mapping):
        raise ValidationError.for_field("overrides", "overrides must be an object.")
    environments = set(environment_names(project))
    out: dict[str, Any] = {"overrides": [], "userIDOverrides": []}
    conditional = raw.get("overrides") or []
    if not isinstance(conditional, list):
        raise ValidationError.for_field("overrides", "overrides must be a list.")
    gates = set(Gate.objects.filter(project=project).values_list("slug", flat=True))
    for index, item in enumerate(conditional):
        path = f"overrides[{index}]"
        if not isinstance(item, Mapping):
            raise ValidationError.for_field(path, "An override is an object.")
        kind = item.get("type")
        if kind not in ("gate", "segment"):
            raise ValidationError.for_field(f"{path}.type", "type is gate or segment.")
        ref = item.get("id")
        if not isinstance(ref, str) or not ref:
            raise ValidationError.for_field(f"{path}.id", f"id names a {kind}.")
        problem = (
            (None if ref in gates else f"Unknown gate '{ref}'.")
            if kind == "gate"
            else segment_reference_problem(project=project, segment_id=ref)
        )
        if problem:
            raise ValidationError.for_field(f"{path}.id", problem)
        environment = item.get("environment")
        if environment is not None and environment not in environments:
            raise ValidationError.for_field(
                f"{path}.environment", f"Unknown environment '{environment}'."
            )
        out["overrides"].append(
            {
                "type": kind,
                "id": ref,
                "groupID": _group_id_of(experiment, groups, item.get("groupID"), f"{path}.groupID"),
                "environment": environment,
            }
        )
    id_overrides = raw.get("userIDOverrides") or []
    if not isinstance(id_overrides, list):
        raise ValidationError.for_field("userIDOverrides", "userIDOverrides must be a list.")
    for index, item in enumerate(id_overrides):
        path = f"userIDOverrides[{index}]"
        if not isinstance(item, Mapping):
            raise ValidationError.for_field(path, "An override is an object.")
        environment = item.get("environment")
        if environment is not None and environment not in environments:
            raise ValidationError.for_field(
                f"{path}.environment", f"Unknown environment '{environment}'."
            )
        unit_type = item.get("unitType") or experiment.id_type
        if not isinstance(unit_type, str):
            raise ValidationError.for_field(f"{path}.unitType", "unitType is a unit type.")
        out["userIDOverrides"].append(
            {
                "groupID": _group_id_of(experiment, groups, item.get("groupID"), f"{path}.groupID"),
                "ids": distinct_strings(item.get("ids") or [], f"{path}.ids"),
                "environment": environment,
                "unitType": unit_type,
            }
        )
    return out


# -- applying ---------------------------------------------------------------------------------


def _set_fields(project: Project, experiment: Experiment, fields: Mapping[str, Any]) -> None:
    placement_changed = False
    for key, value in fields.items():
        if key == "layer_id":
            layer = Layer.objects.get(project=project, slug=value) if value else None
            if layer != experiment.layer:
                # Buckets of the old layer mean nothing in the new one.
                experiment.buckets = []
                placement_changed = True
            experiment.layer = layer
        elif key == "targeting_gate_id":
            experiment.targeting_gate = (
                Gate.objects.get(project=project, slug=value) if value else None
            )
        elif key == "allocation":
            experiment.allocation = Decimal(str(value))
            placement_changed = True
        else:
            setattr(experiment, key, value)
    if placement_changed and experiment.status in EXPERIMENT_STATUSES_HOLDING_BUCKETS:
        _place_keeping(experiment)


def _place_keeping(experiment: Experiment) -> None:
    wanted = int(Decimal(experiment.allocation) * 10)
    layer = experiment.layer
    if layer is not None:
        Layer.objects.select_for_update().filter(pk=layer.pk).first()
        taken = layer_taken_buckets(layer, exclude_pk=experiment.pk)
        label = f"Layer '{layer.slug}'"
    else:
        taken, label = set(), "The experiment"
    experiment.buckets = buckets_for(
        current=experiment.buckets,
        wanted=wanted,
        taken=taken,
        seed=experiment.allocation_salt,
        layer_label=label,
    )


def _snapshot(experiment: Experiment) -> dict[str, Any]:
    return {
        "name": experiment.name,
        "description": experiment.description,
        "hypothesis": experiment.hypothesis,
        "tags": experiment.tags,
        "idType": experiment.id_type,
        "groups": experiment.groups,
        "controlGroupID": experiment.control_group_id,
        "allocation": json_number(experiment.allocation),
        "layerID": experiment.layer.slug if experiment.layer_id else None,
        "targetingGateID": experiment.targeting_gate.slug if experiment.targeting_gate_id else None,
        "status": experiment.status,
        "launchedGroupID": experiment.launched_group_id or None,
        "decisionReason": experiment.decision_reason,
        "scheduledStartTime": _ms(experiment.scheduled_start_time),
        "overrides": experiment.overrides,
        "reviewSettings.requiredReview": experiment.review_required,
        "buckets": len(experiment.buckets),
    }


def _ms(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp() * 1000)


def _save_and_record(
    *,
    project: Project,
    actor: Actor,
    experiment: Experiment,
    before: dict[str, Any],
    action: str,
    review: Review | None,
) -> Experiment:
    from console.services.audit import field_changes

    changes = field_changes(before, _snapshot(experiment))
    if not changes and action == "experiment_update":
        return experiment
    bump(experiment, actor)
    save_version(
        project=project,
        actor=actor,
        entity=experiment,
        entity_type=ENTITY_TYPE,
        action_type=action,
        changes=changes,
        review=review,
    )
    return experiment


def _apply_update(
    *, project: Project, actor: Actor, entity_id: str, change: dict, review: Review | None = None
) -> Experiment:
    experiment = _experiment(project, entity_id, lock=True)
    check_expected_version(experiment, change.get("expected_version"))
    fields = _validated_fields(project, experiment, change["fields"])
    before = _snapshot(experiment)
    _set_fields(project, experiment, fields)
    return _save_and_record(
        project=project,
        actor=actor,
        experiment=experiment,
        before=before,
        action="experiment_update",
        review=review,
    )


def _require_status(experiment: Experiment, *allowed: str, message: str | None = None) -> None:
    if experiment.status not in allowed:
        raise ValidationError.for_field(
            "status",
            message or f"Experiment is {experiment.status}; this needs {' or '.join(allowed)}.",
        )


def _transition(
    project: Project, experiment: Experiment, change: Mapping[str, Any]
) -> Experiment | None:
    """Applies a lifecycle action to the locked experiment; returns a different experiment when
    the action created one (restart as new)."""
    action = change["action"]
    now = timezone.now()
    if action == "experiment_start":
        _require_status(
            experiment, ExperimentStatus.SETUP, message="Experiment has already started."
        )
        experiment.status = ExperimentStatus.ACTIVE
        experiment.start_time = now
        experiment.scheduled_start_time = None
        _place_keeping(experiment)
    elif action == "experiment_decision_make":
        if experiment.status == ExperimentStatus.SETUP:
            raise ValidationError.for_field("status", NOT_STARTED)
        _require_status(experiment, ExperimentStatus.ACTIVE)
        experiment.launched_group_id = _group_id_of(
            experiment, experiment.groups, change["group_id"], "id"
        )
        experiment.decision_reason = change.get("reason", "")
        experiment.decision_time = experiment.end_time = now
        experiment.status = ExperimentStatus.DECISION_MADE
        if change.get("remove_targeting"):
            experiment.targeting_gate = None
    elif action == "experiment_abandon":
        if experiment.status == ExperimentStatus.SETUP:
            raise ValidationError.for_field("status", NOT_STARTED)
        _require_status(experiment, ExperimentStatus.ACTIVE)
        experiment.status = ExperimentStatus.ABANDONED
        experiment.decision_reason = change.get("reason", "")
        experiment.decision_time = experiment.end_time = now
        experiment.buckets = []
    elif action == "experiment_reset":
        # Restart: a new salt (fresh assignment), running from now.
        _require_status(
            experiment,
            ExperimentStatus.ACTIVE,
            ExperimentStatus.DECISION_MADE,
            ExperimentStatus.ABANDONED,
        )
        experiment.salt = new_salt()
        experiment.status = ExperimentStatus.ACTIVE
        experiment.start_time = now
        experiment.end_time = experiment.decision_time = None
        experiment.decision_reason = ""
        experiment.launched_group_id = ""
        _place_keeping(experiment)
    elif action == "experiment_schedule_start":
        _require_status(
            experiment,
            ExperimentStatus.SETUP,
            message="Only an experiment in setup can be scheduled.",
        )
        experiment.scheduled_start_time = datetime.fromtimestamp(
            change["scheduled_time"] / 1000, tz=UTC
        )
    elif action == "experiment_archive":
        if experiment.status == ExperimentStatus.ACTIVE:
            raise ValidationError.for_field(
                "status", "Experiment is running: make a decision or abandon it before archiving."
            )
        _require_status(
            experiment,
            ExperimentStatus.SETUP,
            ExperimentStatus.DECISION_MADE,
            ExperimentStatus.ABANDONED,
        )
        experiment.status = ExperimentStatus.ARCHIVED
        experiment.archive_reason = change.get("reason", "")
        experiment.scheduled_start_time = None
        experiment.buckets = []
    elif action == "experiment_unarchive":
        _require_status(experiment, ExperimentStatus.ARCHIVED)
        if experiment.launched_group_id:
            experiment.status = ExperimentStatus.DECISION_MADE
        elif experiment.start_time is not None:
            experiment.status = ExperimentStatus.ABANDONED
        else:
            experiment.status = ExperimentStatus.SETUP
        experiment.archive_reason = ""
        if experiment.status in EXPERIMENT_STATUSES_HOLDING_BUCKETS:
            _place_keeping(experiment)
    elif action in ("experiment_groups_enable", "experiment_groups_disable"):
        if experiment.status == ExperimentStatus.ARCHIVED:
            raise ValidationError.for_field("status", "Experiment is archived.")
        wanted = {
            _group_id_of(experiment, experiment.groups, ref, f"group_names[{i}]")
            for i, ref in enumerate(change["groups"])
        }
        disabled = action == "experiment_groups_disable"
        experiment.groups = [
            {**g, "disabled": disabled} if g["id"] in wanted else g for g in experiment.groups
        ]
    elif action == "experiment_overrides_update":
        if experiment.status == ExperimentStatus.ARCHIVED:
            raise ValidationError.for_field("status", "Experiment is archived.")
        experiment.overrides = validate_experiment_overrides(
            project, experiment, change["overrides"]
        )
    elif action == "experiment_restart_as_new":
        return _restart_as_new(project, experiment, change)
    else:  # pragma: no cover - registered actions only
        raise ValidationError.for_field("action", f"Unknown action '{action}'.")
    return None


def _restart_as_new(project: Project, old: Experiment, change: Mapping[str, Any]) -> Experiment:
    _require_status(
        old, ExperimentStatus.ACTIVE, ExperimentStatus.DECISION_MADE, ExperimentStatus.ABANDONED
    )
    name, slug = new_identity(project=project, model=Experiment, name=change["name"], slug=None)
    now = timezone.now()
    new = Experiment(
        project=project,
        name=name,
        slug=slug,
        description=old.description,
        hypothesis=old.hypothesis,
        id_type=old.id_type,
        tags=list(old.tags),
        review_required=old.review_required,
        groups=[{**g, "id": new_rule_id()} for g in old.groups],
        allocation=old.allocation,
        layer=old.layer,
        targeting_gate=old.targeting_gate,
        status=ExperimentStatus.ACTIVE,
        start_time=now,
    )
    old_ids = [g["id"] for g in old.groups]
    control_index = old_ids.index(old.control_group_id) if old.control_group_id in old_ids else 0
    new.control_group_id = new.groups[control_index]["id"]
    # The new experiment takes over the old one's layer buckets.
    inherited = list(old.buckets)
    if old.status == ExperimentStatus.ACTIVE:
        old.status = ExperimentStatus.ABANDONED
        old.decision_reason = f"Restarted as new experiment '{slug}'."
        old.decision_time = old.end_time = now
    old.buckets = []
    old.save()
    new.buckets = inherited
    new.creator_id, new.creator_name, new.creator_email = (
        old.modifier_id,
        old.modifier_name,
        old.modifier_email,
    )
    new.modifier_id, new.modifier_name, new.modifier_email = (
        old.modifier_id,
        old.modifier_name,
        old.modifier_email,
    )
    _place_keeping(new)
    save_unique(new)
    new.holdouts.set(old.holdouts.all())
    return new


def _apply_action(
    *, project: Project, actor: Actor, entity_id: str, change: dict, review: Review | None = None
) -> Experiment:
    experiment = _experiment(project, entity_id, lock=True)
    before = _snapshot(experiment)
    created = _transition(project, experiment, change)
    _save_and_record(
        project=project,
        actor=actor,
        experiment=experiment,
        before=before,
        action=change["action"],
        review=review,
    )
    if created is not None:
        save_created(
            project=project,
            actor=actor,
            entity=created,
            entity_type=ENTITY_TYPE,
            action_type="experiment_create",
            changes={"restartedFrom": {"old": None, "new": experiment.slug}},
            review=review,
        )
        return created
    return experiment


_current_version = current_version_of(Experiment)
register_change("experiment_update", entity_type=ENTITY_TYPE, current_version=_current_version)(
    _apply_update
)
LIFECYCLE_ACTIONS = (
    "experiment_start",
    "experiment_decision_make",
    "experiment_abandon",
    "experiment_reset",
    "experiment_restart_as_new",
    "experiment_schedule_start",
    "experiment_archive",
    "experiment_unarchive",
    "experiment_groups_enable",
    "experiment_groups_disable",
    "experiment_overrides_update",
)
for _action in LIFECYCLE_ACTIONS:
    register_change(_action, entity_type=ENTITY_TYPE, current_version=_current_version)(
        _apply_action
    )


def _submit_action(
    *, project: Project, actor: Actor, experiment_id: str, change: dict[str, Any]
) -> ChangeOutcome:
    """Validate the action against the experiment as it is now (fail fast), then apply it or
    file it for review; applying re-checks."""
    require_editor(actor, "experiments")
    experiment = _experiment(project, experiment_id, lock=True)
    with transaction.atomic():
        sid = transaction.savepoint()
        try:
            _transition(project, _experiment(project, experiment_id, lock=True), change)
        finally:
            transaction.savepoint_rollback(sid)
    return submit_change(
        project=project,
        actor=actor,
        change_type=change["action"],
        entity=experiment,
        change=change,
        scope=None,
    )


# -- public services --------------------------------------------------------------------------


@transaction.atomic
def experiment_create(
    *,
    project: Project,
    actor: Actor,
    name: str,
    experiment_id: str | None = None,
    description: str = "",
    hypothesis: str = "",
    id_type: str = "userID",
    groups: list[dict[str, Any]] | None = None,
    control_group_id: str | None = None,
    allocation: float | int | str = 100,
    layer_id: str | None = None,
    targeting_gate_id: str | None = None,
    tags: list[str] | None = None,
    review_required: bool = False,
) -> Experiment:
    """A new experiment in setup (groups default to Control/Test 50/50)."""
    require_editor(actor, "experiments")
    with transaction.atomic():
        name, slug = new_identity(project=project, model=Experiment, name=name, slug=experiment_id)
        experiment = Experiment(project=project, name=name, slug=slug)
        fields = {
            "description": description,
            "hypothesis": hypothesis,
            "id_type": id_type,
            "groups": [dict(g) for g in DEFAULT_GROUPS] if groups is None else groups,
            "allocation": allocation,
            "layer_id": layer_id,
            "targeting_gate_id": targeting_gate_id,
            "tags": tags,
            "review_required": review_required,
        }
        if control_group_id:
            fields["control_group_id"] = control_group_id
        validated = _validated_fields(project, experiment, fields)
        _set_fields(project, experiment, validated)
        save_created(
            project=project,
            actor=actor,
            entity=experiment,
            entity_type=ENTITY_TYPE,
            action_type="experiment_create",
            changes={
                key: {"old": None, "new": value} for key, value in _snapshot(experiment).items()
            },
        )
        for holdout in Holdout.objects.filter(
            project=project, is_global=True, id_type=experiment.id_type
        ):
            holdout.experiments.add(experiment)
    return experiment


@transaction.atomic
def experiment_update(
    *,
    project: Project,
    actor: Actor,
    experiment_id: str,
    name: Any = UNSET,
    description: Any = UNSET,
    hypothesis: Any = UNSET,
    id_type: Any = UNSET,
    groups: Any = UNSET,
    control_group_id: Any = UNSET,
    allocation: Any = UNSET,
    layer_id: Any = UNSET,
    targeting_gate_id: Any = UNSET,
    tags: Any = UNSET,
    review_required: Any = UNSET,
    expected_version: int | None = None,
) -> ChangeOutcome:
    """Partial update (PATCH); a full update passes every field. Changes to an experiment in
    setup are never reviewed (nobody sees it yet); changes that reach users are."""
    require_editor(actor, "experiments")
    experiment = _experiment(project, experiment_id, lock=True)
    check_expected_version(experiment, expected_version)
    given = {
        "name": name,
        "description": description,
        "hypothesis": hypothesis,
        "id_type": id_type,
        "groups": groups,
        "control_group_id": control_group_id,
        "allocation": allocation,
        "layer_id": layer_id,
        "targeting_gate_id": targeting_gate_id,
        "tags": tags,
        "review_required": review_required,
    }
    fields = _validated_fields(
        project, experiment, {k: v for k, v in given.items() if v is not UNSET}
    )
    reaches_users = experiment.status != ExperimentStatus.SETUP and bool(
        set(fields) - METADATA_FIELDS
    )
    turns_reviews_off = experiment.review_required and fields.get("review_required") is False
    return submit_change(
        project=project,
        actor=actor,
        change_type="experiment_update",
        entity=experiment,
        change={
            "action": "experiment_update",
            "fields": fields,
            "expected_version": expected_version,
        },
        scope=None if reaches_users or turns_reviews_off else NO_REVIEW,
    )


@transaction.atomic
def experiment_start(*, project: Project, actor: Actor, experiment_id: str) -> ChangeOutcome:
    return _submit_action(
        project=project,
        actor=actor,
        experiment_id=experiment_id,
        change={"action": "experiment_start"},
    )


@transaction.atomic
def experiment_make_decision(
    *,
    project: Project,
    actor: Actor,
    experiment_id: str,
    group_id: str,
    decision_reason: str,
    remove_targeting: bool = False,
) -> ChangeOutcome:
    """Ships ``group_id`` (a group id or name): everyone in the experiment gets its values."""
    reason = validate_text(decision_reason, "decisionReason")
    if not reason.strip():
        raise ValidationError.for_field("decisionReason", "A decision reason is required.")
    return _submit_action(
        project=project,
        actor=actor,
        experiment_id=experiment_id,
        change={
            "action": "experiment_decision_make",
            "group_id": group_id,
            "reason": reason,
            "remove_targeting": validate_bool(remove_targeting, "removeTargeting"),
        },
    )


@transaction.atomic
def experiment_abandon(
    *, project: Project, actor: Actor, experiment_id: str, decision_reason: str
) -> ChangeOutcome:
    reason = validate_text(decision_reason, "decisionReason")
    if not reason.strip():
        raise ValidationError.for_field("decisionReason", "A decision reason is required.")
    return _submit_action(
        project=project,
        actor=actor,
        experiment_id=experiment_id,
        change={"action": "experiment_abandon", "reason": reason},
    )


@transaction.atomic
def experiment_reset(*, project: Project, actor: Actor, experiment_id: str) -> ChangeOutcome:
    """Restarts the experiment with a new salt (users are assigned afresh)."""
    return _submit_action(
        project=project,
        actor=actor,
        experiment_id=experiment_id,
        change={"action": "experiment_reset"},
    )


@transaction.atomic
def experiment_restart_as_new(
    *, project: Project, actor: Actor, experiment_id: str, name: str
) -> ChangeOutcome:
    """A copy under a new name, started now, taking over the layer space; the old one is
    abandoned if it was running. ``result`` is the new experiment."""
    clean = validate_name(name)
    ensure_name_free(project=project, model=Experiment, name=clean, slug=None)
    return _submit_action(
        project=project,
        actor=actor,
        experiment_id=experiment_id,
        change={"action": "experiment_restart_as_new", "name": clean},
    )


@transaction.atomic
def experiment_schedule_start(
    *, project: Project, actor: Actor, experiment_id: str, scheduled_time: int
) -> ChangeOutcome:
    """Starts the experiment at ``scheduled_time`` (epoch ms) via the beat job."""
    if (
        isinstance(scheduled_time, bool)
        or not isinstance(scheduled_time, int)
        or scheduled_time <= 0
    ):
        raise ValidationError.for_field("scheduledTime", "scheduledTime is epoch milliseconds.")
    if scheduled_time < int(timezone.now().timestamp() * 1000) - 60_000:
        raise ValidationError.for_field("scheduledTime", "scheduledTime is in the past.")
    return _submit_action(
        project=project,
        actor=actor,
        experiment_id=experiment_id,
        change={"action": "experiment_schedule_start", "scheduled_time": scheduled_time},
    )


@transaction.atomic
def experiment_archive(
    *, project: Project, actor: Actor, experiment_id: str, archive_reason: str = ""
) -> ChangeOutcome:
    return _submit_action(
        project=project,
        actor=actor,
        experiment_id=experiment_id,
        change={
            "action": "experiment_archive",
            "reason": validate_text(archive_reason, "archiveReason"),
        },
    )


@transaction.atomic
def experiment_unarchive(*, project: Project, actor: Actor, experiment_id: str) -> ChangeOutcome:
    return _submit_action(
        project=project,
        actor=actor,
        experiment_id=experiment_id,
        change={"action": "experiment_unarchive"},
    )


@transaction.atomic
def experiment_groups_set_enabled(
    *, project: Project, actor: Actor, experiment_id: str, group_names: list[str], enabled: bool
) -> ChangeOutcome:
    """``enable_groups`` / ``disable_groups``: units bucketed into a disabled group get the
    default value (the group's rule stays, with passPercentage 0)."""
    if not isinstance(group_names, list) or not group_names:
        raise ValidationError.for_field("group_names", "group_names lists at least one group.")
    return _submit_action(
        project=project,
        actor=actor,
        experiment_id=experiment_id,
        change={
            "action": "experiment_groups_enable" if enabled else "experiment_groups_disable",
            "groups": list(group_names),
        },
    )


@transaction.atomic
def experiment_overrides_set(
    *, project: Project, actor: Actor, experiment_id: str, overrides: Mapping[str, Any]
) -> ChangeOutcome:
    """Replaces the overrides (``ExperimentOverridesDto``)."""
    require_editor(actor, "experiments")
    experiment = _experiment(project, experiment_id, lock=True)
    normalised = validate_experiment_overrides(project, experiment, overrides)
    return _submit_action(
        project=project,
        actor=actor,
        experiment_id=experiment_id,
        change={"action": "experiment_overrides_update", "overrides": normalised},
    )


@transaction.atomic
def experiment_overrides_add(
    *, project: Project, actor: Actor, experiment_id: str, overrides: Mapping[str, Any]
) -> ChangeOutcome:
    experiment = _experiment(project, experiment_id, lock=True)
    extra = validate_experiment_overrides(project, experiment, overrides)
    current = {"overrides": [], "userIDOverrides": [], **experiment.overrides}
    merged = {
        "overrides": [*current["overrides"], *extra["overrides"]],
        "userIDOverrides": [*current["userIDOverrides"], *extra["userIDOverrides"]],
    }
    return experiment_overrides_set(
        project=project, actor=actor, experiment_id=experiment_id, overrides=merged
    )


@transaction.atomic
def experiment_overrides_remove(
    *, project: Project, actor: Actor, experiment_id: str, overrides: Mapping[str, Any]
) -> ChangeOutcome:
    experiment = _experiment(project, experiment_id, lock=True)
    removed = validate_experiment_overrides(project, experiment, overrides)
    current = {"overrides": [], "userIDOverrides": [], **experiment.overrides}
    gone_conditional = {(o["type"], o["id"], o["environment"]) for o in removed["overrides"]}
    gone_ids = {
        (o["groupID"], o["environment"], o["unitType"], i)
        for o in removed["userIDOverrides"]
        for i in o["ids"]
    }
    kept_ids = []
    for item in current["userIDOverrides"]:
        ids = [
            i
            for i in item["ids"]
            if (item["groupID"], item["environment"], item["unitType"], i) not in gone_ids
        ]
        if ids:
            kept_ids.append({**item, "ids": ids})
    remaining = {
        "overrides": [
            o
            for o in current["overrides"]
            if (o["type"], o["id"], o["environment"]) not in gone_conditional
        ],
        "userIDOverrides": kept_ids,
    }
    return experiment_overrides_set(
        project=project, actor=actor, experiment_id=experiment_id, overrides=remaining
    )


@register_change("experiment_delete", entity_type=ENTITY_TYPE, current_version=_current_version)
def _apply_delete(
    *, project: Project, actor: Actor, entity_id: str, change: dict, review: Review | None = None
) -> Experiment:
    experiment = _experiment(project, entity_id, lock=True)
    audit_record(
        project=project,
        actor=actor,
        action_type="experiment_delete",
        entity_type=ENTITY_TYPE,
        entity_id=experiment.slug,
        entity_name=experiment.name,
        changes={"name": {"old": experiment.name, "new": None}},
        review=review,
    )
    forget_versions(experiment, ENTITY_TYPE)
    # The deleted instance cannot reach its relations any more: keep what outputs show.
    experiment.holdout_ids_at_delete = sorted(experiment.holdouts.values_list("slug", flat=True))
    experiment.delete()
    ruleset_changes.schedule_rebuild(project.id)
    return experiment


@transaction.atomic
def experiment_delete(*, project: Project, actor: Actor, experiment_id: str) -> ChangeOutcome:
    """Deletes the experiment and frees its layer space. ``result``: the deleted experiment
    (``pk`` None; its holdouts' ids in ``holdout_ids_at_delete``)."""
    require_editor(actor, "experiments")
    experiment = _experiment(project, experiment_id, lock=True)
    return submit_change(
        project=project,
        actor=actor,
        change_type="experiment_delete",
        entity=experiment,
        change={"action": "experiment_delete"},
        scope=None,
    )


def experiments_start_scheduled(*, now: datetime | None = None) -> int:
    """Starts every experiment whose scheduled start has come (beat, every minute)."""
    from console.actors import Actor as _Actor

    now = now or timezone.now()
    due = list(
        Experiment.objects.filter(
            status=ExperimentStatus.SETUP, scheduled_start_time__lte=now
        ).select_related("project")
    )
    started = 0
    system = _Actor.system("Scheduled start")
    for experiment in due:
        try:
            with transaction.atomic():
                _apply_action(
                    project=experiment.project,
                    actor=system,
                    entity_id=experiment.slug,
                    change={"action": "experiment_start"},
                )
            started += 1
        except ValidationError:
            continue
    return started
