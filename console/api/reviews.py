"""Review endpoints, the same for every reviewable entity:
``/console/v1/<entities>/{id}/reviews[/{reviewID}[/approve|reject|commit]]``. Each entity's API
module wires them with ``review_urlpatterns(prefix, entity_type)``."""

from __future__ import annotations

from typing import Any

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from console import selectors
from console.api.base import ConsoleAPIView
from console.api.review_shape import ReviewSerializer, review_output, statsig_status
from console.api.schema import PAGE_PARAMETERS, envelope, responses
from console.errors import NotFound, ValidationError
from console.models import Review
from console.services import reviews as review_services


def active_review_output(review: Review | None) -> dict[str, Any] | None:
    """The ``activeReview`` block that entity outputs carry."""
    if review is None:
        return None
    return {
        "reviewID": review.public_id,
        "reviewStatus": statsig_status(review.status),
        "description": review.description,
    }


class _ReviewView(ConsoleAPIView):
    entity_type: str = ""
    entity_label: str = ""

    def get_review(self, entity_id: str, review_id: str) -> Review:
        review = selectors.review_get(
            project=self.project, review_id=review_id, entity_type=self.entity_type
        )
        if review.entity_id != entity_id:
            raise NotFound("Review not found.")
        return review


REVIEW_RESPONSES = responses({200: envelope("Review", ReviewSerializer)})


class ReviewListView(_ReviewView):
    @extend_schema(
        parameters=PAGE_PARAMETERS,
        responses=responses(
            {200: envelope("ReviewList", ReviewSerializer, many=True, paginated=True)}
        ),
    )
    def get(self, request, entity_id: str):
        page = self.page()
        reviews = selectors.review_list(
            project=self.project, entity_type=self.entity_type, entity_id=entity_id
        )
        total = reviews.count()
        items = [review_output(r) for r in reviews[page.offset : page.offset + page.limit]]
        return self.respond_page(
            f"{self.entity_label} reviews listed successfully.", items, page, total
        )


REVIEW_DESCRIPTION_MAX = 2000


def reviewers_from(data: dict[str, Any]) -> list[dict[str, str]] | None:
    """Statsig's ``reviewer_ids`` and ``reviewer_group_ids`` as one list (None: neither sent)."""
    if "reviewer_ids" not in data and "reviewer_group_ids" not in data:
        return None
    return [{"id": user, "kind": "user"} for user in data.get("reviewer_ids", [])] + [
        {"id": group, "kind": "group"} for group in data.get("reviewer_group_ids", [])
    ]


class ReviewRequestSerializer(serializers.Serializer):
    """What every review request carries besides its change."""

    description = serializers.CharField(max_length=REVIEW_DESCRIPTION_MAX)
    reviewer_ids = serializers.ListField(
        child=serializers.CharField(max_length=100),
        required=False,
        max_length=50,
        help_text="Members asked to review; listed on the review (any member may review).",
    )
    reviewer_group_ids = serializers.ListField(
        child=serializers.CharField(max_length=100),
        required=False,
        max_length=50,
        help_text="Review groups asked to review; listed on the review.",
    )


# Change kinds Statsig's gate and config reviews accept that name features this console does not
# have (teams, release pipelines, target apps, owners): refused, by name.
UNSUPPORTED_CHANGES = (
    "team_id",
    "release_pipeline_id",
    "allow_self_approval",
    "target_app_ids",
    "owners",
)


class ChangeSerializer(serializers.Serializer):
    """Statsig's review ``change``: exactly one of the fields. A kind Statsig accepts that this
    console has no feature for is refused naming it, an unknown one likewise."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            for key in data:
                if key in UNSUPPORTED_CHANGES:
                    raise serializers.ValidationError(
                        {key: f"This console has no {key.replace('_', ' ')}; not supported."}
                    )
                if key not in self.fields:
                    raise serializers.ValidationError({key: "Unknown change."})
        return super().to_internal_value(data)

    def validate(self, attrs):
        one_change(attrs)
        return attrs


def one_change(change: dict[str, Any]) -> tuple[str, Any]:
    if len(change) != 1:
        raise serializers.ValidationError("Send exactly one kind of change.")
    return next(iter(change.items()))


def refuse_false(kind: str, value: bool) -> None:
    """A change kind sent as ``false`` where only ``true`` means anything (``delete: false``)."""
    if not value:
        raise ValidationError.for_field(f"change.{kind}", f"Send {kind}: true to review it.")


class ReviewDetailView(_ReviewView):
    class InputSerializer(ReviewRequestSerializer):
        description = serializers.CharField(max_length=REVIEW_DESCRIPTION_MAX, required=False)

    @extend_schema(responses=REVIEW_RESPONSES)
    def get(self, request, entity_id: str, review_id: str):
        review = self.get_review(entity_id, review_id)
        return self.respond(f"{self.entity_label} review read successfully.", review_output(review))

    @extend_schema(
        request=InputSerializer,
        responses=REVIEW_RESPONSES,
        description="Edits an open review's description or the reviewers asked (the author or "
        "an admin); the change under review stays as filed.",
    )
    def put(self, request, entity_id: str, review_id: str):
        data = self.validated(self.InputSerializer)
        self.get_review(entity_id, review_id)
        review = review_services.review_edit(
            project=self.project,
            actor=self.actor,
            review_id=review_id,
            description=data.get("description"),
            reviewers=reviewers_from(data),
        )
        return self.respond(
            f"{self.entity_label} review updated successfully.", review_output(review)
        )

    @extend_schema(responses=REVIEW_RESPONSES)
    def delete(self, request, entity_id: str, review_id: str):
        self.get_review(entity_id, review_id)
        review = review_services.review_cancel(
            project=self.project, actor=self.actor, review_id=review_id
        )
        return self.respond(
            f"{self.entity_label} review cancelled successfully.", review_output(review)
        )


class ReviewApproveView(_ReviewView):
    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(
            required=False, allow_blank=True, max_length=2000, default=""
        )

    @extend_schema(request=InputSerializer, responses=REVIEW_RESPONSES)
    def put(self, request, entity_id: str, review_id: str):
        data = self.validated(self.InputSerializer, data=request.data or {})
        self.get_review(entity_id, review_id)
        review = review_services.review_approve(
            project=self.project, actor=self.actor, review_id=review_id, reason=data["reason"]
        )
        return self.respond(
            f"{self.entity_label} review approved successfully.", review_output(review)
        )


class ReviewRejectView(_ReviewView):
    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=2000)

    @extend_schema(request=InputSerializer, responses=REVIEW_RESPONSES)
    def put(self, request, entity_id: str, review_id: str):
        data = self.validated(self.InputSerializer)
        self.get_review(entity_id, review_id)
        review = review_services.review_reject(
            project=self.project, actor=self.actor, review_id=review_id, reason=data["reason"]
        )
        return self.respond(
            f"{self.entity_label} review rejected successfully.", review_output(review)
        )


class ReviewCommitView(_ReviewView):
    @extend_schema(request=None, responses=REVIEW_RESPONSES)
    def put(self, request, entity_id: str, review_id: str):
        self.get_review(entity_id, review_id)
        review, _ = review_services.review_commit(
            project=self.project, actor=self.actor, review_id=review_id
        )
        return self.respond(
            f"{self.entity_label} review committed successfully", review_output(review)
        )


def review_urlpatterns(
    prefix: str,
    *,
    entity_type: str,
    entity_label: str,
    list_view: type[ReviewListView] = ReviewListView,
) -> list:
    """URL patterns for one entity's reviews, e.g. ``review_urlpatterns("gates", entity_type="gate",
    entity_label="Gate")``; ``list_view``: the entity's own list (one that answers 404 for an
    entity the project does not have)."""

    def bind(view: type[_ReviewView]):
        return view.as_view(entity_type=entity_type, entity_label=entity_label)

    base = f"{prefix}/<str:entity_id>/reviews"
    name = f"{entity_type}-review"
    return [
        path(base, bind(list_view), name=f"{name}-list"),
        path(f"{base}/<str:review_id>", bind(ReviewDetailView), name=f"{name}-detail"),
        path(f"{base}/<str:review_id>/approve", bind(ReviewApproveView), name=f"{name}-approve"),
        path(f"{base}/<str:review_id>/reject", bind(ReviewRejectView), name=f"{name}-reject"),
        path(f"{base}/<str:review_id>/commit", bind(ReviewCommitView), name=f"{name}-commit"),
    ]
