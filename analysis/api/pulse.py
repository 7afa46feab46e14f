"""``/console/v1/experiments/{id}/load_pulse`` and ``/pulse_results``: computing and reading an
experiment's results (Pulse); ``/console/v1/gates/{id}/load_pulse`` and
``/gates/{id}/rules/{ruleID}/pulse_results``: the same for a gate's rules (pass against fail)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers

from analysis import selectors, services
from console.api.base import ConsoleAPIView
from console.api.schema import RESPECT_REVIEWS_HEADER, envelope, responses
from console.errors import NotFound
from flags.selectors import experiment_get, gate_get

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


class GateLoadPulseView(ConsoleAPIView):
    class QuerySerializer(serializers.Serializer):
        metrics = serializers.CharField(required=False, allow_blank=True)

    @extend_schema(
        request=None,
        parameters=[
            OpenApiParameter(
                "metrics",
                str,
                description="comma-separated metric ids (name::type) or names; when omitted, "
                "the gate's monitoringMetrics, else every metric of the project",
            ),
            RESPECT_REVIEWS_HEADER,
        ],
        responses=responses({202: envelope("GatePulseLoading")}),
    )
    def post(self, request, gate_id: str):
        params = self.validated(self.QuerySerializer, data=request.query_params)
        named = [name.strip() for name in params.get("metrics", "").split(",") if name.strip()]
        services.gate_pulse_request(
            project=self.project, actor=self.actor, gate_id=gate_id, metric_ids=named or None
        )
        return self.respond("Pulse computation started.", status_code=202)


class GatePulseResultsView(ConsoleAPIView):
    class QuerySerializer(serializers.Serializer):
        cuped = serializers.BooleanField(required=False, default=True)
        confidence = serializers.FloatField(required=False)

    @extend_schema(
        parameters=[
            OpenApiParameter("cuped", bool),
            OpenApiParameter("confidence", float, description="percent, 95 when omitted"),
        ],
        responses=responses({200: envelope("GatePulseResults", PULSE_RESULTS)}),
        description="The rule's units it passed (test group `pass`) against those it failed "
        "(control `fail`), in the shape of an experiment's pulse_results.",
    )
    def get(self, request, gate_id: str, rule_id: str):
        params = self.validated(self.QuerySerializer, data=request.query_params)
        gate = gate_get(project=self.project, gate_id=gate_id)
        query = selectors.gate_pulse_query(
            cuped=params["cuped"], confidence=params.get("confidence")
        )
        results = selectors.gate_pulse_results(gate=gate, rule_id=rule_id, query=query)
        if results is None:
            raise NotFound("No results yet: POST load_pulse to compute them.")
        return self.respond("Pulse results read successfully.", results)
