"""Statsig's ``reviewSettings.allowedReviewers`` as a console API client uses it: set on create
and update of gates, dynamic configs, experiments and layers, read back with each member's
current name and email, changed through a review (``allowed_reviewers``,
``update_allowed_reviewers``), and enforced when a review is approved."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from console.models import Role
from console.services.projects import membership_remove, membership_set
from tests.conftest import ConsoleClient, console_key_of_another_holder, make_user


def _key_holder(api, world, username: str) -> tuple[ConsoleClient, str]:
    """A console client with a key of another admin of the project, and that admin's user id."""
    client = ConsoleClient(api, world)
    client.key = console_key_of_another_holder(world, username)
    user = get_user_model().objects.get(username=f"{world.project.slug}-{username}")
    return client, str(user.pk)


@pytest.fixture
def listed(api, world) -> tuple[ConsoleClient, str]:
    return _key_holder(api, world, "listed")


@pytest.fixture
def outsider(api, world) -> tuple[ConsoleClient, str]:
    return _key_holder(api, world, "outsider")


def _member(world, username: str, *, full_name: str = ""):
    user = make_user(username)
    if full_name:
        user.first_name, user.last_name = full_name.split(" ")
        user.save()
    membership_set(
        project=world.project, actor=world.actor(Role.ADMIN), email=user.email, role=Role.MEMBER
    )
    return user


ENTITIES = [
    ("gates", {"name": "checkout_gate"}),
    ("dynamic_configs", {"name": "banner_config"}),
    ("experiments", {"name": "pricing_test"}),
    ("layers", {"name": "checkout_layer", "idType": "userID"}),
]


@pytest.mark.parametrize(("resource", "body"), ENTITIES)
def test_create__allowed_reviewers__read_back_with_name_and_email(capi, world, resource, body):
    # Given two members of the project
    ada = _member(world, "ada", full_name="Ada Lovelace")
    bob = _member(world, "bob")

    # When an entity is created naming them (Statsig's shape, name and email optional)
    created = capi.post(
        resource,
        {
            **body,
            "reviewSettings": {
                "requiredReview": True,
                "allowedReviewers": [{"id": str(ada.pk), "name": "ignored"}, {"id": str(bob.pk)}],
            },
        },
    )

    # Then every answer carries them with their current name and email
    assert created.status_code == 201, created.json()
    expected = {
        "requiredReview": True,
        "allowedReviewers": [
            {"id": str(ada.pk), "name": "Ada Lovelace", "email": "ada@example.com"},
            {"id": str(bob.pk), "name": "bob", "email": "bob@example.com"},
        ],
    }
    assert created.json()["data"]["reviewSettings"] == expected
    read = capi.get(f"{resource}/{body['name']}").json()["data"]
    assert read["reviewSettings"] == expected
    listed = capi.get(resource).json()["data"]
    assert [entity["reviewSettings"] for entity in listed] == [expected]


@pytest.mark.parametrize(("resource", "body"), ENTITIES)
def test_update__unknown_id__400_naming_the_entry(capi, world, resource, body):
    ada = _member(world, "ada")
    capi.post(resource, body)

    response = capi.patch(
        f"{resource}/{body['name']}",
        {"reviewSettings": {"allowedReviewers": [{"id": str(ada.pk)}, {"id": "999999"}]}},
    )

    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["property"] == "reviewSettings.allowedReviewers[1]"
    assert "999999" in error["message"]


def test_create__someone_of_another_project__400(capi, world, other_world):
    stranger = other_world.users[Role.MEMBER]

    response = capi.post(
        "gates",
        {"name": "a_gate", "reviewSettings": {"allowedReviewers": [{"id": str(stranger.pk)}]}},
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["property"] == "reviewSettings.allowedReviewers[0]"
    assert not capi.get("gates").json()["data"]


def test_update__list_replaced_and_audited(capi, world):
    ada = _member(world, "ada")
    bob = _member(world, "bob")
    capi.post("gates", {"name": "a_gate", "reviewSettings": {"allowedReviewers": [{"id": ada.pk}]}})

    response = capi.patch(
        "gates/a_gate", {"reviewSettings": {"allowedReviewers": [{"id": str(bob.pk)}]}}
    )

    assert response.status_code == 200, response.json()
    reviewers = response.json()["data"]["reviewSettings"]["allowedReviewers"]
    assert [reviewer["id"] for reviewer in reviewers] == [str(bob.pk)]
    assert response.json()["data"]["reviewSettings"]["requiredReview"] is False
    newest = capi.get("audit_logs?limit=1").json()["data"][0]
    assert newest["name"] == "a_gate"
    assert newest["actionType"] == "gate_update"
    assert newest["changes"] == {"allowed_reviewers": {"old": [str(ada.pk)], "new": [str(bob.pk)]}}


def _gate_with_review(capi, reviewers: list[str]) -> str:
    """A gate that allows ``reviewers`` and has a review of disabling it, filed by ``capi``."""
    created = capi.post(
        "gates",
        {"name": "a_gate", "reviewSettings": {"allowedReviewers": [{"id": i} for i in reviewers]}},
    )
    assert created.status_code == 201, created.json()
    review = capi.post("gates/a_gate/reviews", {"description": "off", "change": {"is_enabled": 0}})
    assert review.status_code == 201, review.json()
    return review.json()["data"]["review_id"]


def test_approve__member_not_listed__403_naming_who_may(capi, world, listed, outsider):
    # Given a gate only "listed" may review, and a review of it
    _, listed_id = listed
    outsider_client, _ = outsider
    review_id = _gate_with_review(capi, [listed_id])

    # When another admin approves
    response = outsider_client.put(f"gates/a_gate/reviews/{review_id}/approve", {})

    # Then it is refused, saying who may approve, and the review stays pending
    assert response.status_code == 403
    message = response.json()["message"]
    assert "allowed reviewers" in message
    assert f"(id {listed_id})" in message
    review = capi.get(f"gates/a_gate/reviews/{review_id}").json()["data"]
    assert review["status"] == "pending"


def test_approve__listed_member__approved_and_committed(capi, listed):
    listed_client, listed_id = listed
    review_id = _gate_with_review(capi, [listed_id])

    approved = listed_client.put(f"gates/a_gate/reviews/{review_id}/approve", {})
    committed = listed_client.put(f"gates/a_gate/reviews/{review_id}/commit")

    assert approved.status_code == 200, approved.json()
    assert approved.json()["data"]["status"] == "accepted"
    assert committed.status_code == 200, committed.json()
    assert capi.get("gates/a_gate").json()["data"]["isEnabled"] is False


def test_approve__listed_member_left__todays_rules_apply(capi, world, listed, outsider):
    # Given the only allowed reviewer left the project
    _listed_client, listed_id = listed
    outsider_client, _ = outsider
    review_id = _gate_with_review(capi, [listed_id])
    membership_remove(
        project=world.project,
        actor=world.actor(Role.ADMIN),
        user_id=int(listed_id),
    )

    # When any other member approves
    response = outsider_client.put(f"gates/a_gate/reviews/{review_id}/approve", {})

    # Then the list no longer restricts, and reads back empty
    assert response.status_code == 200, response.json()
    assert capi.get("gates/a_gate").json()["data"]["reviewSettings"]["allowedReviewers"] == []


def test_approve__empty_list__any_other_member(capi, outsider):
    outsider_client, _ = outsider
    review_id = _gate_with_review(capi, [])

    response = outsider_client.put(f"gates/a_gate/reviews/{review_id}/approve", {})

    assert response.status_code == 200, response.json()


def test_approve__listed_author__still_not_own_change(api, world, listed):
    # Given a review filed by the allowed reviewer themself
    listed_client, listed_id = listed
    review_id = _gate_with_review(listed_client, [listed_id])

    response = listed_client.put(f"gates/a_gate/reviews/{review_id}/approve", {})

    assert response.status_code == 403
    assert "own review" in response.json()["message"]


@pytest.mark.parametrize(
    ("resource", "body"),
    [(r, b) for r, b in ENTITIES if r != "experiments"],
)
def test_review_change_allowed_reviewers__filed_approved_committed(
    capi, world, listed, resource, body
):
    # Given an entity and a member to allow
    listed_client, _ = listed
    capi.post(resource, body)
    ada = _member(world, "ada")
    path = f"{resource}/{body['name']}"

    # When a review of the change "allowed_reviewers" is filed, approved and committed
    filed = capi.post(
        f"{path}/reviews",
        {"description": "Ada reviews this", "change": {"allowed_reviewers": [str(ada.pk)]}},
    )
    assert filed.status_code == 201, filed.json()
    review_id = filed.json()["data"]["review_id"]
    assert capi.get(path).json()["data"]["reviewSettings"]["allowedReviewers"] == []
    listed_client.put(f"{path}/reviews/{review_id}/approve", {})
    committed = listed_client.put(f"{path}/reviews/{review_id}/commit")

    # Then the entity allows Ada
    assert committed.status_code == 200, committed.json()
    reviewers = capi.get(path).json()["data"]["reviewSettings"]["allowedReviewers"]
    assert reviewers == [{"id": str(ada.pk), "name": "ada", "email": "ada@example.com"}]


def test_review_change_allowed_reviewers__non_member__400(capi):
    capi.post("gates", {"name": "a_gate"})

    response = capi.post(
        "gates/a_gate/reviews",
        {"description": "x", "change": {"allowed_reviewers": [{"id": "424242"}]}},
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["property"] == "change.allowed_reviewers[0]"
    assert not capi.get("gates/a_gate/reviews").json()["data"]


def test_review_change_allowed_reviewers__not_an_id__400(capi):
    capi.post("gates", {"name": "a_gate"})

    response = capi.post(
        "gates/a_gate/reviews", {"description": "x", "change": {"allowed_reviewers": [True]}}
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["property"].startswith("change.allowed_reviewers")


def test_experiment_review_update_allowed_reviewers__not_a_member__400_naming_it(capi):
    capi.post("experiments", {"name": "pricing_test"})

    response = capi.post(
        "experiments/pricing_test/reviews",
        {"type": "update_allowed_reviewers", "description": "x", "allowed_reviewers": ["77777"]},
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["property"] == "allowed_reviewers[0]"


def test_experiment_review_update_allowed_reviewers__committed(capi, world, listed):
    listed_client, _ = listed
    capi.post("experiments", {"name": "pricing_test"})
    ada = _member(world, "ada")

    filed = capi.post(
        "experiments/pricing_test/reviews",
        {
            "type": "update_allowed_reviewers",
            "description": "Ada reviews",
            "allowed_reviewers": [{"id": str(ada.pk)}],
        },
    )
    assert filed.status_code == 201, filed.json()
    review_id = filed.json()["data"]["review_id"]
    listed_client.put(f"experiments/pricing_test/reviews/{review_id}/approve", {})
    committed = listed_client.put(f"experiments/pricing_test/reviews/{review_id}/commit")

    assert committed.status_code == 200, committed.json()
    data = capi.get("experiments/pricing_test").json()["data"]
    assert [reviewer["id"] for reviewer in data["reviewSettings"]["allowedReviewers"]] == [
        str(ada.pk)
    ]


def test_change_of_the_list__reviewed_when_the_entity_requires_review(capi, world, listed):
    # Given a gate that requires review and allows only "listed"
    listed_client, listed_id = listed
    capi.post(
        "gates",
        {
            "name": "a_gate",
            "reviewSettings": {"requiredReview": True, "allowedReviewers": [{"id": listed_id}]},
        },
    )
    ada = _member(world, "ada")

    # When a client respecting review settings widens the list
    response = capi.patch(
        "gates/a_gate",
        {"reviewSettings": {"allowedReviewers": [{"id": listed_id}, {"id": str(ada.pk)}]}},
        reviews=True,
    )

    # Then the change waits for one of the current allowed reviewers
    assert response.status_code == 202, response.json()
    reviewers = capi.get("gates/a_gate").json()["data"]["reviewSettings"]["allowedReviewers"]
    assert [reviewer["id"] for reviewer in reviewers] == [listed_id]
    review_id = response.json()["data"]["review_id"]
    assert listed_client.put(f"gates/a_gate/reviews/{review_id}/approve", {}).status_code == 200


def test_experiment_running__allowed_reviewers_still_editable(capi, world):
    # Given a running experiment (only its metadata may change)
    capi.post("experiments", {"name": "pricing_test"})
    assert capi.put("experiments/pricing_test/start").status_code == 200
    ada = _member(world, "ada")

    # When its allowed reviewers change
    response = capi.patch(
        "experiments/pricing_test", {"reviewSettings": {"allowedReviewers": [{"id": str(ada.pk)}]}}
    )

    # Then they are saved, like the other review settings
    assert response.status_code == 200, response.json()
    reviewers = response.json()["data"]["reviewSettings"]["allowedReviewers"]
    assert [reviewer["id"] for reviewer in reviewers] == [str(ada.pk)]
