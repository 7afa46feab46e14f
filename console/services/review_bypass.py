"""Bypassing review: an admin applies an open review's change at once, without an approval, with
a reason that is recorded (Statsig lets admins do this, so an emergency such as a kill switch does
not wait in the queue). The change is applied by the same registered function as a commit, after
the same staleness check, and audited as ``<entity type>_review_bypass`` with the reason."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from console.actors import Actor
from console.errors import PermissionDenied, ValidationError
from console.models import OPEN_REVIEW_STATUSES, Project, Review, ReviewStatus, Role
from console.services.reviews import apply_locked_review, locked_review


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
        review = locked_review(project=project, review_id=review_id)
        if review.status not in OPEN_REVIEW_STATUSES:
            raise ValidationError.for_field(
                "status", f"Review is {review.status}; only open reviews can be bypassed."
            )
        result = apply_locked_review(
            project=project,
            actor=actor,
            review=review,
            action_type=f"{review.entity_type}_review_bypass",
            changes={
                "status": {"old": review.status, "new": ReviewStatus.COMMITTED},
                "reason": {"old": None, "new": reason},
            },
        )
    return review, result
