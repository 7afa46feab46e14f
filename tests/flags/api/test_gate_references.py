"""``GET /gates/{id}/gate_references``, ``/experiment_references`` and
``/dynamic_config_references``: what uses a gate, in Statsig's list envelope."""

from __future__ import annotations


def checks(gate_id):
    return {"type": "passes_gate", "targetValue": gate_id}


def rule(*conditions):
    return {"name": "rule", "passPercentage": 100, "conditions": list(conditions)}


def test_references__gates_configs_experiments_using_the_gate__listed(capi):
    # Given a gate, and entities that use it in every way, and some that do not
    capi.post("gates", {"name": "base", "idType": "userID"})
    capi.post("gates", {"name": "other", "idType": "userID"})
    capi.post("gates", {"name": "child", "rules": [rule(checks("base"))]})
    capi.post("gates", {"name": "unrelated", "rules": [rule(checks("other"))]})
    capi.post(
        "dynamic_configs",
        {"name": "theme", "rules": [rule({"type": "fails_gate", "targetValue": "base"})]},
    )
    capi.post("dynamic_configs", {"name": "plain"})
    capi.post("experiments", {"name": "targeted", "targetingGateID": "base"})
    capi.post("experiments", {"name": "overridden"})
    overrides = capi.post(
        "experiments/overridden/overrides",
        {"overrides": [{"type": "gate", "id": "base", "groupID": "Test"}], "userIDOverrides": []},
    )
    assert overrides.status_code == 200, overrides.json()
    capi.post("experiments", {"name": "free"})

    # When each reference list is read
    gates = capi.get("gates/base/gate_references")
    configs = capi.get("gates/base/dynamic_config_references")
    experiments = capi.get("gates/base/experiment_references")

    # Then each lists exactly what uses the gate, as full entities
    assert gates.status_code == 200, gates.json()
    assert gates.json()["message"] == "Gates listed successfully."
    assert [g["id"] for g in gates.json()["data"]] == ["child"]
    assert gates.json()["data"][0]["rules"][0]["conditions"][0]["targetValue"] == "base"
    assert gates.json()["pagination"]["totalItems"] == 1
    assert [c["id"] for c in configs.json()["data"]] == ["theme"]
    assert sorted(e["id"] for e in experiments.json()["data"]) == ["overridden", "targeted"]


def test_references__unused_gate__empty_lists(capi):
    capi.post("gates", {"name": "alone", "idType": "userID"})

    for kind in ("gate", "experiment", "dynamic_config"):
        response = capi.get(f"gates/alone/{kind}_references")
        assert response.status_code == 200
        assert response.json()["data"] == []


def test_references__unknown_gate__404(capi):
    assert capi.get("gates/nope/gate_references").status_code == 404


def test_references__gate_of_another_project__404(capi, other_capi):
    other_capi.post("gates", {"name": "theirs", "idType": "userID"})

    assert capi.get("gates/theirs/experiment_references").status_code == 404
