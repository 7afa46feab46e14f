"""Statsig's documented console API examples for the endpoints of issue 18, replayed as written
(bodies and the answers the documentation shows)."""

from __future__ import annotations

from tests.parity.readback import assert_read_back

# "Create Gate" (POST /console/v1/gates): the conditions of its verbose example, as written
# (scalar targetValues, passes_gate naming the gate as a string).
VERBOSE_GATE_RULES = [
    {
        "name": "All Conditions",
        "passPercentage": 10,
        "conditions": [
            {"type": "public"},
            {"type": "user_id", "targetValue": ["111", "222"], "operator": "any"},
            {
                "type": "email",
                "targetValue": ["@outlook.com", "@gmail.com"],
                "operator": "str_contains_any",
            },
            {"type": "custom_field", "targetValue": 31, "operator": "gt", "field": "age"},
            {"type": "app_version", "targetValue": "1.1.1", "operator": "version_gt"},
            {"type": "browser_name", "targetValue": ["Android", "Chrome"], "operator": "any"},
            {
                "type": "browser_version",
                "targetValue": ["94.0.4606.81", "94.0.4606.92"],
                "operator": "any",
            },
            {"type": "os_name", "targetValue": ["Android", "Windows"], "operator": "none"},
            {"type": "os_version", "targetValue": "11.0.0", "operator": "version_lte"},
            {"type": "country", "targetValue": ["NZ", "US"], "operator": "any"},
            {"type": "passes_gate", "targetValue": "my_gate_2"},
            {"type": "fails_gate", "targetValue": "my_gate_2"},
            {"type": "time", "targetValue": 1643070357193, "operator": "after"},
            {"type": "environment_tier", "targetValue": ["production"], "operator": "any"},
        ],
    }
]


def test_create_gate__verbose_example__rules_read_back_as_written(capi):
    assert capi.post("gates", {"name": "my_gate_2", "idType": "userID"}).status_code == 201
    body = {
        "name": "a_verbose_gate",
        "idType": "userID",
        "isEnabled": False,
        "description": "helpful summary of what this gate does",
        "rules": VERBOSE_GATE_RULES,
    }

    created = capi.post("gates", body)

    assert created.status_code == 201, created.json()
    read = capi.get("gates/a_verbose_gate").json()["data"]
    assert_read_back(body, read)
    # The operator-less conditions read as Statsig writes them: operator "", public's value [].
    assert read["rules"][0]["conditions"][0] == {
        "type": "public",
        "operator": "",
        "targetValue": [],
        "field": None,
        "customID": None,
    }


def test_list_gate_references__example_shape(capi):
    capi.post("gates", {"name": "a_gate", "idType": "userID"})
    capi.post(
        "gates",
        {
            "name": "dependent",
            "rules": [
                {
                    "name": "needs a_gate",
                    "passPercentage": 100,
                    "conditions": [{"type": "passes_gate", "targetValue": "a_gate"}],
                }
            ],
        },
    )

    response = capi.get("gates/a_gate/gate_references")

    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "Gates listed successfully."
    assert [gate["id"] for gate in body["data"]] == ["dependent"]
    assert set(body["pagination"]) == {
        "all",
        "itemsPerPage",
        "nextPage",
        "pageNumber",
        "previousPage",
        "totalItems",
    }
    assert (body["pagination"]["pageNumber"], body["pagination"]["totalItems"]) == (1, 1)


def test_conclude_experiment_and_defer_decision__example(capi):
    capi.post("experiments", {"name": "a_experiment"})
    assert capi.put("experiments/a_experiment/start", {}).status_code == 200

    response = capi.put(
        "experiments/a_experiment/defer_decision",
        {"stopReason": "We want more time before choosing a winner"},
    )

    assert response.status_code == 200
    assert response.json() == {
        "message": "Experiment successfully concluded and decision deferred."
    }


def test_add_and_remove_ids__example(capi):
    created = capi.post("segments", {"name": "small_id_list", "type": "id_list"})
    assert created.status_code == 201, created.json()
    version = created.json()["data"]["version"]

    added = capi.patch(
        "segments/small_id_list/add_ids", {"ids": ["1", "2", "3"], "version": version}
    )
    removed = capi.patch("segments/small_id_list/remove_ids", {"ids": ["2"]})

    assert added.status_code == 200, added.json()
    assert added.json()["message"] == "IDs successfully added to Segment ID List"
    assert removed.json()["message"] == "IDs successfully removed from Segment ID List"
    ids = capi.get("segments/small_id_list/id_list").json()["data"]["ids"]
    assert sorted(ids) == ["1", "3"]
