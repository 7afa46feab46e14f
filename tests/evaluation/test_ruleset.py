"""CompiledRuleset.from_specs: what it keeps, drops and refuses; and that the package stands
without Django."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from evaluation import CompiledRuleset, Reason, evaluate_config, evaluate_gate
from tests.evaluation.specs import PUBLIC, condition, config, field, gate, rule, user

ROOT = Path(__file__).resolve().parents[3]


def test_from_specs__full_body__exposes_time_names_and_default_environment() -> None:
    specs = {
        "has_updates": True,
        "time": 1_700_000_000_123,
        "feature_gates": [gate("a", rule("r", PUBLIC)), gate("b")],
        "dynamic_configs": [config("c")],
        "layer_configs": [config("l", entity="layer")],
        "layers": {"l": []},
        "default_environment": "staging",
        "id_lists": {"beta": True},
    }

    compiled = CompiledRuleset.from_specs(specs)

    assert compiled.time == 1_700_000_000_123
    assert (compiled.gate_names, compiled.config_names, compiled.layer_names) == (
        ("a", "b"),
        ("c",),
        ("l",),
    )
    assert compiled.default_environment == "staging"


def test_from_specs__unsupported_spec__is_dropped_and_its_name_unsupported_in_every_table() -> None:
    specs = {
        "time": 1,
        "feature_gates": [
            gate("shared", rule("r", field("email", "encoded_any", ["x"]))),
            gate("ok", rule("r", PUBLIC)),
        ],
    }

    compiled = CompiledRuleset.from_specs(specs)

    assert compiled.gate_names == ("ok",)
    assert evaluate_gate(compiled, user(), "shared").reason == Reason.UNSUPPORTED
    assert evaluate_config(compiled, user(), "shared").reason == Reason.UNSUPPORTED


def test_from_specs__uppercase_operator__is_kept_but_never_matches_like_the_sdk() -> None:
    specs = {
        "time": 1,
        "feature_gates": [
            gate("g", rule("r", condition("USER_FIELD", "ANY", ["u"], field="userID")))
        ],
    }

    result = evaluate_gate(CompiledRuleset.from_specs(specs), user(userID="u"), "g")

    assert (result.reason, result.rule_id) == (Reason.RECOGNIZED, "default")


def test_from_specs__duplicate_names__the_later_spec_wins() -> None:
    specs = {
        "time": 1,
        "feature_gates": [gate("g", rule("first", PUBLIC)), gate("g", rule("second", PUBLIC))],
    }

    assert evaluate_gate(CompiledRuleset.from_specs(specs), user(), "g").rule_id == "second"


@pytest.mark.parametrize(
    "specs",
    [
        [],
        {"feature_gates": []},
        {"time": None},
        {"has_updates": False, "time": 1},
        {"time": 1, "feature_gates": {"g": {}}},
        {"time": 1, "dynamic_configs": ["c"]},
        {"time": 1, "feature_gates": [{"name": "g", "rules": None}]},
        {"time": 1, "feature_gates": [{"name": "g", "rules": [{"conditions": "public"}]}]},
    ],
)
def test_from_specs__body_the_sdk_cannot_load__raises_value_error(specs: object) -> None:
    with pytest.raises(ValueError, match=r"ruleset|list of objects"):
        CompiledRuleset.from_specs(specs)


def test_package__imported_without_django__works() -> None:
    code = (
        "import sys; sys.modules['django'] = None\n"
        "from evaluation import CompiledRuleset, EvaluationUser, evaluate_gate\n"
        "print(evaluate_gate(CompiledRuleset.from_specs({'time': 1}), EvaluationUser.from_dict({'userID': 'u'}), 'g').reason)"
    )

    completed = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "Unrecognized"
