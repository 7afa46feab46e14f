"""``x-respect-review-settings`` on every reviewable entity: a change that needs review answers
202 with the review and leaves the entity unchanged; the review endpoints approve, commit and
cancel it. A change touching only development needs no review; production does."""

from __future__ import annotations

from unittest.mock import ANY

import pytest

from console.models import AuditLog, Review
from flags.models import Experiment, Gate
from tests.conftest import ConsoleClient, console_key_of_another_holder

RULE = {
    "name": "Employees",
    "passPercentage": 100,
    "conditions": [
        {"type": "email", "operator": "str_contains_any", "targetValue": ["@example.com"]}
    ],
}


@pytest.fixture
def reviewing_project(capi):
    response = capi.post("settings/reviews", {"is_config_review_required": True})
    assert response.status_code == 200
    return capi


@pytest.fixture
def reviewer(api, world, capi) -> ConsoleClient:
    """A console key of another holder: authors (and their keys) may not approve their own
    reviews."""
    client = ConsoleClient(api, world)
    client.key = console_key_of_another_holder(world)
    return client


def expected_review(entity_type, entity_id, change_type, **overrides):
    review = {
        "review_id": ANY,
        "status": "pending",
        "type": change_type,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "description": ANY,
        "change": ANY,
        "base_version": ANY,
        "author": {"id": ANY, "name": "CONSOLE API", "email": None},
        "decisions": [],
        "reviewers": [],
        "created_at": ANY,
        "committed_at": None,
    }
    review.update(overrides)
    return review


def _approve_and_commit(reviewer, resource, entity_id, review_id):
    approved = reviewer.put(f"{resource}/{entity_id}/reviews/{review_id}/approve", {})
    assert approved.status_code == 200, approved.json()
    assert approved.json()["data"]["status"] == "accepted"
    committed = reviewer.put(f"{resource}/{entity_id}/reviews/{review_id}/commit")
    assert committed.status_code == 200, committed.json()
    assert committed.json()["data"]["status"] == "committed"
    return committed


# -- gates ------------------------------------------------------------------------------------


def test_gate__rule_touching_only_development__applied_without_review(reviewing_project):
    capi = reviewing_project
    capi.post("gates", {"name": "a_gate"})
    response = capi.post(
        "gates/a_gate/rule", {**RULE, "environments": ["development"]}, reviews=True
    )
    assert response.status_code == 200
    assert response.json()["data"]["rules"][0]["environments"] == ["development"]
    assert not Review.objects.exists()


def test_gate__rule_touching_production__202_review_then_commit(reviewing_project, reviewer):
    capi = reviewing_project
    capi.post("gates", {"name": "a_gate"})
    response = capi.post(
        "gates/a_gate/rule", {**RULE, "environments": ["production"]}, reviews=True
    )
    assert response.status_code == 202
    body = response.json()
    assert body == {
        "message": "Change submitted for review.",
        "data": expected_review("gate", "a_gate", "gate_conditions_update", base_version=1),
    }
    review_id = body["data"]["review_id"]
    # The gate is unchanged and shows the open review
    gate = capi.get("gates/a_gate").json()["data"]
    assert gate["rules"] == []
    assert gate["activeReview"] == {
        "reviewID": review_id,
        "reviewStatus": "pending",
        "description": body["data"]["description"],
    }
    listed = capi.get("gates/a_gate/reviews").json()
    assert listed["message"] == "Gate reviews listed successfully."
    assert [r["review_id"] for r in listed["data"]] == [review_id]
    assert capi.get(f"gates/a_gate/reviews/{review_id}").json()["data"]["review_id"] == review_id

    own = capi.put(f"gates/a_gate/reviews/{review_id}/approve", {})
    assert own.status_code == 403
    committed = _approve_and_commit(reviewer, "gates", "a_gate", review_id)
    assert committed.json()["message"] == "Gate review committed successfully"
    gate = capi.get("gates/a_gate").json()["data"]
    assert [r["environments"] for r in gate["rules"]] == [["production"]]
    assert gate["activeReview"] is None
    assert AuditLog.objects.filter(action_type="gate_review_commit").exists()


def test_gate__rule_for_every_environment__needs_review(reviewing_project):
    reviewing_project.post("gates", {"name": "a_gate"})
    response = reviewing_project.post("gates/a_gate/rule", RULE, reviews=True)
    assert response.status_code == 202


def test_gate__without_header__applied_even_when_project_requires_review(reviewing_project):
    reviewing_project.post("gates", {"name": "a_gate"})
    response = reviewing_project.put("gates/a_gate/disable")
    assert response.status_code == 200
    assert response.json()["data"]["isEnabled"] is False


def test_gate__header_false__treated_as_absent(reviewing_project):
    reviewing_project.post("gates", {"name": "a_gate"})
    response = reviewing_project.put(
        "gates/a_gate/disable", headers={"x-respect-review-settings": "false"}
    )
    assert response.status_code == 200


def test_gate__entity_requires_review__reviewed_without_project_setting(capi):
    capi.post("gates", {"name": "a_gate", "reviewSettings": {"requiredReview": True}})
    response = capi.delete("gates/a_gate", reviews=True)
    assert response.status_code == 202
    assert response.json()["data"]["type"] == "gate_delete"
    assert Gate.objects.filter(slug="a_gate").exists()


def test_gate__review_reject_and_cancel(reviewing_project, reviewer):
    capi = reviewing_project
    capi.post("gates", {"name": "a_gate"})
    first = capi.put("gates/a_gate/disable", reviews=True).json()["data"]["review_id"]
    rejected = reviewer.put(f"gates/a_gate/reviews/{first}/reject", {"reason": "not now"})
    assert rejected.status_code == 200
    assert rejected.json()["data"]["status"] == "rejected"
    assert rejected.json()["data"]["decisions"][0]["reason"] == "not now"
    second = capi.put("gates/a_gate/disable", reviews=True).json()["data"]["review_id"]
    cancelled = capi.delete(f"gates/a_gate/reviews/{second}")
    assert cancelled.status_code == 200
    assert cancelled.json()["data"]["status"] == "cancelled"
    assert Gate.objects.get(slug="a_gate").is_enabled is True


def test_gate__stale_review__commit_refused_409(reviewing_project, reviewer):
    capi = reviewing_project
    capi.post("gates", {"name": "a_gate"})
    review_id = capi.put("gates/a_gate/disable", reviews=True).json()["data"]["review_id"]
    capi.patch("gates/a_gate", {"description": "changed meanwhile"})
    reviewer.put(f"gates/a_gate/reviews/{review_id}/approve", {})
    response = reviewer.put(f"gates/a_gate/reviews/{review_id}/commit")
    assert response.status_code == 409


def test_reviews__of_another_entity_or_unknown_entity__404(reviewing_project):
    capi = reviewing_project
    capi.post("gates", {"name": "a_gate"})
    capi.post("gates", {"name": "b_gate"})
    review_id = capi.put("gates/a_gate/disable", reviews=True).json()["data"]["review_id"]
    assert capi.get(f"gates/b_gate/reviews/{review_id}").status_code == 404
    assert capi.get("gates/nope/reviews").json() == {"status": 404, "message": "Gate not found."}


# -- dynamic configs, experiments, layers -----------------------------------------------------


def test_config__default_value_change__202_then_commit(reviewing_project, reviewer):
    capi = reviewing_project
    capi.post("dynamic_configs", {"name": "a_config", "defaultValue": {"color": "blue"}})
    response = capi.patch(
        "dynamic_configs/a_config", {"defaultValue": {"color": "red"}}, reviews=True
    )
    assert response.status_code == 202
    review = response.json()["data"]
    assert review == expected_review("dynamic_config", "a_config", "config_update", base_version=1)
    assert capi.get("dynamic_configs/a_config").json()["data"]["defaultValue"] == {"color": "blue"}
    _approve_and_commit(reviewer, "dynamic_configs", "a_config", review["review_id"])
    assert capi.get("dynamic_configs/a_config").json()["data"]["defaultValue"] == {"color": "red"}


def test_config__description_only__filed_for_review(reviewing_project):
    # Given a project that requires reviews
    capi = reviewing_project
    capi.post("dynamic_configs", {"name": "a_config", "description": "before"})

    # When only the description changes, with the header
    response = capi.patch("dynamic_configs/a_config", {"description": "words"}, reviews=True)

    # Then it is filed like any other change to the entity
    assert response.status_code == 202
    assert response.json()["data"]["type"] == "config_update"
    assert capi.get("dynamic_configs/a_config").json()["data"]["description"] == "before"


def test_config__description_only__without_header__applied(reviewing_project):
    capi = reviewing_project
    capi.post("dynamic_configs", {"name": "a_config"})
    response = capi.patch("dynamic_configs/a_config", {"description": "words"})
    assert response.status_code == 200


def test_experiment__start_needs_review__202_then_commit_starts_it(reviewing_project, reviewer):
    capi = reviewing_project
    capi.post("experiments", {"name": "an_experiment"})
    response = capi.put("experiments/an_experiment/start", reviews=True)
    assert response.status_code == 202
    review = response.json()["data"]
    assert review == expected_review(
        "experiment", "an_experiment", "experiment_start", base_version=1
    )
    assert Experiment.objects.get(slug="an_experiment").status == "setup"
    data = capi.get("experiments/an_experiment").json()["data"]
    assert data["activeReview"]["reviewID"] == review["review_id"]
    committed = _approve_and_commit(reviewer, "experiments", "an_experiment", review["review_id"])
    assert committed.json()["message"] == "Experiment review committed successfully"
    assert capi.get("experiments/an_experiment").json()["data"]["status"] == "active"


def test_experiment__editing_in_setup__filed_for_review(reviewing_project):
    capi = reviewing_project
    capi.post("experiments", {"name": "an_experiment"})
    response = capi.patch("experiments/an_experiment", {"allocation": 50}, reviews=True)
    assert response.status_code == 202


def test_layer__parameter_change__202_then_commit(reviewing_project, reviewer):
    capi = reviewing_project
    capi.post("layers", {"name": "a_layer", "idType": "userID"})
    parameters = [{"name": "color", "type": "string", "defaultValue": "blue"}]
    response = capi.patch("layers/a_layer", {"parameters": parameters}, reviews=True)
    assert response.status_code == 202
    review = response.json()["data"]
    assert review == expected_review("layer", "a_layer", "layer_update", base_version=1)
    assert capi.get("layers/a_layer").json()["data"]["parameters"] == []
    _approve_and_commit(reviewer, "layers", "a_layer", review["review_id"])
    assert capi.get("layers/a_layer").json()["data"]["parameters"] == parameters


# -- explicit reviews: POST /<entities>/{id}/reviews -----------------------------------------


def test_create_review__gate_rules__201_pending_whatever_the_settings(capi, reviewer):
    capi.post("gates", {"name": "a_gate"})
    response = capi.post(
        "gates/a_gate/reviews",
        {"description": "Roll out to employees", "change": {"rules": [RULE]}},
    )
    assert response.status_code == 201
    assert response.json() == {
        "message": "Gate review created successfully.",
        "data": expected_review(
            "gate",
            "a_gate",
            "gate_conditions_update",
            description="Roll out to employees",
            base_version=1,
        ),
    }
    assert capi.get("gates/a_gate").json()["data"]["rules"] == []
    review_id = response.json()["data"]["review_id"]
    _approve_and_commit(reviewer, "gates", "a_gate", review_id)
    assert [r["name"] for r in capi.get("gates/a_gate").json()["data"]["rules"]] == ["Employees"]


def test_create_review__exactly_one_change__400(capi):
    capi.post("gates", {"name": "a_gate"})
    both = capi.post(
        "gates/a_gate/reviews",
        {"description": "two", "change": {"is_enabled": False, "delete": True}},
    )
    assert both.status_code == 400
    assert both.json()["errors"][0]["property"] == "change"
    unknown = capi.post("gates/nope/reviews", {"description": "x", "change": {"delete": True}})
    assert unknown.status_code == 404


def test_create_review__experiment_start__then_commit(capi, reviewer):
    capi.post("experiments", {"name": "an_experiment"})
    response = capi.post(
        "experiments/an_experiment/reviews", {"description": "go", "type": "start"}
    )
    assert response.status_code == 201
    assert response.json()["data"]["type"] == "experiment_start"
    assert capi.get("experiments/an_experiment").json()["data"]["status"] == "setup"
    _approve_and_commit(
        reviewer, "experiments", "an_experiment", response.json()["data"]["review_id"]
    )
    assert capi.get("experiments/an_experiment").json()["data"]["status"] == "active"


def test_create_review__experiment_decision_before_start__400(capi):
    capi.post("experiments", {"name": "an_experiment"})
    response = capi.post(
        "experiments/an_experiment/reviews",
        {"description": "ship", "type": "make_decision", "winning_group_id": "Control"},
    )
    assert response.status_code == 400
    assert response.json()["message"] == "Experiment has not yet started"


@pytest.mark.parametrize(
    ("resource", "create", "body", "change_type"),
    [
        (
            "dynamic_configs",
            {"name": "a_config"},
            {"description": "d", "change": {"default_value": {"a": 1}}},
            "config_update",
        ),
        (
            "layers",
            {"name": "a_layer", "idType": "userID"},
            {"description": "d", "change": {"delete": True}},
            "layer_delete",
        ),
    ],
)
def test_create_review__configs_and_layers(capi, resource, create, body, change_type):
    capi.post(resource, create)
    entity_id = create["name"]
    response = capi.post(f"{resource}/{entity_id}/reviews", body)
    assert response.status_code == 201, response.json()
    assert response.json()["data"]["type"] == change_type
    assert capi.get(f"{resource}/{entity_id}").status_code == 200
