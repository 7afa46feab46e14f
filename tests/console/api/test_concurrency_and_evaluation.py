"""Changes through the console API reach ``/v1/check_gate`` at once, and concurrent edits of one
gate do not lose updates (row lock) while a stale full update is refused (version check)."""

from __future__ import annotations

import json
import threading

import pytest
from django.db import connection
from django.test import Client

from flags.models import Gate

RULE = {
    "name": "Employees",
    "passPercentage": 100,
    "conditions": [
        {"type": "email", "operator": "str_contains_any", "targetValue": ["@example.com"]}
    ],
}


def check_gate(api, world, email: str, gate: str = "a_gate") -> bool:
    response = api.post(
        "/v1/check_gate",
        {"user": {"userID": email, "email": email}, "gateName": gate},
        key=world.keys["server"],
    )
    assert response.status_code == 200, response.content
    return response.json()["value"]


def test_change__visible_at_check_gate_right_after_the_call(api, world, capi):
    assert capi.post("gates", {"name": "a_gate", "rules": [RULE]}).status_code == 201
    assert check_gate(api, world, "ann@example.com") is True
    assert check_gate(api, world, "bob@other.org") is False

    assert capi.put("gates/a_gate/disable").status_code == 200
    assert check_gate(api, world, "ann@example.com") is False

    assert capi.put("gates/a_gate/enable").status_code == 200
    assert (
        capi.patch(
            "gates/a_gate/overrides", {"passingUserIDs": ["bob@other.org"], "failingUserIDs": []}
        ).status_code
        == 201
    )
    assert check_gate(api, world, "bob@other.org") is True

    assert capi.put("gates/a_gate/launch").status_code == 200
    assert check_gate(api, world, "carl@other.org") is True


def test_change_filed_for_review__not_visible_until_committed(api, world, capi):
    capi.post("settings/reviews", {"is_config_review_required": True})
    capi.post("gates", {"name": "a_gate", "rules": [RULE]})
    response = capi.put("gates/a_gate/disable", reviews=True)
    assert response.status_code == 202
    assert check_gate(api, world, "ann@example.com") is True


@pytest.mark.django_db(transaction=True)
def test_two_patches_at_once__serialize_and_both_apply(world):
    key = world.keys["console"]
    setup = Client().post(
        "/console/v1/gates",
        data=json.dumps({"name": "a_gate"}),
        content_type="application/json",
        headers={"STATSIG-API-KEY": key},
    )
    assert setup.status_code == 201
    barrier = threading.Barrier(2)
    results: dict[str, int] = {}

    def patch(field: str, value):
        try:
            barrier.wait(timeout=10)
            response = Client().patch(
                "/console/v1/gates/a_gate",
                data=json.dumps({field: value}),
                content_type="application/json",
                headers={"STATSIG-API-KEY": key},
            )
            results[field] = response.status_code
        finally:
            connection.close()

    threads = [
        threading.Thread(target=patch, args=("description", "from thread one")),
        threading.Thread(target=patch, args=("tags", ["from-thread-two"])),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert results == {"description": 200, "tags": 200}
    gate = Gate.objects.get(project=world.project, slug="a_gate")
    assert gate.description == "from thread one"
    assert gate.tags == ["from-thread-two"]
    assert gate.version == 3


def test_stale_patch_with_version__409(capi):
    capi.post("gates", {"name": "a_gate"})
    assert capi.patch("gates/a_gate", {"description": "one", "version": 1}).status_code == 200
    stale = capi.patch("gates/a_gate", {"description": "two", "version": 1})
    assert stale.status_code == 409
    assert stale.json()["status"] == 409
    assert Gate.objects.get(slug="a_gate").description == "one"
