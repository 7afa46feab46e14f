"""An entity's allowed reviewers through the Django client: the detail page links to a choice of
the project's members, saving it is an audited change of the entity (reviewed when the entity
requires review), viewers may look but not save, and the review page refuses an approval by
someone not chosen."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from console.models import AuditLog, Review, ReviewStatus, Role
from console.services.projects import membership_set
from flags.models import DynamicConfig, Experiment, Gate, Layer
from flags.services import configs, experiments, gates, layers
from tests.conftest import make_user


# Each kind: its model, URL name, a new entity's id, and how its audit entries name the list.
def _gate(world) -> tuple[type, str, str, str]:
    gate = gates.gate_create(project=world.project, actor=world.actor(), name="Checkout")
    return Gate, "gate", gate.slug, "allowed_reviewers"


def _config(world) -> tuple[type, str, str, str]:
    config = configs.dynamic_config_create(project=world.project, actor=world.actor(), name="Ban")
    return DynamicConfig, "config", config.slug, "allowed_reviewers"


def _experiment(world) -> tuple[type, str, str, str]:
    experiment = experiments.experiment_create(
        project=world.project, actor=world.actor(), name="Pricing"
    )
    return Experiment, "experiment", experiment.slug, "reviewSettings.allowedReviewers"


def _layer(world) -> tuple[type, str, str, str]:
    layer = layers.layer_create(project=world.project, actor=world.actor(), name="Checkout layer")
    return Layer, "layer", layer.slug, "allowed_reviewers"


@pytest.mark.parametrize("make", [_gate, _config, _experiment, _layer])
def test_reviewers_form__member_checks_a_member__saved_and_audited(world, as_role, make):
    # Given an entity and its detail page, which links to its allowed reviewers
    model, url_name, entity_id, audited_as = make(world)
    client = as_role(Role.MEMBER)
    page_url = reverse(f"{url_name}-reviewers", args=[world.project.slug, entity_id])
    detail = client.get(reverse(f"{url_name}-detail", args=[world.project.slug, entity_id]))
    assert page_url in detail.content.decode()
    admin = world.users[Role.ADMIN]

    # When a member opens the page and checks the admin
    page = client.get(page_url)
    assert page.status_code == 200
    assert admin.email in page.content.decode()
    response = client.post(page_url, {"reviewers": [str(admin.pk)]})

    # Then the entity allows only the admin, and the audit log has the change
    assert response.status_code == 302
    assert model.objects.get(slug=entity_id).allowed_reviewers == [str(admin.pk)]
    entry = AuditLog.objects.filter(entity_id=entity_id).order_by("-id").first()
    assert entry.changes[audited_as] == {"old": [], "new": [str(admin.pk)]}
    again = client.get(page_url).content.decode()
    assert re.search(rf'value="{admin.pk}" id="[^"]+" checked', again)


def test_reviewers_form__not_a_member__error_at_the_field(world, as_role):
    _model, _url, gate_id, _audited_as = _gate(world)
    url = reverse("gate-reviewers", args=[world.project.slug, gate_id])

    response = as_role(Role.MEMBER).post(url, {"reviewers": ["424242"]})

    assert response.status_code == 400
    assert "is not one of the available choices" in response.content.decode()
    assert Gate.objects.get(slug=gate_id).allowed_reviewers == []


def test_reviewers_form__viewer__sees_no_save_and_is_refused(world, as_role):
    _model, _url, gate_id, _audited_as = _gate(world)
    url = reverse("gate-reviewers", args=[world.project.slug, gate_id])
    viewer = as_role(Role.VIEWER)

    page = viewer.get(url)
    refused = viewer.post(url, {"reviewers": [str(world.users[Role.ADMIN].pk)]})

    assert page.status_code == 200
    assert "Save allowed reviewers" not in page.content.decode()
    assert refused.status_code == 403
    assert Gate.objects.get(slug=gate_id).allowed_reviewers == []


def test_reviewers_form__entity_requires_review__filed_as_a_review(world, as_role):
    gate = gates.gate_create(
        project=world.project, actor=world.actor(), name="Checkout", review_required=True
    )
    url = reverse("gate-reviewers", args=[world.project.slug, gate.slug])

    response = as_role(Role.MEMBER).post(url, {"reviewers": [str(world.users[Role.ADMIN].pk)]})

    assert response.status_code == 302
    assert Gate.objects.get(slug=gate.slug).allowed_reviewers == []
    review = Review.objects.get(entity_id=gate.slug)
    assert review.change["fields"] == {"allowed_reviewers": [str(world.users[Role.ADMIN].pk)]}


def test_review_page__member_not_allowed__approval_refused_naming_who_may(
    world, as_role, browser_client
):
    # Given a gate only the admin may review, and a member's change of it waiting for review
    admin = world.users[Role.ADMIN]
    gate = gates.gate_create(
        project=world.project,
        actor=world.actor(),
        name="Checkout",
        review_required=True,
        allowed_reviewers=[str(admin.pk)],
    )
    review = gates.gate_disable(
        project=world.project, actor=world.actor(Role.MEMBER), gate_id=gate.slug
    ).review
    carol = make_user("carol")
    membership_set(project=world.project, actor=world.actor(), email=carol.email, role=Role.MEMBER)
    action = reverse("review-action", args=[world.project.slug, review.public_id, "approve"])

    page = (
        browser_client(carol)
        .get(reverse("review-detail", args=[world.project.slug, review.public_id]))
        .content.decode()
    )
    assert 'id="allowed-reviewers-note"' in page
    assert ">Approve</button>" not in page

    # When another member approves all the same, then the admin
    refused = browser_client(carol).post(action, {})
    approved = as_role(Role.ADMIN).post(action, {})

    # Then the member is told who may approve, and only the admin's approval counts
    assert refused.status_code == 403
    assert "Only the allowed reviewers of this gate may approve" in refused.content.decode()
    assert approved.status_code == 302
    assert Review.objects.get(pk=review.pk).status == ReviewStatus.APPROVED
    assert [d.reviewer_id for d in Review.objects.get(pk=review.pk).decisions.all()] == [admin.pk]
