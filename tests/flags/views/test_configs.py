"""Dynamic config screens: JSON default and return values validated by the service and shown next
to their field, writes through the service with their audit entry, roles and "Test a user"."""

from __future__ import annotations

import json

import pytest

from console.models import AuditLog, Role
from flags.models import ConfigStatus, DynamicConfig
from flags.services import configs as config_services
from ruleset import store as ruleset_store
from tests.conftest import ROLES

EUROPE = {
    "name": "Europe",
    "passPercentage": 100,
    "conditions": [{"type": "country", "operator": "any", "targetValue": ["NL", "DE"]}],
    "returnValue": {"text": "Hallo"},
}


def _url(world, tail: str = "") -> str:
    return f"/p/{world.project.slug}/configs/{tail}"


def _config(world, **kwargs) -> DynamicConfig:
    kwargs.setdefault("name", "Pricing banner")
    kwargs.setdefault("default_value", {"text": "Hello"})
    return config_services.dynamic_config_create(
        project=world.project, actor=world.actor(Role.ADMIN), **kwargs
    )


def _form(config: DynamicConfig, **changes) -> dict[str, str]:
    data = {
        "name": config.name,
        "description": config.description,
        "tags": ", ".join(config.tags),
        "defaultValue": json.dumps(config.default_value),
        "schema": json.dumps(config.schema) if config.schema else "",
        "rules": json.dumps([{k: v for k, v in r.items() if k != "salt"} for r in config.rules]),
        "version": str(config.version),
    }
    data.update(changes)
    return data


@pytest.mark.parametrize("role", ROLES)
def test_config_screens__each_role__render(world, as_role, role):
    config = _config(world, rules=[EUROPE])
    client = as_role(role)
    listing = client.get(_url(world))
    detail = client.get(_url(world, f"{config.slug}/"))
    assert (listing.status_code, detail.status_code) == (200, 200)
    assert ("Save changes" in detail.content.decode()) == (role != Role.VIEWER)
    assert client.get(_url(world, "new/")).status_code == (403 if role == Role.VIEWER else 200)


def test_config_create__values_through_the_service_with_audit(world, as_role):
    response = as_role(Role.MEMBER).post(
        _url(world, "new/"),
        {
            "name": "Pricing banner",
            "idType": "userID",
            "defaultValue": '{"text": "Hello", "discount": 0}',
            "schema": "",
            "rules": json.dumps([EUROPE]),
        },
    )
    assert response.status_code == 302
    config = DynamicConfig.objects.get(project=world.project, slug="pricing_banner")
    assert config.default_value == {"text": "Hello", "discount": 0}
    assert config.rules[0]["returnValue"] == {"text": "Hallo"}
    assert AuditLog.objects.filter(
        project=world.project, entity_id=config.slug, action_type="config_create"
    ).exists()


def test_config_create__default_not_an_object__error_next_to_the_field(world, as_role):
    response = as_role(Role.MEMBER).post(
        _url(world, "new/"),
        {"name": "Bad default", "idType": "userID", "defaultValue": "[1, 2]", "rules": "[]"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="id_defaultValue_error"' in page
    assert "Must be a JSON object" in page


def test_config_edit__value_breaks_the_schema__errors_named_by_the_service(world, as_role):
    # Given a config whose schema requires a string "text"
    config = _config(
        world,
        schema={"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}},
    )
    # When a rule returns a number for "text"
    bad_rule = {**EUROPE, "returnValue": {"text": 3}}
    response = as_role(Role.MEMBER).post(
        _url(world, f"{config.slug}/"), _form(config, rules=json.dumps([bad_rule]))
    )
    # Then the service's error is shown at the rules field, and nothing changed
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="id_rules_error"' in page
    assert "rules[0].returnValue" in page
    config.refresh_from_db()
    assert config.rules == []


def test_config_edit__default_value_changed__saved_with_audit(world, as_role):
    config = _config(world)
    response = as_role(Role.MEMBER).post(
        _url(world, f"{config.slug}/"), _form(config, defaultValue='{"text": "Welcome"}')
    )
    assert response.status_code == 302
    config.refresh_from_db()
    assert config.default_value == {"text": "Welcome"}
    assert AuditLog.objects.filter(
        project=world.project, entity_id=config.slug, action_type="config_update"
    ).exists()


def test_config_disable_archive_delete(world, as_role):
    config = _config(world)
    client = as_role(Role.MEMBER)
    client.post(_url(world, f"{config.slug}/disable/"))
    config.refresh_from_db()
    assert config.status == ConfigStatus.DISABLED
    client.post(_url(world, f"{config.slug}/archive/"))
    config.refresh_from_db()
    assert config.status == ConfigStatus.ARCHIVED
    assert as_role(Role.VIEWER).post(_url(world, f"{config.slug}/delete/")).status_code == 403
    assert client.post(_url(world, f"{config.slug}/delete/")).status_code == 302
    assert not DynamicConfig.objects.filter(pk=config.pk).exists()


def test_config_test_user__returns_the_rule_value(world, as_role):
    config = _config(world, rules=[EUROPE])
    ruleset_store.rebuild(world.project.pk)
    response = as_role(Role.VIEWER).post(
        _url(world, f"{config.slug}/test/"),
        {"test-userID": "7", "test-country": "NL"},
        headers={"HX-Request": "true"},
    )
    page = response.content.decode()
    assert "Hallo" in page
    assert "Rule 1 matched: “Europe”." in page


def test_config_test_user__rule_matched_outside_rollout__default_value_explained(world, as_role):
    config = _config(world, rules=[{**EUROPE, "passPercentage": 0}])
    ruleset_store.rebuild(world.project.pk)
    response = as_role(Role.VIEWER).post(
        _url(world, f"{config.slug}/test/"),
        {"test-userID": "7", "test-country": "NL"},
        headers={"HX-Request": "true"},
    )
    page = response.content.decode()
    assert "Hallo" not in page
    assert "outside its 0% rollout, so they get the default value." in page


def test_config_list__queries_do_not_grow_with_configs(
    world, as_role, django_assert_max_num_queries
):
    from tests.flags.views.test_gates import _list_queries

    actor = world.actor(Role.ADMIN)
    for i in range(3):
        config_services.dynamic_config_create(project=world.project, actor=actor, name=f"C {i:03}")
    client = as_role(Role.VIEWER)
    few = _list_queries(client, _url(world))
    for i in range(3, 60):
        config_services.dynamic_config_create(project=world.project, actor=actor, name=f"C {i:03}")
    with django_assert_max_num_queries(few):
        assert client.get(_url(world) + "?page=2").status_code == 200
