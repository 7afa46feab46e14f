"""``/console/v1/tags``, ``GET {id}/versions`` of gates and dynamic configs (from the history of
changes), layer overrides and holdout override additions/removals."""

from __future__ import annotations

import pytest

from console.models import AuditLog

# -- tags -------------------------------------------------------------------------------------


def test_tags__create_list_read_update_delete(capi, world):
    created = capi.post("tags", {"name": "growth", "description": "Growth team", "isCore": True})
    assert created.status_code == 200
    tag = created.json()["data"]
    assert created.json() == {
        "message": "Tag created successfully",
        "data": {"id": tag["id"], "name": "growth", "description": "Growth team", "isCore": True},
    }
    listed = capi.get("tags")
    assert listed.json()["message"] == "Tags listed successfully"
    assert listed.json()["data"] == [tag]
    assert listed.json()["pagination"]["totalItems"] == 1
    assert capi.get(f"tags/{tag['id']}").json() == {"message": "Tag read successfully", "data": tag}

    capi.post("gates", {"name": "tagged_gate", "tags": ["growth"]})
    renamed = capi.patch(f"tags/{tag['id']}", {"name": "growth-team"})
    assert renamed.json() == {
        "message": "Tag updated successfully",
        "data": {**tag, "name": "growth-team"},
    }
    assert capi.get("gates/tagged_gate").json()["data"]["tags"] == ["growth-team"]

    deleted = capi.delete(f"tags/{tag['id']}")
    assert deleted.json() == {"message": "Tag deleted successfully"}
    assert capi.get(f"tags/{tag['id']}").json() == {"status": 404, "message": "Tag not found."}
    assert capi.get("gates/tagged_gate").json()["data"]["tags"] == []
    assert AuditLog.objects.filter(project=world.project, action_type="tag_delete").exists()


def test_tags__name_in_use_and_required_fields__400(capi):
    capi.post("tags", {"name": "growth", "description": ""})
    clash = capi.post("tags", {"name": "Growth", "description": ""})
    assert clash.status_code == 400
    assert clash.json()["message"] == "Name is already in use"
    missing = capi.post("tags", {"name": "x"})
    assert missing.json()["errors"] == [
        {"property": "description", "message": "This field is required."}
    ]


# -- versions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "message"),
    [
        ("gates", "Gate versions listed successfully."),
        ("dynamic_configs", "Dynamic Config versions listed successfully."),
    ],
)
def test_versions__every_change_newest_first(capi, resource, message):
    capi.post(resource, {"name": "versioned"})
    capi.patch(f"{resource}/versioned", {"description": "second"})
    capi.patch(f"{resource}/versioned", {"description": "third"})
    response = capi.get(f"{resource}/versioned/versions?limit=2")
    assert response.status_code == 200
    body = response.json()
    assert body["message"] == message
    assert [(v["version"], v["description"]) for v in body["data"]] == [(3, "third"), (2, "second")]
    assert body["pagination"]["totalItems"] == 3
    assert (
        body["pagination"]["nextPage"]
        == f"/console/v1/{resource}/versioned/versions?page=2&limit=2"
    )
    older = capi.get(f"{resource}/versioned/versions?limit=2&page=2").json()["data"]
    assert [(v["version"], v["description"]) for v in older] == [(1, "")]
    assert capi.get(f"{resource}/nope/versions").status_code == 404


# -- layer and holdout overrides --------------------------------------------------------------


def test_layer_overrides__read_replace_add_remove(capi):
    capi.post(
        "layers",
        {
            "name": "a_layer",
            "idType": "userID",
            "parameters": [{"name": "color", "type": "string", "defaultValue": "blue"}],
        },
    )
    capi.post("gates", {"name": "a_gate"})
    groups = [
        {"name": "Control", "size": 50, "parameterValues": {"color": "blue"}},
        {"name": "Test", "size": 50, "parameterValues": {"color": "green"}},
    ]
    capi.post("experiments", {"name": "in_layer", "layerID": "a_layer", "groups": groups})
    empty = {"conditionalOverrides": [], "idOverrides": []}
    read = capi.get("layers/a_layer/overrides")
    assert read.json() == {"message": "Layer Overrides read successfully.", "data": empty}

    replaced = capi.post(
        "layers/a_layer/overrides",
        {
            "conditionalOverrides": [
                {
                    "type": "gate",
                    "name": "a_gate",
                    "experimentName": "in_layer",
                    "groupName": "Test",
                }
            ],
            "idOverrides": [{"groupName": "Control", "ids": ["u1"], "experimentName": "in_layer"}],
        },
    )
    assert replaced.status_code == 200, replaced.json()
    assert replaced.json() == {
        "message": "Layer Overrides updated successfully.",
        "data": {
            "conditionalOverrides": [
                {
                    "type": "gate",
                    "name": "a_gate",
                    "experimentName": "in_layer",
                    "groupName": "Test",
                }
            ],
            "idOverrides": [
                {
                    "groupName": "Control",
                    "ids": ["u1"],
                    "idType": "userID",
                    "environment": None,
                    "experimentName": "in_layer",
                }
            ],
        },
    }
    added = capi.patch(
        "layers/a_layer/overrides",
        {"conditionalOverrides": [], "idOverrides": [{"groupName": "Test", "ids": ["u2"]}]},
    )
    assert len(added.json()["data"]["idOverrides"]) == 2
    removed = capi.delete(
        "layers/a_layer/overrides",
        {"conditionalOverrides": [], "idOverrides": [{"groupName": "Control", "ids": ["u1"]}]},
    )
    assert [o["ids"] for o in removed.json()["data"]["idOverrides"]] == [["u2"]]
    unknown = capi.post(
        "layers/a_layer/overrides",
        {"conditionalOverrides": [], "idOverrides": [{"groupName": "Nope", "ids": ["u"]}]},
    )
    assert unknown.status_code == 400
    assert unknown.json()["errors"][0]["property"] == "idOverrides[0].groupName"


def test_holdout_overrides__add_and_remove(capi):
    capi.post("holdouts", {"name": "a holdout"})
    capi.post("holdouts/a_holdout/overrides", {"passingUserIDs": ["u1"], "failingUserIDs": []})
    added = capi.patch(
        "holdouts/a_holdout/overrides", {"passingUserIDs": ["u2"], "failingUserIDs": ["u3"]}
    )
    assert added.status_code == 200
    assert added.json()["data"]["passingUserIDs"] == ["u1", "u2"]
    assert added.json()["data"]["failingUserIDs"] == ["u3"]
    removed = capi.delete(
        "holdouts/a_holdout/overrides", {"passingUserIDs": ["u1"], "failingUserIDs": []}
    )
    assert removed.json()["message"] == "Holdout Overrides updated successfully."
    assert removed.json()["data"]["passingUserIDs"] == ["u2"]
