"""The experiment bodies of the console API (``ExperimentCreateDto``,
``ExperimentPartialUpdateDto``, ``ExperimentFullUpdateDto``): every field Statsig's experiment
object accepts, and a 400 naming any other field, so nothing sent is silently dropped.

``EXPERIMENT_FIELDS`` is the one list of the fields that map onto service keywords; the
settings kept as sent come from ``flags.services.experiments.settings.SETTINGS``; ``status``
and ``launchedGroupID`` are lifecycle actions (``experiment_status_set``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers

from flags.api.common import VersionField
from flags.api.inputs import (
    DESCRIPTION_MAX,
    NAME_MAX,
    FlagReviewSettingsInputSerializer,
    JSONObjectField,
    TypeField,
    plain,
    review_settings_fields,
    setting_field,
)
from flags.api.outputs import EXPERIMENT_STATUSES
from flags.services.experiments.analysis_settings import ANALYSIS_WIRE_NAMES
from flags.services.experiments.settings import SETTINGS

# Wire name -> ``experiment_create``/``experiment_update`` keyword.
EXPERIMENT_FIELDS = {
    "name": "name",
    "description": "description",
    "hypothesis": "hypothesis",
    "idType": "id_type",
    "groups": "groups",
    "controlGroupID": "control_group_id",
    "allocation": "allocation",
    "layerID": "layer_id",
    "targetingGateID": "targeting_gate_id",
    "tags": "tags",
    "creatorID": "creator_id",
    "creatorEmail": "creator_email",
    # Read by Pulse (``flags.services.experiments.analysis_settings``).
    **ANALYSIS_WIRE_NAMES,
}
# Lifecycle fields: applied after the other fields, through the lifecycle table.
LIFECYCLE_FIELDS = ("status", "launchedGroupID")


class ExperimentGroupInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=NAME_MAX)
    id = serializers.CharField(max_length=64, required=False, allow_null=True, allow_blank=True)
    size = serializers.FloatField(min_value=0, max_value=100)
    parameterValues = JSONObjectField(required=False, allow_null=True)
    disabled = serializers.BooleanField(required=False)
    description = serializers.CharField(
        max_length=DESCRIPTION_MAX, required=False, allow_blank=True
    )
    foreignGroupID = serializers.CharField(
        max_length=NAME_MAX, required=False, allow_blank=True, allow_null=True
    )


class StrictSerializer(serializers.Serializer):
    """Refuses a field it does not declare (400 naming it) instead of dropping it."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            unknown = [key for key in data if key not in self.fields]
            if unknown:
                raise serializers.ValidationError(
                    {
                        name: [f"{name} is not a field of an experiment that this console keeps."]
                        for name in unknown
                    }
                )
        return super().to_internal_value(data)


class ExperimentBodySerializer(StrictSerializer):
    """Every field of ``ExperimentCreateDto``/``ExperimentPartialUpdateDto`` we keep."""

    name = serializers.CharField(max_length=NAME_MAX, required=False)
    description = serializers.CharField(
        max_length=DESCRIPTION_MAX, required=False, allow_blank=True, allow_null=True
    )
    hypothesis = serializers.CharField(
        max_length=DESCRIPTION_MAX, required=False, allow_blank=True, allow_null=True
    )
    idType = serializers.CharField(max_length=64, required=False)
    groups = ExperimentGroupInputSerializer(many=True, required=False)
    controlGroupID = serializers.CharField(
        max_length=NAME_MAX, required=False, allow_null=True, allow_blank=True
    )
    allocation = serializers.FloatField(min_value=0, max_value=100, required=False)
    layerID = serializers.CharField(
        max_length=NAME_MAX, required=False, allow_null=True, allow_blank=True
    )
    targetingGateID = serializers.CharField(
        max_length=NAME_MAX, required=False, allow_null=True, allow_blank=True
    )
    tags = serializers.ListField(child=serializers.CharField(max_length=100), required=False)
    reviewSettings = FlagReviewSettingsInputSerializer(required=False)
    creatorID = serializers.CharField(
        max_length=64, required=False, allow_blank=True, allow_null=True
    )
    creatorEmail = serializers.CharField(
        max_length=254, required=False, allow_blank=True, allow_null=True
    )
    status = TypeField(
        EXPERIMENT_STATUSES,
        required=False,
        help_text="Moves the experiment through its lifecycle (start, ship, abandon, ...).",
    )
    launchedGroupID = serializers.CharField(
        max_length=NAME_MAX,
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="The group to ship (its id or name): makes the decision.",
    )

    # Analysis settings (read by Pulse); values are checked by the service.
    primaryMetrics = serializers.JSONField(required=False)
    secondaryMetrics = serializers.JSONField(required=False)
    bonferroniCorrection = serializers.JSONField(required=False)
    defaultConfidenceInterval = serializers.JSONField(required=False)

    def get_fields(self):
        fields = super().get_fields()
        for name, setting in SETTINGS.items():
            fields[name] = setting_field(setting)
        return fields


class ExperimentPartialInputSerializer(ExperimentBodySerializer):
    """``ExperimentPartialUpdateDto``; ``id`` may be sent (Terraform does) but not changed."""

    id = serializers.CharField(max_length=NAME_MAX, required=False)
    version = VersionField()


def experiment_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    """A validated body as ``flags.services.experiments`` keywords (the lifecycle fields
    excepted)."""
    fields = {
        keyword: plain(data[wire]) for wire, keyword in EXPERIMENT_FIELDS.items() if wire in data
    }
    for key in ("creator_id", "creator_email"):
        if fields.get(key) is None:
            fields.pop(key, None)
    for group in fields.get("groups", []):
        # A group without an id is new; the service creates its id.
        if not group.get("id"):
            group.pop("id", None)
    settings = {name: plain(data[name]) for name in SETTINGS if name in data}
    if settings:
        fields["settings"] = settings
    fields.update(review_settings_fields(data))
    return fields


def lifecycle_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    """``status`` and ``launchedGroupID`` as ``experiment_status_set`` keywords."""
    return {
        "status": data.get("status") or None,
        "launched_group_id": data.get("launchedGroupID") or None,
    }
