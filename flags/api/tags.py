"""``/console/v1/tags``: a project's tags (``TagDto``). Creates answer 200 and the messages have
no final period, as Statsig's do. ``/tags/{id}`` takes the tag's name (case-insensitive), as
Statsig's does, or the ``id`` it is listed with."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from console.api.schema import PAGE_PARAMETERS, MessageSerializer, envelope
from flags import selectors
from flags.api.common import EntityAPIView, mutation, reading
from flags.api.inputs import DESCRIPTION_MAX
from flags.api.outputs import TagOutputSerializer, tag_output
from flags.models import Tag
from flags.services import tags as tag_services

TAG_RESPONSE = envelope("TagResponse", TagOutputSerializer)
TAG_NAME_MAX = 100


class _TagView(EntityAPIView):
    def render(self, tag: Tag, reviews=None) -> dict[str, Any]:
        return tag_output(tag)


class TagListCreateView(_TagView):
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=TAG_NAME_MAX)
        description = serializers.CharField(max_length=DESCRIPTION_MAX, allow_blank=True)
        isCore = serializers.BooleanField(required=False, default=False)

    @extend_schema(
        **reading(
            {200: envelope("TagList", TagOutputSerializer, many=True, paginated=True)},
            parameters=PAGE_PARAMETERS,
            summary="List Tags",
        )
    )
    def get(self, request):
        tags = selectors.tag_list(project=self.project)
        return self.respond_entities("Tags listed successfully", tags)

    @extend_schema(
        **mutation(InputSerializer, {200: TAG_RESPONSE}, reviewable=False, summary="Create Tag")
    )
    def post(self, request):
        data = self.validated(self.InputSerializer)
        tag = tag_services.tag_create(
            project=self.project,
            actor=self.actor,
            name=data["name"],
            description=data["description"],
            is_core=data["isCore"],
        )
        return self.respond("Tag created successfully", self.render(tag))


class TagDetailView(_TagView):
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=TAG_NAME_MAX, required=False)
        description = serializers.CharField(
            max_length=DESCRIPTION_MAX, required=False, allow_blank=True
        )
        isCore = serializers.BooleanField(required=False)

    @extend_schema(**reading({200: TAG_RESPONSE}, summary="Read Tag"))
    def get(self, request, tag_id: str):
        tag = selectors.tag_get(project=self.project, tag_id=tag_id)
        return self.respond("Tag read successfully", self.render(tag))

    @extend_schema(
        **mutation(InputSerializer, {200: TAG_RESPONSE}, reviewable=False, summary="Update Tag")
    )
    def patch(self, request, tag_id: str):
        data = self.validated(self.InputSerializer)
        names = {"name": "name", "description": "description", "isCore": "is_core"}
        tag = tag_services.tag_update(
            project=self.project,
            actor=self.actor,
            tag_id=selectors.tag_get(project=self.project, tag_id=tag_id).public_id,
            **{keyword: data[wire] for wire, keyword in names.items() if wire in data},
        )
        return self.respond("Tag updated successfully", self.render(tag))

    @extend_schema(
        **mutation(None, {200: MessageSerializer}, reviewable=False, summary="Delete Tag")
    )
    def delete(self, request, tag_id: str):
        tag = selectors.tag_get(project=self.project, tag_id=tag_id)
        tag_services.tag_delete(project=self.project, actor=self.actor, tag_id=tag.public_id)
        return self.respond("Tag deleted successfully")
