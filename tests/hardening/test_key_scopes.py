"""Console key scopes are stored, returned and enforced; keys are addressed by the key itself
(Statsig's ``/keys/{key}``); a change filed with a key needs a person, or a key of another
holder, to approve it."""

from __future__ import annotations

import pytest

from console.models import ApiKey, ReviewStatus, Role
from tests.conftest import RESPECT_REVIEWS, console_key_of_another_holder

KEYS = "/console/v1/keys"
RULE = {
    "name": "Employees",
    "passPercentage": 100,
    "conditions": [{"type": "email", "operator": "str_contains_any", "targetValue": ["@x.com"]}],
    "environments": ["production"],
}


def _create_key(api, world, **body) -> dict:
    response = api.post(
        KEYS,
        {"description": "made by a test", "type": "CONSOLE", **body},
        key=world.keys["console"],
    )
    assert response.status_code == 200, response.json()
    return response.json()["data"]


def test_read_only_key__stored_returned_and_writes_403(api, world):
    # Given a key created with Statsig's read-only scope
    created = _create_key(api, world, scopes=["omni_read_only"])
    assert created["scopes"] == ["omni_read_only"]
    read_only = created["key"]

    # Then it reads, and every write is refused with 403 and changes nothing
    assert api.get("/console/v1/gates", key=read_only).status_code == 200
    write = api.post("/console/v1/gates", {"name": "nope"}, key=read_only)
    assert write.status_code == 403
    assert "omni_read_only" in write.json()["message"]
    assert api.get("/console/v1/gates/nope", key=world.keys["console"]).status_code == 404
    # And it comes back with its scope from the list and by its key
    listed = api.get(KEYS, key=world.keys["console"]).json()["data"]
    assert next(k for k in listed if k["key"] == read_only)["scopes"] == ["omni_read_only"]


@pytest.mark.parametrize(
    ("scopes", "field"),
    [
        (["omni_read_everything"], "scopes[0]"),
        (["omni_read_only", "client_download_config_specs"], "scopes[1]"),
        (["omni_read_only", "omni_read_write"], "scopes"),
    ],
)
def test_create_key__scope_not_for_its_type__400_names_field(api, world, scopes, field):
    response = api.post(
        KEYS, {"description": "x", "type": "CONSOLE", "scopes": scopes}, key=world.keys["console"]
    )
    assert response.status_code == 400
    assert field in response.content.decode()


def test_keys_endpoints__key_without_can_access_keys__403(api, world):
    writer = _create_key(api, world, scopes=["omni_read_write"])["key"]
    assert api.post("/console/v1/gates", {"name": "ok_gate"}, key=writer).status_code in (200, 201)
    response = api.get(KEYS, key=writer)
    assert response.status_code == 403
    assert "can_access_keys" in response.json()["message"]


def test_personal_read_write_key__acts_with_its_holders_role(api, world):
    # Given a member's personal key (made by the member's admin, held by the member)
    from console.actors import Actor
    from console.services.api_keys import api_key_create

    member = world.users[Role.MEMBER]
    _key, secret = api_key_create(
        project=world.project,
        actor=Actor.for_user(world.users[Role.ADMIN], Role.ADMIN),
        kind="console",
        scopes=["personal_read_write", "can_access_keys"],
    )
    ApiKey.objects.filter(pk=_key.pk).update(created_by=member)
    # Then it edits gates (members may) but not keys (admins only)
    assert api.post("/console/v1/gates", {"name": "m_gate"}, key=secret).status_code in (200, 201)
    assert api.post(KEYS, {"description": "x", "type": "SERVER"}, key=secret).status_code == 403


def test_keys_by_key_string__get_patch_rotate_deactivate_delete(api, world):
    console = world.keys["console"]
    created = _create_key(api, world, type="SERVER", environments=["production"])
    secret = created["key"]

    # GET by the key itself, in full
    read = api.get(f"{KEYS}/{secret}", key=console)
    assert read.status_code == 200
    assert read.json()["data"]["key"] == secret
    assert read.json()["data"]["id"] == created["id"]

    # PATCH what Statsig lets change; an unknown field is named
    patched = api.patch(f"{KEYS}/{secret}", {"description": "renamed"}, key=console)
    assert patched.status_code == 200
    assert patched.json()["data"]["description"] == "renamed"
    unknown = api.patch(f"{KEYS}/{secret}", {"type": "CLIENT"}, key=console)
    assert unknown.status_code == 400
    assert "type" in unknown.json()["message"]

    # Rotate by key: the old one stops, the new one is returned in full
    rotated = api.patch(f"{KEYS}/{secret}/rotate", {}, key=console)
    assert rotated.status_code == 200
    new_secret = rotated.json()["data"]["key"]
    assert new_secret.startswith("secret-")
    assert new_secret != secret
    assert api.get(f"{KEYS}/{secret}", key=console).json()["data"]["status"] == "deactivated"

    # Deactivate by key
    deactivated = api.patch(f"{KEYS}/{new_secret}/deactivate", {}, key=console)
    assert deactivated.json()["data"]["status"] == "deactivated"

    # DELETE by key: gone
    assert api.delete(f"{KEYS}/{new_secret}", key=console).status_code == 200
    assert api.get(f"{KEYS}/{new_secret}", key=console).status_code == 404


def test_list_keys__full_keys_for_a_key_with_can_access_keys(api, world):
    listed = api.get(KEYS, key=world.keys["console"]).json()["data"]
    assert sorted(k["key"] for k in listed) == sorted(world.keys.values())


def test_deleted_key__refused_at_once(api, world):
    server = world.keys["server"]
    body = {"gateName": "g", "user": {"userID": "u"}}
    assert api.post("/v1/check_gate", body, key=server).status_code == 200
    assert api.delete(f"{KEYS}/{server}", key=world.keys["console"]).status_code == 200
    assert api.post("/v1/check_gate", body, key=server).status_code == 401


# -- approvals -----------------------------------------------------------------------------


def _filed_review(api, world, key: str) -> str:
    console = world.keys["console"]
    assert (
        api.post(
            "/console/v1/settings/reviews", {"is_config_review_required": True}, key=console
        ).status_code
        == 200
    )
    api.post("/console/v1/gates", {"name": "a_gate"}, key=console)
    response = api.post("/console/v1/gates/a_gate/rule", RULE, key=key, headers=RESPECT_REVIEWS)
    assert response.status_code == 202, response.json()
    return response.json()["data"]["review_id"]


def _approve(api, key: str, review_id: str):
    return api.put(f"/console/v1/gates/a_gate/reviews/{review_id}/approve", {}, key=key)


def test_console_key_holder__second_key__cannot_self_approve(api, world):
    # Given a change filed with the holder's console key
    review_id = _filed_review(api, world, world.keys["console"])
    # When the holder makes a second key and approves with it
    second = _create_key(api, world)["key"]
    response = _approve(api, second, review_id)
    # Then it is refused, and so is the holder in person
    assert response.status_code == 403
    assert "approve your own review" in response.json()["message"]
    from console.actors import Actor
    from console.errors import PermissionDenied
    from console.services.reviews import review_approve

    with pytest.raises(PermissionDenied):
        review_approve(
            project=world.project,
            actor=Actor.for_user(world.users[Role.ADMIN], Role.ADMIN),
            review_id=review_id,
        )


def test_change_filed_with_a_key__approved_by_a_key_of_another_holder(api, world):
    review_id = _filed_review(api, world, world.keys["console"])
    response = _approve(api, console_key_of_another_holder(world), review_id)
    assert response.status_code == 200
    assert response.json()["data"]["status"] == "accepted"


def test_change_filed_with_a_key__approved_by_another_person(api, world):
    from console.actors import Actor
    from console.services.reviews import review_approve

    review_id = _filed_review(api, world, world.keys["console"])
    review = review_approve(
        project=world.project,
        actor=Actor.for_user(world.users[Role.MEMBER], Role.MEMBER),
        review_id=review_id,
    )
    assert review.status == ReviewStatus.APPROVED


def test_revoked_reviewer_key__cannot_approve_even_when_cached(api, world):
    review_id = _filed_review(api, world, world.keys["console"])
    reviewer = console_key_of_another_holder(world)
    assert api.get("/console/v1/gates", key=reviewer).status_code == 200
    ApiKey.objects.filter(description="", created_by__username__endswith="second-admin").update(
        is_active=False
    )
    assert _approve(api, reviewer, review_id).status_code == 401
