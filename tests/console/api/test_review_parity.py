"""Reviews as Statsig's reference shows them: the ``accepted`` status, the reviewers asked, every
change kind the gate, config and experiment reviews take (or a refusal naming a kind this console
has no feature for), ``PUT .../reviews/{reviewID}`` to edit, and the audit names of each step."""

from __future__ import annotations

import pytest

from tests.conftest import ConsoleClient, console_key_of_another_holder


@pytest.fixture
def reviewer(api, world, capi) -> ConsoleClient:
    """A console key of another holder (a second key of the same holder may not approve)."""
    client = ConsoleClient(api, world)
    client.key = console_key_of_another_holder(world)
    return client


@pytest.fixture
def gate(capi):
    assert capi.post("gates", {"name": "checkout_gate"}).status_code == 201
    return "checkout_gate"


# Statsig's "Create Gate Review" example body, with a change this console has.
CREATE_GATE_REVIEW = {
    "description": "Turn the gate off for the holidays",
    "reviewer_ids": ["user_1", "user_2"],
    "reviewer_group_ids": ["release_managers"],
    "change": {"is_enabled": False},
}


def test_create_review__reviewers_listed__accepted_after_approval(capi, reviewer, gate):
    # Given a review filed with the reviewers Statsig's example names
    created = capi.post(f"gates/{gate}/reviews", CREATE_GATE_REVIEW)
    assert created.status_code == 201, created.json()
    review = created.json()["data"]

    # When another key approves it
    approved = reviewer.put(f"gates/{gate}/reviews/{review['review_id']}/approve", {})

    # Then the review lists its reviewers and reads "accepted", as Statsig's does
    assert review["reviewers"] == [
        {"id": "user_1", "kind": "user"},
        {"id": "user_2", "kind": "user"},
        {"id": "release_managers", "kind": "group"},
    ]
    assert review["status"] == "pending"
    assert approved.json()["data"]["status"] == "accepted"
    active = capi.get(f"gates/{gate}").json()["data"]["activeReview"]
    assert active["reviewStatus"] == "accepted"


def test_edit_review__description_and_reviewers__changed_change_kept(capi, gate):
    review_id = capi.post(f"gates/{gate}/reviews", CREATE_GATE_REVIEW).json()["data"]["review_id"]

    response = capi.put(
        f"gates/{gate}/reviews/{review_id}",
        {"description": "Only until January", "reviewer_ids": ["user_3"]},
    )

    assert response.status_code == 200, response.json()
    data = response.json()["data"]
    assert data["description"] == "Only until January"
    assert data["reviewers"] == [{"id": "user_3", "kind": "user"}]
    assert data["type"] == "gate_disable"
    assert capi.get(f"gates/{gate}/reviews/{review_id}").json()["data"] == data
    logs = capi.get("audit_logs?actionType=config_review_info_update").json()["data"]
    assert [log["name"] for log in logs] == [gate]


def test_edit_review__committed__400_naming_status(capi, reviewer, gate):
    review_id = capi.post(f"gates/{gate}/reviews", CREATE_GATE_REVIEW).json()["data"]["review_id"]
    reviewer.put(f"gates/{gate}/reviews/{review_id}/approve", {})
    reviewer.put(f"gates/{gate}/reviews/{review_id}/commit")

    response = capi.put(f"gates/{gate}/reviews/{review_id}", {"description": "late"})

    assert response.status_code == 400
    assert response.json()["errors"][0]["property"] == "status"


def test_edit_review__another_console_key__allowed_as_an_admin(api, world, capi, gate):
    review_id = capi.post(f"gates/{gate}/reviews", CREATE_GATE_REVIEW).json()["data"]["review_id"]
    other = ConsoleClient(api, world)
    other.key = capi.post("keys", {"description": "x", "type": "CONSOLE"}).json()["data"]["key"]

    response = other.put(f"gates/{gate}/reviews/{review_id}", {"description": "mine now"})

    # A console key acts as an admin of its project, so it may edit (Statsig lets admins too)
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("change", "change_type"),
    [
        ({"resalt": True}, "gate_resalt"),
        ({"id_type": "stableID"}, "gate_update"),
        ({"disable_reviews_locally": True}, "gate_update"),
        ({"is_archived": True}, "gate_archive"),
        ({"delete": True}, "gate_delete"),
    ],
)
def test_create_gate_review__statsig_change_kinds__filed(capi, gate, change, change_type):
    response = capi.post(f"gates/{gate}/reviews", {"description": "please", "change": change})

    assert response.status_code == 201, response.json()
    assert response.json()["data"]["type"] == change_type


@pytest.mark.parametrize("kind", ["team_id", "owners", "target_app_ids"])
def test_create_gate_review__kind_without_a_feature__400_naming_it(capi, gate, kind):
    response = capi.post(f"gates/{gate}/reviews", {"description": "please", "change": {kind: "x"}})

    assert response.status_code == 400
    assert response.json()["errors"][0]["property"] == f"change.{kind}"


def test_create_gate_review__unknown_change__400(capi, gate):
    response = capi.post(f"gates/{gate}/reviews", {"description": "p", "change": {"colour": 1}})

    assert response.status_code == 400
    assert response.json()["errors"][0]["property"] == "change.colour"


def test_create_config_review__id_type__filed_and_committed(capi, reviewer):
    capi.post("dynamic_configs", {"name": "banner_config"})
    review = capi.post(
        "dynamic_configs/banner_config/reviews",
        {"description": "stable ids", "change": {"id_type": "stableID"}},
    ).json()["data"]

    reviewer.put(f"dynamic_configs/banner_config/reviews/{review['review_id']}/approve", {})
    committed = reviewer.put(f"dynamic_configs/banner_config/reviews/{review['review_id']}/commit")

    assert committed.status_code == 200, committed.json()
    assert capi.get("dynamic_configs/banner_config").json()["data"]["idType"] == "stableID"


def test_create_experiment_review__scheduled_start_and_groups(capi):
    capi.post("experiments", {"name": "pricing_test"})

    scheduled = capi.post(
        "experiments/pricing_test/reviews",
        {"description": "start later", "type": "scheduled_start", "start_date": 4102444800000},
    )
    missing = capi.post(
        "experiments/pricing_test/reviews",
        {"description": "start later", "type": "scheduled_start"},
    )

    assert scheduled.status_code == 201, scheduled.json()
    assert scheduled.json()["data"]["type"] == "experiment_schedule_start"
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["property"] == "start_date"


@pytest.mark.parametrize("kind", ["stop", "pause", "rollout", "update_team"])
def test_create_experiment_review__type_without_a_feature__400_naming_type(capi, kind):
    capi.post("experiments", {"name": "pricing_test"})

    response = capi.post(
        "experiments/pricing_test/reviews", {"description": "please", "type": kind}
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["property"] == "type"


def test_review_steps__audit_names_statsig(capi, reviewer, gate):
    review_id = capi.post(f"gates/{gate}/reviews", CREATE_GATE_REVIEW).json()["data"]["review_id"]
    reviewer.put(f"gates/{gate}/reviews/{review_id}/approve", {})
    reviewer.put(f"gates/{gate}/reviews/{review_id}/commit")

    names = [log["actionType"] for log in capi.get("audit_logs?limit=5").json()["data"]]

    assert names[:4] == [
        "config_review_commit",
        "config_state_toggle",
        "config_review_accept",
        "config_review_create",
    ]


def test_respect_review_settings__description_of_a_gate__filed(capi, gate):
    capi.post("settings/reviews", {"is_config_review_required": True})

    response = capi.patch(f"gates/{gate}", {"description": "words"}, reviews=True)

    assert response.status_code == 202
    assert capi.get(f"gates/{gate}").json()["data"]["description"] == ""


def test_respect_review_settings__project_not_requiring__description_applied(capi, gate):
    response = capi.patch(f"gates/{gate}", {"description": "words"}, reviews=True)

    assert response.status_code == 200


# -- segment reviews ---------------------------------------------------------------------------


def test_create_segment_review__add_ids__filed_then_committed(capi, reviewer):
    # Given an ID-list segment
    capi.post("segments", {"name": "beta_users", "type": "id_list"})

    # When adding ids is filed as a review, approved and committed
    created = capi.post(
        "segments/beta_users/reviews",
        {"description": "two more testers", "change": {"add_ids": ["u1", "u2"]}},
    )
    review_id = created.json()["data"]["review_id"]
    before = capi.get("segments/beta_users/id_list").json()["data"]
    reviewer.put(f"segments/beta_users/reviews/{review_id}/approve", {})
    committed = reviewer.put(f"segments/beta_users/reviews/{review_id}/commit")

    # Then nothing changed until the commit, and the ids are there after it
    assert created.status_code == 201, created.json()
    assert created.json()["data"]["type"] == "segment_id_list_add"
    assert created.json()["data"]["entity_type"] == "segment"
    assert before["count"] == 0
    assert committed.status_code == 200, committed.json()
    assert capi.get("segments/beta_users/id_list").json()["data"]["count"] == 2
    listed = capi.get("segments/beta_users/reviews").json()["data"]
    assert [review["status"] for review in listed] == ["committed"]


@pytest.mark.parametrize(
    ("change", "change_type"),
    [
        ({"is_archived": True}, "segment_archive"),
        ({"delete": True}, "segment_delete"),
        ({"description": "for the beta"}, "segment_update"),
    ],
)
def test_create_segment_review__change_kinds(capi, change, change_type):
    capi.post("segments", {"name": "beta_users", "type": "id_list"})

    response = capi.post("segments/beta_users/reviews", {"description": "p", "change": change})

    assert response.status_code == 201, response.json()
    assert response.json()["data"]["type"] == change_type


def test_create_segment_review__unknown_segment__404(capi):
    response = capi.post(
        "segments/nobody/reviews", {"description": "p", "change": {"delete": True}}
    )

    assert response.status_code == 404
