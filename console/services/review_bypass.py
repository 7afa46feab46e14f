"""Bypassing review: an admin applies an open review's change at once, without an approval, with
a reason that is recorded (Statsig lets admins do this, so an emergency such as a kill switch does
not wait in the queue). The change is applied by the same registered function as a commit, after
the same staleness check, and audited as ``<entity type>_review_bypass`` with the reason."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from console.actors import Actor
from console.errors import Conflict, NotFound, PermissionDenied, ValidationError
from console.models import OPEN_REVIEW_STATUSES, Project, Review, ReviewStatus, Role
from console.services.audit import audit_record
from console.services.reviews import change_kind


def review_bypass(
    *, project: Project, actor: Actor, review_id: str, reason: str
) -> tuple[Review, Any]:
    """Commits an open review now (admins only, a reason required); returns the review and what
    the change's function returned."""
    if not actor.has_role(Role.ADMIN):
        raise PermissionDenied("Only admins may bypass review.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError.for_field("reason", "A reason is required to bypass review.")
    with transaction.atomic():
        review = (
            Review.objects.select_for_update().filter(project=project, public_id=review_id).first()
        )
        if review is None:
            raise NotFound("Review not found.")
        if review.status not in OPEN_REVIEW_STATUSES:
            raise ValidationError.for_field(
                "status", f"Review is {review.status}; only open reviews can be bypassed."
            )
        kind = change_kind(review.change_type)
        current = kind.current_version(project, review.entity_id)
        if current != review.base_version:
            raise Conflict(
                f"This review is stale: the {review.entity_type} '{review.entity_id}' changed "
                f"since the review was filed (version {review.base_version}, now {current}). "
                "Cancel it and make the change again."
            )
        result = kind.apply(
            project=project,
            actor=actor,
            entity_id=review.entity_id,
            change=review.change,
            review=review,
        )
        old_status = review.status
        review.status = ReviewStatus.COMMITTED
        review.committed_at = timezone.now()
        review.save(update_fields=["status", "committed_at", "updated_at"])
        audit_record(
            project=project,
            actor=actor,
            action_type=f"{review.entity_type}_review_bypass",
            entity_type=review.entity_type,
            entity_id=review.entity_id,
            entity_name=review.entity_name,
            changes={
                "status": {"old": old_status, "new": ReviewStatus.COMMITTED},
                "reason": {"old": None, "new": reason},
            },
            review=review,
        )
    return review, result
