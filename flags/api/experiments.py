"""``/console/v1/experiments``: Statsig's experiment endpoints (``ExternalExperimentDto``) and
the lifecycle verbs (start, make_decision, abandon, reset, restart_as_new, schedule_start,
archive, groups, overrides)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from console.api.schema import PAGE_PARAMETERS, MessageSerializer, envelope
from console.models import Review
from flags import selectors
from flags.api.common import (
    TAGS_PARAMETER,
    EntityAPIView,
    EntityOverridesView,
    VersionField,
    mutation,
    overrides_schema,
    query_parameters,
    reading,
    tags_filter,
    text_filters,
)
from flags.api.inputs import (
    DESCRIPTION_MAX,
    NAME_MAX,
    ExperimentOverridesInputSerializer,
    FlagReviewSettingsInputSerializer,
    JSONObjectField,
    plain,
)
from flags.api.outputs import (
    EXPERIMENT,
    ExperimentOutputSerializer,
    ExperimentOverridesOutputSerializer,
    experiment_output,
    experiment_overrides_output,
)
from flags.models import Experiment
from flags.services import experiments as experiment_services
from flags.services.descriptor import Transition
from flags.services.experiments.analysis_settings import ANALYSIS_WIRE_NAMES
from flags.services.experiments.lifecycle import LIFECYCLE

EXPERIMENT_RESPONSE = envelope("ExperimentResponse", ExperimentOutputSerializer)
OVERRIDES_RESPONSE = envelope("ExperimentOverridesResponse", ExperimentOverridesOutputSerializer)


def day_start(day: date | None) -> datetime | None:
    return datetime.combine(day, time.min, tzinfo=UTC) if day else None


def day_end(day: date | None) -> datetime | None:
    return datetime.combine(day, time.max, tzinfo=UTC) if day else None


NO_DATA = lambda _: None  # noqa: E731  (the lifecycle verbs answer with a message only)


class ExperimentGroupInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=NAME_MAX)
    id = serializers.CharField(max_length=64, required=False, allow_null=True, allow_blank=True)
    size = serializers.FloatField(min_value=0, max_value=100)
    parameterValues = JSONObjectField(required=False)
    disabled = serializers.BooleanField(required=False)
    description = serializers.CharField(
        max_length=DESCRIPTION_MAX, required=False, allow_blank=True
    )


def experiment_fields(data: dict[str, Any]) -> dict[str, Any]:
    """Statsig's experiment body as ``flags.services.experiments`` keywords."""
    names = {
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
        **ANALYSIS_WIRE_NAMES,
    }
    fields = {keyword: plain(data[wire]) for wire, keyword in names.items() if wire in data}
    for group in fields.get("groups", []):
        # A group without an id is new; the service creates its id.
        if not group.get("id"):
            group.pop("id", None)
    if "reviewSettings" in data:
        fields["review_required"] = data["reviewSettings"]["requiredReview"]
    return fields


class ExperimentBodySerializer(serializers.Serializer):
    """The fields of ``ExperimentCreateDto``/``ExperimentPartialUpdateDto`` we honour; analysis
    settings (metrics, duration, corrections) are accepted and ignored."""

    name = serializers.CharField(max_length=NAME_MAX, required=False)
    description = serializers.CharField(
        max_length=DESCRIPTION_MAX, required=False, allow_blank=True, allow_null=True
    )
    hypothesis = serializers.CharField(
        max_length=DESCRIPTION_MAX, required=False, allow_blank=True, allow_null=True
    )
    idType = serializers.CharField(max_length=64, required=False)
    groups = ExperimentGroupInputSerializer(many=True, required=False)
    controlGroupID = serializers.CharField(max_length=NAME_MAX, required=False, allow_null=True)
    allocation = serializers.FloatField(min_value=0, max_value=100, required=False)
    layerID = serializers.CharField(
        max_length=NAME_MAX, required=False, allow_null=True, allow_blank=True
    )
    targetingGateID = serializers.CharField(
        max_length=NAME_MAX, required=False, allow_null=True, allow_blank=True
    )
    tags = serializers.ListField(child=serializers.CharField(max_length=100), required=False)
    reviewSettings = FlagReviewSettingsInputSerializer(required=False)
    # Analysis settings (read by Pulse); values are checked by the service.
    primaryMetrics = serializers.JSONField(required=False)
    secondaryMetrics = serializers.JSONField(required=False)
    bonferroniCorrection = serializers.JSONField(required=False)
    defaultConfidenceInterval = serializers.JSONField(required=False)


class ExperimentPartialInputSerializer(ExperimentBodySerializer):
    """``ExperimentPartialUpdateDto``."""

    version = VersionField()


class _ExperimentView(EntityAPIView):
    entity_type = EXPERIMENT
    # The lifecycle action a view performs (``flags.services.experiments.lifecycle``): its URL
    # verb and its success message come from the table.
    transition: Transition

    def render(self, experiment: Experiment, reviews: dict[str, Review] | None = None) -> dict:
        return experiment_output(experiment, project=self.project, reviews=reviews)

    def get_experiment(self, experiment_id: str) -> Experiment:
        return selectors.experiment_get(project=self.project, experiment_id=experiment_id)


class ExperimentListCreateView(_ExperimentView):
    class FilterSerializer(serializers.Serializer):
        """Creation dates (inclusive UTC days, YYYY-MM-DD)."""

        createdStartDate = serializers.DateField(required=False)
        createdEndDate = serializers.DateField(required=False)

    class InputSerializer(ExperimentBodySerializer):
        name = serializers.CharField(max_length=NAME_MAX)
        id = serializers.CharField(max_length=NAME_MAX, required=False)

    @extend_schema(
        **reading(
            {
                200: envelope(
                    "ExperimentList", ExperimentOutputSerializer, many=True, paginated=True
                )
            },
            parameters=[
                *PAGE_PARAMETERS,
                *query_parameters(
                    "layerID",
                    "idType",
                    "status",
                    "creatorID",
                    "creatorName",
                    "createdStartDate",
                    "createdEndDate",
                ),
                TAGS_PARAMETER,
            ],
        )
    )
    def get(self, request):
        params = request.query_params
        dates = self.validated(self.FilterSerializer, data=params)
        experiments = selectors.experiment_list(
            project=self.project,
            tags=tags_filter(params),
            created_after=day_start(dates.get("createdStartDate")),
            created_before=day_end(dates.get("createdEndDate")),
            **text_filters(
                params,
                {
                    "layerID": "layer_id",
                    "idType": "id_type",
                    "status": "status",
                    "creatorID": "creator_id",
                    "creatorName": "creator_name",
                },
            ),
        )
        return self.respond_entities("Experiments listed successfully.", experiments)

    @extend_schema(**mutation(InputSerializer, {201: EXPERIMENT_RESPONSE}))
    def post(self, request):
        data = self.validated(self.InputSerializer)
        experiment = experiment_services.experiment_create(
            project=self.project,
            actor=self.actor,
            experiment_id=data.get("id"),
            **experiment_fields(data),
        )
        return self.respond("Experiment created successfully.", self.render(experiment), 201)


class ExperimentDetailView(_ExperimentView):
    class InputSerializer(ExperimentBodySerializer):
        """``ExperimentFullUpdateDto`` (the analysis settings it requires are ignored here)."""

        description = serializers.CharField(max_length=DESCRIPTION_MAX, allow_blank=True)
        idType = serializers.CharField(max_length=64)
        hypothesis = serializers.CharField(max_length=DESCRIPTION_MAX, allow_blank=True)
        groups = ExperimentGroupInputSerializer(many=True)
        allocation = serializers.FloatField(min_value=0, max_value=100)
        targetingGateID = serializers.CharField(
            max_length=NAME_MAX, allow_null=True, allow_blank=True
        )
        version = VersionField()

    @extend_schema(**reading({200: EXPERIMENT_RESPONSE}))
    def get(self, request, experiment_id: str):
        return self.respond(
            "Experiment read successfully.", self.render(self.get_experiment(experiment_id))
        )

    def _update(self, serializer):
        data = self.validated(serializer)
        outcome = experiment_services.experiment_update(
            project=self.project,
            actor=self.actor,
            experiment_id=self.kwargs["experiment_id"],
            expected_version=data.get("version"),
            **experiment_fields(data),
        )
        return self.respond_outcome(outcome, "Experiment updated successfully.", self.render)

    @extend_schema(**mutation(InputSerializer, {200: EXPERIMENT_RESPONSE}))
    def post(self, request, experiment_id: str):
        return self._update(self.InputSerializer)

    @extend_schema(**mutation(ExperimentPartialInputSerializer, {200: EXPERIMENT_RESPONSE}))
    def patch(self, request, experiment_id: str):
        return self._update(ExperimentPartialInputSerializer)

    @extend_schema(**mutation(None, {200: EXPERIMENT_RESPONSE}))
    def delete(self, request, experiment_id: str):
        outcome = experiment_services.experiment_delete(
            project=self.project, actor=self.actor, experiment_id=experiment_id
        )
        return self.respond_outcome(outcome, "Experiment deleted successfully.", self.render)


# -- lifecycle --------------------------------------------------------------------------------


class ExperimentStartView(_ExperimentView):
    transition = LIFECYCLE.transition("experiment_start")

    class InputSerializer(serializers.Serializer):
        """Statsig's analysis window (warehouse-native only): accepted and ignored."""

        analysisStartTime = serializers.CharField(required=False, allow_null=True)
        analysisEndTime = serializers.CharField(required=False, allow_null=True)

    @extend_schema(**mutation(InputSerializer, {200: MessageSerializer}))
    def put(self, request, experiment_id: str):
        self.validated(self.InputSerializer)
        outcome = experiment_services.experiment_start(
            project=self.project, actor=self.actor, experiment_id=experiment_id
        )
        return self.respond_outcome(outcome, self.transition.api_message, NO_DATA)


class ExperimentMakeDecisionView(_ExperimentView):
    transition = LIFECYCLE.transition("experiment_decision_make")

    class InputSerializer(serializers.Serializer):
        """``ExperimentStatusUpdateDto``: ``id`` is the group to ship (its id or name)."""

        id = serializers.CharField(max_length=NAME_MAX)
        decisionReason = serializers.CharField(max_length=DESCRIPTION_MAX)
        removeTargeting = serializers.BooleanField(required=False, default=False)

    @extend_schema(**mutation(InputSerializer, {200: MessageSerializer}))
    def put(self, request, experiment_id: str):
        data = self.validated(self.InputSerializer)
        outcome = experiment_services.experiment_make_decision(
            project=self.project,
            actor=self.actor,
            experiment_id=experiment_id,
            group_id=data["id"],
            decision_reason=data["decisionReason"],
            remove_targeting=data["removeTargeting"],
        )
        return self.respond_outcome(outcome, self.transition.api_message, NO_DATA)


class ExperimentAbandonView(_ExperimentView):
    transition = LIFECYCLE.transition("experiment_abandon")

    class InputSerializer(serializers.Serializer):
        decisionReason = serializers.CharField(max_length=DESCRIPTION_MAX)

    @extend_schema(**mutation(InputSerializer, {200: MessageSerializer}))
    def put(self, request, experiment_id: str):
        data = self.validated(self.InputSerializer)
        outcome = experiment_services.experiment_abandon(
            project=self.project,
            actor=self.actor,
            experiment_id=experiment_id,
            decision_reason=data["decisionReason"],
        )
        return self.respond_outcome(outcome, self.transition.api_message, NO_DATA)


class ExperimentResetView(_ExperimentView):
    transition = LIFECYCLE.transition("experiment_reset")

    @extend_schema(**mutation(None, {200: MessageSerializer}))
    def put(self, request, experiment_id: str):
        outcome = experiment_services.experiment_reset(
            project=self.project, actor=self.actor, experiment_id=experiment_id
        )
        return self.respond_outcome(outcome, self.transition.api_message, NO_DATA)


class ExperimentRestartAsNewView(_ExperimentView):
    transition = LIFECYCLE.transition("experiment_restart_as_new")

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=NAME_MAX)

    @extend_schema(**mutation(InputSerializer, {200: EXPERIMENT_RESPONSE}))
    def post(self, request, experiment_id: str):
        data = self.validated(self.InputSerializer)
        outcome = experiment_services.experiment_restart_as_new(
            project=self.project, actor=self.actor, experiment_id=experiment_id, name=data["name"]
        )
        return self.respond_outcome(outcome, self.transition.api_message, self.render)


class ExperimentScheduleStartView(_ExperimentView):
    transition = LIFECYCLE.transition("experiment_schedule_start")

    class InputSerializer(serializers.Serializer):
        scheduledTime = serializers.IntegerField(min_value=1, help_text="Epoch milliseconds.")

    @extend_schema(**mutation(InputSerializer, {200: MessageSerializer}))
    def post(self, request, experiment_id: str):
        data = self.validated(self.InputSerializer)
        outcome = experiment_services.experiment_schedule_start(
            project=self.project,
            actor=self.actor,
            experiment_id=experiment_id,
            scheduled_time=data["scheduledTime"],
        )
        return self.respond_outcome(outcome, self.transition.api_message, NO_DATA)


class ExperimentArchiveView(_ExperimentView):
    transition = LIFECYCLE.transition("experiment_archive")

    class InputSerializer(serializers.Serializer):
        archiveReason = serializers.CharField(
            max_length=DESCRIPTION_MAX, required=False, allow_blank=True, default=""
        )

    @extend_schema(**mutation(InputSerializer, {200: MessageSerializer}))
    def put(self, request, experiment_id: str):
        data = self.validated(self.InputSerializer)
        outcome = experiment_services.experiment_archive(
            project=self.project,
            actor=self.actor,
            experiment_id=experiment_id,
            archive_reason=data["archiveReason"],
        )
        return self.respond_outcome(outcome, self.transition.api_message, NO_DATA)


class ExperimentUnarchiveView(_ExperimentView):
    transition = LIFECYCLE.transition("experiment_unarchive")

    @extend_schema(**mutation(None, {200: MessageSerializer}))
    def put(self, request, experiment_id: str):
        outcome = experiment_services.experiment_unarchive(
            project=self.project, actor=self.actor, experiment_id=experiment_id
        )
        return self.respond_outcome(outcome, self.transition.api_message, NO_DATA)


class ExperimentGroupsInputSerializer(serializers.Serializer):
    """``EnableDisableGroupsDto``."""

    group_names = serializers.ListField(
        child=serializers.CharField(max_length=NAME_MAX), allow_empty=False, max_length=50
    )


class ExperimentEnableGroupsView(_ExperimentView):
    transition = LIFECYCLE.transition("experiment_groups_enable")
    enabled = True

    @extend_schema(**mutation(ExperimentGroupsInputSerializer, {201: EXPERIMENT_RESPONSE}))
    def post(self, request, experiment_id: str):
        data = self.validated(ExperimentGroupsInputSerializer)
        outcome = experiment_services.experiment_groups_set_enabled(
            project=self.project,
            actor=self.actor,
            experiment_id=experiment_id,
            group_names=data["group_names"],
            enabled=self.enabled,
        )
        return self.respond_outcome(outcome, self.transition.api_message, self.render, 201)


class ExperimentDisableGroupsView(ExperimentEnableGroupsView):
    transition = LIFECYCLE.transition("experiment_groups_disable")
    enabled = False


@overrides_schema(ExperimentOverridesInputSerializer, OVERRIDES_RESPONSE)
class ExperimentOverridesView(_ExperimentView, EntityOverridesView):
    transition = LIFECYCLE.transition("experiment_overrides_update")
    InputSerializer = ExperimentOverridesInputSerializer
    label = "Experiment"
    replace = staticmethod(experiment_services.experiment_overrides_set)
    add = staticmethod(experiment_services.experiment_overrides_add)
    remove = staticmethod(experiment_services.experiment_overrides_remove)

    def get_entity(self, entity_id: str) -> Experiment:
        return self.get_experiment(entity_id)

    def overrides_of(self, experiment: Experiment) -> dict[str, Any]:
        return experiment_overrides_output(experiment.overrides)


# Every lifecycle action's view, routed at ``experiments/{id}/<its api_verb>``.
LIFECYCLE_VIEWS = (
    ExperimentStartView,
    ExperimentMakeDecisionView,
    ExperimentAbandonView,
    ExperimentResetView,
    ExperimentRestartAsNewView,
    ExperimentScheduleStartView,
    ExperimentArchiveView,
    ExperimentUnarchiveView,
    ExperimentEnableGroupsView,
    ExperimentDisableGroupsView,
    ExperimentOverridesView,
)
