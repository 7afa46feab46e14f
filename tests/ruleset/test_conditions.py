"""The console condition vocabulary: validation names the bad field; compilation yields only
conditions the official SDK understands."""

import pytest

from console.errors import ValidationError
from ruleset.conditions import (
    CONDITION_TYPES,
    GATE_VOCABULARY,
    SEGMENT_VOCABULARY,
    compile_rule_conditions,
    validate_rule,
    validate_rules,
)

ENVIRONMENTS = {"development", "staging", "production"}
SDK_TYPES = {
    "public", "fail_gate", "pass_gate", "ip_based", "ua_based", "user_field", "environment_field",
    "current_time", "user_bucket", "unit_id", "multi_pass_gate", "multi_fail_gate", "target_app",
}  # fmt: skip
SDK_OPERATORS = {
    "gt", "gte", "lt", "lte", "version_gt", "version_gte", "version_lt", "version_lte",
    "version_eq", "version_neq", "any", "none", "any_case_sensitive", "none_case_sensitive",
    "str_starts_with_any", "str_ends_with_any", "str_contains_any", "str_contains_none",
    "str_matches", "eq", "neq", "before", "after", "on", "in_segment_list",
    "not_in_segment_list", "array_contains_any", "array_contains_none", "array_contains_all",
    "not_array_contains_all",
}  # fmt: skip


def _errors(raw_rules, **kwargs):
    with pytest.raises(ValidationError) as caught:
        validate_rules(raw_rules, environments=ENVIRONMENTS, **kwargs)
    return {(e.property, e.message) for e in caught.value.errors}


def test_validate_rules__every_problem__named_by_field_path():
    # Given a rule with a bad type, a wrong operator and a missing target
    rules = [
        {"name": "ok", "conditions": [{"type": "public"}]},
        {
            "name": "bad",
            "passPercentage": 150,
            "conditions": [
                {"type": "nope"},
                {"type": "email", "operator": "gt", "targetValue": 3},
                {"type": "country", "operator": "any"},
                {"type": "custom_field", "operator": "any", "targetValue": ["x"]},
            ],
            "environments": ["prod"],
        },
    ]
    # When validated / Then each problem is reported at its own path
    paths = {path for path, _ in _errors(rules)}
    assert paths == {
        "rules[1].passPercentage",
        "rules[1].conditions[0].type",
        "rules[1].conditions[1].operator",
        "rules[1].conditions[2].targetValue",
        "rules[1].conditions[3].field",
        "rules[1].environments[0]",
    }


def test_validate_rules__unknown_reference__names_target_value():
    def check(kind, ref):
        return None if (kind, ref) == ("gate", "known") else f"Unknown {kind} '{ref}'."

    rules = [
        {
            "name": "r",
            "conditions": [
                {"type": "passes_gate", "targetValue": "known"},
                {"type": "fails_segment", "targetValue": "missing"},
            ],
        }
    ]
    assert _errors(rules, check_reference=check) == {
        ("rules[0].conditions[1].targetValue", "Unknown segment 'missing'.")
    }


def test_validate_rules__segment_vocabulary__refuses_public_and_gates():
    rules = [
        {
            "name": "r",
            "conditions": [
                {"type": "public"},
                {"type": "time", "operator": "after", "targetValue": 1},
            ],
        }
    ]
    paths = {p for p, _ in _errors(rules, vocabulary=SEGMENT_VOCABULARY)}
    assert paths == {"rules[0].conditions[0].type", "rules[0].conditions[1].type"}


def test_validate_rules__client_only_condition__refused_with_reason():
    errors = _errors(
        [{"name": "r", "conditions": [{"type": "url", "operator": "any", "targetValue": ["x"]}]}]
    )
    assert any("client SDKs" in message for _, message in errors)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (1700000000, 1700000000000),
        (1700000000000, 1700000000000),
        ("2024-01-01T00:00:00Z", 1704067200000),
        ("1700000000", 1700000000000),
    ],
)
def test_validate_rules__time_target__normalised_to_epoch_ms(raw, expected):
    [rule] = validate_rules(
        [{"name": "t", "conditions": [{"type": "time", "operator": "after", "targetValue": raw}]}],
        environments=ENVIRONMENTS,
    )
    assert rule["conditions"][0]["targetValue"] == expected


def test_validate_rules__scalar_list_target__wrapped_in_list():
    [rule] = validate_rules(
        [{"name": "t", "conditions": [{"type": "user_id", "operator": "any", "targetValue": 42}]}],
        environments=ENVIRONMENTS,
    )
    assert rule["conditions"][0]["targetValue"] == [42]
    assert rule["passPercentage"] == 100


def test_validate_rule__not_an_object__refused():
    with pytest.raises(ValidationError) as caught:
        validate_rule("x", environments=ENVIRONMENTS)
    assert caught.value.errors[0].property == "rule"


def _one_valid_condition(kind):
    spec = CONDITION_TYPES[kind]
    condition = {"type": kind}
    if spec.operators is not None:
        operator = next(iter(spec.operators))
        target = {
            "list": ["a"],
            "number": 1,
            "version": "1.2.3",
            "time": 1,
            "regex": "a",
            "scalar": "a",
            "none": None,
        }
        condition.update(operator=operator, targetValue=target[spec.operators[operator].value])
    elif spec.reference:
        condition["targetValue"] = "ref"
    if spec.needs_field:
        condition["field"] = "plan"
    if spec.needs_custom_id:
        condition["customID"] = "companyID"
    return condition


@pytest.mark.parametrize("kind", sorted(GATE_VOCABULARY))
def test_compile_rule_conditions__every_console_type__yields_sdk_vocabulary(kind):
    [rule] = validate_rules(
        [{"name": "r", "conditions": [_one_valid_condition(kind)], "environments": ["production"]}],
        environments=ENVIRONMENTS,
    )
    compiled = compile_rule_conditions(rule, id_type="userID")
    for condition in compiled:
        assert condition["type"] in SDK_TYPES
        assert condition["operator"] is None or condition["operator"] in SDK_OPERATORS
    assert compiled[-1]["type"] == "environment_field"
    assert compiled[-1]["targetValue"] == ["production"]


def test_compile_rule_conditions__segment_and_null_checks__mapped():
    [rule] = validate_rules(
        [
            {
                "name": "r",
                "conditions": [
                    {"type": "passes_segment", "targetValue": "beta"},
                    {"type": "unit_id", "customID": "companyID", "operator": "is_not_null"},
                ],
            }
        ],
        environments=ENVIRONMENTS,
    )
    segment, unit = compile_rule_conditions(rule, id_type="userID")
    assert (segment["type"], segment["targetValue"]) == ("pass_gate", "segment:beta")
    assert (unit["type"], unit["operator"], unit["targetValue"], unit["idType"]) == (
        "unit_id",
        "neq",
        None,
        "companyID",
    )
