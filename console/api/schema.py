"""OpenAPI helpers: Statsig's envelopes around any data serializer, the error shape, and the
STATSIG-API-KEY security scheme. Use with drf-spectacular's ``extend_schema``:

    @extend_schema(request=InputSerializer, responses={201: envelope("GateCreated", GateOutput)})
"""

from __future__ import annotations

from functools import cache

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, inline_serializer
from rest_framework import serializers


class ConsoleKeyScheme(OpenApiAuthenticationExtension):
    target_class = "console.api.authentication.ConsoleKeyAuthentication"
    name = "StatsigApiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "STATSIG-API-KEY"}


class PaginationSerializer(serializers.Serializer):
    itemsPerPage = serializers.IntegerField()
    pageNumber = serializers.IntegerField()
    nextPage = serializers.CharField(allow_null=True)
    previousPage = serializers.CharField(allow_null=True)
    totalItems = serializers.IntegerField()
    all = serializers.CharField()


class FieldErrorSerializer(serializers.Serializer):
    property = serializers.CharField()
    message = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    status = serializers.IntegerField()
    message = serializers.CharField()
    errors = FieldErrorSerializer(many=True, required=False)


class MessageSerializer(serializers.Serializer):
    message = serializers.CharField()


ERROR_RESPONSES = dict.fromkeys((400, 401, 403, 404, 405, 409, 413, 415, 429), ErrorSerializer)

RESPECT_REVIEWS_HEADER = OpenApiParameter(
    name="x-respect-review-settings",
    location=OpenApiParameter.HEADER,
    required=False,
    type=str,
    description="When truthy, a mutation that needs review is filed as a review (202) instead of applied.",
)
PAGE_PARAMETERS = [
    OpenApiParameter("limit", int, OpenApiParameter.QUERY, required=False),
    OpenApiParameter("page", int, OpenApiParameter.QUERY, required=False),
]


@cache
def envelope(
    name: str,
    data: type[serializers.Serializer] | serializers.Field | None = None,
    *,
    many: bool = False,
    paginated: bool = False,
):
    """``{"message", "data"[, "pagination"]}`` around ``data`` (a serializer class or field),
    as the component ``<name>Response`` (kept apart from the data serializers' own names)."""
    fields: dict[str, serializers.Field] = {"message": serializers.CharField()}
    if data is not None:
        fields["data"] = data(many=many) if isinstance(data, type) else data
    if paginated:
        fields["pagination"] = PaginationSerializer()
    return inline_serializer(name=f"{name}Response", fields=fields)


def responses(success: dict, *, extra_codes: tuple[int, ...] = ()) -> dict:
    """Success responses plus the console API's error shape for every error code it can answer."""
    return {**success, **ERROR_RESPONSES, **dict.fromkeys(extra_codes, ErrorSerializer)}


class ConsoleAutoSchema(AutoSchema):
    """Names nested ``InputSerializer``/``OutputSerializer`` classes and operations after their
    view, so one-class-per-operation views never collide in the document."""

    def _view_name(self) -> str:
        return type(self.view).__name__.removesuffix("View")

    def get_serializer_name(self, serializer, direction):
        name = type(serializer).__name__
        if name in {"InputSerializer", "OutputSerializer"}:
            return f"{self._view_name()}{name.removesuffix('Serializer')}"
        return super().get_serializer_name(serializer, direction)

    def get_operation_id(self):
        # Review views are shared by every entity; their entity keeps the ids apart.
        entity = getattr(self.view, "entity_type", "")
        prefix = f"{entity}_" if entity else ""
        return f"{prefix}{self._view_name()}_{self.method.lower()}"
