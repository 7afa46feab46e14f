"""Review endpoints of gates, dynamic configs, experiments and layers: the shared review views of
``console.api.reviews``, plus, on ``/<entities>/{id}/reviews``, a list that answers 404 for an
entity the project does not have and ``POST`` to file a change as a review whatever the review
settings (Statsig's "create gate review" / "create experiment review")."""

from __future__ import annotations

from typing import Any

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from console.api.review_shape import ReviewSerializer, review_output
from console.api.reviews import (
    ChangeSerializer,
    ReviewListView,
    ReviewRequestSerializer,
    one_change,
    refuse_false,
    review_urlpatterns,
    reviewers_from,
)
from console.api.schema import PAGE_PARAMETERS, envelope, responses
from console.errors import FieldError, ValidationError
from console.services.reviews import ChangeOutcome, review_forced
from flags import selectors
from flags.api.inputs import (
    DESCRIPTION_MAX,
    NAME_MAX,
    FlagRuleInputSerializer,
    TypeField,
    allowed_reviewers_change_field,
    plain,
)
from flags.api.outputs import DYNAMIC_CONFIG, EXPERIMENT, GATE, LAYER, LayerParameterSerializer
from flags.services import configs, experiments, gates, layers
from flags.services.descriptor import ALLOWED_REVIEWERS_FIELD


class _EntityReviewListView(ReviewListView):
    """``GET`` lists the entity's reviews (newest first); ``POST`` files ``change`` as a review."""

    InputSerializer: type[serializers.Serializer]

    def get_entity(self, entity_id: str) -> Any:
        raise NotImplementedError

    def file(self, entity_id: str, data: dict[str, Any]) -> ChangeOutcome:
        """Calls the service that makes the change (inside ``review_forced``)."""
        raise NotImplementedError

    @extend_schema(
        parameters=PAGE_PARAMETERS,
        responses=responses(
            {200: envelope("ReviewList", ReviewSerializer, many=True, paginated=True)}
        ),
    )
    def get(self, request, entity_id: str):
        self.get_entity(entity_id)  # 404 when the project has no such entity
        return super().get(request, entity_id)

    # Where a review request carries the allowed reviewers (errors name it so).
    allowed_reviewers_path = "change.allowed_reviewers"

    def post(self, request, entity_id: str):
        data = self.validated(self.InputSerializer)
        self.get_entity(entity_id)
        with review_forced(data["description"], reviewers_from(data) or []):
            try:
                outcome = self.file(entity_id, data)
            except ValidationError as error:
                raise named_as_sent(error, self.allowed_reviewers_path) from error
        return self.respond(
            f"{self.entity_label} review created successfully.", review_output(outcome.review), 201
        )


def named_as_sent(error: ValidationError, path: str) -> ValidationError:
    """The services name the allowed reviewers ``reviewSettings.allowedReviewers``; a review
    request sends them at ``path``."""
    return ValidationError(
        error.message.replace(ALLOWED_REVIEWERS_FIELD, path),
        errors=[
            FieldError(item.property.replace(ALLOWED_REVIEWERS_FIELD, path), item.message)
            for item in error.errors
        ],
    )


class RulesChangeSerializer(ChangeSerializer):
    rules = FlagRuleInputSerializer(many=True, required=False)
    is_enabled = serializers.BooleanField(required=False)
    is_archived = serializers.BooleanField(required=False)
    delete = serializers.BooleanField(required=False)
    id_type = serializers.CharField(max_length=NAME_MAX, required=False)
    disable_reviews_locally = serializers.BooleanField(
        required=False, help_text="true: the entity itself no longer requires review."
    )
    allowed_reviewers = allowed_reviewers_change_field()


class GateReviewListView(_EntityReviewListView):
    class InputSerializer(ReviewRequestSerializer):
        class GateChangeSerializer(RulesChangeSerializer):
            resalt = serializers.BooleanField(
                required=False, help_text="true: new salts for every rule."
            )

        change = GateChangeSerializer()

    def get_entity(self, entity_id: str):
        return selectors.gate_get(project=self.project, gate_id=entity_id)

    def file(self, entity_id: str, data: dict[str, Any]) -> ChangeOutcome:
        kind, value = one_change(data["change"])
        common = {"project": self.project, "actor": self.actor, "gate_id": entity_id}
        if kind == "rules":
            return gates.gate_rules_replace(**common, rules=plain(value))
        if kind == "is_enabled":
            return (gates.gate_enable if value else gates.gate_disable)(**common)
        if kind == "is_archived":
            return (gates.gate_archive if value else gates.gate_unarchive)(**common)
        if kind == "id_type":
            return gates.gate_update(**common, id_type=value)
        if kind == "disable_reviews_locally":
            return gates.gate_update(**common, review_required=not value)
        if kind == "allowed_reviewers":
            return gates.gate_update(**common, allowed_reviewers=value)
        refuse_false(kind, value)
        if kind == "resalt":
            return gates.gate_resalt(**common)
        return gates.gate_delete(**common)

    @extend_schema(
        request=InputSerializer,
        responses=responses({201: envelope("GateReviewCreated", ReviewSerializer)}),
    )
    def post(self, request, entity_id: str):
        return super().post(request, entity_id)


class ConfigReviewListView(_EntityReviewListView):
    class InputSerializer(ReviewRequestSerializer):
        class ConfigChangeSerializer(RulesChangeSerializer):
            default_value = serializers.DictField(required=False)

        change = ConfigChangeSerializer()

    def get_entity(self, entity_id: str):
        return selectors.dynamic_config_get(project=self.project, config_id=entity_id)

    def file(self, entity_id: str, data: dict[str, Any]) -> ChangeOutcome:
        kind, value = one_change(data["change"])
        common = {"project": self.project, "actor": self.actor, "config_id": entity_id}
        if kind == "rules":
            return configs.dynamic_config_rules_replace(**common, rules=plain(value))
        if kind == "default_value":
            return configs.dynamic_config_update(**common, default_value=plain(value))
        if kind == "is_enabled":
            return (configs.dynamic_config_enable if value else configs.dynamic_config_disable)(
                **common
            )
        if kind == "is_archived":
            archive = configs.dynamic_config_archive if value else configs.dynamic_config_unarchive
            return archive(**common)
        if kind == "id_type":
            return configs.dynamic_config_update(**common, id_type=value)
        if kind == "disable_reviews_locally":
            return configs.dynamic_config_update(**common, review_required=not value)
        if kind == "allowed_reviewers":
            return configs.dynamic_config_update(**common, allowed_reviewers=value)
        refuse_false(kind, value)
        return configs.dynamic_config_delete(**common)

    @extend_schema(
        request=InputSerializer,
        responses=responses({201: envelope("DynamicConfigReviewCreated", ReviewSerializer)}),
    )
    def post(self, request, entity_id: str):
        return super().post(request, entity_id)


EXPERIMENT_REVIEW_TYPES = [
    "start",
    "make_decision",
    "abandon",
    "restart",
    "archive",
    "unarchive",
    "delete",
    "scheduled_start",
    "change_enabled_groups",
    "disable_reviews_locally",
    "update_allowed_reviewers",
]
# Statsig's other experiment review types name features this console does not have.
UNSUPPORTED_EXPERIMENT_TYPES = (
    "stop",
    "pause",
    "update_settings",
    "update_overrides",
    "update_target_applications",
    "update_default_impact_multiplier",
    "scheduled_start_edit",
    "rollout",
    "schedule_rollout",
    "reallocate",
    "update_owners",
    "update_team",
)


class ExperimentReviewListView(_EntityReviewListView):
    class InputSerializer(ReviewRequestSerializer):
        """Statsig's experiment review: ``type`` names the change."""

        type = TypeField(EXPERIMENT_REVIEW_TYPES)
        winning_group_id = serializers.CharField(max_length=NAME_MAX, required=False)
        reason = serializers.CharField(
            max_length=DESCRIPTION_MAX, required=False, allow_blank=True, default=""
        )
        remove_targeting = serializers.BooleanField(required=False, default=False)
        start_date = serializers.IntegerField(
            required=False, min_value=1, help_text="scheduled_start: epoch milliseconds."
        )
        group_ids = serializers.ListField(
            child=serializers.CharField(max_length=NAME_MAX),
            required=False,
            help_text="change_enabled_groups: the groups (by name) to enable or disable.",
        )
        enabled = serializers.BooleanField(
            required=False, default=True, help_text="change_enabled_groups: enable (true)."
        )
        allowed_reviewers = allowed_reviewers_change_field()

        def to_internal_value(self, data):
            if isinstance(data, dict) and data.get("type") in UNSUPPORTED_EXPERIMENT_TYPES:
                raise serializers.ValidationError(
                    {"type": f"'{data['type']}' is not supported by this console."}
                )
            return super().to_internal_value(data)

    allowed_reviewers_path = "allowed_reviewers"

    def get_entity(self, entity_id: str):
        return selectors.experiment_get(project=self.project, experiment_id=entity_id)

    def file(self, entity_id: str, data: dict[str, Any]) -> ChangeOutcome:
        common = {"project": self.project, "actor": self.actor, "experiment_id": entity_id}
        kind = data["type"]
        required = {"make_decision": "winning_group_id", "scheduled_start": "start_date"}
        required["change_enabled_groups"] = "group_ids"
        if kind in required and not data.get(required[kind]):
            raise ValidationError.for_field(required[kind], f"A {kind} review names it.")
        if kind == "update_allowed_reviewers":
            if "allowed_reviewers" not in data:
                raise ValidationError.for_field("allowed_reviewers", f"A {kind} review names them.")
            return experiments.experiment_update(
                **common, allowed_reviewers=data["allowed_reviewers"]
            )
        if kind == "make_decision":
            return experiments.experiment_make_decision(
                **common,
                group_id=data["winning_group_id"],
                decision_reason=data["reason"] or data["description"],
                remove_targeting=data["remove_targeting"],
            )
        if kind == "abandon":
            return experiments.experiment_abandon(
                **common, decision_reason=data["reason"] or data["description"]
            )
        if kind == "archive":
            return experiments.experiment_archive(**common, archive_reason=data["reason"])
        if kind == "scheduled_start":
            return experiments.experiment_schedule_start(
                **common, scheduled_time=data["start_date"]
            )
        if kind == "change_enabled_groups":
            return experiments.experiment_groups_set_enabled(
                **common, group_names=data["group_ids"], enabled=data["enabled"]
            )
        if kind == "disable_reviews_locally":
            return experiments.experiment_update(**common, review_required=False)
        service = {
            "start": experiments.experiment_start,
            "restart": experiments.experiment_reset,
            "unarchive": experiments.experiment_unarchive,
            "delete": experiments.experiment_delete,
        }[kind]
        return service(**common)

    @extend_schema(
        request=InputSerializer,
        responses=responses({201: envelope("ExperimentReviewCreated", ReviewSerializer)}),
    )
    def post(self, request, entity_id: str):
        return super().post(request, entity_id)


class LayerReviewListView(_EntityReviewListView):
    class InputSerializer(ReviewRequestSerializer):
        class LayerChangeSerializer(ChangeSerializer):
            parameters = LayerParameterSerializer(many=True, required=False)
            delete = serializers.BooleanField(required=False)
            allowed_reviewers = allowed_reviewers_change_field()

        change = LayerChangeSerializer()

    def get_entity(self, entity_id: str):
        return selectors.layer_get(project=self.project, layer_id=entity_id)

    def file(self, entity_id: str, data: dict[str, Any]) -> ChangeOutcome:
        kind, value = one_change(data["change"])
        common = {"project": self.project, "actor": self.actor, "layer_id": entity_id}
        if kind == "parameters":
            return layers.layer_update(**common, parameters=plain(value))
        if kind == "allowed_reviewers":
            return layers.layer_update(**common, allowed_reviewers=value)
        refuse_false(kind, value)
        return layers.layer_delete(**common)

    @extend_schema(
        request=InputSerializer,
        responses=responses({201: envelope("LayerReviewCreated", ReviewSerializer)}),
    )
    def post(self, request, entity_id: str):
        return super().post(request, entity_id)


REVIEW_LIST_VIEWS = {
    GATE: GateReviewListView,
    DYNAMIC_CONFIG: ConfigReviewListView,
    EXPERIMENT: ExperimentReviewListView,
    LAYER: LayerReviewListView,
}


def entity_review_urlpatterns(prefix: str, *, entity_type: str, entity_label: str) -> list:
    """``review_urlpatterns`` with the entity's own list view (404, ``POST``) in front."""
    list_name = f"{entity_type}-review-list"
    view = REVIEW_LIST_VIEWS[entity_type].as_view(
        entity_type=entity_type, entity_label=entity_label
    )
    shared = review_urlpatterns(prefix, entity_type=entity_type, entity_label=entity_label)
    return [
        path(f"{prefix}/<str:entity_id>/reviews", view, name=list_name),
        *(pattern for pattern in shared if pattern.name != list_name),
    ]
