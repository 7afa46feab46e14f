"""``/console/v1/gates``: Statsig's feature gate endpoints (reference §1.5, ``ExternalGateDto``)."""

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
    ArchiveInputSerializer,
    FlagReviewSettingsInputSerializer,
    FlagRuleInputSerializer,
    GateOverridesInputSerializer,
    RulePartialInputSerializer,
    TypeField,
    UnarchiveInputSerializer,
    plain,
    review_settings_fields,
    setting_field,
)
from flags.api.outputs import (
    GATE,
    GateOutputSerializer,
    OverridesOutputSerializer,
    RulesOutputSerializer,
    gate_output,
    overrides_output,
    rule_output,
)
from flags.models import Gate, GateType
from flags.services import gates as gate_services
from flags.services.gates import GATE_SETTINGS

UPDATED = "Gate updated successfully."
GATE_RESPONSE = envelope("GateResponse", GateOutputSerializer)
OVERRIDES_RESPONSE = envelope("GateOverridesResponse", OverridesOutputSerializer)


def gate_fields(data: dict[str, Any]) -> dict[str, Any]:
    """Statsig's gate body as ``flags.services.gates`` keywords (only the keys present)."""
    names = {
        "name": "name",
        "description": "description",
        "isEnabled": "is_enabled",
        "rules": "rules",
        "tags": "tags",
        "type": "type",
        "idType": "id_type",
        "creatorID": "creator_id",
        "creatorEmail": "creator_email",
    }
    fields = {keyword: plain(data[wire]) for wire, keyword in names.items() if wire in data}
    for key in ("creator_id", "creator_email"):
        if not fields.get(key):
            fields.pop(key, None)
    settings = {name: plain(data[name]) for name in GATE_SETTINGS if name in data}
    if settings:
        fields["settings"] = settings
    fields.update(review_settings_fields(data))
    return fields


class GateBodySerializer(serializers.Serializer):
    """The fields of ``GateCreateDto``/``GatePartialUpdateDto`` we honour (others are ignored)."""

    name = serializers.CharField(max_length=NAME_MAX, required=False)
    description = serializers.CharField(
        max_length=DESCRIPTION_MAX, required=False, allow_blank=True, allow_null=True
    )
    isEnabled = serializers.BooleanField(required=False)
    rules = FlagRuleInputSerializer(many=True, required=False)
    tags = serializers.ListField(child=serializers.CharField(max_length=100), required=False)
    type = TypeField(GateType.values, required=False)
    idType = serializers.CharField(max_length=64, required=False)
    reviewSettings = FlagReviewSettingsInputSerializer(required=False)
    creatorID = serializers.CharField(
        max_length=64, required=False, allow_blank=True, allow_null=True
    )
    creatorEmail = serializers.CharField(
        max_length=254, required=False, allow_blank=True, allow_null=True
    )

    def get_fields(self):
        """With the fields kept as sent (``GATE_SETTINGS``)."""
        fields = super().get_fields()
        for name, setting in GATE_SETTINGS.items():
            fields[name] = setting_field(setting)
        return fields


class GatePartialInputSerializer(GateBodySerializer):
    """``GatePartialUpdateDto``: every field optional."""

    version = VersionField()


class _GateView(EntityAPIView):
    entity_type = GATE
    exposure_kind = "gate"

    def render(self, gate: Gate, reviews: dict[str, Review] | None = None) -> dict[str, Any]:
        return gate_output(
            gate,
            project=self.project,
            reviews=reviews,
            checks=self.page_checks,
            members=self.page_members,
        )

    def get_gate(self, gate_id: str) -> Gate:
        return selectors.gate_get(project=self.project, gate_id=gate_id)


class GateListCreateView(_GateView):
    class InputSerializer(GateBodySerializer):
        name = serializers.CharField(max_length=NAME_MAX)
        id = serializers.CharField(max_length=NAME_MAX, required=False)

    @extend_schema(
        **reading(
            {200: envelope("GateList", GateOutputSerializer, many=True, paginated=True)},
            parameters=[
                *PAGE_PARAMETERS,
                *query_parameters("idType", "type", "status", "creatorID", "creatorName"),
                TAGS_PARAMETER,
            ],
        )
    )
    def get(self, request):
        params = request.query_params
        gates = selectors.gate_list(
            project=self.project,
            tags=tags_filter(params),
            **text_filters(
                params,
                {
                    "idType": "id_type",
                    "type": "type",
                    "status": "status",
                    "creatorID": "creator_id",
                    "creatorName": "creator_name",
                },
            ),
        )
        return self.respond_entities("Gates listed successfully.", gates)

    @extend_schema(**mutation(InputSerializer, {201: GATE_RESPONSE}))
    def post(self, request):
        data = self.validated(self.InputSerializer)
        gate = gate_services.gate_create(
            project=self.project,
            actor=self.actor,
            gate_id=data.get("id"),
            **gate_fields(data),
        )
        return self.respond("Gate created successfully.", self.render(gate), 201)


class GateDetailView(_GateView):
    class InputSerializer(GateBodySerializer):
        """``GateFullUpdateDto``: ``isEnabled``, ``description`` and ``rules`` are required."""

        isEnabled = serializers.BooleanField()
        description = serializers.CharField(max_length=DESCRIPTION_MAX, allow_blank=True)
        rules = FlagRuleInputSerializer(many=True)
        version = VersionField()

    @extend_schema(**reading({200: GATE_RESPONSE}))
    def get(self, request, gate_id: str):
        return self.respond("Gate read successfully.", self.render(self.get_gate(gate_id)))

    @extend_schema(**mutation(InputSerializer, {200: GATE_RESPONSE}))
    def post(self, request, gate_id: str):
        data = self.validated(self.InputSerializer)
        outcome = gate_services.gate_full_update(
            project=self.project,
            actor=self.actor,
            gate_id=gate_id,
            expected_version=data.get("version"),
            **gate_fields(data),
        )
        return self.respond_outcome(outcome, UPDATED, self.render)

    @extend_schema(**mutation(GatePartialInputSerializer, {200: GATE_RESPONSE}))
    def patch(self, request, gate_id: str):
        data = self.validated(GatePartialInputSerializer)
        outcome = gate_services.gate_update(
            project=self.project,
            actor=self.actor,
            gate_id=gate_id,
            expected_version=data.get("version"),
            **gate_fields(data),
        )
        return self.respond_outcome(outcome, UPDATED, self.render)

    @extend_schema(**mutation(None, {200: MessageSerializer}))
    def delete(self, request, gate_id: str):
        outcome = gate_services.gate_delete(project=self.project, actor=self.actor, gate_id=gate_id)
        return self.respond_outcome(outcome, "Gate deleted successfully.", lambda _: None)


class GateEnableView(_GateView):
    @extend_schema(**mutation(None, {200: GATE_RESPONSE}))
    def put(self, request, gate_id: str):
        outcome = gate_services.gate_enable(project=self.project, actor=self.actor, gate_id=gate_id)
        return self.respond_outcome(outcome, UPDATED, self.render)


class GateDisableView(_GateView):
    @extend_schema(**mutation(None, {200: GATE_RESPONSE}))
    def put(self, request, gate_id: str):
        outcome = gate_services.gate_disable(
            project=self.project, actor=self.actor, gate_id=gate_id
        )
        return self.respond_outcome(outcome, UPDATED, self.render)


class GateLaunchView(_GateView):
    @extend_schema(**mutation(None, {200: GATE_RESPONSE}))
    def put(self, request, gate_id: str):
        outcome = gate_services.gate_launch(project=self.project, actor=self.actor, gate_id=gate_id)
        return self.respond_outcome(outcome, UPDATED, self.render)


class GateArchiveView(_GateView):
    InputSerializer = ArchiveInputSerializer

    @extend_schema(**mutation(InputSerializer, {200: GATE_RESPONSE}))
    def put(self, request, gate_id: str):
        data = self.validated(self.InputSerializer)
        outcome = gate_services.gate_archive(
            project=self.project,
            actor=self.actor,
            gate_id=gate_id,
            force=data["forceArchive"],
            reason=data["archiveReason"],
        )
        return self.respond_outcome(outcome, UPDATED, self.render)


class GateUnarchiveView(_GateView):
    InputSerializer = UnarchiveInputSerializer

    @extend_schema(**mutation(InputSerializer, {200: GATE_RESPONSE}))
    def put(self, request, gate_id: str):
        data = self.validated(self.InputSerializer)
        outcome = gate_services.gate_unarchive(
            project=self.project, actor=self.actor, gate_id=gate_id, reason=data["unarchiveReason"]
        )
        return self.respond_outcome(outcome, UPDATED, self.render)


# -- rules ------------------------------------------------------------------------------------


class GateRuleAddView(_GateView):
    InputSerializer = FlagRuleInputSerializer

    @extend_schema(**mutation(InputSerializer, {200: GATE_RESPONSE}))
    def post(self, request, gate_id: str):
        data = self.validated(self.InputSerializer)
        outcome = gate_services.gate_rule_add(
            project=self.project, actor=self.actor, gate_id=gate_id, rule=plain(data)
        )
        return self.respond_outcome(outcome, "Gate rules added successfully.", self.render)


class GateRulesView(_GateView):
    class InputSerializer(serializers.Serializer):
        """``MultiRuleDto`` / ``MultiRuleUpdateDto``."""

        rules = FlagRuleInputSerializer(many=True)

    @extend_schema(**reading({200: envelope("GateRules", RulesOutputSerializer)}))
    def get(self, request, gate_id: str):
        gate = self.get_gate(gate_id)
        return self.respond(
            "Gate rules read successfully.", {"rules": [rule_output(r) for r in gate.rules]}
        )

    @extend_schema(**mutation(InputSerializer, {200: GATE_RESPONSE}))
    def post(self, request, gate_id: str):
        """Adds the rules after the gate's rules."""
        data = self.validated(self.InputSerializer)
        outcome = gate_services.gate_rules_add(
            project=self.project, actor=self.actor, gate_id=gate_id, rules=plain(data["rules"])
        )
        return self.respond_outcome(outcome, "Gate rules added successfully.", self.render)

    @extend_schema(**mutation(InputSerializer, {200: GATE_RESPONSE}))
    def patch(self, request, gate_id: str):
        """Replaces the gate's rules (rules keep their salts by id)."""
        data = self.validated(self.InputSerializer)
        outcome = gate_services.gate_rules_replace(
            project=self.project, actor=self.actor, gate_id=gate_id, rules=plain(data["rules"])
        )
        return self.respond_outcome(outcome, UPDATED, self.render)


class GateRuleDetailView(_GateView):
    InputSerializer = RulePartialInputSerializer

    @extend_schema(**mutation(InputSerializer, {200: GATE_RESPONSE}))
    def patch(self, request, gate_id: str, rule_id: str):
        data = self.validated(self.InputSerializer)
        outcome = gate_services.gate_rule_update(
            project=self.project,
            actor=self.actor,
            gate_id=gate_id,
            rule_id=rule_id,
            rule=plain(data),
        )
        return self.respond_outcome(outcome, UPDATED, self.render)

    @extend_schema(**mutation(None, {200: GATE_RESPONSE}))
    def delete(self, request, gate_id: str, rule_id: str):
        outcome = gate_services.gate_rule_delete(
            project=self.project, actor=self.actor, gate_id=gate_id, rule_id=rule_id
        )
        return self.respond_outcome(outcome, UPDATED, self.render)


# -- overrides --------------------------------------------------------------------------------


@overrides_schema(GateOverridesInputSerializer, OVERRIDES_RESPONSE, status=201)
class GateOverridesView(_GateView, EntityOverridesView):
    """Statsig documents 201 for every verb of this resource."""

    InputSerializer = GateOverridesInputSerializer
    label = "Gate"
    success_status = 201
    replace = staticmethod(gate_services.gate_overrides_set)
    add = staticmethod(gate_services.gate_overrides_add)
    remove = staticmethod(gate_services.gate_overrides_remove)

    def get_entity(self, entity_id: str) -> Gate:
        return self.get_gate(entity_id)

    def overrides_of(self, gate: Gate) -> dict[str, Any]:
        return overrides_output(gate.overrides)


class GateVersionsView(_GateView):
    @extend_schema(
        **reading(
            {200: envelope("GateVersions", GateOutputSerializer, many=True, paginated=True)},
            parameters=PAGE_PARAMETERS,
        )
    )
    def get(self, request, gate_id: str):
        versions = selectors.gate_versions(project=self.project, gate_id=gate_id)
        return self.respond_entities("Gate versions listed successfully.", versions)


class GateGateReferencesView(_GateView):
    @extend_schema(
        **reading(
            {200: envelope("GateReferences", GateOutputSerializer, many=True, paginated=True)},
            parameters=PAGE_PARAMETERS,
        )
    )
    def get(self, request, gate_id: str):
        """The gates whose rules check this gate."""
        gates = selectors.gate_gate_references(project=self.project, gate_id=gate_id)
        return self.respond_entities("Gates listed successfully.", gates)
