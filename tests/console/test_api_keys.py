"""API keys through the console API and the services: shown once, stored hashed, deactivated and
rotated without a restart."""

import hashlib

import pytest

from console.errors import PermissionDenied
from console.models import ApiKey, AuditLog, Role
from console.services.api_keys import api_key_create


def test_create_key__console_api__full_key_read_back_never_stored_in_plain(api, world):
    key = world.keys["console"]
    response = api.post(
        "/console/v1/keys",
        {"description": "ci", "type": "SERVER", "environments": ["production"]},
        key=key,
    )
    assert response.status_code == 200
    data = response.json()["data"]
    assert response.json()["message"] == "Key created successfully."
    assert data["key"].startswith("secret-")
    assert data["type"] == "SERVER"
    assert data["environments"] == ["production"]
    assert data["status"] == "active"
    stored = ApiKey.objects.get(public_id=data["id"])
    assert stored.secret_hash == hashlib.sha256(data["key"].encode()).hexdigest()
    assert data["key"] not in str(ApiKey.objects.filter(pk=stored.pk).values().first())
    # Read back in full (Statsig's answer to a key with can_access_keys), by id or by the key
    for ref in (data["id"], data["key"]):
        read = api.get(f"/console/v1/keys/{ref}", key=key).json()["data"]
        assert read["key"] == data["key"]


def test_create_key__unknown_environment__400_names_index(api, world):
    response = api.post(
        "/console/v1/keys",
        {"description": "x", "type": "CLIENT", "environments": ["moon"]},
        key=world.keys["console"],
    )
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"property": "environments[0]", "message": "Unknown environment 'moon'."}
    ]
    assert not AuditLog.objects.filter(
        project=world.project, changes__description__new="x"
    ).exists()


def test_deactivate_key__console_api__key_refused_at_once(api, world):
    console = world.keys["console"]
    created = api.post("/console/v1/keys", {"description": "tmp", "type": "CONSOLE"}, key=console)
    new_secret = created.json()["data"]["key"]
    key_id = created.json()["data"]["id"]
    assert api.get("/console/v1/environments", key=new_secret).status_code == 200
    response = api.patch(f"/console/v1/keys/{key_id}/deactivate", key=console)
    assert response.status_code == 200
    assert response.json()["data"]["status"] == "deactivated"
    assert api.get("/console/v1/environments", key=new_secret).status_code == 401


def test_rotate_key__console_api__old_refused_new_works(api, world):
    console = world.keys["console"]
    created = api.post("/console/v1/keys", {"description": "rot", "type": "CONSOLE"}, key=console)
    old_secret, key_id = created.json()["data"]["key"], created.json()["data"]["id"]
    api.get("/console/v1/environments", key=old_secret)
    rotated = api.patch(f"/console/v1/keys/{key_id}/rotate", key=console)
    assert rotated.status_code == 200
    assert rotated.json()["message"] == "Key rotated successfully."
    new_secret = rotated.json()["data"]["key"]
    assert new_secret.startswith("console-")
    assert new_secret != old_secret
    assert api.get("/console/v1/environments", key=old_secret).status_code == 401
    assert api.get("/console/v1/environments", key=new_secret).status_code == 200


def test_key_of_other_project__console_api__404(api, world, other_world):
    other_key = ApiKey.objects.filter(project=other_world.project).first()
    response = api.patch(
        f"/console/v1/keys/{other_key.public_id}/deactivate", key=world.keys["console"]
    )
    assert response.status_code == 404
    assert response.json() == {"status": 404, "message": "Key not found."}
    other_key.refresh_from_db()
    assert other_key.is_active


@pytest.mark.parametrize("role", [Role.MEMBER, Role.VIEWER])
def test_api_key_create__non_admin__refused(world, role):
    with pytest.raises(PermissionDenied):
        api_key_create(project=world.project, actor=world.actor(role), kind="server")


def test_last_used_at__flush__written_without_request_path_writes(
    api, world, django_assert_num_queries
):
    from console.services.usage import api_key_usage_flush

    key = world.keys["console"]
    api.get("/console/v1/environments", key=key)
    assert api_key_usage_flush() == 1
    stored = ApiKey.objects.get(project=world.project, kind="console")
    assert stored.last_used_at is not None
