"""``/console/v1/keys``: API key management for console keys with the ``can_access_keys`` scope
(keys stored without scopes predate them and have it). A key is addressed by its public id or by
the key itself, as Statsig's API does; answers carry the full key when a readable copy is kept."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from console import selectors
from console.api.base import ConsoleAPIView
from console.api.schema import PAGE_PARAMETERS, envelope, responses
from console.errors import PermissionDenied
from console.models import ApiKey, ApiKeyKind, ApiKeyScope, Role
from console.services import api_keys as key_services

KIND_TO_WIRE = {
    ApiKeyKind.SERVER: "SERVER",
    ApiKeyKind.CLIENT: "CLIENT",
    ApiKeyKind.CONSOLE: "CONSOLE",
}
WIRE_TO_KIND = {wire: kind for kind, wire in KIND_TO_WIRE.items()}


class KeyOutputSerializer(serializers.Serializer):
    id = serializers.CharField()
    key = serializers.CharField()
    type = serializers.ChoiceField(choices=sorted(KIND_TO_WIRE.values()))
    description = serializers.CharField()
    environments = serializers.ListField(child=serializers.CharField())
    scopes = serializers.ListField(child=serializers.CharField())
    primaryTargetApp = serializers.CharField(allow_null=True)
    secondaryTargetApps = serializers.ListField(child=serializers.CharField())
    status = serializers.ChoiceField(choices=["active", "deactivated"])
    createdTime = serializers.IntegerField()
    lastUsedTime = serializers.IntegerField(allow_null=True)


def key_output(key: ApiKey, secret: str | None = None) -> dict[str, Any]:
    if secret is None:
        secret = key_services.unsealed_secret(key)
    return {
        "id": key.public_id,
        # The key itself, as Statsig returns it; its hint for keys made before a copy was kept.
        "key": secret if secret is not None else f"{key.hint}…",
        "type": KIND_TO_WIRE[ApiKeyKind(key.kind)],
        "description": key.description,
        "environments": list(key.environments),
        "scopes": list(key.scopes),
        "primaryTargetApp": None,
        "secondaryTargetApps": [],
        "status": "active" if key.is_active else "deactivated",
        "createdTime": int(key.created_at.timestamp() * 1000),
        "lastUsedTime": int(key.last_used_at.timestamp() * 1000) if key.last_used_at else None,
    }


class _AdminOnly(ConsoleAPIView):
    required_scope = ApiKeyScope.CAN_ACCESS_KEYS

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not self.actor.has_role(Role.ADMIN):
            raise PermissionDenied("Insufficient permissions.")


class KeyListCreateView(_AdminOnly):
    class InputSerializer(serializers.Serializer):
        description = serializers.CharField(max_length=1000, allow_blank=True)
        type = serializers.ChoiceField(choices=sorted(WIRE_TO_KIND))
        environments = serializers.ListField(
            child=serializers.CharField(max_length=64), required=False, default=list
        )
        scopes = serializers.ListField(
            child=serializers.CharField(max_length=64), required=False, default=list
        )

    @extend_schema(
        parameters=PAGE_PARAMETERS,
        responses=responses(
            {200: envelope("KeyList", KeyOutputSerializer, many=True, paginated=True)}
        ),
    )
    def get(self, request):
        page = self.page()
        keys = selectors.api_key_list(project=self.project)
        environment = request.query_params.get("environment")
        if environment:
            keys = [k for k in keys if not k.environments or environment in k.environments]
        else:
            keys = list(keys)
        items = [key_output(k) for k in keys[page.offset : page.offset + page.limit]]
        return self.respond_page("Keys listed successfully.", items, page, len(keys))

    @extend_schema(
        request=InputSerializer,
        responses=responses({200: envelope("KeyCreated", KeyOutputSerializer)}),
    )
    def post(self, request):
        data = self.validated(self.InputSerializer)
        key, secret = key_services.api_key_create(
            project=self.project,
            actor=self.actor,
            kind=WIRE_TO_KIND[data["type"]],
            description=data["description"],
            environments=data["environments"],
            scopes=data["scopes"],
        )
        return self.respond("Key created successfully.", key_output(key, secret))


class KeyDetailView(_AdminOnly):
    class UpdateSerializer(serializers.Serializer):
        description = serializers.CharField(max_length=1000, allow_blank=True, required=False)
        environments = serializers.ListField(
            child=serializers.CharField(max_length=64), required=False
        )
        scopes = serializers.ListField(child=serializers.CharField(max_length=64), required=False)

        def validate(self, attrs):
            unknown = sorted(set(self.initial_data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {unknown[0]: "Not a field of a key that can be changed."}
                )
            return attrs

    @extend_schema(responses=responses({200: envelope("KeyRead", KeyOutputSerializer)}))
    def get(self, request, key_id: str):
        key = selectors.api_key_get(project=self.project, key_ref=key_id)
        return self.respond("Key read successfully.", key_output(key))

    @extend_schema(
        request=UpdateSerializer,
        responses=responses({200: envelope("KeyUpdated", KeyOutputSerializer)}),
    )
    def patch(self, request, key_id: str):
        data = self.validated(self.UpdateSerializer)
        key = key_services.api_key_update(
            project=self.project, actor=self.actor, key_ref=key_id, **data
        )
        return self.respond("Key updated successfully.", key_output(key))

    @extend_schema(request=None, responses=responses({200: envelope("KeyDeleted", None)}))
    def delete(self, request, key_id: str):
        key_services.api_key_delete(project=self.project, actor=self.actor, key_ref=key_id)
        return self.respond("Key deleted successfully.")


class KeyDeactivateView(_AdminOnly):
    @extend_schema(
        request=None, responses=responses({200: envelope("KeyDeactivated", KeyOutputSerializer)})
    )
    def patch(self, request, key_id: str):
        key = key_services.api_key_deactivate(
            project=self.project, actor=self.actor, key_ref=key_id
        )
        return self.respond("Key deactivated successfully.", key_output(key))


class KeyRotateView(_AdminOnly):
    @extend_schema(
        request=None, responses=responses({200: envelope("KeyRotated", KeyOutputSerializer)})
    )
    def patch(self, request, key_id: str):
        key, secret = key_services.api_key_rotate(
            project=self.project, actor=self.actor, key_ref=key_id
        )
        return self.respond("Key rotated successfully.", key_output(key, secret))
