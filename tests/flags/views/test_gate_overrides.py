"""The overrides card of the gate page: IDs that always pass or fail, everywhere and per
environment, replaced through ``gate_overrides_set``; read back through the console API and
answered by ``/v1/check_gate``; errors at the textarea they come from; viewers read only."""

from __future__ import annotations

import pytest

from console.models import Review, Role
from console.services.projects import project_review_settings_update
from flags.models import Gate
from flags.services import gates as gate_services

TOO_LONG = "x" * 1001


def _gate(world, name: str = "New checkout", **kwargs) -> Gate:
    return gate_services.gate_create(
        project=world.project, actor=world.actor(Role.ADMIN), name=name, **kwargs
    )


def _url(world, gate: Gate, tail: str = "") -> str:
    return f"/p/{world.project.slug}/gates/{gate.slug}/{tail}"


def _overrides_via_api(api, world, gate: Gate) -> dict:
    response = api.get(f"/console/v1/gates/{gate.slug}/overrides", key=world.keys["console"])
    # Statsig documents 201 for every verb of this resource, reads included.
    assert response.status_code == 201, response.content
    return response.json()["data"]


def _check_gate(api, world, gate: Gate, user: dict) -> dict:
    response = api.post(
        "/v1/check_gate", {"user": user, "gateName": gate.slug}, key=world.keys["server"]
    )
    assert response.status_code == 200, response.content
    return response.json()


def test_gate_overrides__member_saves_ids__api_and_check_gate_answer_them(world, as_role, api):
    # Given a gate that nobody passes
    gate = _gate(world)
    client = as_role(Role.MEMBER)
    # When a member lists IDs one per line and comma separated, and one for production only
    response = client.post(
        _url(world, gate, "overrides/"),
        {
            "overrides-passingUserIDs": "ada\r\nbob, carol\n\n",
            "overrides-failingUserIDs": "mallory",
            "overrides-env-production-passingIDs": "dave",
        },
    )
    # Then the page reloads saying so
    assert response.status_code == 302
    assert response["Location"] == _url(world, gate)
    assert "Overrides saved." in client.get(response["Location"]).content.decode()
    # And the console API reads the lists back
    overrides = _overrides_via_api(api, world, gate)
    assert overrides["passingUserIDs"] == ["ada", "bob", "carol"]
    assert overrides["failingUserIDs"] == ["mallory"]
    assert overrides["environmentOverrides"] == [
        {"environment": "production", "unitID": "userID", "passingIDs": ["dave"], "failingIDs": []}
    ]
    # And the SDK endpoint answers the overrides
    assert _check_gate(api, world, gate, {"userID": "bob"})["value"] is True
    assert _check_gate(api, world, gate, {"userID": "mallory"})["value"] is False
    production = {"userID": "dave", "statsigEnvironment": {"tier": "production"}}
    staging = {"userID": "dave", "statsigEnvironment": {"tier": "staging"}}
    assert _check_gate(api, world, gate, production)["value"] is True
    assert _check_gate(api, world, gate, staging)["value"] is False


def test_gate_overrides__page__shows_the_saved_ids_in_their_textareas(world, as_role):
    # Given a gate with overrides
    gate = _gate(world, overrides={"passingUserIDs": ["ada", "bob"]})
    # When a member opens its page
    page = as_role(Role.MEMBER).get(_url(world, gate)).content.decode()
    # Then the textarea holds one ID per line, labelled
    assert '<label class="form-label" for="id_overrides-passingUserIDs">' in page
    assert ">\nada\nbob</textarea>" in page
    assert "Save overrides" in page


@pytest.mark.parametrize(
    ("field", "error_id"),
    [
        ("overrides-failingUserIDs", "id_overrides-failingUserIDs_error"),
        ("overrides-env-staging-failingIDs", "id_overrides-env-staging-failingIDs_error"),
    ],
)
def test_gate_overrides__id_too_long__error_at_its_textarea_and_nothing_changes(
    world, as_role, api, field, error_id
):
    # Given a gate with an override
    gate = _gate(world, overrides={"passingUserIDs": ["ada"]})
    # When a member sends an ID the service refuses
    response = as_role(Role.MEMBER).post(
        _url(world, gate, "overrides/"),
        {"overrides-passingUserIDs": "ada, bob", field: f"eve\n{TOO_LONG}"},
    )
    # Then the page says so next to that textarea, keeping what was typed
    assert response.status_code == 400
    page = response.content.decode()
    assert f'id="{error_id}"' in page
    assert "Each id is a non-empty string." in page
    assert TOO_LONG in page
    # And the gate's overrides are unchanged
    assert _overrides_via_api(api, world, gate)["passingUserIDs"] == ["ada"]


def test_gate_overrides__set_through_the_api_for_another_unit__kept_on_save(world, as_role, api):
    # Given a gate with an environment override of a unit type the card does not show
    gate = _gate(world)
    stable = {
        "environment": "staging",
        "unitID": "stableID",
        "passingIDs": ["s1"],
        "failingIDs": [],
    }
    response = api.post(
        f"/console/v1/gates/{gate.slug}/overrides",
        {"environmentOverrides": [stable]},
        key=world.keys["console"],
    )
    assert response.status_code == 201, response.content
    client = as_role(Role.MEMBER)
    assert (
        "stableID values in staging: 1 pass, 0 fail"
        in client.get(_url(world, gate)).content.decode()
    )
    # When a member saves the card
    client.post(_url(world, gate, "overrides/"), {"overrides-passingUserIDs": "ada"})
    # Then that override is still there
    overrides = _overrides_via_api(api, world, gate)
    assert overrides["passingUserIDs"] == ["ada"]
    assert overrides["environmentOverrides"] == [stable]


def test_gate_overrides__review_required__filed_for_review_and_unchanged(world, as_role, api):
    # Given a project whose changes need review
    project_review_settings_update(
        project=world.project, actor=world.actor(Role.ADMIN), is_config_review_required=True
    )
    gate = _gate(world)
    client = as_role(Role.MEMBER)
    # When a member saves overrides
    response = client.post(_url(world, gate, "overrides/"), {"overrides-passingUserIDs": "ada"})
    # Then a review is filed, the page says so, and nothing applies yet
    review = Review.objects.get(project=world.project, entity_id=gate.slug)
    page = client.get(response["Location"]).content.decode()
    assert "needs review" in page
    assert review.public_id in page
    assert _overrides_via_api(api, world, gate)["passingUserIDs"] == []


def test_gate_overrides__viewer__reads_them_without_a_form_and_is_refused(world, as_role, api):
    # Given a gate with overrides
    gate = _gate(world, overrides={"passingUserIDs": ["ada"], "failingUserIDs": ["mallory"]})
    client = as_role(Role.VIEWER)
    # When a viewer opens the page
    page = client.get(_url(world, gate)).content.decode()
    # Then the IDs are listed, with no form to change them
    assert "<code>ada</code>" in page
    assert "<code>mallory</code>" in page
    assert "Save overrides" not in page
    assert 'name="overrides-passingUserIDs"' not in page
    # And a posted change is refused
    response = client.post(_url(world, gate, "overrides/"), {"overrides-passingUserIDs": "eve"})
    assert response.status_code == 403
    assert _overrides_via_api(api, world, gate)["passingUserIDs"] == ["ada"]


def test_gate_overrides__another_projects_gate__404(world, other_world, as_role):
    # Given a gate of another project
    theirs = _gate(other_world, name="Globex only")
    client = as_role(Role.ADMIN)
    # When an admin of this project posts to it, under either project
    here = client.post(
        f"/p/{world.project.slug}/gates/{theirs.slug}/overrides/",
        {"overrides-passingUserIDs": "ada"},
    )
    there = client.post(
        _url(other_world, theirs, "overrides/"), {"overrides-passingUserIDs": "ada"}
    )
    # Then neither exists for them, and nothing changes
    assert (here.status_code, there.status_code) == (404, 404)
    theirs.refresh_from_db()
    assert theirs.overrides.get("passingUserIDs", []) == []
