"""A review as the console API shows it: in review endpoints, and in the 202 of any change filed
for review instead of applied."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from console.models import Review, ReviewStatus

# Statsig's review statuses; ours differ in name only where Statsig says "accepted". Statsig has
# no cancelled review (it deletes it); this console keeps it, as "cancelled".
STATSIG_STATUSES = {ReviewStatus.APPROVED: "accepted"}
REVIEW_STATUSES = ["pending", "accepted", "rejected", "committed", "cancelled"]


def statsig_status(status: str) -> str:
    return STATSIG_STATUSES.get(status, status)


class ReviewAuthorSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    email = serializers.CharField(allow_null=True)


class ReviewDecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["approve", "reject"])
    reviewer = serializers.CharField()
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()


class RequestedReviewerSerializer(serializers.Serializer):
    id = serializers.CharField()
    kind = serializers.ChoiceField(choices=["user", "group"])


class ReviewSerializer(serializers.Serializer):
    review_id = serializers.CharField()
    status = serializers.ChoiceField(choices=REVIEW_STATUSES)
    type = serializers.CharField()
    entity_type = serializers.CharField()
    entity_id = serializers.CharField()
    description = serializers.CharField()
    change = serializers.JSONField()
    base_version = serializers.IntegerField(allow_null=True)
    author = ReviewAuthorSerializer()
    decisions = ReviewDecisionSerializer(many=True)
    reviewers = RequestedReviewerSerializer(many=True)
    created_at = serializers.DateTimeField()
    committed_at = serializers.DateTimeField(allow_null=True)


def review_output(review: Review) -> dict[str, Any]:
    return {
        "review_id": review.public_id,
        "status": statsig_status(review.status),
        "type": review.change_type,
        "entity_type": review.entity_type,
        "entity_id": review.entity_id,
        "description": review.description,
        "change": review.change,
        "base_version": review.base_version,
        "author": {
            "id": str(
                review.author_user_id or (review.author_key and review.author_key.public_id) or ""
            ),
            "name": review.author_name,
            "email": review.author_email or None,
        },
        "decisions": [
            {
                "decision": decision.decision,
                "reviewer": decision.reviewer_name,
                "reason": decision.reason,
                "created_at": decision.created_at.isoformat(),
            }
            for decision in review.decisions.all()
        ],
        "reviewers": list(review.reviewers),
        "created_at": review.created_at.isoformat(),
        "committed_at": review.committed_at.isoformat() if review.committed_at else None,
    }
