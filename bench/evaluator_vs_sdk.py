"""Evaluations per second: our evaluator (evaluation) against the official statsig SDK's
local evaluation, on one generated ruleset and the same users, in one process.

    python bench/evaluator_vs_sdk.py [--users 10000] [--repeat 3]

The ruleset has 200 feature gates of mixed conditions plus segments and holdouts, 50 dynamic
configs, and 20 experiments in 5 layers. Each user is evaluated on a rotating slice of 10 gates,
3 configs (dynamic configs and experiments) and 1 layer; the same calls are timed for both, in CPU
time, alternating, best of --repeat. The SDK runs in local mode with all
logging disabled and is called through its public check_gate / get_config / get_layer.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evaluation import (
    CompiledRuleset,
    EvaluationUser,
    evaluate_config,
    evaluate_gate,
    evaluate_layer,
)
from tests.evaluation.generators import generate_ruleset, generate_users
from tests.evaluation.official_sdk import local_sdk, sdk_user

GATES_PER_USER = 10
CONFIGS_PER_USER = 3
LAYERS_PER_USER = 1
AGREEMENT_SAMPLE = 1000

Call = tuple[str, str, int]  # (kind, name, user index)


def _workload(names: dict[str, list[str]], users: int) -> list[Call]:
    per_user = {"gate": GATES_PER_USER, "config": CONFIGS_PER_USER, "layer": LAYERS_PER_USER}
    calls: list[Call] = []
    for index in range(users):
        for kind, count in per_user.items():
            kind_names = names[kind]
            start = index * count
            calls.extend(
                (kind, kind_names[(start + k) % len(kind_names)], index) for k in range(count)
            )
    return calls


def _cpu_seconds(run: Callable[[], None]) -> float:
    # CPU time of this process, not wall time: other work on the machine does not count.
    started = time.process_time()
    run()
    return time.process_time() - started


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument(
        "--repeat", type=int, default=3, help="timed runs per side; the best counts"
    )
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args(argv)

    generated = generate_ruleset(
        args.seed,
        gates=200,
        segments=10,
        holdouts=2,
        configs=50,
        layers=5,
        experiments_per_layer=4,
        standalone_experiments=0,
        catalogue=False,
    )
    specs = json.loads(json.dumps(generated.specs))
    id_lists = generated.id_list_hashes()
    raw_users = generate_users(args.seed, args.users)
    names = {
        "gate": [
            name for name in generated.gate_names if not name.startswith(("segment:", "holdout_"))
        ],
        "config": generated.config_names,
        "layer": generated.layer_names,
    }
    calls = _workload(names, args.users)

    compile_started = time.perf_counter()
    ruleset = CompiledRuleset.from_specs(specs, id_lists=id_lists)
    compile_seconds = time.perf_counter() - compile_started
    ours_users = [EvaluationUser.from_dict(data) for data in raw_users]
    ours_by_kind: dict[str, Callable[[CompiledRuleset, EvaluationUser, str], Any]] = {
        "gate": evaluate_gate,
        "config": evaluate_config,
        "layer": evaluate_layer,
    }

    def run_ours() -> None:
        for kind, name, index in calls:
            ours_by_kind[kind](ruleset, ours_users[index], name)

    with local_sdk(specs, id_lists) as sdk:
        sdk_users = [sdk_user(data) for data in raw_users]
        sdk_by_kind: dict[str, Callable[[Any, str], Any]] = {
            "gate": sdk.check_gate,
            "config": sdk.get_config,
            "layer": sdk.get_layer,
        }

        def run_sdk() -> None:
            for kind, name, index in calls:
                sdk_by_kind[kind](sdk_users[index], name)

        # Also warms the caches both sides keep (user agents, countries, regexes).
        disagreements = _disagreements(calls, ruleset, ours_users, sdk, sdk_users)
        ours_seconds = sdk_seconds = float("inf")
        # Alternating runs, so that a busy moment on the machine does not favour one side.
        for _ in range(args.repeat):
            ours_seconds = min(ours_seconds, _cpu_seconds(run_ours))
            sdk_seconds = min(sdk_seconds, _cpu_seconds(run_sdk))

    ours_rate = len(calls) / ours_seconds
    sdk_rate = len(calls) / sdk_seconds
    print(
        f"ruleset: {len(specs['feature_gates'])} gates (incl. segments, holdouts), "
        f"{len(specs['dynamic_configs'])} configs/experiments, {len(specs['layer_configs'])} layers; "
        f"compiled in {compile_seconds * 1000:.1f} ms"
    )
    print(
        f"workload: {args.users} users x ({GATES_PER_USER} gates + {CONFIGS_PER_USER} configs + {LAYERS_PER_USER} layer) = {len(calls)} evaluations, best of {args.repeat}"
    )
    print(f"agreement check on {AGREEMENT_SAMPLE} users: {disagreements} disagreements")
    print()
    print(f"{'evaluator':<28}{'CPU s':>10}{'evaluations/s':>16}")
    print(f"{'evaluation':<28}{ours_seconds:>10.3f}{ours_rate:>16,.0f}")
    print(f"{'statsig SDK 0.72.1 (local)':<28}{sdk_seconds:>10.3f}{sdk_rate:>16,.0f}")
    print(f"{'ratio (ours / SDK)':<28}{'':>10}{ours_rate / sdk_rate:>16.2f}")
    return 0


def _disagreements(
    calls: list[Call],
    ruleset: CompiledRuleset,
    ours_users: list[EvaluationUser],
    sdk: Any,
    sdk_users: list[Any],
) -> int:
    """Values and rule ids of both, compared on the first users' calls (not timed)."""
    count = 0
    for kind, name, index in calls:
        if index >= AGREEMENT_SAMPLE:
            break
        user = ours_users[index]
        if kind == "gate":
            ours = evaluate_gate(ruleset, user, name)
            theirs = sdk.get_feature_gate(sdk_users[index], name, log_exposure=False)
            same = (ours.value, ours.rule_id) == (theirs.value, theirs.rule_id)
        elif kind == "config":
            ours = evaluate_config(ruleset, user, name)
            theirs = sdk.get_config(sdk_users[index], name, log_exposure=False)
            same = (ours.json_value, ours.rule_id) == (theirs.value, theirs.rule_id)
        else:
            ours = evaluate_layer(ruleset, user, name)
            theirs = sdk.get_layer(sdk_users[index], name, log_exposure=False)
            same = (ours.json_value, ours.rule_id) == (theirs.get_values(), theirs.rule_id)
        count += not same
    return count


if __name__ == "__main__":
    sys.exit(main())
