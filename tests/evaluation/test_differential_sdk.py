"""Differential test: our evaluator and the official SDK (0.72.1, local mode) answer the same for
seeded random rulesets covering every condition type and operator, and hundreds of users."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from evaluation import (
    CompiledRuleset,
    EvaluationUser,
    evaluate_config,
    evaluate_gate,
    evaluate_layer,
)
from evaluation.conditions import SUPPORTED_TYPES
from evaluation.operators import SUPPORTED_OPERATORS
from tests.evaluation.generators import generate_ruleset, generate_users
from tests.evaluation.official_sdk import internal_result, local_sdk, sdk_user

SEEDS = (11, 22, 33, 44)
USER_COUNT = 200
# The SDK's reasons, in our vocabulary.
REASONS = {
    "none": "Recognized",
    "Unrecognized": "Unrecognized",
    "Unsupported": "Unsupported",
    "error": "error",
}


def _ours(result: Any) -> dict[str, Any]:
    return {
        "value": result.value,
        "json_value": result.json_value,
        "rule_id": result.rule_id,
        "group_name": result.group_name,
        "id_type": result.id_type,
        "secondary_exposures": result.secondary_exposures,
        "undelegated_secondary_exposures": result.undelegated_secondary_exposures,
        "explicit_parameters": result.explicit_parameters,
        "allocated_experiment": result.allocated_experiment,
        "reason": str(result.reason),
    }


def _theirs(public: Any, raw: Any, *, kind: str) -> dict[str, Any]:
    return {
        "value": public.value if kind == "gate" else raw.boolean_value,
        "json_value": raw.json_value if kind == "gate" else _public_value(public, kind),
        "rule_id": public.rule_id,
        "group_name": public.group_name,
        "id_type": raw.id_type,
        "secondary_exposures": raw.secondary_exposures,
        "undelegated_secondary_exposures": raw.undelegated_secondary_exposures,
        "explicit_parameters": raw.explicit_parameters,
        "allocated_experiment": raw.allocated_experiment,
        "reason": REASONS[raw.evaluation_details.reason.value],
    }


def _public_value(public: Any, kind: str) -> Any:
    return public.get_values() if kind == "layer" else public.value


def _spec_vocabulary(specs: dict[str, Any]) -> tuple[set[str], set[str]]:
    types: set[str] = set()
    operators: set[str] = set()
    for table in ("feature_gates", "dynamic_configs", "layer_configs"):
        for spec in specs[table]:
            for rule in spec["rules"]:
                for condition in rule["conditions"]:
                    types.add(condition["type"])
                    operators.add(condition["operator"])
    return types, operators


@pytest.fixture(scope="module")
def users() -> list[dict[str, Any]]:
    return generate_users(7, USER_COUNT)


@pytest.mark.parametrize("seed", SEEDS)
def test_evaluator__generated_ruleset__answers_as_the_official_sdk(
    seed: int, users: list[dict[str, Any]]
) -> None:
    # Given a generated ruleset, loaded by both, with the same id lists
    generated = generate_ruleset(seed)
    specs = json.loads(json.dumps(generated.specs))
    id_lists = generated.id_list_hashes()
    ruleset = CompiledRuleset.from_specs(specs, id_lists=id_lists)
    types, operators = _spec_vocabulary(specs)
    assert types >= SUPPORTED_TYPES
    assert operators >= SUPPORTED_OPERATORS

    names = {
        "gate": [*generated.gate_names, "missing_gate"],
        "config": [*generated.config_names, "missing_config"],
        "layer": [*generated.layer_names, "missing_layer"],
    }
    ours_by_kind = {"gate": evaluate_gate, "config": evaluate_config, "layer": evaluate_layer}
    mismatches: list[tuple[str, str, dict[str, Any], dict[str, Any], dict[str, Any]]] = []
    outcomes: Counter[str] = Counter()

    # When every user is evaluated for every gate, config and layer by both
    with local_sdk(specs, id_lists) as sdk:
        public_by_kind = {
            "gate": lambda user, name: sdk.get_feature_gate(user, name, log_exposure=False),
            "config": lambda user, name: sdk.get_config(user, name, log_exposure=False),
            "layer": lambda user, name: sdk.get_layer(user, name, log_exposure=False),
        }
        for data in users:
            ours_user = EvaluationUser.from_dict(data)
            their_user = sdk_user(data)
            for kind, kind_names in names.items():
                for name in kind_names:
                    ours = _ours(ours_by_kind[kind](ruleset, ours_user, name))
                    theirs = _theirs(
                        public_by_kind[kind](their_user, name),
                        internal_result(sdk, their_user, kind, name),
                        kind=kind,
                    )
                    if ours != theirs:
                        mismatches.append((kind, name, data, ours, theirs))
                    outcomes[ours["reason"]] += 1
                    outcomes["allocated" if ours["allocated_experiment"] else "not allocated"] += 1
                    outcomes["exposures" if ours["secondary_exposures"] else "no exposures"] += 1

    # Then they answer alike, and the answers cover the interesting paths
    assert mismatches[:5] == [], f"{len(mismatches)} mismatches"
    for outcome in ("Recognized", "Unrecognized", "Unsupported", "error", "allocated", "exposures"):
        assert outcomes[outcome] > 0, outcome
