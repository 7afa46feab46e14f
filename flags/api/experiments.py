"""``/console/v1/experiments``: Statsig's experiment endpoints (``ExternalExperimentDto``) and
the lifecycle verbs (start, make_decision, abandon, reset, restart_as_new, schedule_start,
archive, groups, overrides)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from django.db import transaction
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
from flags.api.experiment_inputs import (
    ExperimentBodySerializer,
    ExperimentGroupInputSerializer,
    ExperimentPartialInputSerializer,
    experiment_fields,
    lifecycle_fields,
)
from flags.api.inputs import DESCRIPTION_MAX, NAME_MAX, ExperimentOverridesInputSerializer
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
from flags.services.experiments.lifecycle import LIFECYCLE

EXPERIMENT_RESPONSE = envelope("ExperimentResponse", ExperimentOutputSerializer)
OVERRIDES_RESPONSE = envelope("ExperimentOverridesResponse", ExperimentOverridesOutputSerializer)


def day_start(day: date | None) -> datetime | None:
    return datetime.combine(day, time.min, tzinfo=UTC) if day else None


def day_end(day: date | None) -> datetime | None:
    return datetime.combine(day, time.max, tzinfo=UTC) if day else None


NO_DATA = lambda _: None  # noqa: E731  (the lifecycle verbs answer with a message only)


class _ExperimentView(EntityAPIView):
    entity_type = EXPERIMENT
    # The lifecycle action a view performs (``flags.services.experiments.lifecycle``): its URL
    # verb and its success message come from the table.
    transition: Transition

    def render(self, experiment: Experiment, reviews: dict[str, Review] | None = None) -> dict:
        return experiment_output(
            experiment, project=self.project, reviews=reviews, members=self.page_members
        )

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
        """Creates the experiment in setup; a ``status`` sent moves it on (a create that says
        ``active`` starts it)."""
        data = self.validated(self.InputSerializer)
        with transaction.atomic():
            experiment = experiment_services.experiment_create(
                project=self.project,
                actor=self.actor,
                experiment_id=data.get("id"),
                **experiment_fields(data),
            )
            moved = experiment_services.experiment_status_set(
                project=self.project,
                actor=self.actor,
                experiment_id=experiment.slug,
                **lifecycle_fields(data),
            )
        if moved is not None and moved.submitted_for_review:
            return self.respond_outcome(moved, "", self.render)
        experiment = self.get_experiment(experiment.slug)
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
        id = serializers.CharField(max_length=NAME_MAX, required=False)
        version = VersionField()

    @extend_schema(**reading({200: EXPERIMENT_RESPONSE}))
    def get(self, request, experiment_id: str):
        return self.respond(
            "Experiment read successfully.", self.render(self.get_experiment(experiment_id))
        )

    def _update(self, serializer):
        """The fields, then the lifecycle actions ``status``/``launchedGroupID`` ask for, in
        one transaction; a part filed for review answers 202 with its review."""
        data = self.validated(serializer)
        experiment_id = self.kwargs["experiment_id"]
        if data.get("id") not in (None, experiment_id):
            raise serializers.ValidationError({"id": ["The id of an experiment cannot change."]})
        with transaction.atomic():
            outcome = experiment_services.experiment_update(
                project=self.project,
                actor=self.actor,
                experiment_id=experiment_id,
                expected_version=data.get("version"),
                **experiment_fields(data),
            )
            if not outcome.submitted_for_review:
                outcome = (
                    experiment_services.experiment_status_set(
                        project=self.project,
                        actor=self.actor,
                        experiment_id=experiment_id,
                        **lifecycle_fields(data),
                    )
                    or outcome
                )
        if outcome.submitted_for_review:
            return self.respond_outcome(outcome, "", self.render)
        return self.respond(
            "Experiment updated successfully.", self.render(self.get_experiment(experiment_id))
        )

    @extend_schema(**mutation(InputSerializer, {200: EXPERIMENT_RESPONSE}))
    def post(self, request, experiment_id: str):
        """Replaces the experiment's fields (``status`` and ``launchedGroupID`` as in PATCH)."""
        return self._update(self.InputSerializer)

    @extend_schema(**mutation(ExperimentPartialInputSerializer, {200: EXPERIMENT_RESPONSE}))
    def patch(self, request, experiment_id: str):
        """Changes the fields sent; a field this console does not keep is refused (400 naming
        it). ``status`` moves the experiment through its lifecycle as the action endpoints do,
        by the shortest series of actions (setup -> decision_made is a start, then a decision
        shipping ``launchedGroupID``, a group id or name); ``launchedGroupID`` alone ships that
        group. Not documented by Statsig, and ours: a status no action leads to (back to
        setup, out of archived) is refused naming ``status``; a decision made this way records
        the reason "Status set through the console API."."""
        return self._update(ExperimentPartialInputSerializer)

    @extend_schema(**mutation(None, {200: EXPERIMENT_RESPONSE}))
    def delete(self, request, experiment_id: str):
        outcome = experiment_services.experiment_delete(
            project=self.project, actor=self.actor, experiment_id=experiment_id
        )
        return self.respond_outcome(outcome, "Experiment deleted successfully.", self.render)


class ExperimentVersionsView(_ExperimentView):
    @extend_schema(
        **reading(
            {
                200: envelope(
                    "ExperimentVersions", ExperimentOutputSerializer, many=True, paginated=True
                )
            },
            parameters=PAGE_PARAMETERS,
        )
    )
    def get(self, request, experiment_id: str):
        versions = selectors.experiment_versions(project=self.project, experiment_id=experiment_id)
        return self.respond_entities("Experiment versions listed successfully.", versions)


class GateExperimentReferencesView(_ExperimentView):
    @extend_schema(
        **reading(
            {
                200: envelope(
                    "GateExperimentReferences",
                    ExperimentOutputSerializer,
                    many=True,
                    paginated=True,
                )
            },
            parameters=PAGE_PARAMETERS,
        )
    )
    def get(self, request, gate_id: str):
        """The experiments the gate targets or whose overrides name it."""
        experiments = selectors.gate_experiment_references(project=self.project, gate_id=gate_id)
        return self.respond_entities("Experiments listed successfully.", experiments)


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


class ExperimentDeferDecisionView(_ExperimentView):
    transition = LIFECYCLE.transition("experiment_decision_defer")

    class InputSerializer(serializers.Serializer):
        stopReason = serializers.CharField(
            max_length=DESCRIPTION_MAX, required=False, allow_blank=True, default=""
        )

    @extend_schema(**mutation(InputSerializer, {200: MessageSerializer}))
    def put(self, request, experiment_id: str):
        """Concludes a running experiment without shipping a group: its status becomes
        ``experiment_stopped`` and everyone gets the default values until a group is shipped
        (``make_decision``) or it is abandoned. What users get meanwhile is not documented by
        Statsig; the default is ours."""
        data = self.validated(self.InputSerializer)
        outcome = experiment_services.experiment_defer_decision(
            project=self.project,
            actor=self.actor,
            experiment_id=experiment_id,
            stop_reason=data["stopReason"],
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
    ExperimentDeferDecisionView,
    ExperimentResetView,
    ExperimentRestartAsNewView,
    ExperimentScheduleStartView,
    ExperimentArchiveView,
    ExperimentUnarchiveView,
    ExperimentEnableGroupsView,
    ExperimentDisableGroupsView,
    ExperimentOverridesView,
)
