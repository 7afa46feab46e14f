"""``UserEvaluation``: many evaluations for one user, a standalone spec answering a result made at
compile time. It must answer exactly what ``evaluate_gate`` and its siblings answer (which the
differential test holds to the official SDK)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from evaluation import (
    CompiledRuleset,
    EvaluationUser,
    Reason,
    UserEvaluation,
    evaluate_config,
    evaluate_gate,
    evaluate_layer,
)
from tests.evaluation.generators import generate_ruleset, generate_users
from tests.evaluation.test_differential_sdk import _ours


@pytest.mark.parametrize("seed", [11, 33])
def test_user_evaluation__generated_ruleset__answers_as_evaluate_one_by_one(seed: int) -> None:
    # Given a generated ruleset (nested gates, delegations, errors) and users
    generated = generate_ruleset(seed)
    specs = json.loads(json.dumps(generated.specs))
    ruleset = CompiledRuleset.from_specs(specs, id_lists=generated.id_list_hashes())
    tables = {
        "gate": (ruleset.gates, evaluate_gate, [*generated.gate_names, "missing_gate"]),
        "config": (ruleset.configs, evaluate_config, [*generated.config_names, "missing"]),
        "layer": (ruleset.layers, evaluate_layer, [*generated.layer_names, "missing_layer"]),
    }
    mismatches: list[tuple[str, str, dict[str, Any]]] = []
    paths: Counter[str] = Counter()

    # When each user is evaluated for every spec through one UserEvaluation
    for data in generate_users(seed, 150):
        user = EvaluationUser.from_dict(data)
        evaluation = UserEvaluation(ruleset, user)
        for kind, (table, evaluate_one, names) in tables.items():
            for name in names:
                shared = getattr(evaluation, kind)(name)
                if _ours(shared) != _ours(evaluate_one(ruleset, user, name)):
                    mismatches.append((kind, name, data))
                spec = table.get(name)
                standalone = spec is not None and spec.standalone
                paths[f"{'standalone' if standalone else 'nesting'} {shared.reason}"] += 1

    # Then every answer is the same, over both walks and their errors
    assert mismatches[:5] == []
    for path in ("standalone Recognized", "standalone error", "nesting Recognized"):
        assert paths[path] > 0, path


def test_user_evaluation__standalone_spec__same_result_object_for_users_with_one_outcome() -> None:
    # Given a gate that passes everyone on its only rule
    specs = {
        "time": 1,
        "feature_gates": [
            {
                "name": "everyone",
                "type": "feature_gate",
                "enabled": True,
                "salt": "s",
                "defaultValue": False,
                "idType": "userID",
                "rules": [
                    {
                        "id": "rule-all",
                        "passPercentage": 100,
                        "conditions": [{"type": "public"}],
                        "returnValue": True,
                    }
                ],
            }
        ],
    }
    ruleset = CompiledRuleset.from_specs(specs)
    first = UserEvaluation(ruleset, EvaluationUser.from_dict({"userID": "a"})).gate("everyone")
    second = UserEvaluation(ruleset, EvaluationUser.from_dict({"userID": "b"})).gate("everyone")
    # Then both users get the one result the compiled rule holds
    assert first is second
    assert (first.value, first.rule_id, first.reason) == (True, "rule-all", Reason.RECOGNIZED)
    # And evaluate_gate hands out a copy its caller may change
    own = evaluate_gate(ruleset, EvaluationUser.from_dict({"userID": "a"}), "everyone")
    own.secondary_exposures.append({"gate": "x", "gateValue": "true", "ruleID": "r"})
    own.value = False
    assert first.secondary_exposures == []
    assert first.value is True


@pytest.mark.parametrize("seed", [11, 33])
def test_evaluate_specs__every_table_in_one_call__answers_as_evaluate_one_by_one(seed: int) -> None:
    # Given a generated ruleset and the specs of all three tables (and missing ones) in one list
    generated = generate_ruleset(seed)
    ruleset = CompiledRuleset.from_specs(
        json.loads(json.dumps(generated.specs)), id_lists=generated.id_list_hashes()
    )
    ones = {id(ruleset.gates): evaluate_gate, id(ruleset.configs): evaluate_config}
    ones[id(ruleset.layers)] = evaluate_layer
    entries = [
        (table, name, table.get(name))
        for table, names in (
            (ruleset.gates, [*generated.gate_names, "missing_gate"]),
            (ruleset.configs, [*generated.config_names, "missing"]),
            (ruleset.layers, [*generated.layer_names, "missing_layer"]),
        )
        for name in names
    ]
    mismatches = []

    # When each user's specs are evaluated in one evaluate_specs call
    for data in generate_users(seed, 150):
        user = EvaluationUser.from_dict(data)
        results = UserEvaluation(ruleset, user).evaluate_specs(entries)
        for (table, name, _spec), result in zip(entries, results, strict=True):
            if _ours(result) != _ours(ones[id(table)](ruleset, user, name)):
                mismatches.append((name, data))

    # Then every answer is the one evaluated alone
    assert len(results) == len(entries)
    assert mismatches[:5] == []


def test_evaluate_specs__two_id_types__each_rule_hashes_its_own_unit() -> None:
    # Given two half-rollout gates with the same salts, one on the user id and one on a custom id
    def gate(name: str, id_type: str) -> dict:
        rule = {"id": "r", "salt": "r", "passPercentage": 50, "idType": id_type,
                "conditions": [{"type": "public"}], "returnValue": True}  # fmt: skip
        return {"name": name, "type": "feature_gate", "enabled": True, "salt": "s",
                "defaultValue": False, "idType": id_type, "rules": [rule]}  # fmt: skip

    ruleset = CompiledRuleset.from_specs(
        {"time": 1, "feature_gates": [gate("by_user", "userID"), gate("by_company", "companyID")]}
    )
    entries = [(ruleset.gates, name, ruleset.gates[name]) for name in ("by_user", "by_company")]
    # When users whose two ids differ are evaluated in one call
    disagreements = 0
    for n in range(200):
        data = {"userID": f"u{n}", "customIDs": {"companyID": f"c{n * 7}"}}
        user = EvaluationUser.from_dict(data)
        by_user, by_company = UserEvaluation(ruleset, user).evaluate_specs(entries)
        # Then each gate buckets the id it names, as evaluate_gate does
        assert by_user.value == evaluate_gate(ruleset, user, "by_user").value
        assert by_company.value == evaluate_gate(ruleset, user, "by_company").value
        disagreements += by_user.value != by_company.value
    assert disagreements > 0
