"""Statsig's output shapes for the flags console API (reference §1.6: ``ExternalGateDto``,
``DynamicConfigDto``, ``ExternalExperimentDto``, ``LayerContractDto``, ``HoldoutDto``,
``OverrideDto``, ``TagDto``).

Each shape has a serializer (documentation only: it describes the JSON in the OpenAPI document)
and a builder function that makes the JSON from our entities, explicitly, field by field.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone
from rest_framework import serializers

from console import selectors as console_selectors
from console.actors import CONSOLE_API_ACTOR_NAME
from console.api.reviews import active_review_output
from console.models import Project, Review
from console.services.reviews import open_review_for
from events.selectors import exposure_totals
from flags.api.inputs import AnyValueField, JSONObjectField, TypeField, setting_field
from flags.models import DynamicConfig, Experiment, FlagEntity, Gate, Holdout, Layer, Tag
from flags.services import as_sent
from flags.services.configs import CONFIG_SETTINGS
from flags.services.experiments.settings import SETTINGS
from flags.services.gates import GATE_SETTINGS
from flags.services.settings import settings_output

# Review entity types, as the flags services register their change kinds.
GATE = "gate"
DYNAMIC_CONFIG = "dynamic_config"
EXPERIMENT = "experiment"
LAYER = "layer"
# ``checksPerHour`` averages the checks of this last stretch of time.
CHECKS_WINDOW = timedelta(hours=24)

# -- shared pieces ----------------------------------------------------------------------------


class FlagConditionOutputSerializer(serializers.Serializer):
    type = serializers.CharField()
    operator = serializers.CharField(allow_null=True)
    targetValue = AnyValueField(allow_null=True)
    field = serializers.CharField(allow_null=True)
    customID = serializers.CharField(allow_null=True)


class RolloutSerializer(serializers.Serializer):
    time = serializers.IntegerField()
    passPercent = serializers.FloatField()


class FlagRuleOutputSerializer(serializers.Serializer):
    id = serializers.CharField()
    baseID = serializers.CharField()
    name = serializers.CharField()
    passPercentage = serializers.FloatField()
    conditions = FlagConditionOutputSerializer(many=True)
    environments = serializers.ListField(child=serializers.CharField(), allow_null=True)
    completedAutomatedRollouts = RolloutSerializer(many=True)
    pendingAutomatedRollouts = RolloutSerializer(many=True)


class ConfigRuleOutputSerializer(FlagRuleOutputSerializer):
    returnValue = JSONObjectField()
    returnValueJson5 = serializers.CharField()


class RulesOutputSerializer(serializers.Serializer):
    rules = FlagRuleOutputSerializer(many=True)


class ConfigRulesOutputSerializer(serializers.Serializer):
    rules = ConfigRuleOutputSerializer(many=True)


class ReviewerSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    email = serializers.CharField()


class ReviewSettingsOutputSerializer(serializers.Serializer):
    requiredReview = serializers.BooleanField()
    allowedReviewers = ReviewerSerializer(many=True)


class FlagActiveReviewSerializer(serializers.Serializer):
    reviewID = serializers.CharField()
    reviewStatus = serializers.CharField()
    description = serializers.CharField()


class OwnerSerializer(serializers.Serializer):
    ownerID = serializers.CharField()
    ownerType = serializers.ChoiceField(choices=["USER", "SDK_KEY"])
    ownerName = serializers.CharField()
    ownerEmail = serializers.CharField()


class MonitoringMetricSerializer(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.CharField()


class EntityMetadataSerializer(serializers.Serializer):
    """The metadata every Statsig entity carries."""

    id = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    idType = serializers.CharField()
    lastModifierID = serializers.CharField(allow_null=True)
    lastModifiedTime = serializers.IntegerField(allow_null=True)
    lastModifierName = serializers.CharField(allow_null=True)
    lastModifierEmail = serializers.CharField(allow_null=True)
    creatorID = serializers.CharField(allow_null=True)
    createdTime = serializers.IntegerField()
    creatorName = serializers.CharField(allow_null=True)
    creatorEmail = serializers.CharField(allow_null=True)
    targetApps = serializers.ListField(child=serializers.CharField())
    holdoutIDs = serializers.ListField(child=serializers.CharField())
    tags = serializers.ListField(child=serializers.CharField())
    team = serializers.CharField(allow_null=True)
    teamID = serializers.CharField(allow_null=True)
    owner = OwnerSerializer(allow_null=True)
    version = serializers.IntegerField()


class ReviewableMetadataSerializer(EntityMetadataSerializer):
    reviewSettings = ReviewSettingsOutputSerializer()
    activeReview = FlagActiveReviewSerializer(allow_null=True)


# -- gates ------------------------------------------------------------------------------------

GATE_STATUSES = ["In Progress", "Launched", "Disabled", "Archived"]
GATE_TYPES = ["TEMPORARY", "PERMANENT", "STALE", "TEMPLATE"]


class GateOutputSerializer(ReviewableMetadataSerializer):
    """``ExternalGateDto``."""

    isEnabled = serializers.BooleanField()
    status = serializers.ChoiceField(choices=GATE_STATUSES)
    type = TypeField(GATE_TYPES)
    typeReason = serializers.CharField()
    rules = FlagRuleOutputSerializer(many=True)
    checksPerHour = serializers.IntegerField()
    measureMetricLifts = serializers.BooleanField()
    monitoringMetrics = MonitoringMetricSerializer(many=True)
    isTemplate = serializers.BooleanField()
    releasePipelineID = serializers.CharField(allow_null=True)


class OverridesOutputSerializer(serializers.Serializer):
    """``OverrideDto`` (gates and holdouts)."""

    class EnvironmentOverrideSerializer(serializers.Serializer):
        environment = serializers.CharField(allow_null=True)
        unitID = serializers.CharField()
        passingIDs = serializers.ListField(child=serializers.CharField())
        failingIDs = serializers.ListField(child=serializers.CharField())

    passingUserIDs = serializers.ListField(child=serializers.CharField())
    failingUserIDs = serializers.ListField(child=serializers.CharField())
    passingCustomIDs = serializers.ListField(child=serializers.CharField())
    failingCustomIDs = serializers.ListField(child=serializers.CharField())
    environmentOverrides = EnvironmentOverrideSerializer(many=True)


# -- dynamic configs --------------------------------------------------------------------------


class DynamicConfigOutputSerializer(ReviewableMetadataSerializer):
    """``DynamicConfigDto``."""

    isEnabled = serializers.BooleanField()
    status = serializers.ChoiceField(choices=["Enabled", "Disabled", "Archived"])
    rules = ConfigRuleOutputSerializer(many=True)
    defaultValue = JSONObjectField()
    defaultValueJson5 = serializers.CharField()
    schema = serializers.CharField(allow_null=True)
    schemaJson5 = serializers.CharField(allow_null=True)
    checksPerHour = serializers.IntegerField()
    isTemplate = serializers.BooleanField()
    releasePipelineID = serializers.CharField(allow_null=True)


# -- experiments ------------------------------------------------------------------------------

EXPERIMENT_STATUSES = [
    "active",
    "setup",
    "decision_made",
    "abandoned",
    "archived",
    "experiment_stopped",
    "assignment_stopped",
]


class ExperimentGroupOutputSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    size = serializers.FloatField()
    parameterValues = JSONObjectField()
    disabled = serializers.BooleanField()
    description = serializers.CharField(allow_blank=True)
    foreignGroupID = serializers.CharField(allow_null=True)


class ExperimentMetricSerializer(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.CharField()
    direction = serializers.ChoiceField(choices=["increase", "decrease"], required=False)
    hypothesizedValue = serializers.FloatField(required=False)


class ExperimentOutputSerializer(ReviewableMetadataSerializer):
    """``ExternalExperimentDto``."""

    hypothesis = serializers.CharField(allow_blank=True)
    status = serializers.ChoiceField(choices=EXPERIMENT_STATUSES)
    groups = ExperimentGroupOutputSerializer(many=True)
    controlGroupID = serializers.CharField(allow_null=True)
    allocation = serializers.FloatField()
    layerID = serializers.CharField(allow_null=True)
    targetingGateID = serializers.CharField(allow_null=True, allow_blank=True)
    inlineTargetingRulesJSON = serializers.CharField()
    primaryMetrics = ExperimentMetricSerializer(many=True)
    secondaryMetrics = ExperimentMetricSerializer(many=True)
    bonferroniCorrection = serializers.BooleanField()
    defaultConfidenceInterval = serializers.ChoiceField(choices=["80", "90", "95", "98", "99"])
    launchedGroupID = serializers.CharField(allow_null=True)
    startTime = serializers.IntegerField(allow_null=True)
    endTime = serializers.IntegerField(allow_null=True)
    decisionTime = serializers.IntegerField(allow_null=True)
    decisionReason = serializers.CharField(allow_null=True, allow_blank=True)
    scheduledStartTime = serializers.IntegerField(allow_null=True)
    healthChecks = serializers.ListField(child=JSONObjectField())
    healthCheckStatus = serializers.ChoiceField(choices=["PASSED", "FAILED", "WAITING", "WARNING"])
    subtype = serializers.CharField(allow_null=True)
    externalExperimentName = serializers.CharField(allow_null=True)

    def get_fields(self):
        """With the settings kept as sent (``flags.services.experiments.settings``); one never
        sent reads as null."""
        fields = super().get_fields()
        for name, setting in SETTINGS.items():
            fields[name] = setting_field(replace(setting, nullable=True))
        return fields


class ExperimentOverridesOutputSerializer(serializers.Serializer):
    """``ExperimentOverridesDto``."""

    class ExperimentConditionalOverrideSerializer(serializers.Serializer):
        type = TypeField(["gate", "segment"])
        id = serializers.CharField()
        name = serializers.CharField()
        groupID = serializers.CharField()
        environment = serializers.CharField(allow_null=True)

    class ExperimentIDOverrideSerializer(serializers.Serializer):
        groupID = serializers.CharField()
        ids = serializers.ListField(child=serializers.CharField())
        environment = serializers.CharField(allow_null=True)
        unitType = serializers.CharField()

    overrides = ExperimentConditionalOverrideSerializer(many=True)
    userIDOverrides = ExperimentIDOverrideSerializer(many=True)


# -- layers -----------------------------------------------------------------------------------

PARAMETER_TYPES = ["string", "number", "boolean", "object", "array"]


class LayerParameterSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    type = TypeField(PARAMETER_TYPES)
    defaultValue = AnyValueField(allow_null=True)


class LayerOutputSerializer(ReviewableMetadataSerializer):
    """``LayerContractDto``."""

    isImplicitLayer = serializers.BooleanField()
    parameters = LayerParameterSerializer(many=True)


class LayerOverridesOutputSerializer(serializers.Serializer):
    """``LayerOverridesDto``."""

    class LayerConditionalOverrideSerializer(serializers.Serializer):
        type = TypeField(["gate", "segment"])
        name = serializers.CharField()
        experimentName = serializers.CharField()
        groupName = serializers.CharField()

    class LayerIDOverrideSerializer(serializers.Serializer):
        groupName = serializers.CharField()
        ids = serializers.ListField(child=serializers.CharField())
        idType = serializers.CharField()
        environment = serializers.CharField(allow_null=True)
        experimentName = serializers.CharField(allow_null=True)

    conditionalOverrides = LayerConditionalOverrideSerializer(many=True)
    idOverrides = LayerIDOverrideSerializer(many=True)


# -- holdouts ---------------------------------------------------------------------------------


class HoldoutOutputSerializer(EntityMetadataSerializer):
    """``HoldoutDto``."""

    isEnabled = serializers.BooleanField()
    isGlobal = serializers.BooleanField()
    passPercentage = serializers.FloatField()
    gateIDs = serializers.ListField(child=serializers.CharField())
    experimentIDs = serializers.ListField(child=serializers.CharField())
    layerIDs = serializers.ListField(child=serializers.CharField())
    targetingGateID = serializers.CharField(allow_null=True, allow_blank=True)
    monitoringMetrics = MonitoringMetricSerializer(many=True)


# -- tags -------------------------------------------------------------------------------------


class TagOutputSerializer(serializers.Serializer):
    """``TagDto``."""

    id = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    isCore = serializers.BooleanField()


# -- builders ---------------------------------------------------------------------------------


def epoch_ms(value: datetime | None) -> int | None:
    return int(value.timestamp() * 1000) if value is not None else None


def checks_per_hour(*, project: Project, kind: str, names: Iterable[str]) -> dict[str, int]:
    """``checksPerHour`` of each named gate or config: its checks (exposures) over the last 24
    hours, per hour. One aggregated query for a whole page of entities."""
    totals = exposure_totals(
        project=project, kind=kind, names=names, since=timezone.now() - CHECKS_WINDOW
    )
    hours = CHECKS_WINDOW / timedelta(hours=1)
    return {name: round(count / hours) for name, count in totals.items()}


def _checks_per_hour_of(
    entity: Gate | DynamicConfig, *, project: Project, kind: str, checks: Mapping[str, int] | None
) -> int:
    """From the page's ``checks`` when a list read them for every row, else one query."""
    if checks is None:
        checks = checks_per_hour(project=project, kind=kind, names=[entity.slug])
    return checks.get(entity.slug, 0)


def rule_output(rule: dict[str, Any], *, with_return_value: bool = False) -> dict[str, Any]:
    out = {
        "id": rule["id"],
        "baseID": rule.get("baseID") or rule["id"],
        "name": rule["name"],
        "passPercentage": rule["passPercentage"],
        "conditions": [as_sent.condition_output(c) for c in rule.get("conditions", [])],
        "environments": as_sent.rule_environments_output(rule),
        "completedAutomatedRollouts": [],
        "pendingAutomatedRollouts": [],
    }
    if with_return_value:
        value = rule.get("returnValue") or {}
        out["returnValue"] = value
        out["returnValueJson5"] = rule.get("returnValueJson5") or json.dumps(value, indent=2)
    return out


def _owner(entity: FlagEntity) -> dict[str, Any] | None:
    if not entity.creator_id:
        return None
    return {
        "ownerID": entity.creator_id,
        "ownerType": "SDK_KEY" if entity.creator_name == CONSOLE_API_ACTOR_NAME else "USER",
        "ownerName": entity.creator_name,
        "ownerEmail": entity.creator_email,
    }


def metadata_output(entity: FlagEntity, *, holdout_ids: list[str] | None = None) -> dict:
    return {
        "id": entity.slug,
        "name": entity.name,
        "description": entity.description,
        "idType": entity.id_type,
        "lastModifierID": entity.modifier_id or None,
        "lastModifiedTime": epoch_ms(entity.modified_at),
        "lastModifierName": entity.modifier_name or None,
        "lastModifierEmail": entity.modifier_email or None,
        "creatorID": entity.creator_id or None,
        "createdTime": epoch_ms(entity.created_at),
        "creatorName": entity.creator_name or None,
        "creatorEmail": entity.creator_email or None,
        "targetApps": [],
        "holdoutIDs": holdout_ids or [],
        "tags": list(entity.tags),
        "team": None,
        "teamID": None,
        "owner": _owner(entity),
        "version": entity.version,
    }


def reviewable_output(
    entity: FlagEntity,
    *,
    project: Project,
    entity_type: str,
    reviews: Mapping[str, Review] | None,
    members: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """``reviews`` and ``members`` (the open reviews and the allowed reviewers of a listed page,
    read once for all its rows): read for this entity when None."""
    if reviews is None:
        review = open_review_for(project=project, entity_type=entity_type, entity_id=entity.slug)
    else:
        review = reviews.get(entity.slug)
    return {
        "reviewSettings": {
            "requiredReview": entity.review_required,
            "allowedReviewers": allowed_reviewers_output(
                project, entity.allowed_reviewers, members=members
            ),
        },
        "activeReview": active_review_output(review),
    }


def allowed_reviewers_output(
    project: Project, user_ids: list[str], *, members: Mapping[str, Any] | None = None
) -> list[dict[str, str]]:
    """The entity's allowed reviewers who are members now, with their current name and email
    (a member who left drops out); ``members``: the project's members by id, when read."""
    if members is None:
        members = console_selectors.members_by_id(project=project, user_ids=user_ids)
    return [
        {
            "id": user_id,
            "name": console_selectors.person_name(members[user_id]),
            "email": members[user_id].email,
        }
        for user_id in user_ids
        if user_id in members
    ]


def _holdout_ids(entity: Gate | Experiment | Layer) -> list[str]:
    if entity.pk is None:  # just deleted (delete endpoints render what was removed)
        return []
    return sorted(holdout.slug for holdout in entity.holdouts.all())


def gate_output(
    gate: Gate,
    *,
    project: Project,
    reviews: Mapping[str, Review] | None = None,
    checks: Mapping[str, int] | None = None,
    members: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        **metadata_output(gate, holdout_ids=_holdout_ids(gate)),
        **reviewable_output(
            gate, project=project, entity_type=GATE, reviews=reviews, members=members
        ),
        "isEnabled": gate.is_enabled,
        "status": gate.status,
        "type": gate.type,
        "typeReason": "NONE",
        "rules": [rule_output(rule) for rule in gate.rules],
        "checksPerHour": _checks_per_hour_of(gate, project=project, kind="gate", checks=checks),
        **settings_output(GATE_SETTINGS, gate.settings),
        "releasePipelineID": None,
    }


def overrides_output(overrides: dict[str, Any]) -> dict[str, Any]:
    return {
        "passingUserIDs": list(overrides.get("passingUserIDs", [])),
        "failingUserIDs": list(overrides.get("failingUserIDs", [])),
        "passingCustomIDs": list(overrides.get("passingCustomIDs", [])),
        "failingCustomIDs": list(overrides.get("failingCustomIDs", [])),
        "environmentOverrides": [
            {
                "environment": item.get("environment"),
                "unitID": item.get("unitID") or "userID",
                "passingIDs": list(item.get("passingIDs", [])),
                "failingIDs": list(item.get("failingIDs", [])),
            }
            for item in overrides.get("environmentOverrides", [])
        ],
    }


def dynamic_config_output(
    config: DynamicConfig,
    *,
    project: Project,
    reviews: Mapping[str, Review] | None = None,
    checks: Mapping[str, int] | None = None,
    members: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    schema = json.dumps(config.schema) if config.schema is not None else None
    return {
        **metadata_output(config, holdout_ids=[]),
        **reviewable_output(
            config, project=project, entity_type=DYNAMIC_CONFIG, reviews=reviews, members=members
        ),
        "isEnabled": config.is_enabled,
        "status": config.status,
        "rules": [rule_output(rule, with_return_value=True) for rule in config.rules],
        "defaultValue": config.default_value,
        "defaultValueJson5": config.default_value_json5
        or json.dumps(config.default_value, indent=2),
        "schema": schema,
        "schemaJson5": schema,
        "checksPerHour": _checks_per_hour_of(config, project=project, kind="config", checks=checks),
        **settings_output(CONFIG_SETTINGS, config.settings),
        "releasePipelineID": None,
    }


def experiment_group_output(group: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": group["id"],
        "name": group["name"],
        "size": group["size"],
        "parameterValues": group.get("parameterValues") or {},
        "disabled": bool(group.get("disabled", False)),
        "description": group.get("description") or "",
        "foreignGroupID": group.get("foreignGroupID"),
    }


def experiment_output(
    experiment: Experiment,
    *,
    project: Project,
    reviews: Mapping[str, Review] | None = None,
    members: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    allocation = float(experiment.allocation)
    return {
        **metadata_output(experiment, holdout_ids=_holdout_ids(experiment)),
        **reviewable_output(
            experiment, project=project, entity_type=EXPERIMENT, reviews=reviews, members=members
        ),
        "hypothesis": experiment.hypothesis,
        "status": experiment.status,
        "groups": [experiment_group_output(group) for group in experiment.groups],
        "controlGroupID": experiment.control_group_id or None,
        "allocation": int(allocation) if allocation.is_integer() else allocation,
        "layerID": experiment.layer.slug if experiment.layer_id else None,
        "targetingGateID": experiment.targeting_gate.slug if experiment.targeting_gate_id else "",
        "inlineTargetingRulesJSON": "{}",
        "primaryMetrics": list(experiment.primary_metrics),
        "secondaryMetrics": list(experiment.secondary_metrics),
        "bonferroniCorrection": experiment.bonferroni_correction,
        "defaultConfidenceInterval": str(experiment.default_confidence_interval),
        # The settings kept as sent (targetApps and team among them).
        **settings_output(SETTINGS, experiment.settings),
        "launchedGroupID": experiment.launched_group_id or None,
        "startTime": epoch_ms(experiment.start_time),
        "endTime": epoch_ms(experiment.end_time),
        "decisionTime": epoch_ms(experiment.decision_time),
        "decisionReason": experiment.decision_reason or None,
        "scheduledStartTime": epoch_ms(experiment.scheduled_start_time),
        "healthChecks": [],
        "healthCheckStatus": "PASSED",
        # Warehouse-native analysis-only experiments: none here.
        "subtype": None,
        "externalExperimentName": None,
    }


def experiment_overrides_output(overrides: dict[str, Any]) -> dict[str, Any]:
    return {
        "overrides": [
            {
                "type": item["type"],
                "id": item["id"],
                "name": item["id"],
                "groupID": item["groupID"],
                "environment": item.get("environment"),
            }
            for item in overrides.get("overrides", [])
        ],
        "userIDOverrides": [
            {
                "groupID": item["groupID"],
                "ids": list(item.get("ids", [])),
                "environment": item.get("environment"),
                "unitType": item.get("unitType") or "userID",
            }
            for item in overrides.get("userIDOverrides", [])
        ],
    }


def layer_parameter_output(parameter: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": parameter["name"],
        "type": parameter["type"],
        "defaultValue": parameter.get("defaultValue"),
    }


def layer_output(
    layer: Layer,
    *,
    project: Project,
    reviews: Mapping[str, Review] | None = None,
    members: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        **metadata_output(layer, holdout_ids=_holdout_ids(layer)),
        **reviewable_output(
            layer, project=project, entity_type=LAYER, reviews=reviews, members=members
        ),
        "isImplicitLayer": False,
        "parameters": [layer_parameter_output(p) for p in layer.parameters],
    }


def layer_overrides_output(overrides: dict[str, Any]) -> dict[str, Any]:
    return {
        "conditionalOverrides": [
            {
                "type": item["type"],
                "name": item["name"],
                "experimentName": item["experimentName"],
                "groupName": item["groupName"],
            }
            for item in overrides.get("conditionalOverrides", [])
        ],
        "idOverrides": [
            {
                "groupName": item["groupName"],
                "ids": list(item.get("ids", [])),
                "idType": item["idType"],
                "environment": item.get("environment"),
                "experimentName": item.get("experimentName"),
            }
            for item in overrides.get("idOverrides", [])
        ],
    }


def holdout_output(holdout: Holdout) -> dict[str, Any]:
    saved = holdout.pk is not None  # a deleted holdout (or an old version) has no links to read
    percentage = float(holdout.pass_percentage)
    return {
        **metadata_output(holdout),
        "isEnabled": holdout.is_enabled,
        "isGlobal": holdout.is_global,
        "passPercentage": int(percentage) if percentage.is_integer() else percentage,
        "gateIDs": sorted(gate.slug for gate in holdout.gates.all()) if saved else [],
        "experimentIDs": sorted(e.slug for e in holdout.experiments.all()) if saved else [],
        "layerIDs": sorted(layer.slug for layer in holdout.layers.all()) if saved else [],
        "targetingGateID": None,
        "monitoringMetrics": [],
    }


def tag_output(tag: Tag) -> dict[str, Any]:
    return {
        "id": tag.public_id,
        "name": tag.name,
        "description": tag.description,
        "isCore": tag.is_core,
    }
