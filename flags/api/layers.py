"""``/console/v1/layers``: Statsig's layer endpoints (``LayerContractDto``) with typed
``parameters`` and the experiments placed in a layer."""

from __future__ import annotations

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
    FlagReviewSettingsInputSerializer,
    LayerOverridesInputSerializer,
    plain,
    review_settings_fields,
)
from flags.api.outputs import (
    EXPERIMENT,
    LAYER,
    ExperimentOutputSerializer,
    LayerOutputSerializer,
    LayerOverridesOutputSerializer,
    LayerParameterSerializer,
    experiment_output,
    layer_output,
    layer_overrides_output,
)
from flags.models import Experiment, Layer
from flags.services import layers as layer_services

LAYER_RESPONSE = envelope("LayerResponse", LayerOutputSerializer)
OVERRIDES_RESPONSE = envelope("LayerOverridesResponse", LayerOverridesOutputSerializer)


def layer_fields(data: dict[str, Any]) -> dict[str, Any]:
    """Statsig's layer body as ``flags.services.layers`` keywords."""
    names = {
        "name": "name",
        "description": "description",
        "idType": "id_type",
        "parameters": "parameters",
        "tags": "tags",
    }
    fields = {keyword: plain(data[wire]) for wire, keyword in names.items() if wire in data}
    fields.update(review_settings_fields(data))
    return fields


class LayerBodySerializer(serializers.Serializer):
    name = serializers.CharField(max_length=NAME_MAX, required=False)
    description = serializers.CharField(
        max_length=DESCRIPTION_MAX, required=False, allow_blank=True, allow_null=True
    )
    idType = serializers.CharField(max_length=64, required=False)
    parameters = LayerParameterSerializer(many=True, required=False)
    tags = serializers.ListField(child=serializers.CharField(max_length=100), required=False)
    reviewSettings = FlagReviewSettingsInputSerializer(required=False)


class LayerPartialInputSerializer(LayerBodySerializer):
    """``LayerPartialUpdateContractDto``."""

    version = VersionField()


class _LayerView(EntityAPIView):
    entity_type = LAYER

    def render(self, layer: Layer, reviews: dict[str, Review] | None = None) -> dict[str, Any]:
        return layer_output(layer, project=self.project, reviews=reviews, members=self.page_members)

    def get_layer(self, layer_id: str) -> Layer:
        return selectors.layer_get(project=self.project, layer_id=layer_id)


class LayerListCreateView(_LayerView):
    class InputSerializer(LayerBodySerializer):
        """``LayerCreateContractDto``: ``name`` and ``idType`` are required."""

        name = serializers.CharField(max_length=NAME_MAX)
        id = serializers.CharField(max_length=NAME_MAX, required=False)
        idType = serializers.CharField(max_length=64)

    @extend_schema(
        **reading(
            {200: envelope("LayerList", LayerOutputSerializer, many=True, paginated=True)},
            parameters=[
                *PAGE_PARAMETERS,
                *query_parameters("idType", "creatorID", "creatorName"),
                TAGS_PARAMETER,
            ],
        )
    )
    def get(self, request):
        params = request.query_params
        layers = selectors.layer_list(
            project=self.project,
            tags=tags_filter(params),
            **text_filters(
                params,
                {"idType": "id_type", "creatorID": "creator_id", "creatorName": "creator_name"},
            ),
        )
        return self.respond_entities("Layers listed successfully.", layers)

    @extend_schema(**mutation(InputSerializer, {201: LAYER_RESPONSE}))
    def post(self, request):
        data = self.validated(self.InputSerializer)
        layer = layer_services.layer_create(
            project=self.project, actor=self.actor, layer_id=data.get("id"), **layer_fields(data)
        )
        return self.respond("Layer created successfully.", self.render(layer), 201)


class LayerDetailView(_LayerView):
    class InputSerializer(LayerBodySerializer):
        """``LayerFullUpdateContractDto``: ``description`` and ``parameters`` are required."""

        description = serializers.CharField(max_length=DESCRIPTION_MAX, allow_blank=True)
        parameters = LayerParameterSerializer(many=True)
        version = VersionField()

    @extend_schema(**reading({200: LAYER_RESPONSE}))
    def get(self, request, layer_id: str):
        return self.respond("Layer read successfully.", self.render(self.get_layer(layer_id)))

    def _update(self, serializer):
        data = self.validated(serializer)
        outcome = layer_services.layer_update(
            project=self.project,
            actor=self.actor,
            layer_id=self.kwargs["layer_id"],
            expected_version=data.get("version"),
            **layer_fields(data),
        )
        return self.respond_outcome(outcome, "Layer updated successfully.", self.render)

    @extend_schema(**mutation(InputSerializer, {200: LAYER_RESPONSE}))
    def post(self, request, layer_id: str):
        return self._update(self.InputSerializer)

    @extend_schema(**mutation(LayerPartialInputSerializer, {200: LAYER_RESPONSE}))
    def patch(self, request, layer_id: str):
        return self._update(LayerPartialInputSerializer)

    @extend_schema(**mutation(None, {200: MessageSerializer}))
    def delete(self, request, layer_id: str):
        outcome = layer_services.layer_delete(
            project=self.project, actor=self.actor, layer_id=layer_id
        )
        return self.respond_outcome(outcome, "Layer deleted successfully.", lambda _: None)


class LayerExperimentsView(EntityAPIView):
    """The experiments placed in the layer (Statsig's "lineage")."""

    entity_type = EXPERIMENT

    def render(self, experiment: Experiment, reviews: dict[str, Review] | None = None) -> dict:
        return experiment_output(
            experiment, project=self.project, reviews=reviews, members=self.page_members
        )

    @extend_schema(
        **reading(
            {
                200: envelope(
                    "LayerExperiments", ExperimentOutputSerializer, many=True, paginated=True
                )
            },
            parameters=PAGE_PARAMETERS,
        )
    )
    def get(self, request, layer_id: str):
        experiments = selectors.layer_experiments(project=self.project, layer_id=layer_id)
        return self.respond_entities("Experiments listed successfully.", experiments)


@overrides_schema(LayerOverridesInputSerializer, OVERRIDES_RESPONSE)
class LayerOverridesView(_LayerView, EntityOverridesView):
    """Removing an override also removes its ids from the id overrides."""

    InputSerializer = LayerOverridesInputSerializer
    label = "Layer"
    replace = staticmethod(layer_services.layer_overrides_set)
    add = staticmethod(layer_services.layer_overrides_add)
    remove = staticmethod(layer_services.layer_overrides_remove)

    def get_entity(self, entity_id: str) -> Layer:
        return self.get_layer(entity_id)

    def overrides_of(self, layer: Layer) -> dict[str, Any]:
        return layer_overrides_output(layer.overrides or {})
