"""The review framework on a change kind registered here: a project rename. Entity apps plug
their own change kinds in the same way (see flags and segments tests)."""

import pytest
from django.db import transaction

from console.actors import Actor
from console.errors import Conflict, PermissionDenied, ValidationError
from console.models import AuditLog, Project, Review, ReviewStatus, Role
from console.services.audit import audit_record
from console.services.reviews import (
    change_needs_review,
    register_change,
    review_approve,
    review_cancel,
    review_commit,
    review_reject,
    submit_or_apply,
)

RENAMES: list[str] = []


def _project_version(project: Project, entity_id: str) -> int:
    return Project.objects.get(pk=project.pk).name.count("!") + 1


@register_change("test_project_rename", entity_type="project", current_version=_project_version)
def _apply_rename(*, project, actor, entity_id, change, review=None):
    locked = Project.objects.select_for_update().get(pk=project.pk)
    if not change["name"].strip():
        raise ValidationError.for_field("name", "A name is required.")
    old = locked.name
    locked.name = change["name"]
    locked.save(update_fields=["name"])
    RENAMES.append(change["name"])
    audit_record(
        project=locked,
        actor=actor,
        action_type="project_rename",
        entity_type="project",
        entity_id=entity_id,
        changes={"name": {"old": old, "new": locked.name}},
        review=review,
    )
    return locked


def _rename(world, actor, name, *, requires_review=True):
    return submit_or_apply(
        project=world.project,
        actor=actor,
        change_type="test_project_rename",
        entity_id=world.project.slug,
        change={"name": name},
        needs_review=change_needs_review(
            project=world.project,
            actor=actor,
            entity_requires_review=requires_review,
            environments=None,
        ),
    )


@pytest.fixture
def console_actor(world):
    from console.models import ApiKey

    key = ApiKey.objects.get(project=world.project, kind="console")

    def make(*, respects_reviews):
        return Actor.for_console_key(key, respects_reviews=respects_reviews)

    return make


def test_review__api_key_without_header__applied_directly(world, console_actor):
    outcome = _rename(world, console_actor(respects_reviews=False), "Acme!")
    assert not outcome.submitted_for_review
    assert Project.objects.get(pk=world.project.pk).name == "Acme!"


def test_review__header_and_required__filed_entity_unchanged(world, console_actor):
    outcome = _rename(world, console_actor(respects_reviews=True), "Acme!")
    assert outcome.submitted_for_review
    assert outcome.review.status == ReviewStatus.PENDING
    assert outcome.review.base_version == 1
    assert Project.objects.get(pk=world.project.pk).name == "Acme"
    assert AuditLog.objects.filter(
        review=outcome.review, action_type="project_review_create"
    ).exists()


def test_review__not_required__applied_even_with_header(world, console_actor):
    outcome = _rename(world, console_actor(respects_reviews=True), "Acme!", requires_review=False)
    assert not outcome.submitted_for_review


def test_change_needs_review__development_only__no_review(world):
    actor = world.actor(Role.MEMBER)
    assert not change_needs_review(
        project=world.project,
        actor=actor,
        entity_requires_review=True,
        environments=["development"],
    )
    assert change_needs_review(
        project=world.project,
        actor=actor,
        entity_requires_review=True,
        environments=["development", "production"],
    )
    assert not change_needs_review(
        project=world.project,
        actor=actor,
        entity_requires_review=False,
        environments=["production"],
    )


def test_review__author_approves_own__refused(world):
    author = world.actor(Role.MEMBER)
    review = _rename(world, author, "Acme!").review
    with pytest.raises(PermissionDenied, match="own review"):
        review_approve(project=world.project, actor=author, review_id=review.public_id)
    assert Review.objects.get(pk=review.pk).status == ReviewStatus.PENDING


def test_review__approve_then_commit__applied_once_and_audited(world):
    RENAMES.clear()
    review = _rename(world, world.actor(Role.MEMBER), "Acme!").review
    review_approve(
        project=world.project,
        actor=world.actor(Role.ADMIN),
        review_id=review.public_id,
        reason="ok",
    )
    committed, project = review_commit(
        project=world.project, actor=world.actor(Role.ADMIN), review_id=review.public_id
    )
    assert committed.status == ReviewStatus.COMMITTED
    assert project.name == "Acme!"
    with pytest.raises(ValidationError, match="only an approved review"):
        review_commit(
            project=world.project, actor=world.actor(Role.ADMIN), review_id=review.public_id
        )
    assert RENAMES == ["Acme!"]
    actions = list(
        AuditLog.objects.filter(review=review).order_by("id").values_list("action_type", flat=True)
    )
    assert actions == [
        "project_review_create",
        "project_review_approve",
        "project_rename",
        "project_review_commit",
    ]


def test_review__entity_changed_since__commit_refused_as_stale(world, console_actor):
    review = _rename(world, world.actor(Role.MEMBER), "Acme!").review
    review_approve(project=world.project, actor=world.actor(Role.ADMIN), review_id=review.public_id)
    _rename(world, console_actor(respects_reviews=False), "Acme!!")
    with pytest.raises(Conflict, match="stale"):
        review_commit(
            project=world.project, actor=world.actor(Role.ADMIN), review_id=review.public_id
        )
    assert Project.objects.get(pk=world.project.pk).name == "Acme!!"
    assert Review.objects.get(pk=review.pk).status == ReviewStatus.APPROVED


def test_review__commit_fails_revalidation__nothing_applied(world):
    review = _rename(world, world.actor(Role.MEMBER), "   ").review
    review_approve(project=world.project, actor=world.actor(Role.ADMIN), review_id=review.public_id)
    with pytest.raises(ValidationError):
        review_commit(
            project=world.project, actor=world.actor(Role.ADMIN), review_id=review.public_id
        )
    assert Review.objects.get(pk=review.pk).status == ReviewStatus.APPROVED
    assert not AuditLog.objects.filter(action_type="project_rename").exists()


def test_review__reject_needs_reason_and_closes(world):
    review = _rename(world, world.actor(Role.MEMBER), "Acme!").review
    with pytest.raises(ValidationError):
        review_reject(
            project=world.project,
            actor=world.actor(Role.ADMIN),
            review_id=review.public_id,
            reason=" ",
        )
    rejected = review_reject(
        project=world.project,
        actor=world.actor(Role.ADMIN),
        review_id=review.public_id,
        reason="no",
    )
    assert rejected.status == ReviewStatus.REJECTED
    assert rejected.decisions.get().reason == "no"


def test_review__viewer__cannot_decide(world):
    review = _rename(world, world.actor(Role.MEMBER), "Acme!").review
    with pytest.raises(PermissionDenied):
        review_approve(
            project=world.project, actor=world.actor(Role.VIEWER), review_id=review.public_id
        )


def test_review__cancel_by_other_member__refused_author_may(world):
    author = world.actor(Role.MEMBER)
    review = _rename(world, author, "Acme!").review
    other_member = Actor.for_user(world.users[Role.VIEWER], Role.MEMBER)
    with pytest.raises(PermissionDenied):
        review_cancel(project=world.project, actor=other_member, review_id=review.public_id)
    assert (
        review_cancel(project=world.project, actor=author, review_id=review.public_id).status
        == "cancelled"
    )


@pytest.mark.django_db(transaction=True)
def test_audit_record__outside_transaction__refused():
    from tests.conftest import make_world

    world = make_world("Hooli")
    with pytest.raises(RuntimeError, match="inside the transaction"):
        audit_record(
            project=world.project,
            actor=world.actor(),
            action_type="x",
            entity_type="project",
            entity_id="acme",
        )


@pytest.mark.django_db(transaction=True)
def test_audit__change_that_fails__leaves_no_entry():
    from tests.conftest import make_world

    world = make_world("Initech")
    before = AuditLog.objects.count()
    with pytest.raises(ValidationError):
        _rename(world, world.actor(Role.ADMIN), "   ", requires_review=False)
    assert AuditLog.objects.count() == before
    with transaction.atomic():
        _rename(world, world.actor(Role.ADMIN), "Initech!", requires_review=False)
    assert AuditLog.objects.count() == before + 1
