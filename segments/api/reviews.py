"""``POST /segments/{id}/reviews``: file a change to a segment as a review whatever the review
settings, as the gate, config and experiment reviews do (``flags.api.reviews``)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from console.api.review_shape import ReviewSerializer, review_output
from console.api.reviews import (
    ChangeSerializer,
    ReviewRequestSerializer,
    one_change,
    refuse_false,
    reviewers_from,
)
from console.api.schema import envelope, responses
from console.services.reviews import ChangeOutcome, review_forced
from segments import selectors, services
from segments.api import views


class SegmentChangeSerializer(ChangeSerializer):
    rules = serializers.ListField(
        child=serializers.DictField(),
        required=False,
        help_text="The rules of a rule-based segment, as POST /segments/{id}/conditional takes.",
    )
    add_ids = serializers.ListField(child=serializers.CharField(), required=False)
    remove_ids = serializers.ListField(child=serializers.CharField(), required=False)
    is_archived = serializers.BooleanField(required=False)
    delete = serializers.BooleanField(required=False)
    id_type = serializers.CharField(max_length=100, required=False)
    description = serializers.CharField(max_length=1000, required=False, allow_blank=True)


class SegmentReviewListView(views.SegmentReviewListView):
    """``GET`` lists the segment's reviews; ``POST`` files ``change`` as a review."""

    class InputSerializer(ReviewRequestSerializer):
        change = SegmentChangeSerializer()

    def file(self, segment_id: str, change: dict[str, Any]) -> ChangeOutcome:
        kind, value = one_change(change)
        common = {"project": self.project, "actor": self.actor, "segment_id": segment_id}
        if kind == "rules":
            return services.segment_update_rules(**common, rules=value)
        if kind == "add_ids":
            return services.segment_ids_add(**common, ids=value)
        if kind == "remove_ids":
            return services.segment_ids_remove(**common, ids=value)
        if kind == "is_archived":
            return services.segment_archive(**common, archived=value)
        if kind == "id_type":
            return services.segment_update(**common, idType=value)
        if kind == "description":
            return services.segment_update(**common, description=value)
        refuse_false(kind, value)
        return services.segment_delete(**common)

    @extend_schema(
        request=InputSerializer,
        responses=responses({201: envelope("SegmentReviewCreated", ReviewSerializer)}),
    )
    def post(self, request, entity_id: str):
        data = self.validated(self.InputSerializer)
        selectors.segment_get(project=self.project, segment_id=entity_id)
        with review_forced(data["description"], reviewers_from(data) or []):
            outcome = self.file(entity_id, data["change"])
        return self.respond(
            "Segment review created successfully.", review_output(outcome.review), 201
        )
