"""``/console/v1/holdouts``: Statsig's holdout endpoints (``HoldoutDto``). Creates answer 200,
as Statsig's do."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from console.api.schema import PAGE_PARAMETERS, MessageSerializer, envelope
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
    GateOverridesInputSerializer,
    plain,
)
from flags.api.outputs import (
    HoldoutOutputSerializer,
    OverridesOutputSerializer,
    holdout_output,
    overrides_output,
)
from flags.models import Holdout
from flags.services import holdouts as holdout_services

HOLDOUT_RESPONSE = envelope("HoldoutResponse", HoldoutOutputSerializer)
OVERRIDES_RESPONSE = envelope("HoldoutOverridesResponse", OverridesOutputSerializer)
UPDATED = "Holdout updated successfully."


def holdout_fields(data: dict[str, Any]) -> dict[str, Any]:
    """Statsig's holdout body as ``flags.services.holdouts`` keywords."""
    names = {
        "name": "name",
        "description": "description",
        "idType": "id_type",
        "passPercentage": "pass_percentage",
        "isEnabled": "is_enabled",
        "isGlobal": "is_global",
        "gateIDs": "gate_ids",
        "experimentIDs": "experiment_ids",
        "layerIDs": "layer_ids",
        "tags": "tags",
    }
    return {keyword: plain(data[wire]) for wire, keyword in names.items() if wire in data}


def id_list(*, required: bool = False) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.CharField(max_length=NAME_MAX), max_length=1000, required=required
    )


class HoldoutBodySerializer(serializers.Serializer):
    name = serializers.CharField(max_length=NAME_MAX, required=False)
    description = serializers.CharField(
        max_length=DESCRIPTION_MAX, required=False, allow_blank=True, allow_null=True
    )
    idType = serializers.CharField(max_length=64, required=False)
    passPercentage = serializers.FloatField(min_value=0, max_value=10, required=False)
    isEnabled = serializers.BooleanField(required=False)
    isGlobal = serializers.BooleanField(required=False)
    gateIDs = id_list()
    experimentIDs = id_list()
    layerIDs = id_list()
    tags = serializers.ListField(child=serializers.CharField(max_length=100), required=False)


class HoldoutPartialInputSerializer(HoldoutBodySerializer):
    """``HoldoutPartialUpdateContractDto``."""

    version = VersionField()


class _HoldoutView(EntityAPIView):
    def render(self, holdout: Holdout, reviews=None) -> dict[str, Any]:
        return holdout_output(holdout)

    def get_holdout(self, holdout_id: str) -> Holdout:
        return selectors.holdout_get(project=self.project, holdout_id=holdout_id)


class HoldoutListCreateView(_HoldoutView):
    class InputSerializer(HoldoutBodySerializer):
        """``HoldoutCreateContractDto`` (plus the settings of a full update, all optional)."""

        name = serializers.CharField(max_length=NAME_MAX)
        id = serializers.CharField(max_length=NAME_MAX, required=False)

    @extend_schema(
        **reading(
            {200: envelope("HoldoutList", HoldoutOutputSerializer, many=True, paginated=True)},
            parameters=[
                *PAGE_PARAMETERS,
                *query_parameters("creatorID", "creatorName"),
                TAGS_PARAMETER,
            ],
        )
    )
    def get(self, request):
        params = request.query_params
        holdouts = selectors.holdout_list(
            project=self.project,
            tags=tags_filter(params),
            **text_filters(params, {"idType": "id_type"}),
        )
        return self.respond_entities("Holdouts listed successfully.", holdouts)

    @extend_schema(**mutation(InputSerializer, {200: HOLDOUT_RESPONSE}))
    def post(self, request):
        data = self.validated(self.InputSerializer)
        holdout = holdout_services.holdout_create(
            project=self.project,
            actor=self.actor,
            holdout_id=data.get("id"),
            **holdout_fields(data),
        )
        return self.respond("Holdout created successfully.", self.render(holdout))


class HoldoutDetailView(_HoldoutView):
    class InputSerializer(HoldoutBodySerializer):
        """``HoldoutFullUpdateContractDto``."""

        isEnabled = serializers.BooleanField()
        description = serializers.CharField(max_length=DESCRIPTION_MAX, allow_blank=True)
        passPercentage = serializers.FloatField(min_value=0, max_value=10)
        isGlobal = serializers.BooleanField()
        gateIDs = id_list(required=True)
        experimentIDs = id_list(required=True)
        layerIDs = id_list(required=True)
        targetingGateID = serializers.CharField(required=False, allow_null=True, allow_blank=True)
        version = VersionField()

    @extend_schema(**reading({200: HOLDOUT_RESPONSE}))
    def get(self, request, holdout_id: str):
        return self.respond("Holdout read successfully.", self.render(self.get_holdout(holdout_id)))

    def _update(self, serializer):
        data = self.validated(serializer)
        outcome = holdout_services.holdout_update(
            project=self.project,
            actor=self.actor,
            holdout_id=self.kwargs["holdout_id"],
            expected_version=data.get("version"),
            **holdout_fields(data),
        )
        return self.respond_outcome(outcome, UPDATED, self.render)

    @extend_schema(**mutation(InputSerializer, {200: HOLDOUT_RESPONSE}))
    def post(self, request, holdout_id: str):
        return self._update(self.InputSerializer)

    @extend_schema(**mutation(HoldoutPartialInputSerializer, {200: HOLDOUT_RESPONSE}))
    def patch(self, request, holdout_id: str):
        return self._update(HoldoutPartialInputSerializer)

    @extend_schema(**mutation(None, {200: MessageSerializer}))
    def delete(self, request, holdout_id: str):
        outcome = holdout_services.holdout_delete(
            project=self.project, actor=self.actor, holdout_id=holdout_id
        )
        return self.respond_outcome(outcome, "Holdout deleted successfully.", lambda _: None)


@overrides_schema(GateOverridesInputSerializer, OVERRIDES_RESPONSE)
class HoldoutOverridesView(_HoldoutView, EntityOverridesView):
    InputSerializer = GateOverridesInputSerializer
    label = "Holdout"
    replace = staticmethod(holdout_services.holdout_overrides_set)
    add = staticmethod(holdout_services.holdout_overrides_add)
    remove = staticmethod(holdout_services.holdout_overrides_remove)

    def get_entity(self, entity_id: str) -> Holdout:
        return self.get_holdout(entity_id)

    def overrides_of(self, holdout: Holdout) -> dict[str, Any]:
        return overrides_output(holdout.overrides)
