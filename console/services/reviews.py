"""Reviews: a change that needs approval is stored as its intent and applied later by the very
function that applies it directly. Apps register each reviewable change kind once:

    @register_change("gate_update", entity_type="gate", current_version=_gate_version)
    def _gate_update_apply(*, project, actor, entity_id, change, review=None): ...

and their services call ``submit_or_apply``. Committing an approved review re-runs the registered
function against the entity as it is then (so it is re-validated), inside one transaction.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.db import transaction
from django.utils import timezone

from console import selectors
from console.actors import Actor
from console.errors import Conflict, NotFound, PermissionDenied, ValidationError
from console.models import (
    OPEN_REVIEW_STATUSES,
    Environment,
    Project,
    Review,
    ReviewDecision,
    ReviewDecisionKind,
    ReviewStatus,
    Role,
)
from console.services.api_keys import require_live_key
from console.services.audit import audit_record, field_changes


class ApplyChange(Protocol):
    def __call__(
        self,
        *,
        project: Project,
        actor: Actor,
        entity_id: str,
        change: dict[str, Any],
        review: Review | None = None,
    ) -> Any: ...


@dataclass(frozen=True, slots=True)
class ChangeKind:
    change_type: str
    entity_type: str
    apply: ApplyChange
    # The entity's current version, or None when it does not exist (yet, or any more).
    current_version: Callable[[Project, str], int | None]
    # The ids of the people the entity lets approve its reviews (empty: any member but the
    # author); None for a kind without allowed reviewers.
    allowed_reviewers: Callable[[Project, str], list[str]] | None = None


_CHANGE_KINDS: dict[str, ChangeKind] = {}


def register_change(
    change_type: str,
    *,
    entity_type: str,
    current_version: Callable[[Project, str], int | None],
    allowed_reviewers: Callable[[Project, str], list[str]] | None = None,
) -> Callable[[ApplyChange], ApplyChange]:
    def decorator(apply: ApplyChange) -> ApplyChange:
        _CHANGE_KINDS[change_type] = ChangeKind(
            change_type, entity_type, apply, current_version, allowed_reviewers
        )
        return apply

    return decorator


def change_kind(change_type: str) -> ChangeKind:
    try:
        return _CHANGE_KINDS[change_type]
    except KeyError:
        raise ValidationError.for_field("change_type", f"Unknown change '{change_type}'.") from None


def change_needs_review(
    *,
    project: Project,
    actor: Actor,
    entity_requires_review: bool,
    environments: Iterable[str] | None,
) -> bool:
    """Statsig's rule: review is needed when the project or the entity requires it and the change
    touches an environment that requires review (production always), or the entity as a whole
    (``environments=None``). A change that touches no environment (a description, tags) is
    filed for a console API client that sent ``x-respect-review-settings`` when the project
    requires reviews (Statsig reviews any change then); the browser applies it."""
    if not actor.respects_reviews:
        return False
    if not (project.requires_review or entity_requires_review):
        return False
    if environments is None:
        return True
    touched = set(environments)
    if not touched:
        return project.requires_review and actor.api_key is not None
    return Environment.objects.filter(
        project=project, name__in=touched, requires_review=True
    ).exists()


@dataclass(frozen=True, slots=True)
class ChangeOutcome:
    """What a mutating service did: applied the change (``result``) or filed ``review``."""

    result: Any = None
    review: Review | None = None

    @property
    def submitted_for_review(self) -> bool:
        return self.review is not None


@dataclass(frozen=True, slots=True)
class ForcedReview:
    description: str = ""
    reviewers: list[dict[str, str]] = field(default_factory=list)


_forced_review: ContextVar[ForcedReview | None] = ContextVar("forced_review", default=None)


@contextmanager
def review_forced(
    description: str = "", reviewers: Iterable[dict[str, str]] = ()
) -> Iterator[None]:
    """Inside this block every change a service would apply is filed as a review instead,
    whatever the review settings (Statsig's explicit ``POST /<entities>/{id}/reviews``)::

        with review_forced("Ship it to everyone", [{"id": "u1", "kind": "user"}]):
            outcome = gate_update(project=..., actor=..., gate_id="x", rules=[...])
        outcome.review  # the pending review; the gate is unchanged
    """
    token = _forced_review.set(ForcedReview(description, list(reviewers)))
    try:
        yield
    finally:
        _forced_review.reset(token)


def open_review_for(*, project: Project, entity_type: str, entity_id: str) -> Review | None:
    return (
        Review.objects.filter(
            project=project,
            entity_type=entity_type,
            entity_id=entity_id,
            status__in=OPEN_REVIEW_STATUSES,
        )
        .order_by("-created_at", "-id")
        .first()
    )


def submit_or_apply(
    *,
    project: Project,
    actor: Actor,
    change_type: str,
    entity_id: str,
    change: dict[str, Any],
    needs_review: bool,
    entity_name: str = "",
    description: str = "",
) -> ChangeOutcome:
    kind = change_kind(change_type)
    forced = _forced_review.get()
    reviewers: list[dict[str, str]] = []
    if forced is not None:
        needs_review = True
        description = forced.description or description
        reviewers = forced.reviewers
    if not needs_review:
        with transaction.atomic():
            return ChangeOutcome(
                result=kind.apply(project=project, actor=actor, entity_id=entity_id, change=change)
            )
    with transaction.atomic():
        review = Review.objects.create(
            project=project,
            public_id=secrets.token_urlsafe(12),
            entity_type=kind.entity_type,
            entity_id=entity_id,
            entity_name=entity_name or entity_id,
            change_type=change_type,
            change=change,
            base_version=kind.current_version(project, entity_id),
            description=description or f"{change_type.replace('_', ' ')} of {entity_id}",
            reviewers=reviewers,
            author_type=actor.type,
            author_user=actor.user,
            author_key=actor.api_key,
            author_name=actor.name,
            author_email=actor.email,
        )
        audit_record(
            project=project,
            actor=actor,
            action_type=f"{kind.entity_type}_review_create",
            entity_type=kind.entity_type,
            entity_id=entity_id,
            entity_name=entity_name,
            changes={"review": {"old": None, "new": review.public_id}},
            review=review,
        )
    return ChangeOutcome(review=review)


def locked_review(*, project: Project, review_id: str) -> Review:
    """The project's review, locked for the rest of the transaction."""
    review = Review.objects.select_for_update().filter(project=project, public_id=review_id).first()
    if review is None:
        raise NotFound("Review not found.")
    return review


def apply_locked_review(
    *, project: Project, actor: Actor, review: Review, action_type: str, changes: dict
) -> Any:
    """Applies a locked review's change with its registered function, after checking the entity
    has not changed since it was filed; marks the review committed and audits it as
    ``action_type``. Committing and bypassing both end here. Returns what the change returned."""
    kind = change_kind(review.change_type)
    current = kind.current_version(project, review.entity_id)
    if current != review.base_version:
        raise Conflict(
            f"This review is stale: the {review.entity_type} '{review.entity_id}' changed "
            f"since the review was filed (version {review.base_version}, now {current}). "
            "Cancel it and submit the change again."
        )
    result = kind.apply(
        project=project,
        actor=actor,
        entity_id=review.entity_id,
        change=review.change,
        review=review,
    )
    review.status = ReviewStatus.COMMITTED
    review.committed_at = timezone.now()
    review.save(update_fields=["status", "committed_at", "updated_at"])
    audit_record(
        project=project,
        actor=actor,
        action_type=action_type,
        entity_type=review.entity_type,
        entity_id=review.entity_id,
        entity_name=review.entity_name,
        changes=changes,
        review=review,
    )
    return result


def _is_author(review: Review, actor: Actor) -> bool:
    if actor.user is not None:
        return review.author_user_id == actor.user.pk
    if actor.api_key is not None:
        return review.author_key_id == actor.api_key.pk
    return False


def _approves_own_change(review: Review, actor: Actor) -> bool:
    """Approving needs someone other than the author: for a change filed with an API key, a
    person other than the key's holder, or a key of another, known holder; a key cannot approve
    a person's change with a key that person holds. (A holder's second key is still theirs.)"""
    if _is_author(review, actor):
        return True
    author_holder = (
        review.author_key.created_by_id if review.author_key_id else review.author_user_id
    )
    if actor.user is not None:
        return author_holder is not None and actor.user.pk == author_holder
    if actor.api_key is None:
        return False
    approver_holder = actor.api_key.created_by_id
    return author_holder is None or approver_holder is None or approver_holder == author_holder


def _approver_id(actor: Actor) -> str | None:
    """Who approves, as the console API names people: the person, or the holder of the key."""
    if actor.user is not None:
        return str(actor.user.pk)
    if actor.api_key is not None and actor.api_key.created_by_id is not None:
        return str(actor.api_key.created_by_id)
    return None


def not_allowed_to_approve(*, project: Project, review: Review, actor: Actor) -> str | None:
    """Why ``actor`` may not approve ``review`` because its entity names its allowed reviewers
    (Statsig's ``reviewSettings.allowedReviewers``), or None. Only those people approve then;
    Statsig documents no exception, so admins are none either (they have the audited bypass).
    Members who left the project drop out of the list."""
    allowed_reviewers = change_kind(review.change_type).allowed_reviewers
    if allowed_reviewers is None:
        return None
    allowed = selectors.members_by_id(
        project=project, user_ids=allowed_reviewers(project, review.entity_id)
    )
    if not allowed or _approver_id(actor) in allowed:
        return None
    names = ", ".join(
        f"{selectors.person_name(user)} (id {user_id})" for user_id, user in allowed.items()
    )
    label = review.entity_type.replace("_", " ")
    return f"Only the allowed reviewers of this {label} may approve its reviews: {names}."


def _require_reviewer(actor: Actor) -> None:
    if not actor.has_role(Role.MEMBER):
        raise PermissionDenied("Viewers may not act on reviews.")


def _decide(
    *, project: Project, actor: Actor, review_id: str, decision: str, reason: str
) -> Review:
    _require_reviewer(actor)
    with transaction.atomic():
        review = locked_review(project=project, review_id=review_id)
        if review.status not in OPEN_REVIEW_STATUSES:
            raise ValidationError.for_field(
                "status", f"Review is {review.status}; only open reviews can be decided."
            )
        require_live_key(actor)
        if decision == ReviewDecisionKind.APPROVE and _approves_own_change(review, actor):
            raise PermissionDenied(
                "You cannot approve your own review. A change needs a person other than its "
                "author (or the holder of the key that filed it), or a key of another holder."
            )
        if decision == ReviewDecisionKind.APPROVE:
            refusal = not_allowed_to_approve(project=project, review=review, actor=actor)
            if refusal is not None:
                raise PermissionDenied(refusal)
        ReviewDecision.objects.create(
            review=review,
            reviewer=actor.user,
            reviewer_key=actor.api_key,
            reviewer_name=actor.name,
            decision=decision,
            reason=reason,
        )
        old_status = review.status
        review.status = (
            ReviewStatus.APPROVED
            if decision == ReviewDecisionKind.APPROVE
            else ReviewStatus.REJECTED
        )
        review.save(update_fields=["status", "updated_at"])
        audit_record(
            project=project,
            actor=actor,
            action_type=f"{review.entity_type}_review_{decision}",
            entity_type=review.entity_type,
            entity_id=review.entity_id,
            entity_name=review.entity_name,
            changes={"status": {"old": old_status, "new": review.status}},
            review=review,
        )
    return review


def review_approve(*, project: Project, actor: Actor, review_id: str, reason: str = "") -> Review:
    return _decide(
        project=project,
        actor=actor,
        review_id=review_id,
        decision=ReviewDecisionKind.APPROVE,
        reason=reason,
    )


def review_reject(*, project: Project, actor: Actor, review_id: str, reason: str) -> Review:
    if not reason.strip():
        raise ValidationError.for_field("reason", "A reason is required to reject a review.")
    return _decide(
        project=project,
        actor=actor,
        review_id=review_id,
        decision=ReviewDecisionKind.REJECT,
        reason=reason,
    )


def review_commit(*, project: Project, actor: Actor, review_id: str) -> tuple[Review, Any]:
    _require_reviewer(actor)
    with transaction.atomic():
        require_live_key(actor)
        review = locked_review(project=project, review_id=review_id)
        if review.status != ReviewStatus.APPROVED:
            raise ValidationError.for_field(
                "status", f"Review is {review.status}; only an approved review can be committed."
            )
        result = apply_locked_review(
            project=project,
            actor=actor,
            review=review,
            action_type=f"{review.entity_type}_review_commit",
            changes={"status": {"old": ReviewStatus.APPROVED, "new": ReviewStatus.COMMITTED}},
        )
    return review, result


def review_edit(
    *,
    project: Project,
    actor: Actor,
    review_id: str,
    description: str | None = None,
    reviewers: list[dict[str, str]] | None = None,
) -> Review:
    """Statsig's "edit review": the author (or an admin) changes an open review's description or
    the reviewers asked; the change under review stays as filed."""
    with transaction.atomic():
        review = locked_review(project=project, review_id=review_id)
        if not (_is_author(review, actor) or actor.has_role(Role.ADMIN)):
            raise PermissionDenied("Only the author or an admin may edit a review.")
        if review.status not in OPEN_REVIEW_STATUSES:
            raise ValidationError.for_field(
                "status", f"Review is {review.status}; only open reviews can be edited."
            )
        before = {"description": review.description, "reviewers": review.reviewers}
        if description is not None:
            review.description = description
        if reviewers is not None:
            review.reviewers = reviewers
        changes = field_changes(
            before, {"description": review.description, "reviewers": review.reviewers}
        )
        if changes:
            review.save(update_fields=["description", "reviewers", "updated_at"])
            audit_record(
                project=project,
                actor=actor,
                action_type=f"{review.entity_type}_review_update",
                entity_type=review.entity_type,
                entity_id=review.entity_id,
                entity_name=review.entity_name,
                changes=changes,
                review=review,
            )
    return review


def review_cancel(*, project: Project, actor: Actor, review_id: str) -> Review:
    with transaction.atomic():
        review = locked_review(project=project, review_id=review_id)
        if not (_is_author(review, actor) or actor.has_role(Role.ADMIN)):
            raise PermissionDenied("Only the author or an admin may cancel a review.")
        if review.status not in OPEN_REVIEW_STATUSES:
            raise ValidationError.for_field(
                "status", f"Review is {review.status}; only open reviews can be cancelled."
            )
        old_status = review.status
        review.status = ReviewStatus.CANCELLED
        review.save(update_fields=["status", "updated_at"])
        audit_record(
            project=project,
            actor=actor,
            action_type=f"{review.entity_type}_review_cancel",
            entity_type=review.entity_type,
            entity_id=review.entity_id,
            entity_name=review.entity_name,
            changes={"status": {"old": old_status, "new": ReviewStatus.CANCELLED}},
            review=review,
        )
    return review
