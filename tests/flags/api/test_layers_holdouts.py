"""``/console/v1/layers`` (``LayerContractDto``, typed parameters, experiments in a layer) and
``/console/v1/holdouts`` (``HoldoutDto``; creates answer 200 as Statsig's do)."""

from __future__ import annotations

from unittest.mock import ANY

import pytest

from console.models import ApiKey

PARAMETERS = [
    {"name": "color", "type": "string", "defaultValue": "blue"},
    {"name": "size", "type": "number", "defaultValue": 3},
]


def metadata(world, id_, name, **overrides):
    key = ApiKey.objects.get(project=world.project, kind="console").public_id
    data = {
        "id": id_,
        "name": name,
        "description": "",
        "idType": "userID",
        "lastModifierID": key,
        "lastModifiedTime": ANY,
        "lastModifierName": "CONSOLE API",
        "lastModifierEmail": None,
        "creatorID": key,
        "createdTime": ANY,
        "creatorName": "CONSOLE API",
        "creatorEmail": None,
        "targetApps": [],
        "holdoutIDs": [],
        "tags": [],
        "team": None,
        "teamID": None,
        "owner": {
            "ownerID": key,
            "ownerType": "SDK_KEY",
            "ownerName": "CONSOLE API",
            "ownerEmail": "",
        },
        "version": 1,
    }
    data.update(overrides)
    return data


@pytest.fixture
def layer(capi):
    response = capi.post(
        "layers", {"name": "the_best_layer", "idType": "userID", "parameters": PARAMETERS}
    )
    assert response.status_code == 201, response.json()
    return response.json()["data"]


# -- layers -----------------------------------------------------------------------------------


def test_layer_create__201_full_layer(capi, world):
    response = capi.post(
        "layers",
        {"name": "the_best_layer", "idType": "userID", "description": "helpful summary"},
    )
    assert response.status_code == 201
    assert response.json() == {
        "message": "Layer created successfully.",
        "data": {
            **metadata(world, "the_best_layer", "the_best_layer", description="helpful summary"),
            "reviewSettings": {"requiredReview": False, "allowedReviewers": []},
            "activeReview": None,
            "isImplicitLayer": False,
            "parameters": [],
        },
    }


def test_layer_create__id_type_required__400(capi):
    response = capi.post("layers", {"name": "no_id_type"})
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"property": "idType", "message": "This field is required."}
    ]


def test_layer_parameter_default_of_wrong_type__400(capi):
    response = capi.post(
        "layers",
        {
            "name": "typed",
            "idType": "userID",
            "parameters": [{"name": "n", "type": "number", "defaultValue": "three"}],
        },
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["property"].startswith("parameters[0]")


def test_layer_read_list_update_delete(capi, layer):
    assert capi.get("layers/the_best_layer").json() == {
        "message": "Layer read successfully.",
        "data": layer,
    }
    listed = capi.get("layers").json()
    assert listed["message"] == "Layers listed successfully."
    assert [item["id"] for item in listed["data"]] == ["the_best_layer"]

    patched = capi.patch("layers/the_best_layer", {"description": "changed"})
    assert patched.json()["message"] == "Layer updated successfully."
    assert patched.json()["data"]["description"] == "changed"
    assert patched.json()["data"]["parameters"] == PARAMETERS

    full = capi.post("layers/the_best_layer", {"description": "full", "parameters": PARAMETERS[:1]})
    assert full.status_code == 200
    assert full.json()["data"]["parameters"] == PARAMETERS[:1]

    deleted = capi.delete("layers/the_best_layer")
    assert deleted.json() == {"message": "Layer deleted successfully."}
    assert capi.get("layers/the_best_layer").json() == {
        "status": 404,
        "message": "Layer not found.",
    }


def test_layer_experiments__lineage_and_placement_rules(capi, layer):
    groups = [
        {"name": "Control", "size": 50, "parameterValues": {"color": "blue"}},
        {"name": "Test", "size": 50, "parameterValues": {"color": "green"}},
    ]
    first = capi.post(
        "experiments",
        {"name": "exp_one", "layerID": "the_best_layer", "allocation": 60, "groups": groups},
    )
    assert first.status_code == 201
    assert first.json()["data"]["layerID"] == "the_best_layer"

    # Not enough unallocated traffic left in the layer
    too_big = capi.post(
        "experiments",
        {"name": "exp_two", "layerID": "the_best_layer", "allocation": 50, "groups": groups},
    )
    assert too_big.status_code == 400
    # A parameter the layer does not define
    unknown = capi.post(
        "experiments",
        {
            "name": "exp_three",
            "layerID": "the_best_layer",
            "allocation": 10,
            "groups": [
                {"name": "A", "size": 50, "parameterValues": {"shape": "round"}},
                {"name": "B", "size": 50, "parameterValues": {}},
            ],
        },
    )
    assert unknown.status_code == 400
    assert "shape" in unknown.json()["message"]

    lineage = capi.get("layers/the_best_layer/experiments")
    assert lineage.status_code == 200
    assert [e["id"] for e in lineage.json()["data"]] == ["exp_one"]
    assert lineage.json()["pagination"]["totalItems"] == 1
    assert capi.get("layers/nope/experiments").status_code == 404

    in_use = capi.delete("layers/the_best_layer")
    assert in_use.status_code == 400
    assert "exp_one" in in_use.json()["message"]


# -- holdouts ---------------------------------------------------------------------------------


def expected_holdout(world, **overrides):
    data = {
        **metadata(world, "a_holdout", "a holdout"),
        "isEnabled": True,
        "isGlobal": False,
        "passPercentage": 0,
        "gateIDs": [],
        "experimentIDs": [],
        "layerIDs": [],
        "targetingGateID": None,
        "monitoringMetrics": [],
    }
    data.update(overrides)
    return data


def test_holdout_create__200_full_holdout(capi, world):
    response = capi.post("holdouts", {"name": "a holdout"})
    assert response.status_code == 200
    assert response.json() == {
        "message": "Holdout created successfully.",
        "data": expected_holdout(world),
    }


def test_holdout_update_list_delete(capi, world):
    capi.post("holdouts", {"name": "a holdout"})
    capi.post("gates", {"name": "held_gate"})
    full = capi.post(
        "holdouts/a_holdout",
        {
            "isEnabled": True,
            "description": "hold back",
            "passPercentage": 2.5,
            "gateIDs": ["held_gate"],
            "experimentIDs": [],
            "layerIDs": [],
            "isGlobal": False,
            "targetingGateID": None,
        },
    )
    assert full.status_code == 200
    assert full.json() == {
        "message": "Holdout updated successfully.",
        "data": expected_holdout(
            world, description="hold back", passPercentage=2.5, gateIDs=["held_gate"], version=2
        ),
    }
    assert capi.get("gates/held_gate").json()["data"]["holdoutIDs"] == ["a_holdout"]

    too_much = capi.patch("holdouts/a_holdout", {"passPercentage": 11})
    assert too_much.status_code == 400
    assert too_much.json()["errors"][0]["property"] == "passPercentage"
    unknown_gate = capi.patch("holdouts/a_holdout", {"gateIDs": ["nope"]})
    assert unknown_gate.status_code in (400, 404)

    listed = capi.get("holdouts").json()
    assert listed["message"] == "Holdouts listed successfully."
    assert [h["id"] for h in listed["data"]] == ["a_holdout"]

    assert capi.get("holdouts/a_holdout").json()["message"] == "Holdout read successfully."
    deleted = capi.delete("holdouts/a_holdout")
    assert deleted.json() == {"message": "Holdout deleted successfully."}
    assert capi.get("holdouts/a_holdout").json() == {"status": 404, "message": "Holdout not found."}


def test_holdout_overrides(capi):
    capi.post("holdouts", {"name": "a holdout"})
    read = capi.get("holdouts/a_holdout/overrides")
    assert read.status_code == 200
    assert read.json()["message"] == "Holdout Overrides read successfully."
    replaced = capi.post(
        "holdouts/a_holdout/overrides", {"passingUserIDs": ["u1"], "failingUserIDs": ["u2"]}
    )
    assert replaced.status_code == 200
    assert replaced.json()["message"] == "Holdout Overrides updated successfully."
    assert replaced.json()["data"]["passingUserIDs"] == ["u1"]
    assert replaced.json()["data"]["failingUserIDs"] == ["u2"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("gates", {"name": "held_gate", "idType": "userID"}),
        ("layers", {"name": "held_layer", "idType": "userID"}),
    ],
)
def test_delete__global_holdout_holds_it__deleted_and_holdout_kept(capi, path, body):
    # Given a global holdout, which every new gate and layer of its id type joins
    holdout = capi.post("holdouts", {"name": "everyone", "idType": "userID", "isGlobal": True})
    assert holdout.status_code == 200, holdout.json()
    created = capi.post(path, body)
    assert created.status_code == 201, created.json()
    assert created.json()["data"]["holdoutIDs"] == ["everyone"]

    # When the entity is deleted
    response = capi.delete(f"{path}/{body['name']}")

    # Then the global holdout does not block it, and the holdout stays
    assert response.status_code == 200, response.json()
    assert capi.get(f"{path}/{body['name']}").status_code == 404
    assert capi.get("holdouts/everyone").json()["data"]["isGlobal"] is True


def test_gate_delete__chosen_holdout_holds_it__400_naming_holdout(capi):
    capi.post("gates", {"name": "held_gate", "idType": "userID"})
    capi.post("holdouts", {"name": "chosen", "idType": "userID", "gateIDs": ["held_gate"]})

    response = capi.delete("gates/held_gate")

    assert response.status_code == 400
    assert "holdout 'chosen'" in response.json()["message"]
