"""Bypassing review through the Django client: only admins, only with a reason, only open and
current reviews; the change is applied once and the audit log keeps who and why."""

from __future__ import annotations

from django.urls import reverse

from console.models import AuditLog, Review, ReviewStatus, Role
from console.services.projects import project_review_settings_update
from flags.models import Gate
from flags.services import gates as gate_services


def _disable_waiting_for_review(world) -> tuple[Gate, Review]:
    project_review_settings_update(
        project=world.project, actor=world.actor(Role.ADMIN), is_config_review_required=True
    )
    gate = gate_services.gate_create(
        project=world.project, actor=world.actor(Role.ADMIN), name="Payments"
    )
    outcome = gate_services.gate_disable(
        project=world.project, actor=world.actor(Role.MEMBER), gate_id=gate.slug
    )
    assert outcome.review is not None
    return gate, outcome.review


def _bypass_url(world, review: Review) -> str:
    return reverse("review-action", args=[world.project.slug, review.public_id, "bypass"])


def test_bypass__admin_with_reason__applied_now_and_audited(browser_client, world):
    # Given a member's kill switch waiting for review
    gate, review = _disable_waiting_for_review(world)
    client = browser_client(world.users[Role.ADMIN])
    # When an admin bypasses the review with a reason
    response = client.post(_bypass_url(world, review), {"bypass-reason": "Payments are failing"})
    # Then the gate is disabled at once and the review is committed
    assert response.status_code == 302
    assert Gate.objects.get(pk=gate.pk).is_enabled is False
    review.refresh_from_db()
    assert review.status == ReviewStatus.COMMITTED
    # And the audit log says who bypassed it and why
    entry = AuditLog.objects.get(action_type="gate_review_bypass")
    assert entry.actor_name == world.users[Role.ADMIN].username
    assert entry.changes["reason"] == {"old": None, "new": "Payments are failing"}
    assert AuditLog.objects.filter(action_type="gate_disable", review=review).count() == 1


def test_bypass__without_reason__error_at_the_field(browser_client, world):
    gate, review = _disable_waiting_for_review(world)
    response = browser_client(world.users[Role.ADMIN]).post(
        _bypass_url(world, review), {"bypass-reason": "  "}
    )
    assert response.status_code == 400
    assert "A reason is required to bypass review." in response.content.decode()
    assert Gate.objects.get(pk=gate.pk).is_enabled is True


def test_bypass__member__refused_and_not_offered(browser_client, world):
    gate, review = _disable_waiting_for_review(world)
    client = browser_client(world.users[Role.MEMBER])
    page = client.get(reverse("review-detail", args=[world.project.slug, review.public_id]))
    assert "bypass review" not in page.content.decode().lower()
    response = client.post(_bypass_url(world, review), {"bypass-reason": "Hurry"})
    assert response.status_code == 403
    assert Gate.objects.get(pk=gate.pk).is_enabled is True
    assert Review.objects.get(pk=review.pk).status == ReviewStatus.PENDING


def test_bypass__stale_review__refused_with_message(browser_client, world):
    gate, review = _disable_waiting_for_review(world)
    gate_services.gate_update(
        project=world.project, actor=world.actor(Role.ADMIN), gate_id=gate.slug, description="x"
    )
    response = browser_client(world.users[Role.ADMIN]).post(
        _bypass_url(world, review), {"bypass-reason": "Hurry"}
    )
    assert response.status_code == 409
    assert "This review is stale" in response.content.decode()
    assert Gate.objects.get(pk=gate.pk).is_enabled is True


def test_bypass__closed_review__refused(browser_client, world):
    _gate, review = _disable_waiting_for_review(world)
    client = browser_client(world.users[Role.ADMIN])
    client.post(reverse("review-action", args=[world.project.slug, review.public_id, "cancel"]))
    response = client.post(_bypass_url(world, review), {"bypass-reason": "Hurry"})
    assert response.status_code == 400
    assert "only open reviews can be bypassed" in response.content.decode()


def test_entity_page__review_waiting__admins_told_they_can_bypass(browser_client, world):
    gate, _review = _disable_waiting_for_review(world)
    page = f"/p/{world.project.slug}/gates/{gate.slug}/"
    admin = browser_client(world.users[Role.ADMIN]).get(page).content.decode()
    member = browser_client(world.users[Role.MEMBER]).get(page).content.decode()
    assert "you can bypass review from the review" in admin
    assert "Change waiting for review." in member
    assert "bypass" not in member
