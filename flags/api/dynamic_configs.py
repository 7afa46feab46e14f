"""``/console/v1/dynamic_configs``: Statsig's dynamic config endpoints (``DynamicConfigDto``)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from console.api.schema import PAGE_PARAMETERS, MessageSerializer, envelope
from console.errors import NotFound
from console.models import Review
from flags import selectors
from flags.api.common import (
    TAGS_PARAMETER,
    EntityAPIView,
    VersionField,
    mutation,
    query_parameters,
    reading,
    tags_filter,
    text_filters,
)
from flags.api.inputs import (
    DESCRIPTION_MAX,
    NAME_MAX,
    AnyValueField,
    ArchiveInputSerializer,
    FlagReviewSettingsInputSerializer,
    FlagRuleInputSerializer,
    RulePartialInputSerializer,
    UnarchiveInputSerializer,
    plain,
    review_settings_fields,
    setting_field,
)
from flags.api.outputs import (
    DYNAMIC_CONFIG,
    ConfigRuleOutputSerializer,
    ConfigRulesOutputSerializer,
    DynamicConfigOutputSerializer,
    dynamic_config_output,
    rule_output,
)
from flags.models import DynamicConfig
from flags.services import configs as config_services
from flags.services.configs import CONFIG_SETTINGS

UPDATED = "Dynamic config updated successfully."
CONFIG_RESPONSE = envelope("DynamicConfigResponse", DynamicConfigOutputSerializer)


def config_fields(data: dict[str, Any]) -> dict[str, Any]:
    """Statsig's dynamic config body as ``flags.services.configs`` keywords."""
    names = {
        "name": "name",
        "description": "description",
        "isEnabled": "is_enabled",
        "rules": "rules",
        "tags": "tags",
        "idType": "id_type",
        "defaultValue": "default_value",
        "schema": "schema",
        "creatorID": "creator_id",
        "creatorEmail": "creator_email",
    }
    fields = {keyword: plain(data[wire]) for wire, keyword in names.items() if wire in data}
    for key in ("creator_id", "creator_email"):
        if not fields.get(key):
            fields.pop(key, None)
    if fields.get("default_value", {}) is None:
        del fields["default_value"]  # null: no value sent (Terraform sends null)
    # The JSON5 text is kept verbatim; when sent it spells the default value.
    if data.get("defaultValueJson5"):
        fields["default_value_json5"] = data["defaultValueJson5"]
    if "schema" not in fields and "schemaJson5" in data:
        fields["schema"] = data["schemaJson5"]
    settings = {name: plain(data[name]) for name in CONFIG_SETTINGS if name in data}
    if settings:
        fields["settings"] = settings
    fields.update(review_settings_fields(data))
    return fields


class ConfigBodySerializer(serializers.Serializer):
    name = serializers.CharField(max_length=NAME_MAX, required=False)
    description = serializers.CharField(
        max_length=DESCRIPTION_MAX, required=False, allow_blank=True, allow_null=True
    )
    isEnabled = serializers.BooleanField(required=False)
    rules = FlagRuleInputSerializer(many=True, required=False)
    defaultValue = serializers.DictField(
        child=AnyValueField(allow_null=True), required=False, allow_null=True
    )
    defaultValueJson5 = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="The default value as JSON5 (comments, trailing commas), returned verbatim.",
    )
    schema = AnyValueField(
        required=False,
        allow_null=True,
        help_text="A JSON Schema (2020-12), as a JSON string or an object; null removes it.",
    )
    schemaJson5 = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    tags = serializers.ListField(child=serializers.CharField(max_length=100), required=False)
    idType = serializers.CharField(max_length=64, required=False)
    reviewSettings = FlagReviewSettingsInputSerializer(required=False)
    creatorID = serializers.CharField(
        max_length=64, required=False, allow_blank=True, allow_null=True
    )
    creatorEmail = serializers.CharField(
        max_length=254, required=False, allow_blank=True, allow_null=True
    )

    def get_fields(self):
        """With the fields kept as sent (``CONFIG_SETTINGS``)."""
        fields = super().get_fields()
        for name, setting in CONFIG_SETTINGS.items():
            fields[name] = setting_field(setting)
        return fields


class ConfigPartialInputSerializer(ConfigBodySerializer):
    """``DynamicConfigPartialUpdateDto``."""

    version = VersionField()


class _ConfigView(EntityAPIView):
    entity_type = DYNAMIC_CONFIG
    exposure_kind = "config"

    def render(self, config: DynamicConfig, reviews: dict[str, Review] | None = None) -> dict:
        return dynamic_config_output(
            config,
            project=self.project,
            reviews=reviews,
            checks=self.page_checks,
            members=self.page_members,
        )

    def get_config(self, config_id: str) -> DynamicConfig:
        return selectors.dynamic_config_get(project=self.project, config_id=config_id)


class ConfigListCreateView(_ConfigView):
    class InputSerializer(ConfigBodySerializer):
        name = serializers.CharField(max_length=NAME_MAX)
        id = serializers.CharField(max_length=NAME_MAX, required=False)

    @extend_schema(
        **reading(
            {
                200: envelope(
                    "DynamicConfigList", DynamicConfigOutputSerializer, many=True, paginated=True
                )
            },
            parameters=[
                *PAGE_PARAMETERS,
                *query_parameters("idType", "status", "creatorID", "creatorName"),
                TAGS_PARAMETER,
            ],
        )
    )
    def get(self, request):
        params = request.query_params
        configs = selectors.dynamic_config_list(
            project=self.project,
            tags=tags_filter(params),
            **text_filters(
                params,
                {
                    "idType": "id_type",
                    "status": "status",
                    "creatorID": "creator_id",
                    "creatorName": "creator_name",
                },
            ),
        )
        return self.respond_entities("Dynamic Configs listed successfully.", configs)

    @extend_schema(**mutation(InputSerializer, {201: CONFIG_RESPONSE}))
    def post(self, request):
        data = self.validated(self.InputSerializer)
        config = config_services.dynamic_config_create(
            project=self.project, actor=self.actor, config_id=data.get("id"), **config_fields(data)
        )
        return self.respond("Dynamic Config created successfully.", self.render(config), 201)


class ConfigDetailView(_ConfigView):
    class InputSerializer(ConfigBodySerializer):
        """``DynamicConfigFullUpdateDto``: ``isEnabled``, ``description`` and ``rules`` are
        required."""

        isEnabled = serializers.BooleanField()
        description = serializers.CharField(max_length=DESCRIPTION_MAX, allow_blank=True)
        rules = FlagRuleInputSerializer(many=True)
        version = VersionField()

    @extend_schema(**reading({200: CONFIG_RESPONSE}))
    def get(self, request, config_id: str):
        return self.respond(
            "Dynamic config read successfully.", self.render(self.get_config(config_id))
        )

    def _update(self, serializer):
        data = self.validated(serializer)
        outcome = config_services.dynamic_config_update(
            project=self.project,
            actor=self.actor,
            config_id=self.kwargs["config_id"],
            expected_version=data.get("version"),
            **config_fields(data),
        )
        return self.respond_outcome(outcome, UPDATED, self.render)

    @extend_schema(**mutation(InputSerializer, {200: CONFIG_RESPONSE}))
    def post(self, request, config_id: str):
        return self._update(self.InputSerializer)

    @extend_schema(**mutation(ConfigPartialInputSerializer, {200: CONFIG_RESPONSE}))
    def patch(self, request, config_id: str):
        return self._update(ConfigPartialInputSerializer)

    @extend_schema(**mutation(None, {200: MessageSerializer}))
    def delete(self, request, config_id: str):
        outcome = config_services.dynamic_config_delete(
            project=self.project, actor=self.actor, config_id=config_id
        )
        return self.respond_outcome(outcome, "Dynamic Config deleted successfully.", lambda _: None)


class ConfigEnableView(_ConfigView):
    @extend_schema(**mutation(None, {200: CONFIG_RESPONSE}))
    def put(self, request, config_id: str):
        outcome = config_services.dynamic_config_enable(
            project=self.project, actor=self.actor, config_id=config_id
        )
        return self.respond_outcome(outcome, UPDATED, self.render)


class ConfigDisableView(_ConfigView):
    @extend_schema(**mutation(None, {200: CONFIG_RESPONSE}))
    def put(self, request, config_id: str):
        outcome = config_services.dynamic_config_disable(
            project=self.project, actor=self.actor, config_id=config_id
        )
        return self.respond_outcome(outcome, UPDATED, self.render)


class ConfigArchiveView(_ConfigView):
    InputSerializer = ArchiveInputSerializer

    @extend_schema(**mutation(InputSerializer, {200: CONFIG_RESPONSE}))
    def put(self, request, config_id: str):
        self.validated(self.InputSerializer)
        outcome = config_services.dynamic_config_archive(
            project=self.project, actor=self.actor, config_id=config_id
        )
        return self.respond_outcome(outcome, UPDATED, self.render)


class ConfigUnarchiveView(_ConfigView):
    InputSerializer = UnarchiveInputSerializer

    @extend_schema(**mutation(InputSerializer, {200: CONFIG_RESPONSE}))
    def put(self, request, config_id: str):
        self.validated(self.InputSerializer)
        outcome = config_services.dynamic_config_unarchive(
            project=self.project, actor=self.actor, config_id=config_id
        )
        return self.respond_outcome(outcome, UPDATED, self.render)


# -- rules ------------------------------------------------------------------------------------


class ConfigRulesView(_ConfigView):
    class InputSerializer(serializers.Serializer):
        rules = FlagRuleInputSerializer(many=True)

    @extend_schema(**reading({200: envelope("DynamicConfigRules", ConfigRulesOutputSerializer)}))
    def get(self, request, config_id: str):
        config = self.get_config(config_id)
        rules = [rule_output(rule, with_return_value=True) for rule in config.rules]
        return self.respond("Dynamic Config rules read successfully.", {"rules": rules})

    @extend_schema(**mutation(InputSerializer, {200: CONFIG_RESPONSE}))
    def patch(self, request, config_id: str):
        """Replaces the config's rules (rules keep their salts by id)."""
        data = self.validated(self.InputSerializer)
        outcome = config_services.dynamic_config_rules_replace(
            project=self.project, actor=self.actor, config_id=config_id, rules=plain(data["rules"])
        )
        return self.respond_outcome(
            outcome, "Dynamic Config rules updated successfully.", self.render
        )


class ConfigRuleAddView(_ConfigView):
    InputSerializer = FlagRuleInputSerializer

    @extend_schema(**mutation(InputSerializer, {200: CONFIG_RESPONSE}))
    def post(self, request, config_id: str):
        data = self.validated(self.InputSerializer)
        outcome = config_services.dynamic_config_rule_add(
            project=self.project, actor=self.actor, config_id=config_id, rule=plain(data)
        )
        return self.respond_outcome(
            outcome, "Dynamic Config rules added successfully.", self.render
        )


class ConfigRuleDetailView(_ConfigView):
    InputSerializer = RulePartialInputSerializer

    @extend_schema(**reading({200: envelope("DynamicConfigRule", ConfigRuleOutputSerializer)}))
    def get(self, request, config_id: str, rule_id: str):
        config = self.get_config(config_id)
        rule = next((r for r in config.rules if r["id"] == rule_id), None)
        if rule is None:
            raise NotFound("Rule not found.")
        return self.respond(
            "Dynamic Config rules read successfully.", rule_output(rule, with_return_value=True)
        )

    @extend_schema(**mutation(InputSerializer, {200: CONFIG_RESPONSE}))
    def patch(self, request, config_id: str, rule_id: str):
        data = self.validated(self.InputSerializer)
        outcome = config_services.dynamic_config_rule_update(
            project=self.project,
            actor=self.actor,
            config_id=config_id,
            rule_id=rule_id,
            rule=plain(data),
        )
        return self.respond_outcome(
            outcome, "Dynamic Config rules updated successfully.", self.render
        )

    @extend_schema(**mutation(None, {200: CONFIG_RESPONSE}))
    def delete(self, request, config_id: str, rule_id: str):
        outcome = config_services.dynamic_config_rule_delete(
            project=self.project, actor=self.actor, config_id=config_id, rule_id=rule_id
        )
        return self.respond_outcome(
            outcome, "Dynamic Config rule deleted successfully.", self.render
        )


class ConfigVersionsView(_ConfigView):
    @extend_schema(
        **reading(
            {
                200: envelope(
                    "DynamicConfigVersions",
                    DynamicConfigOutputSerializer,
                    many=True,
                    paginated=True,
                )
            },
            parameters=PAGE_PARAMETERS,
        )
    )
    def get(self, request, config_id: str):
        versions = selectors.dynamic_config_versions(project=self.project, config_id=config_id)
        return self.respond_entities("Dynamic Config versions listed successfully.", versions)


class GateConfigReferencesView(_ConfigView):
    @extend_schema(
        **reading(
            {
                200: envelope(
                    "GateDynamicConfigReferences",
                    DynamicConfigOutputSerializer,
                    many=True,
                    paginated=True,
                )
            },
            parameters=PAGE_PARAMETERS,
        )
    )
    def get(self, request, gate_id: str):
        """The dynamic configs whose rules check this gate."""
        configs = selectors.gate_dynamic_config_references(project=self.project, gate_id=gate_id)
        return self.respond_entities("Dynamic configs listed successfully.", configs)
