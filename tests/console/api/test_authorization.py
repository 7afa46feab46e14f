"""The authorization matrix: every console endpoint (discovered from the URL configuration) ×
{no key, bad key, deactivated key, server key, client key} answers 401 with Statsig's message and
no data; a console key of another project never reads or changes this project's entities."""

from __future__ import annotations

import json

import pytest

from console.api.reviews import ReviewListView
from console.models import AuditLog, Role
from console.services.api_keys import api_key_create, api_key_deactivate
from tests.console.api.endpoints import console_endpoints, path_values, sample_body, seed_entities

INVALID_KEY_MESSAGE = (
    "This endpoint only accepts an active CONSOLE key, but an invalid key was sent."
)


def test_discovery__finds_every_flags_and_foundation_endpoint():
    routes = {str(e) for e in console_endpoints()}
    for expected in (
        "GET /console/v1/gates",
        "PUT /console/v1/gates/<str:gate_id>/launch",
        "PATCH /console/v1/dynamic_configs/<str:config_id>/rule/<str:rule_id>",
        "PUT /console/v1/experiments/<str:experiment_id>/make_decision",
        "GET /console/v1/layers/<str:layer_id>/experiments",
        "DELETE /console/v1/holdouts/<str:holdout_id>",
        "PUT /console/v1/gates/<str:entity_id>/reviews/<str:review_id>/commit",
        "GET /console/v1/settings/reviews",
        "PATCH /console/v1/keys/<str:key_id>/rotate",
        "GET /console/v1/environments",
        "GET /console/v1/audit_logs",
        "POST /console/v1/experiments/<str:entity_id>/reviews",
        "DELETE /console/v1/layers/<str:layer_id>/overrides",
        "PATCH /console/v1/tags/<str:tag_id>",
        "GET /console/v1/gates/<str:gate_id>/versions",
    ):
        assert expected in routes


def _bad_keys(world) -> dict[str, str | None]:
    admin = world.actor(Role.ADMIN)
    _key, deactivated = api_key_create(project=world.project, actor=admin, kind="console")
    api_key_deactivate(project=world.project, actor=admin, key_ref=_key.public_id)
    return {
        "no key": None,
        "bad key": "console-not-a-real-key",
        "deactivated key": deactivated,
        "server key": world.keys["server"],
        "client key": world.keys["client"],
    }


@pytest.mark.parametrize(
    "kind", ["no key", "bad key", "deactivated key", "server key", "client key"]
)
def test_every_endpoint__without_an_active_console_key__401_and_nothing_changes(api, world, kind):
    values = seed_entities(world)
    secret = _bad_keys(world)[kind]
    audit_before = AuditLog.objects.count()
    for endpoint in console_endpoints():
        # Given a request that would succeed with the right key
        path = endpoint.path(path_values(endpoint, values))
        body = sample_body(endpoint, values)
        # When it carries no key or a key that is not an active console key
        response = api.request(endpoint.method.upper(), path, body, key=secret)
        # Then 401 with Statsig's message, the secret masked, no data
        assert response.status_code == 401, (str(endpoint), response.content)
        payload = response.json()
        assert set(payload) == {"status", "message"}, str(endpoint)
        assert payload["status"] == 401
        assert payload["message"].startswith(INVALID_KEY_MESSAGE)
        if secret:
            assert secret not in payload["message"]
    assert AuditLog.objects.count() == audit_before


def test_every_endpoint__console_key_of_another_project__never_sees_or_changes_this_project(
    api, world, other_world, settings
):
    # One sweep sends more writes than a project's rate-limit window allows; the limit has its
    # own tests.
    settings.CONSOLE_API_MUTATIONS_PER_WINDOW = 10_000
    values = seed_entities(world)
    secret_names = [
        value
        for key, value in values.items()
        if key not in ("rule_id", "config_rule_id", "review_id", "key_id", "tag_id")
    ]
    other_key = other_world.keys["console"]
    audit_before = AuditLog.objects.filter(project=world.project).count()
    for endpoint in console_endpoints():
        path = endpoint.path(path_values(endpoint, values))
        body = sample_body(endpoint, values)
        response = api.request(endpoint.method.upper(), path, body, key=other_key)
        text = response.content.decode()
        if endpoint.view_class is ReviewListView:
            # The shared review list (segments) answers an unknown entity with an empty page
            # whose links echo the path; it still shows nothing of this project.
            assert response.status_code == 200, (str(endpoint), text)
            assert response.json()["data"] == []
            continue
        # No name of this project's entities and no review of it in any answer
        for name in [*secret_names, values["review_id"]]:
            assert name not in text, (str(endpoint), text)
        if endpoint.params:
            # An id of this project is unknown to the other project's key
            assert response.status_code == 404, (str(endpoint), response.status_code, text)
            assert response.json()["status"] == 404
        else:
            assert response.status_code < 500, (str(endpoint), text)
    assert AuditLog.objects.filter(project=world.project).count() == audit_before


def test_list_endpoints__other_projects_key__lists_only_its_own_entities(api, world, other_world):
    seed_entities(world)
    seed_entities(other_world, prefix="globex")
    for resource in ("gates", "dynamic_configs", "experiments", "layers", "holdouts"):
        response = api.get(f"/console/v1/{resource}", key=other_world.keys["console"])
        assert response.status_code == 200
        ids = [item["id"] for item in response.json()["data"]]
        assert ids, resource
        assert all(i.startswith("globex_") for i in ids), (resource, ids)
        assert "acme" not in json.dumps(response.json())


def test_console_key__acts_as_console_api(capi, world):
    # Statsig shows console-key changes as made by "CONSOLE API".
    response = capi.post("gates", {"name": "Made by key"})
    assert response.status_code == 201
    assert response.json()["data"]["creatorName"] == "CONSOLE API"
