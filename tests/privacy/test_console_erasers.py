"""The console's erasers: user ids inside audit-log change payloads become a marker (the entry
stays); open reviews drop the ids from their stored change; closed reviews are marked."""

from __future__ import annotations

import pytest

from console.models import AuditLog, Review, ReviewStatus, Role
from console.services.audit import audit_record
from console.services.reviews import register_change, review_reject, submit_or_apply
from privacy.erasers import ERASED_MARKER
from privacy.erasers_console import erase_audit_log, erase_reviews
from privacy.services import deletion_process_pending
from tests.privacy.conftest import submit

OVERRIDES: dict[int, list[str]] = {}


def _version(project, entity_id):
    return 1


@register_change("test_privacy_override_add", entity_type="test_override", current_version=_version)
def _apply_override_add(*, project, actor, entity_id, change, review=None):
    """A stand-in for a gate override change: stores ids and audits them."""
    before = list(OVERRIDES.get(project.pk, []))
    OVERRIDES[project.pk] = before + list(change["ids"])
    audit_record(
        project=project,
        actor=actor,
        action_type="test_override_add",
        entity_type="test_override",
        entity_id=entity_id,
        changes={
            "overrides": {"old": before, "new": OVERRIDES[project.pk]},
            "note": {"old": None, "new": change.get("note", "")},
        },
        review=review,
    )
    return OVERRIDES[project.pk]


def add_overrides(world, ids, *, needs_review=False, note=""):
    return submit_or_apply(
        project=world.project,
        actor=world.actor(Role.ADMIN),
        change_type="test_privacy_override_add",
        entity_id="my_gate",
        change={"ids": ids, "note": note},
        needs_review=needs_review,
        description=note,
    )


@pytest.fixture(autouse=True)
def _reset():
    OVERRIDES.clear()
    yield
    OVERRIDES.clear()


def test_audit_eraser__ids_in_changes__replaced_by_marker_entry_kept(world, other_world):
    # Given
    add_overrides(world, ["gone-1", "keep-1"], note="added gone-1, keep-1 for QA")
    add_overrides(other_world, ["gone-1"])
    entries_before = AuditLog.objects.count()
    # When
    touched = erase_audit_log(project_id=world.project.pk, unit_type="user_id", ids=["gone-1"])
    # Then
    assert touched == 1
    assert AuditLog.objects.count() == entries_before
    entry = AuditLog.objects.get(project=world.project, action_type="test_override_add")
    assert entry.changes == {
        "overrides": {"old": [], "new": [ERASED_MARKER, "keep-1"]},
        "note": {"old": None, "new": f"added {ERASED_MARKER}, keep-1 for QA"},
    }
    # other projects' entries are theirs: untouched
    theirs = AuditLog.objects.get(project=other_world.project, action_type="test_override_add")
    assert theirs.changes["overrides"]["new"] == ["gone-1"]


def test_audit_eraser__similar_ids__untouched(world):
    add_overrides(world, ["gone-10", "xgone-1", "gone-1x"])
    assert erase_audit_log(project_id=world.project.pk, unit_type="user_id", ids=["gone-1"]) == 0


def test_audit_eraser__run_twice__idempotent(world):
    add_overrides(world, ["gone-1"])
    assert erase_audit_log(project_id=world.project.pk, unit_type="user_id", ids=["gone-1"]) == 1
    assert erase_audit_log(project_id=world.project.pk, unit_type="user_id", ids=["gone-1"]) == 0


def test_review_eraser__open_review__ids_dropped_from_change_still_applies(world):
    # Given a pending review that would add the ids
    review = add_overrides(world, ["gone-1", "keep-1"], needs_review=True, note="for gone-1").review
    # When
    erase_reviews(project_id=world.project.pk, unit_type="user_id", ids=["gone-1"])
    # Then
    review.refresh_from_db()
    assert review.status == ReviewStatus.PENDING
    assert review.change == {"ids": ["keep-1"], "note": f"for {ERASED_MARKER}"}
    assert review.description == f"for {ERASED_MARKER}"


def test_review_eraser__closed_review_and_reason__marked(world):
    review = add_overrides(world, ["gone-1"], needs_review=True).review
    review_reject(
        project=world.project,
        actor=world.actor(Role.MEMBER),
        review_id=review.public_id,
        reason="gone-1 is a test user",
    )
    erase_reviews(project_id=world.project.pk, unit_type="user_id", ids=["gone-1"])
    review.refresh_from_db()
    assert review.change["ids"] == [ERASED_MARKER]
    assert review.decisions.get().reason == f"{ERASED_MARKER} is a test user"


def test_console_erasers__through_the_job__no_trace_left(world):
    add_overrides(world, ["gone-1", "keep-1"])
    add_overrides(world, ["gone-1"], needs_review=True)
    submit(world, "gone-1")
    deletion_process_pending()
    for entry in AuditLog.objects.all():
        assert "gone-1" not in str(entry.changes)
    for review in Review.objects.all():
        assert "gone-1" not in str(review.change)
