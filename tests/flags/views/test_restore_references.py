""" "Restore this version" brings back what a version refers to: an experiment's layer, targeting
gate and analysis settings, a holdout's held-out gates, experiments and layers. Entities are set
up and read back through the console API, restored through the versions page, as a person would;
a reference deleted since the version is refused naming it, and nothing changes."""

from __future__ import annotations

import pytest

from console.models import AuditLog, Review, Role
from console.services.reviews import review_forced
from tests.conftest import ConsoleClient, console_key_of_another_holder


@pytest.fixture
def member(browser_client, world):
    return browser_client(world.users[Role.MEMBER])


def _restore(world, client, area: str, entity_id: str, version: int):
    return client.post(
        f"/p/{world.project.slug}/{area}/{entity_id}/versions/{version}/restore/", follow=True
    )


def _created(response) -> dict:
    assert response.status_code in (200, 201), response.json()
    return response.json()["data"]


# -- experiments ------------------------------------------------------------------------------


@pytest.fixture
def placed_experiment(capi):
    """An experiment in layer ``home`` behind gate ``beta`` with analysis settings (version 1),
    then taken out of both with other settings (version 2)."""
    _created(capi.post("layers", {"name": "home", "idType": "userID"}))
    _created(capi.post("gates", {"name": "beta"}))
    _created(
        capi.post(
            "experiments",
            {
                "name": "pricing",
                "layerID": "home",
                "targetingGateID": "beta",
                "primaryMetrics": [{"name": "purchase", "type": "event_count"}],
                "defaultConfidenceInterval": 90,
            },
        )
    )
    moved = capi.patch(
        "experiments/pricing",
        {
            "layerID": None,
            "targetingGateID": None,
            "primaryMetrics": [],
            "bonferroniCorrection": True,
            "defaultConfidenceInterval": 99,
        },
    )
    assert moved.status_code == 200, moved.json()
    assert (moved.json()["data"]["layerID"], moved.json()["data"]["version"]) == (None, 2)
    return capi


def test_restore_experiment__placed_version__layer_gate_and_analysis_back(
    placed_experiment, member, world
):
    capi = placed_experiment
    # When a member restores version 1 on the versions page
    response = _restore(world, member, "experiments", "pricing", 1)
    # Then it is in its layer again, behind its gate, with its analysis settings, as version 3
    assert "Version 1 restored." in response.content.decode()
    experiment = capi.get("experiments/pricing").json()["data"]
    assert {
        key: experiment[key]
        for key in (
            "layerID",
            "targetingGateID",
            "primaryMetrics",
            "bonferroniCorrection",
            "defaultConfidenceInterval",
            "version",
        )
    } == {
        "layerID": "home",
        "targetingGateID": "beta",
        "primaryMetrics": [{"name": "purchase", "type": "event_count"}],
        "bonferroniCorrection": False,
        "defaultConfidenceInterval": "90",
        "version": 3,
    }
    lineage = capi.get("layers/home/experiments").json()["data"]
    assert [item["id"] for item in lineage] == ["pricing"]
    # And the audit log says what the restore changed
    entry = AuditLog.objects.filter(entity_id="pricing").latest("id")
    assert (entry.action_type, entry.actor_name) == ("experiment_restore", "acme-member")
    assert entry.changes["layerID"] == {"old": None, "new": "home"}


@pytest.mark.parametrize(
    ("deleted", "message"),
    [
        ("layers/home", "Unknown layer &#x27;home&#x27;."),
        ("gates/beta", "Unknown gate &#x27;beta&#x27;."),
    ],
)
def test_restore_experiment__reference_deleted_since__refused_naming_it_nothing_changed(
    placed_experiment, member, world, deleted, message
):
    capi = placed_experiment
    # Given the layer or gate of version 1 was deleted since
    assert capi.delete(deleted).status_code == 200
    # When a member restores version 1
    response = _restore(world, member, "experiments", "pricing", 1)
    # Then they are told which one is gone, on the versions page, and the experiment is as it was
    assert response.redirect_chain[-1][0].endswith("/experiments/pricing/versions/")
    assert message in response.content.decode()
    experiment = capi.get("experiments/pricing").json()["data"]
    assert (experiment["layerID"], experiment["targetingGateID"], experiment["version"]) == (
        None,
        "",
        2,
    )
    assert experiment["primaryMetrics"] == []


def test_restore_experiment__running__gate_restore_reviewed_then_applied(
    placed_experiment, member, world, api
):
    capi = placed_experiment
    # Given the running experiment's targeting gate was changed after version 2
    _created(capi.post("gates", {"name": "staff"}))
    assert capi.put("experiments/pricing/start").status_code == 200
    assert capi.patch("experiments/pricing", {"targetingGateID": "staff"}).status_code == 200
    version = capi.get("experiments/pricing").json()["data"]["version"]
    # When a member restores the version before, with reviews on
    with review_forced():
        _restore(world, member, "experiments", "pricing", version - 1)
    # Then a review holds the restore and the gate is unchanged until it is committed
    review = Review.objects.get(entity_id="pricing", status="pending")
    assert review.change_type == "experiment_restore"
    assert review.change["fields"] == {"targeting_gate_id": None}
    assert capi.get("experiments/pricing").json()["data"]["targetingGateID"] == "staff"
    reviewer = ConsoleClient(api, world)
    reviewer.key = console_key_of_another_holder(world)
    path = f"experiments/pricing/reviews/{review.public_id}"
    assert reviewer.put(f"{path}/approve", {}).status_code == 200
    assert reviewer.put(f"{path}/commit").status_code == 200
    assert capi.get("experiments/pricing").json()["data"]["targetingGateID"] == ""


# -- holdouts ---------------------------------------------------------------------------------


@pytest.fixture
def holding_holdout(capi):
    """A global holdout of gate ``gate_one``, experiment ``exp_one`` and layer ``layer_one`` (version 1), then of
    gate ``gate_two`` only (version 2)."""
    for path, name in (
        ("gates", "gate_one"),
        ("gates", "gate_two"),
        ("experiments", "exp_one"),
        ("layers", "layer_one"),
    ):
        _created(capi.post(path, {"name": name, "idType": "userID"}))
    _created(
        capi.post(
            "holdouts",
            {
                "name": "holdback",
                "passPercentage": 2,
                "isGlobal": True,
                "gateIDs": ["gate_one"],
                "experimentIDs": ["exp_one"],
                "layerIDs": ["layer_one"],
            },
        )
    )
    changed = capi.patch(
        "holdouts/holdback",
        {"gateIDs": ["gate_two"], "experimentIDs": [], "layerIDs": [], "isGlobal": False},
    )
    assert changed.status_code == 200, changed.json()
    return capi


def _held(capi) -> dict:
    holdout = capi.get("holdouts/holdback").json()["data"]
    return {
        key: holdout[key]
        for key in ("gateIDs", "experimentIDs", "layerIDs", "isGlobal", "passPercentage", "version")
    }


def test_restore_holdout__first_version__held_out_links_back(holding_holdout, member, world):
    capi = holding_holdout
    # The versions page offers version 1, showing what it held out
    page = member.get(f"/p/{world.project.slug}/holdouts/holdback/versions/").content.decode()
    assert page.count("Restore this version") == 1
    # When a member restores it
    response = _restore(world, member, "holdouts", "holdback", 1)
    # Then the holdout holds out its gate, experiment and layer again, as version 3
    assert "Version 1 restored." in response.content.decode()
    assert _held(capi) == {
        "gateIDs": ["gate_one"],
        "experimentIDs": ["exp_one"],
        "layerIDs": ["layer_one"],
        "isGlobal": True,
        "passPercentage": 2,
        "version": 3,
    }
    assert capi.get("gates/gate_one").json()["data"]["holdoutIDs"] == ["holdback"]
    assert capi.get("gates/gate_two").json()["data"]["holdoutIDs"] == []


def test_restore_holdout__held_gate_deleted_since__refused_naming_it_nothing_changed(
    holding_holdout, member, world
):
    capi = holding_holdout
    # Given gate gate_one, held out by version 1, was deleted since
    assert capi.delete("gates/gate_one").status_code == 200
    # When a member restores version 1
    response = _restore(world, member, "holdouts", "holdback", 1)
    # Then the page names the missing gate and the holdout is as it was
    assert "Unknown gate(s): gate_one." in response.content.decode()
    assert _held(capi) == {
        "gateIDs": ["gate_two"],
        "experimentIDs": [],
        "layerIDs": [],
        "isGlobal": False,
        "passPercentage": 2,
        "version": 2,
    }


# -- dynamic configs --------------------------------------------------------------------------


def test_restore_config__json5_version__text_as_written_back(capi, member, world):
    # Given a config whose default value was written as JSON5, then replaced by plain JSON
    text = "{\n  // the launch colour\n  color: 'red',\n}"
    _created(capi.post("dynamic_configs", {"name": "banner", "defaultValueJson5": text}))
    changed = capi.patch("dynamic_configs/banner", {"defaultValue": {"color": "blue"}})
    assert changed.status_code == 200, changed.json()
    # When a member restores version 1
    _restore(world, member, "configs", "banner", 1)
    # Then the default value and the text its author wrote are back
    config = capi.get("dynamic_configs/banner").json()["data"]
    assert (config["defaultValue"], config["defaultValueJson5"], config["version"]) == (
        {"color": "red"},
        text,
        3,
    )


@pytest.fixture
def overridden_experiment(capi):
    """A running experiment whose overrides put gate ``staff`` into Test and u1 into Control
    (version 3), then only u2 into Test (version 4)."""
    _created(capi.post("gates", {"name": "staff"}))
    _created(capi.post("experiments", {"name": "pricing"}))
    assert capi.put("experiments/pricing/start").status_code == 200
    first = {
        "overrides": [{"type": "gate", "id": "staff", "groupID": "Test"}],
        "userIDOverrides": [{"groupID": "Control", "ids": ["u1"]}],
    }
    assert capi.post("experiments/pricing/overrides", first).status_code == 200
    second = {"overrides": [], "userIDOverrides": [{"groupID": "Test", "ids": ["u2"]}]}
    assert capi.post("experiments/pricing/overrides", second).status_code == 200
    assert capi.get("experiments/pricing").json()["data"]["version"] == 4
    return capi


def test_restore_experiment__running_overrides__back(overridden_experiment, member, world):
    capi = overridden_experiment
    groups = {g["name"]: g["id"] for g in capi.get("experiments/pricing").json()["data"]["groups"]}
    # When a member restores version 3 of the running experiment
    response = _restore(world, member, "experiments", "pricing", 3)
    # Then its overrides are those of version 3 again
    assert "Version 3 restored." in response.content.decode()
    overrides = capi.get("experiments/pricing/overrides").json()["data"]
    assert [(o["id"], o["groupID"]) for o in overrides["overrides"]] == [("staff", groups["Test"])]
    assert [(o["groupID"], o["ids"]) for o in overrides["userIDOverrides"]] == [
        (groups["Control"], ["u1"])
    ]
    assert capi.get("experiments/pricing").json()["data"]["status"] == "active"


def test_restore_experiment__override_gate_deleted_since__refused_naming_it(
    overridden_experiment, member, world
):
    capi = overridden_experiment
    # Given the gate version 3 overrides with was deleted since
    assert capi.delete("gates/staff").status_code == 200
    # When a member restores version 3
    response = _restore(world, member, "experiments", "pricing", 3)
    # Then the page names the gate and the overrides are those of version 4
    assert "Unknown gate &#x27;staff&#x27;." in response.content.decode()
    overrides = capi.get("experiments/pricing/overrides").json()["data"]
    assert (overrides["overrides"], [o["ids"] for o in overrides["userIDOverrides"]]) == (
        [],
        [["u2"]],
    )
    assert capi.get("experiments/pricing").json()["data"]["version"] == 4


def test_restore_holdout__needs_review__links_applied_when_committed(
    holding_holdout, member, browser_client, world
):
    capi = holding_holdout
    # When a member restores version 1 while changes need review
    with review_forced():
        _restore(world, member, "holdouts", "holdback", 1)
    # Then the review holds the links and the holdout keeps its own until it is committed
    review = Review.objects.get(entity_id="holdback", status="pending")
    assert review.change_type == "holdout_restore"
    assert {key: review.change["fields"][key] for key in ("gate_ids", "layer_ids")} == {
        "gate_ids": ["gate_one"],
        "layer_ids": ["layer_one"],
    }
    assert _held(capi)["gateIDs"] == ["gate_two"]
    admin = browser_client(world.users[Role.ADMIN])
    actions = f"/p/{world.project.slug}/reviews/{review.public_id}"
    page = admin.get(f"{actions}/")
    assert page.status_code == 200
    assert "gate_one" in page.content.decode()
    admin.post(f"{actions}/approve/", {"approve-reason": "as before"})
    admin.post(f"{actions}/commit/")
    assert _held(capi)["gateIDs"] == ["gate_one"]
    assert _held(capi)["layerIDs"] == ["layer_one"]
