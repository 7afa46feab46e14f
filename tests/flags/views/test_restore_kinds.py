""" "Restore this version" of every kind brings back everything a person edited: each kind is set
up and changed in every restorable field through the console API, restored on its versions page,
and read back over the API as it was at that version."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from console.models import Role
from segments import services as segment_services

EMAIL_RULE = {
    "name": "Employees",
    "passPercentage": 100,
    "conditions": [
        {"type": "email", "operator": "str_contains_any", "targetValue": ["@example.com"]}
    ],
}
PARAMETERS = [
    {"name": "color", "type": "string", "defaultValue": "blue"},
    {"name": "size", "type": "number", "defaultValue": 3},
]


def _ok(response) -> None:
    assert response.status_code in (200, 201), response.json()


def _gate(capi) -> tuple[str, str, list[str], list[str]]:
    _ok(capi.post("gates", {"name": "checkout", "description": "one", "rules": [EMAIL_RULE]}))
    _ok(capi.patch("gates/checkout", {"team": "core", "type": "TEMPORARY"}))
    _ok(capi.post("gates/checkout/overrides", {"passingUserIDs": ["u1"]}))
    return (
        "gates",
        "checkout",
        ["description", "rules", "type", "idType", "team", "isTemplate"],
        ["gates/checkout/overrides"],
    )


def _gate_changed(capi) -> None:
    _ok(
        capi.patch(
            "gates/checkout",
            {
                "description": "two",
                "rules": [],
                "type": "PERMANENT",
                "idType": "stableID",
                "team": "growth",
                "isTemplate": True,
            },
        )
    )
    _ok(capi.post("gates/checkout/overrides", {"passingUserIDs": [], "failingUserIDs": ["u2"]}))


def _config(capi) -> tuple[str, str, list[str], list[str]]:
    rule = {**EMAIL_RULE, "returnValue": {"color": "green"}}
    body = {"name": "banner", "defaultValue": {"color": "red"}, "rules": [rule]}
    _ok(capi.post("dynamic_configs", body))
    return "dynamic_configs", "banner", ["defaultValue", "rules", "description", "idType"], []


def _config_changed(capi) -> None:
    body = {
        "defaultValue": {"color": "blue"},
        "rules": [],
        "description": "x",
        "idType": "stableID",
    }
    _ok(capi.patch("dynamic_configs/banner", body))


def _layer(capi) -> tuple[str, str, list[str], list[str]]:
    body = {"name": "home", "idType": "userID", "parameters": PARAMETERS, "description": "a"}
    _ok(capi.post("layers", body))
    return "layers", "home", ["parameters", "description", "idType"], []


def _layer_changed(capi) -> None:
    body = {"parameters": PARAMETERS[:1], "description": "b", "idType": "stableID"}
    _ok(capi.patch("layers/home", body))


def _segment(capi) -> tuple[str, str, list[str], list[str]]:
    body = {
        "name": "staff",
        "type": "rule_based",
        "rules": [EMAIL_RULE],
        "description": "a",
        "team": "core",
    }
    _ok(capi.post("segments", body))
    return "segments", "staff", ["rules", "description", "team", "isEnabled"], []


def _segment_changed(capi) -> None:
    _ok(capi.post("segments/staff/conditional", []))
    # The console API has no metadata edit of segments (Statsig's neither): the browser's.
    segment_services.segment_update(
        project=capi.world.project,
        actor=capi.world.actor(Role.MEMBER),
        segment_id="staff",
        description="b",
        team="growth",
        isEnabled=False,
    )


KINDS: list[tuple[Callable[[Any], tuple[str, str, list[str], list[str]]], Callable, str]] = [
    (_gate, _gate_changed, "gates"),
    (_config, _config_changed, "configs"),
    (_layer, _layer_changed, "layers"),
    (_segment, _segment_changed, "segments"),
]


@pytest.mark.parametrize(("make", "change", "area"), KINDS)
def test_restore__every_field_changed__read_back_as_at_that_version(
    capi, browser_client, world, make, change, area
):
    # Given an entity as it was at some version, read over the API
    resource, entity_id, keys, extra_paths = make(capi)
    then = capi.get(f"{resource}/{entity_id}").json()["data"]
    extras_then = [capi.get(path).json()["data"] for path in extra_paths]
    # and changed in each of those fields since
    change(capi)
    changed = capi.get(f"{resource}/{entity_id}").json()["data"]
    assert all(changed[key] != then[key] for key in keys), "every field changes"
    # When a member restores that version on the versions page
    member = browser_client(world.users[Role.MEMBER])
    response = member.post(
        f"/p/{world.project.slug}/{area}/{entity_id}/versions/{then['version']}/restore/",
        follow=True,
    )
    # Then the API reads each field as it was then, as a new version
    assert f"Version {then['version']} restored." in response.content.decode()
    now = capi.get(f"{resource}/{entity_id}").json()["data"]
    assert {key: now[key] for key in keys} == {key: then[key] for key in keys}
    assert [capi.get(path).json()["data"] for path in extra_paths] == extras_then
    assert now["version"] == changed["version"] + 1
