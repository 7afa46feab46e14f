""" "Restore this version" brings back the settings kept as sent (team, templates, analysis
options) of gates, dynamic configs and experiments: set and read back through the console API,
restored on the versions page. A setting sent after the version reads again as it did then."""

from __future__ import annotations

import pytest

from console.models import Role

KINDS = [
    # (API resource, versions area, the flag setting)
    ("gates", "gates", "isTemplate"),
    ("dynamic_configs", "configs", "isTemplate"),
    ("experiments", "experiments", "sequentialTesting"),
]


@pytest.mark.parametrize(("resource", "area", "flag"), KINDS)
def test_restore__settings_changed_since__as_they_read_then(
    capi, browser_client, world, resource, area, flag
):
    # Given an entity made with a team, then given another team and a flag setting
    created = capi.post(resource, {"name": "checkout", "team": "core"})
    assert created.status_code == 201, created.json()
    changed = capi.patch(f"{resource}/checkout", {"team": "growth", flag: True})
    assert changed.status_code == 200, changed.json()
    assert (changed.json()["data"]["team"], changed.json()["data"][flag]) == ("growth", True)
    # When a member restores version 1 on the versions page
    member = browser_client(world.users[Role.MEMBER])
    page = f"/p/{world.project.slug}/{area}/checkout/versions/"
    assert member.get(page).content.decode().count("Restore this version") == 1
    member.post(f"{page}1/restore/")
    # Then the team is back, the flag reads as it did before it was sent, as version 3
    data = capi.get(f"{resource}/checkout").json()["data"]
    assert (data["team"], data[flag], data["version"]) == ("core", False, 3)


def test_restore__only_settings_changed__team_back(capi, browser_client, world):
    # Given a gate whose only change was its team
    assert capi.post("gates", {"name": "checkout", "team": "core"}).status_code == 201
    assert capi.patch("gates/checkout", {"team": "growth"}).status_code == 200
    member = browser_client(world.users[Role.MEMBER])
    # When version 1 is restored
    response = member.post(
        f"/p/{world.project.slug}/gates/checkout/versions/1/restore/", follow=True
    )
    # Then it says so and the gate has its first team again
    assert "Version 1 restored." in response.content.decode()
    assert capi.get("gates/checkout").json()["data"]["team"] == "core"
