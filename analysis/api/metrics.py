"""``/console/v1/metrics``: Statsig's metric endpoints. Values are validated by
``analysis.services`` (the screens refuse the same inputs); the serializers document shapes."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from analysis import selectors, services
from analysis.models import Metric
from console.api.base import ConsoleAPIView
from console.api.schema import PAGE_PARAMETERS, envelope, responses
from console.errors import ValidationError


class MetricEventSerializer(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.CharField(help_text="count | count_distinct | value")
    metadataKey = serializers.CharField(required=False, allow_null=True)
    criteria = serializers.ListField(child=serializers.JSONField(), required=False)


class MetricSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="<name>::<type>")
    name = serializers.CharField()
    type = serializers.CharField(help_text="event_count | event_user | sum | mean | ratio")
    description = serializers.CharField()
    unitTypes = serializers.ListField(child=serializers.CharField())
    metricEvents = MetricEventSerializer(many=True)
    directionality = serializers.CharField(help_text="increase | decrease")
    creatorName = serializers.CharField()
    createdTime = serializers.IntegerField()
    lastModifiedTime = serializers.IntegerField()


def metric_output(metric: Metric) -> dict[str, Any]:
    return {
        "id": metric.slug,
        "name": metric.name,
        "type": metric.type,
        "description": metric.description,
        "unitTypes": list(metric.unit_types),
        "metricEvents": list(metric.metric_events),
        "directionality": metric.directionality,
        "creatorName": metric.creator_name,
        "createdTime": int(metric.created_at.timestamp() * 1000),
        "lastModifiedTime": int(metric.updated_at.timestamp() * 1000),
    }


METRIC_RESPONSE = envelope("Metric", MetricSerializer)


class _MetricView(ConsoleAPIView):
    def body(self) -> dict[str, Any]:
        data = self.request.data
        if not isinstance(data, dict):
            raise ValidationError.for_field("body", "The body must be a JSON object.")
        return data


class MetricCreateView(_MetricView):
    @extend_schema(request=MetricSerializer, responses=responses({201: METRIC_RESPONSE, 409: None}))
    def post(self, request):
        metric = services.metric_create(project=self.project, actor=self.actor, data=self.body())
        return self.respond("Metric created successfully.", metric_output(metric), 201)


class MetricListView(_MetricView):
    @extend_schema(
        parameters=PAGE_PARAMETERS,
        responses=responses(
            {200: envelope("MetricList", MetricSerializer, many=True, paginated=True)}
        ),
    )
    def get(self, request):
        page = self.page()
        metrics = selectors.metric_list(project=self.project)
        total = metrics.count()
        items = [metric_output(m) for m in metrics[page.offset : page.offset + page.limit]]
        return self.respond_page("Metrics listed successfully.", items, page, total)


class MetricDetailView(_MetricView):
    @extend_schema(responses=responses({200: METRIC_RESPONSE}))
    def get(self, request, metric_id: str):
        metric = selectors.metric_get(project=self.project, metric_id=metric_id)
        return self.respond("Metric read successfully.", metric_output(metric))

    @extend_schema(request=MetricSerializer, responses=responses({200: METRIC_RESPONSE}))
    def post(self, request, metric_id: str):
        metric = services.metric_update(
            project=self.project, actor=self.actor, metric_id=metric_id, data=self.body()
        )
        return self.respond("Metric updated successfully.", metric_output(metric))

    @extend_schema(responses=responses({200: envelope("MetricDeleted")}))
    def delete(self, request, metric_id: str):
        services.metric_delete(project=self.project, actor=self.actor, metric_id=metric_id)
        return self.respond("Metric deleted successfully.")
