"""Segment changes under review: filed only with ``x-respect-review-settings`` (or from the
browser), applied on commit by the same code that applies them directly."""

from __future__ import annotations

import pytest

from console.models import AuditLog, Review, ReviewStatus, Role
from console.services.projects import project_review_settings_update
from console.services.reviews import review_approve
from segments import services
from segments.models import Segment, SegmentMember
from tests.segments.conftest import STAFF_RULES, create_segment, id_list

RESPECT = {"x-respect-review-settings": "true"}
RULES = STAFF_RULES


@pytest.fixture
def reviewed(world):
    project_review_settings_update(
        project=world.project, actor=world.actor(), is_config_review_required=True
    )
    world.project.refresh_from_db()
    return world


def _approve(world, review_id: str) -> None:
    review_approve(project=world.project, actor=world.actor(Role.MEMBER), review_id=review_id)


def test_conditional__header_and_project_requires_review__202_then_commit_applies(capi, reviewed):
    create_segment(capi, name="Employees", type="rule_based")
    # When the change is sent respecting review settings
    response = capi.post("/segments/employees/conditional", RULES, headers=RESPECT)
    # Then it is filed, not applied
    assert response.status_code == 202
    body = response.json()
    assert body["message"] == "Change submitted for review."
    review = body["data"]
    assert review["status"] == "pending"
    assert review["type"] == "segment_conditional_update"
    assert review["entity_type"] == "segment"
    assert review["entity_id"] == "employees"
    # Stored as the entity core stores every field change (the same shape as a gate's)
    assert review["change"]["action"] == "segment_conditional_update"
    assert review["change"]["fields"]["rules"][0]["name"] == "Staff"
    assert Segment.objects.get(key="employees").rules == []
    segment = capi.get("/segments/employees").json()["data"]
    assert segment["activeReview"] == {
        "reviewID": review["review_id"],
        "reviewStatus": "pending",
        "description": review["description"],
    }
    listed = capi.get("/segments/employees/reviews").json()
    assert [r["review_id"] for r in listed["data"]] == [review["review_id"]]
    # When another member approves and the author commits
    _approve(reviewed, review["review_id"])
    commit = capi.put(f"/segments/employees/reviews/{review['review_id']}/commit")
    assert commit.status_code == 200, commit.json()
    assert commit.json()["message"] == "Segment review committed successfully"
    # Then the rules are those of the review, audited with the review
    stored = Segment.objects.get(key="employees")
    assert [r["name"] for r in stored.rules] == ["Staff"]
    assert stored.rules[0]["id"] == review["change"]["fields"]["rules"][0]["id"]
    entry = AuditLog.objects.get(action_type="segment_conditional_update")
    assert entry.review.public_id == review["review_id"]
    assert capi.get("/segments/employees").json()["data"]["activeReview"] is None


def test_conditional__no_header__applied_directly_despite_project_setting(capi, reviewed):
    create_segment(capi, name="Employees", type="rule_based")
    response = capi.post("/segments/employees/conditional", RULES)
    assert response.status_code == 200
    assert not Review.objects.exists()


def test_conditional__header_but_no_review_required__applied(capi, world):
    create_segment(capi, name="Employees", type="rule_based")
    response = capi.post("/segments/employees/conditional", RULES, headers=RESPECT)
    assert response.status_code == 200


def test_id_list_add__reviewed__members_added_on_commit(capi, reviewed):
    id_list(capi, "Beta testers")
    response = capi.patch("/segments/beta_testers/id_list", {"ids": ["u1", "u2"]}, headers=RESPECT)
    assert response.status_code == 202
    review_id = response.json()["data"]["review_id"]
    assert not SegmentMember.objects.exists()
    _approve(reviewed, review_id)
    assert capi.put(f"/segments/beta_testers/reviews/{review_id}/commit").status_code == 200
    assert Segment.objects.get(key="beta_testers").id_count == 2


def test_id_list_add__bad_batch_with_header__400_before_any_review(capi, reviewed):
    id_list(capi, "Beta testers")
    response = capi.patch("/segments/beta_testers/id_list", {"ids": ["u1", ""]}, headers=RESPECT)
    assert response.status_code == 400
    assert not Review.objects.exists()


def test_delete__reviewed__deleted_on_commit(capi, reviewed):
    id_list(capi, "Beta testers", ["u1"])
    response = capi.delete("/segments/beta_testers", headers=RESPECT)
    assert response.status_code == 202
    review_id = response.json()["data"]["review_id"]
    assert Segment.objects.filter(key="beta_testers").exists()
    _approve(reviewed, review_id)
    assert capi.put(f"/segments/beta_testers/reviews/{review_id}/commit").status_code == 200
    assert not Segment.objects.filter(key="beta_testers").exists()


def test_commit__segment_changed_since__409_stale(capi, reviewed):
    create_segment(capi, name="Employees", type="rule_based")
    review_id = capi.post("/segments/employees/conditional", RULES, headers=RESPECT).json()["data"][
        "review_id"
    ]
    capi.put("/segments/employees/archive")  # applied directly: version moves on
    _approve(reviewed, review_id)
    response = capi.put(f"/segments/employees/reviews/{review_id}/commit")
    assert response.status_code == 409
    assert Review.objects.get(public_id=review_id).status == ReviewStatus.APPROVED


def test_browser_actor__always_follows_review_settings(reviewed):
    actor = reviewed.actor(Role.MEMBER)
    services.segment_create(
        project=reviewed.project, actor=actor, name="Employees", type="rule_based"
    )
    outcome = services.segment_update_rules(
        project=reviewed.project, actor=actor, segment_id="employees", rules=RULES
    )
    assert outcome.submitted_for_review
    assert outcome.review.author_user == reviewed.users[Role.MEMBER]


def test_viewer__cannot_change_segments(world):
    from console.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.segment_create(
            project=world.project, actor=world.actor(Role.VIEWER), name="Nope", type="id_list"
        )


def test_review_list__unknown_segment__404(capi):
    # A segment id the project does not have is not an empty list of reviews
    response = capi.get("/segments/nope/reviews")
    assert response.status_code == 404
    assert response.json() == {"status": 404, "message": "Segment not found."}


def test_review_list__other_projects_segment__404(capi, api, other_world):
    api.post(
        "/console/v1/segments",
        {"name": "Theirs", "type": "rule_based"},
        key=other_world.keys["console"],
    )
    assert capi.get("/segments/theirs/reviews").status_code == 404
