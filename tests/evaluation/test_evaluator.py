"""The spec walk: rule order, pass percentages, exposures, errors, delegation to experiments,
holdouts (reference statsig.md §3.2, §3.5-3.7)."""

from __future__ import annotations

from evaluation import (
    Reason,
    bucket_hash,
    evaluate_config,
    evaluate_gate,
    evaluate_layer,
)
from tests.evaluation.specs import PUBLIC, condition, config, field, gate, rule, ruleset, user

NOBODY = field("email", "any", ["nobody@example.com"])


def exposure(gate_name: str, value: bool, rule_id: str) -> dict[str, str]:
    return {"gate": gate_name, "gateValue": "true" if value else "false", "ruleID": rule_id}


# -- names, disabled, default --------------------------------------------------------------


def test_evaluate_gate__unknown_name__is_unrecognized_with_empty_rule_id() -> None:
    result = evaluate_gate(ruleset(), user(), "nope")

    assert (result.value, result.rule_id, result.reason) == (False, "", Reason.UNRECOGNIZED)
    assert result.json_value == {}


def test_evaluate_config__spec_with_unknown_condition_type__is_unsupported() -> None:
    specs = ruleset(configs=(config("c", rule("r", condition("javascript", "any", ["x"]))),))

    result = evaluate_config(specs, user(), "c")

    assert (result.rule_id, result.reason, result.json_value) == ("", Reason.UNSUPPORTED, {})


def test_evaluate_gate__spec_with_unknown_operator__is_unsupported() -> None:
    specs = ruleset(gates=(gate("g", rule("r", field("email", "is_null", None))),))

    assert evaluate_gate(specs, user(), "g").reason == Reason.UNSUPPORTED


def test_evaluate_gate__disabled__is_false_with_rule_disabled() -> None:
    specs = ruleset(gates=(gate("g", rule("r", PUBLIC), enabled=False),))

    result = evaluate_gate(specs, user(), "g")

    assert (result.value, result.rule_id, result.rule_index) == (False, "disabled", None)


def test_evaluate_config__disabled__is_the_default_value() -> None:
    specs = ruleset(
        configs=(
            config("c", rule("r", PUBLIC, return_value={"a": 2}), default={"a": 1}, enabled=False),
        )
    )

    result = evaluate_config(specs, user(), "c")

    assert (result.json_value, result.rule_id) == ({"a": 1}, "disabled")


def test_evaluate_config__no_rule_matches__is_the_default_value_with_rule_default() -> None:
    specs = ruleset(
        configs=(config("c", rule("r", NOBODY, return_value={"a": 2}), default={"a": 1}),)
    )

    result = evaluate_config(specs, user(), "c")

    assert (result.value, result.json_value, result.rule_id, result.group_name) == (
        False,
        {"a": 1},
        "default",
        None,
    )


# -- rules and pass percentages ------------------------------------------------------------


def test_evaluate_config__matching_rule__returns_its_value_group_and_index() -> None:
    specs = ruleset(
        configs=(
            config(
                "c",
                rule("first", NOBODY),
                rule(
                    "second",
                    PUBLIC,
                    return_value={"a": 2},
                    groupName="Test",
                    isExperimentGroup=True,
                ),
                default={"a": 1},
            ),
        )
    )

    result = evaluate_config(specs, user(), "c")

    assert (result.value, result.json_value, result.rule_id) == (True, {"a": 2}, "second")
    assert (result.group_name, result.is_experiment_group, result.rule_index) == ("Test", True, 1)
    assert result.reason == Reason.RECOGNIZED


def test_evaluate_gate__first_matching_rule_fails_its_percentage__later_rules_are_not_tried() -> (
    None
):
    specs = ruleset(
        gates=(gate("g", rule("zero", PUBLIC, pass_percentage=0), rule("all", PUBLIC)),)
    )

    result = evaluate_gate(specs, user(), "g")

    assert (result.value, result.rule_id, result.rule_index) == (False, "zero", 0)


def test_evaluate_config__matching_rule_fails_its_percentage__is_the_default_value_with_its_rule_id() -> (
    None
):
    specs = ruleset(
        configs=(
            config(
                "c", rule("r", PUBLIC, pass_percentage=0, return_value={"a": 2}), default={"a": 1}
            ),
        )
    )

    result = evaluate_config(specs, user(), "c")

    assert (result.value, result.json_value, result.rule_id) == (False, {"a": 1}, "r")


def test_evaluate_gate__partial_percentage__passes_when_the_rule_hash_is_below_it() -> None:
    specs = ruleset(gates=(gate("g", rule("r", PUBLIC, pass_percentage=30)),))

    for user_id in (f"user-{n}" for n in range(200)):
        expected = bucket_hash(f"g-salt.r.{user_id}") % 10000 < 3000
        assert evaluate_gate(specs, user(userID=user_id), "g").value is expected


def test_evaluate_gate__rule_salt_present_but_empty__hashes_the_empty_salt() -> None:
    specs = ruleset(gates=(gate("g", rule("r", PUBLIC, pass_percentage=50, salt="")),))

    for user_id in (f"user-{n}" for n in range(100)):
        expected = bucket_hash(f"g-salt..{user_id}") % 10000 < 5000
        assert evaluate_gate(specs, user(userID=user_id), "g").value is expected


def test_evaluate_gate__rule_without_salt__hashes_the_rule_id() -> None:
    unsalted = {
        key: value
        for key, value in rule("rid", PUBLIC, pass_percentage=50).items()
        if key != "salt"
    }
    specs = ruleset(gates=(gate("g", unsalted),))

    for user_id in (f"user-{n}" for n in range(100)):
        expected = bucket_hash(f"g-salt.rid.{user_id}") % 10000 < 5000
        assert evaluate_gate(specs, user(userID=user_id), "g").value is expected


def test_evaluate_gate__rule_on_a_custom_id_type__hashes_that_id_or_empty() -> None:
    specs = ruleset(gates=(gate("g", rule("r", PUBLIC, pass_percentage=50, idType="companyID")),))

    for company in (f"company-{n}" for n in range(100)):
        expected = bucket_hash(f"g-salt.r.{company}") % 10000 < 5000
        assert evaluate_gate(specs, user(customIDs={"companyID": company}), "g").value is expected
    assert evaluate_gate(specs, user(), "g").value is (bucket_hash("g-salt.r.") % 10000 < 5000)


# -- secondary exposures -------------------------------------------------------------------


def test_evaluate_gate__false_condition_before_a_gate_condition__still_records_the_exposure() -> (
    None
):
    specs = ruleset(
        gates=(
            gate("on", rule("on-rule", PUBLIC)),
            gate("g", rule("r", NOBODY, condition("pass_gate", None, "on"))),
        )
    )

    result = evaluate_gate(specs, user(), "g")

    assert (result.value, result.rule_id) == (False, "default")
    assert result.secondary_exposures == [exposure("on", True, "on-rule")]


def test_evaluate_gate__nested_gates__record_exposures_innermost_first() -> None:
    specs = ruleset(
        gates=(
            gate("c", rule("c-rule", PUBLIC)),
            gate("b", rule("b-rule", condition("pass_gate", None, "c"))),
            gate("a", rule("a-rule", condition("fail_gate", None, "b"))),
        )
    )

    result = evaluate_gate(specs, user(), "a")

    assert (result.value, result.rule_id) == (False, "default")
    assert result.secondary_exposures == [
        exposure("c", True, "c-rule"),
        exposure("b", True, "b-rule"),
    ]
    assert result.undelegated_secondary_exposures == result.secondary_exposures


def test_evaluate_gate__segment_and_duplicate_exposures__are_dropped_holdouts_kept() -> None:
    specs = ruleset(
        gates=(
            gate("segment:beta", rule("seg-rule", PUBLIC), entity="segment"),
            gate("holdout", rule("hold-rule", PUBLIC, pass_percentage=0), entity="holdout"),
            gate(
                "g",
                rule(
                    "r",
                    condition("pass_gate", None, "segment:beta"),
                    condition("fail_gate", None, "holdout"),
                    condition("fail_gate", None, "holdout"),
                ),
            ),
        )
    )

    result = evaluate_gate(specs, user(), "g")

    assert (result.value, result.rule_id) == (True, "r")
    assert result.secondary_exposures == [exposure("holdout", False, "hold-rule")]


def test_evaluate_gate__unknown_nested_gate__forgets_the_exposures_collected_before_it() -> None:
    # The SDK resets its result when a nested gate is unknown; later exposures survive.
    specs = ruleset(
        gates=(
            gate("on", rule("on-rule", PUBLIC)),
            gate(
                "g",
                rule(
                    "r",
                    condition("pass_gate", None, "on"),
                    condition("fail_gate", None, "missing"),
                    condition("pass_gate", None, "on"),
                ),
            ),
        )
    )

    result = evaluate_gate(specs, user(), "g")

    assert (result.value, result.rule_id) == (True, "r")
    assert result.secondary_exposures == [
        exposure("missing", False, ""),
        exposure("on", True, "on-rule"),
    ]
    assert result.undelegated_secondary_exposures == []


def test_evaluate_gate__multi_pass_gate__stops_at_the_first_passing_gate() -> None:
    specs = ruleset(
        gates=(
            gate("off", rule("off-rule", NOBODY)),
            gate("on", rule("on-rule", PUBLIC)),
            gate("inner", rule("inner-rule", condition("pass_gate", None, "on"))),
            gate("g", rule("r", condition("multi_pass_gate", None, ["off", "inner", "on"]))),
        )
    )

    result = evaluate_gate(specs, user(), "g")

    assert (result.value, result.rule_id) == (True, "r")
    # Only the listed gates' own exposures: "inner" evaluates on its own result.
    assert result.secondary_exposures == [
        exposure("off", False, "default"),
        exposure("inner", True, "inner-rule"),
    ]


def test_evaluate_gate__multi_fail_gate__passes_when_any_gate_fails() -> None:
    specs = ruleset(
        gates=(
            gate("on", rule("on-rule", PUBLIC)),
            gate("g", rule("r", condition("multi_fail_gate", None, ["on", "missing"]))),
            gate("empty", rule("r", condition("multi_pass_gate", None, []))),
        )
    )

    assert evaluate_gate(specs, user(), "g").value is True
    assert evaluate_gate(specs, user(), "empty").rule_id == "default"


# -- errors --------------------------------------------------------------------------------


def test_evaluate_gate__bad_number_comparison__is_an_error() -> None:
    specs = ruleset(gates=(gate("g", rule("r", field("age", "gt", 18))),))

    result = evaluate_gate(specs, user(custom={"age": "abc"}), "g")

    assert (result.value, result.rule_id, result.reason, result.rule_index) == (
        False,
        "error",
        Reason.ERROR,
        None,
    )


def test_evaluate_gate__error_after_a_passing_nested_gate__keeps_the_value_it_left_like_the_sdk() -> (
    None
):
    specs = ruleset(
        gates=(
            gate("on", rule("on-rule", PUBLIC, groupName="on-group")),
            gate("g", rule("r", condition("pass_gate", None, "on"), field("age", "gt", 18))),
        )
    )

    result = evaluate_gate(specs, user(custom={"age": "abc"}), "g")

    assert (result.value, result.rule_id, result.group_name) == (True, "error", "on-group")
    assert result.secondary_exposures == [exposure("on", True, "on-rule")]


def test_evaluate_gate__error_inside_a_nested_gate__is_recorded_and_the_outer_goes_on() -> None:
    specs = ruleset(
        gates=(
            gate("broken", rule("broken-rule", field("age", "gt", 18))),
            gate("g", rule("r", condition("fail_gate", None, "broken"))),
        )
    )

    result = evaluate_gate(specs, user(custom={"age": "abc"}), "g")

    assert (result.value, result.rule_id, result.reason) == (True, "r", Reason.RECOGNIZED)
    assert result.secondary_exposures == [exposure("broken", False, "error")]


def test_evaluate_gate__gates_in_a_cycle__are_an_error() -> None:
    specs = ruleset(
        gates=(
            gate("a", rule("a-rule", condition("pass_gate", None, "b"))),
            gate("b", rule("b-rule", condition("multi_pass_gate", None, ["a"]))),
        )
    )

    result = evaluate_gate(specs, user(), "a")

    assert (result.value, result.rule_id, result.reason, result.json_value) == (
        False,
        "error",
        Reason.ERROR,
        {},
    )


# -- experiments, layers, holdouts ---------------------------------------------------------

LAYER_DEFAULTS = {"color": "grey", "size": 1}


def _experiment(*, holdout: bool = False) -> dict:
    rules = (
        [rule("holdout-rule", condition("pass_gate", None, "holdout"), return_value=LAYER_DEFAULTS)]
        if holdout
        else []
    )
    rules += [
        rule(
            "layerAssignment",
            condition(
                "user_bucket", "none", list(range(500)), additionalValues={"salt": "layer-salt"}
            ),
            return_value=LAYER_DEFAULTS,
        ),
        rule(
            "control-id",
            condition("user_bucket", "lt", 500, additionalValues={"salt": "exp-salt"}),
            return_value={"color": "blue", "size": 1},
            groupName="Control",
            isExperimentGroup=True,
        ),
        rule(
            "test-id",
            condition("user_bucket", "lt", 1000, additionalValues={"salt": "exp-salt"}),
            return_value={"color": "red", "size": 1},
            groupName="Test",
            isExperimentGroup=True,
        ),
    ]
    return config(
        "exp",
        *rules,
        default=LAYER_DEFAULTS,
        entity="experiment",
        explicitParameters=["color"],
        isActive=True,
    )


def _layer(*extra_rules: dict) -> dict:
    assignment = rule(
        "experimentAssignment",
        condition("user_bucket", "any", list(range(500)), additionalValues={"salt": "layer-salt"}),
        return_value=LAYER_DEFAULTS,
        configDelegate="exp",
    )
    return config("layer", *extra_rules, assignment, default=LAYER_DEFAULTS, entity="layer")


def _users_by_layer_bucket() -> tuple[str, str]:
    """A user allocated to the experiment (layer bucket < 500) and one who is not."""
    ids = [f"user-{n}" for n in range(100)]
    allocated = next(u for u in ids if bucket_hash(f"layer-salt.{u}") % 1000 < 500)
    outside = next(u for u in ids if bucket_hash(f"layer-salt.{u}") % 1000 >= 500)
    return allocated, outside


def test_evaluate_layer__user_in_the_experiment_buckets__gets_the_experiment_group_values() -> None:
    specs = ruleset(configs=(_experiment(),), layers=(_layer(),))
    allocated, _ = _users_by_layer_bucket()
    group = "control-id" if bucket_hash(f"exp-salt.{allocated}") % 1000 < 500 else "test-id"

    result = evaluate_layer(specs, user(userID=allocated), "layer")

    assert result.rule_id == group
    assert result.json_value == {"color": "blue" if group == "control-id" else "red", "size": 1}
    assert result.group_name == ("Control" if group == "control-id" else "Test")
    assert (result.allocated_experiment, result.explicit_parameters) == ("exp", ["color"])
    assert result.rule_index == (1 if group == "control-id" else 2)


def test_evaluate_layer__user_outside_every_experiment__gets_the_layer_defaults() -> None:
    specs = ruleset(configs=(_experiment(),), layers=(_layer(),))
    _, outside = _users_by_layer_bucket()

    result = evaluate_layer(specs, user(userID=outside), "layer")

    assert (result.json_value, result.rule_id, result.allocated_experiment) == (
        LAYER_DEFAULTS,
        "default",
        None,
    )
    assert result.explicit_parameters == []


def test_evaluate_config__experiment_for_a_user_outside_its_layer_share__is_layer_assignment() -> (
    None
):
    specs = ruleset(configs=(_experiment(),), layers=(_layer(),))
    _, outside = _users_by_layer_bucket()

    result = evaluate_config(specs, user(userID=outside), "exp")

    assert (result.rule_id, result.json_value, result.group_name) == (
        "layerAssignment",
        LAYER_DEFAULTS,
        None,
    )


def test_evaluate_layer__holdout_before_delegation__splits_undelegated_exposures() -> None:
    holdout = gate("holdout", rule("hold-rule", PUBLIC, pass_percentage=0), entity="holdout")
    layer_holdout = rule(
        "layer-holdout", condition("pass_gate", None, "holdout"), return_value=LAYER_DEFAULTS
    )
    specs = ruleset(
        gates=(holdout,), configs=(_experiment(holdout=True),), layers=(_layer(layer_holdout),)
    )
    allocated, _ = _users_by_layer_bucket()

    result = evaluate_layer(specs, user(userID=allocated), "layer")

    assert result.allocated_experiment == "exp"
    assert result.undelegated_secondary_exposures == [exposure("holdout", False, "hold-rule")]
    assert result.secondary_exposures == [exposure("holdout", False, "hold-rule")]


def test_evaluate_config__user_in_the_holdout__gets_the_defaults_with_the_holdout_rule() -> None:
    holdout = gate("holdout", rule("hold-rule", PUBLIC), entity="holdout")
    specs = ruleset(gates=(holdout,), configs=(_experiment(holdout=True),))

    result = evaluate_config(specs, user(), "exp")

    assert (result.rule_id, result.json_value, result.value) == (
        "holdout-rule",
        LAYER_DEFAULTS,
        True,
    )
    assert result.secondary_exposures == [exposure("holdout", True, "hold-rule")]


def test_evaluate_layer__delegate_to_a_missing_experiment__decides_by_the_rule_itself() -> None:
    dangling = rule("dangling", PUBLIC, return_value={"color": "green"}, configDelegate="missing")
    specs = ruleset(layers=(config("layer", dangling, default=LAYER_DEFAULTS, entity="layer"),))

    result = evaluate_layer(specs, user(), "layer")

    assert (result.rule_id, result.json_value, result.allocated_experiment) == (
        "dangling",
        {"color": "green"},
        None,
    )
