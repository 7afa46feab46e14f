"""``/console/v1/experiments/{id}/load_pulse`` and ``/pulse_results``: computing and reading an
experiment's results (Pulse)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers

from analysis import selectors, services
from console.api.base import ConsoleAPIView
from console.api.schema import RESPECT_REVIEWS_HEADER, envelope, responses
from console.errors import NotFound
from flags.selectors import experiment_get

PULSE_RESULTS = inline_serializer(
    name="PulseResults",
    fields={
        "computedAt": serializers.IntegerField(),
        "exposures": serializers.DictField(child=serializers.IntegerField()),
        "srm": serializers.DictField(),
        "metrics": serializers.ListField(child=serializers.DictField()),
    },
)


class LoadPulseView(ConsoleAPIView):
    # Computing results changes nothing users get, so it is never reviewed; the header is
    # accepted like on every experiment mutation.
    @extend_schema(
        request=None,
        parameters=[RESPECT_REVIEWS_HEADER],
        responses=responses({202: envelope("PulseLoading")}),
    )
    def post(self, request, experiment_id: str):
        services.pulse_request(project=self.project, actor=self.actor, experiment_id=experiment_id)
        return self.respond("Pulse computation started.", status_code=202)


class PulseResultsView(ConsoleAPIView):
    class QuerySerializer(serializers.Serializer):
        control = serializers.CharField(required=False)
        test = serializers.CharField(required=False)
        cuped = serializers.BooleanField(required=False, default=True)
        confidence = serializers.FloatField(required=False)

    @extend_schema(
        parameters=[
            OpenApiParameter("control", str, description="control group name or id"),
            OpenApiParameter("test", str, description="test group name or id; all when omitted"),
            OpenApiParameter("cuped", bool),
            OpenApiParameter("confidence", float, description="percent, e.g. 95"),
        ],
        responses=responses({200: envelope("PulseResults", PULSE_RESULTS)}),
    )
    def get(self, request, experiment_id: str):
        params = self.validated(self.QuerySerializer, data=request.query_params)
        experiment = experiment_get(project=self.project, experiment_id=experiment_id)
        query = selectors.pulse_query(
            experiment=experiment,
            control=params.get("control"),
            test=params.get("test"),
            cuped=params["cuped"],
            confidence=params.get("confidence"),
        )
        results = selectors.pulse_results(experiment=experiment, query=query)
        if results is None:
            raise NotFound("No results yet: POST load_pulse to compute them.")
        return self.respond("Pulse results read successfully.", results)
