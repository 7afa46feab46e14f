"""Input shapes shared by the flags console API views (Statsig's ``RuleDto``, ``Condition``,
overrides and archive bodies).

These serializers check the *structure* of a body (types, lengths, required keys) so a malformed
request is answered with field paths such as ``rules[0].conditions[1].operator``. What a rule
*means* (operators valid for a condition type, referenced gates and segments, environments of
the project) is validated by the services with ``ruleset.conditions``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from flags.services.settings import Setting

ID_TYPE_MAX = 100
DESCRIPTION_MAX = 1000
NAME_MAX = 100
MAX_OVERRIDE_IDS = 2000


@extend_schema_field({"type": "string"})
class TypeField(serializers.ChoiceField):
    """A ``type`` with fixed choices, documented as a string that lists them: Statsig names
    several different choice sets ``type``, and one OpenAPI enum per property name keeps the
    document free of naming collisions."""

    def __init__(self, choices, **kwargs):
        kwargs.setdefault("help_text", f"One of: {', '.join(choices)}.")
        super().__init__(choices, **kwargs)


class AnyValueField(serializers.JSONField):
    """A JSON value of any type (documented as such in the OpenAPI document)."""


class JSONObjectField(serializers.DictField):
    """A JSON object with arbitrary values (``returnValue``, ``defaultValue``, ``parameterValues``)."""

    child = AnyValueField(allow_null=True)


class FlagConditionInputSerializer(serializers.Serializer):
    type = serializers.CharField(max_length=64)
    operator = serializers.CharField(
        max_length=64, required=False, allow_null=True, allow_blank=True
    )
    targetValue = AnyValueField(required=False, allow_null=True)
    field = serializers.CharField(max_length=200, required=False, allow_null=True, allow_blank=True)
    customID = serializers.CharField(
        max_length=ID_TYPE_MAX, required=False, allow_null=True, allow_blank=True
    )


class FlagRuleInputSerializer(serializers.Serializer):
    """``RuleDto``: one rule of a gate, dynamic config or segment."""

    name = serializers.CharField(max_length=200)
    passPercentage = serializers.FloatField(min_value=0, max_value=100)
    conditions = FlagConditionInputSerializer(many=True)
    environments = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, allow_null=True
    )
    id = serializers.CharField(max_length=200, required=False, allow_blank=True)
    baseID = serializers.CharField(max_length=200, required=False, allow_blank=True)
    returnValue = JSONObjectField(required=False, allow_null=True)
    returnValueJson5 = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="The value as JSON5 (comments, trailing commas), returned verbatim.",
    )


class RulePartialInputSerializer(serializers.Serializer):
    """``RuleUpdateDto``: every field optional."""

    name = serializers.CharField(max_length=200, required=False)
    passPercentage = serializers.FloatField(min_value=0, max_value=100, required=False)
    conditions = FlagConditionInputSerializer(many=True, required=False)
    environments = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, allow_null=True
    )
    returnValue = JSONObjectField(required=False, allow_null=True)
    returnValueJson5 = serializers.CharField(required=False, allow_blank=True)


class ReviewerInputSerializer(serializers.Serializer):
    """Statsig's reviewer ``{id, name, email}``: the member is known by ``id``; ``name`` and
    ``email`` (as read back) are accepted and not needed."""

    id = serializers.CharField(max_length=64, help_text="The member's user id (as `creatorID`).")
    name = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    email = serializers.CharField(required=False, allow_blank=True, allow_null=True)


class FlagReviewSettingsInputSerializer(serializers.Serializer):
    requiredReview = serializers.BooleanField(required=False)
    allowedReviewers = ReviewerInputSerializer(
        many=True,
        required=False,
        help_text="The project members who alone may approve this entity's reviews; empty: any "
        "member other than the author.",
    )


@extend_schema_field({"oneOf": [{"type": "string"}, {"type": "object"}]})
class ReviewerRefField(serializers.Field):
    """A member in a review's ``allowed_reviewers`` change: their id, or ``{id, name?, email?}``
    as entities read them back; the id as a string."""

    default_error_messages = {"invalid": "Send a member's id, or an object with their id."}

    def to_internal_value(self, data: Any) -> str:
        user_id = data.get("id") if isinstance(data, dict) else data
        if isinstance(user_id, int) and not isinstance(user_id, bool):
            return str(user_id)
        if not isinstance(user_id, str) or not user_id.strip():
            self.fail("invalid")
        return user_id.strip()

    def to_representation(self, value: Any) -> Any:
        return value


def allowed_reviewers_change_field() -> serializers.ListField:
    return serializers.ListField(
        child=ReviewerRefField(),
        required=False,
        max_length=100,
        help_text="The members who alone may approve the entity's reviews (empty: any member "
        "other than the author), as `reviewSettings.allowedReviewers`.",
    )


def review_settings_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    """``reviewSettings`` of a validated body as service keywords (only the keys sent)."""
    review_settings = data.get("reviewSettings") or {}
    fields: dict[str, Any] = {}
    if "requiredReview" in review_settings:
        fields["review_required"] = review_settings["requiredReview"]
    if "allowedReviewers" in review_settings:
        fields["allowed_reviewers"] = [
            reviewer["id"] for reviewer in review_settings["allowedReviewers"]
        ]
    return fields


class ArchiveInputSerializer(serializers.Serializer):
    forceArchive = serializers.BooleanField(required=False, default=False)
    archiveReason = serializers.CharField(
        max_length=DESCRIPTION_MAX, required=False, allow_blank=True, default=""
    )


class UnarchiveInputSerializer(serializers.Serializer):
    unarchiveReason = serializers.CharField(
        max_length=DESCRIPTION_MAX, required=False, allow_blank=True, default=""
    )


def id_list(**kwargs) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.CharField(max_length=1000), max_length=MAX_OVERRIDE_IDS, **kwargs
    )


class EnvironmentOverrideInputSerializer(serializers.Serializer):
    environment = serializers.CharField(max_length=64, required=False, allow_null=True)
    unitID = serializers.CharField(max_length=ID_TYPE_MAX, required=False, allow_null=True)
    passingIDs = id_list()
    failingIDs = id_list()


class GateOverridesInputSerializer(serializers.Serializer):
    """``UpdateOverridesContractDto``: either ``environmentOverrides`` or the user/custom id
    lists (each at most 2000 ids)."""

    passingUserIDs = id_list(required=False)
    failingUserIDs = id_list(required=False)
    passingCustomIDs = id_list(required=False)
    failingCustomIDs = id_list(required=False)
    environmentOverrides = EnvironmentOverrideInputSerializer(many=True, required=False)

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError(
                "Send environmentOverrides, or passingUserIDs and failingUserIDs."
            )
        return attrs


class ExperimentConditionalOverrideInputSerializer(serializers.Serializer):
    type = TypeField(["gate", "segment"])
    id = serializers.CharField(max_length=200)
    groupID = serializers.CharField(max_length=200)
    environment = serializers.CharField(max_length=64, required=False, allow_null=True)


class ExperimentIDOverrideInputSerializer(serializers.Serializer):
    groupID = serializers.CharField(max_length=200)
    ids = id_list()
    environment = serializers.CharField(max_length=64, required=False, allow_null=True)
    unitType = serializers.CharField(max_length=ID_TYPE_MAX, required=False, allow_null=True)


class ExperimentOverridesInputSerializer(serializers.Serializer):
    """``ExperimentOverridesDto``."""

    overrides = ExperimentConditionalOverrideInputSerializer(many=True)
    userIDOverrides = ExperimentIDOverrideInputSerializer(many=True)


class LayerConditionalOverrideInputSerializer(serializers.Serializer):
    type = TypeField(["gate", "segment"])
    name = serializers.CharField(max_length=200)
    experimentName = serializers.CharField(max_length=200)
    groupName = serializers.CharField(max_length=200)


class LayerIDOverrideInputSerializer(serializers.Serializer):
    groupName = serializers.CharField(max_length=200)
    ids = id_list()
    idType = serializers.CharField(max_length=ID_TYPE_MAX, required=False, allow_null=True)
    environment = serializers.CharField(max_length=64, required=False, allow_null=True)
    experimentName = serializers.CharField(max_length=200, required=False, allow_null=True)


class LayerOverridesInputSerializer(serializers.Serializer):
    """``LayerOverridesDto``."""

    conditionalOverrides = LayerConditionalOverrideInputSerializer(many=True)
    idOverrides = LayerIDOverrideInputSerializer(many=True)


class LinkInputSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=1000)
    title = serializers.CharField(max_length=1000, required=False, allow_blank=True)


class MetricInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=1000)
    type = serializers.CharField(max_length=1000)


def setting_field(setting: Setting) -> serializers.Field:
    """The request field of one kept setting (its type documented in the OpenAPI document)."""
    common = {"required": False, "help_text": setting.help}
    if setting.nullable:
        common["allow_null"] = True
    if setting.kind == "text":
        return serializers.CharField(max_length=1000, allow_blank=True, **common)
    if setting.kind == "flag":
        return serializers.BooleanField(**common)
    if setting.kind in ("days", "count"):
        return serializers.IntegerField(min_value=1, **common)
    if setting.kind == "hour":
        return serializers.IntegerField(min_value=0, max_value=23, **common)
    if setting.kind == "choice":
        return TypeField(list(setting.choices), **common)
    if setting.kind == "texts":
        return serializers.ListField(
            child=serializers.CharField(max_length=1000), max_length=100, **common
        )
    if setting.kind == "metrics":
        return MetricInputSerializer(many=True, **common)
    return LinkInputSerializer(many=True, **common)


def plain(value: Any) -> Any:
    """Validated data (OrderedDicts, nested lists) as plain JSON-able Python values."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value
