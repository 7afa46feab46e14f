"""Segments in the SDK ruleset: the specs ``segment_specs`` emits, evaluated by our evaluator
and, differentially, by the unmodified ``statsig`` SDK."""

from __future__ import annotations

import json
import time

import pytest

from segments import services
from segments.idlists import id_lists_for_project
from segments.models import SegmentType
from segments.ruleset import INLINE_ID_LIMIT, segment_specs

RULE = {
    "name": "Staff",
    "passPercentage": 100,
    "conditions": [
        {"type": "email", "operator": "str_ends_with_any", "targetValue": ["@example.com"]}
    ],
}


def _gate(name: str, segment_id: str, kind: str = "pass_gate") -> dict:
    """A gate whose one rule targets a segment, compiled as the flags compiler does."""
    return {
        "name": name,
        "type": "feature_gate",
        "entity": "feature_gate",
        "salt": f"{name}-salt",
        "enabled": True,
        "defaultValue": False,
        "idType": "userID",
        "isDeviceBased": False,
        "rules": [
            {
                "name": "segment",
                "id": f"{name}-rule",
                "salt": f"{name}-rule",
                "passPercentage": 100,
                "returnValue": True,
                "idType": "userID",
                "isDeviceBased": False,
                "conditions": [
                    {
                        "type": kind,
                        "targetValue": f"segment:{segment_id}",
                        "operator": None,
                        "field": None,
                        "additionalValues": {},
                        "isDeviceBased": False,
                        "idType": "userID",
                    }
                ],
            }
        ],
    }


@pytest.fixture
def segments_world(world):
    actor = world.actor()
    project = world.project
    services.segment_create(
        project=project, actor=actor, name="Employees", type=SegmentType.RULE_BASED, rules=[RULE]
    )
    services.segment_create(project=project, actor=actor, name="Small list", type="id_list")
    services.segment_ids_add(
        project=project, actor=actor, segment_id="small_list", ids=["u2", "u1", "U3"]
    )
    services.segment_create(project=project, actor=actor, name="Big list", type="id_list")
    services.segment_ids_add(
        project=project,
        actor=actor,
        segment_id="big_list",
        ids=[f"member-{n}" for n in range(INLINE_ID_LIMIT + 1)],
    )
    services.segment_create(project=project, actor=actor, name="Analysis", type="analysis_list")
    services.segment_create(
        project=project, actor=actor, name="Companies", type="id_list", id_type="companyID"
    )
    services.segment_ids_add(project=project, actor=actor, segment_id="companies", ids=["c1"])
    return world


def test_specs__each_kind__sdk_shapes(segments_world):
    specs = {spec["name"]: spec for spec in segment_specs(project=segments_world.project)}
    assert sorted(specs) == [
        "segment:big_list",
        "segment:companies",
        "segment:employees",
        "segment:small_list",
    ]
    employees = specs["segment:employees"]
    assert employees["entity"] == "segment"
    assert employees["type"] == "feature_gate"
    assert employees["enabled"] is True
    assert employees["defaultValue"] is False
    rule = employees["rules"][0]
    assert rule["passPercentage"] == 100
    assert rule["returnValue"] is True
    assert rule["conditions"][0] == {
        "type": "user_field",
        "targetValue": ["@example.com"],
        "operator": "str_ends_with_any",
        "field": "email",
        "additionalValues": {},
        "isDeviceBased": False,
        "idType": "userID",
    }
    small = specs["segment:small_list"]["rules"][0]["conditions"][0]
    assert small["operator"] == "any_case_sensitive"
    assert small["targetValue"] == ["U3", "u1", "u2"]
    big = specs["segment:big_list"]["rules"][0]["conditions"][0]
    assert big["type"] == "unit_id"
    assert big["operator"] == "in_segment_list"
    assert big["targetValue"] == "big_list"
    assert specs["segment:companies"]["rules"][0]["conditions"][0]["idType"] == "companyID"


def test_specs__list_grows_past_inline_limit__switches_to_list(world, monkeypatch):
    monkeypatch.setattr("segments.ruleset.INLINE_ID_LIMIT", 2)
    actor = world.actor()
    services.segment_create(project=world.project, actor=actor, name="Grows", type="id_list")
    services.segment_ids_add(project=world.project, actor=actor, segment_id="grows", ids=["a", "b"])
    (spec,) = segment_specs(project=world.project)
    assert spec["rules"][0]["conditions"][0]["operator"] == "any_case_sensitive"
    services.segment_ids_add(project=world.project, actor=actor, segment_id="grows", ids=["c"])
    (spec,) = segment_specs(project=world.project)
    assert spec["rules"][0]["conditions"][0]["operator"] == "in_segment_list"


def _payload(project) -> dict:
    gates = [
        _gate("employees_gate", "employees"),
        _gate("small_gate", "small_list"),
        _gate("big_gate", "big_list"),
        _gate("not_big_gate", "big_list", kind="fail_gate"),
        _gate("companies_gate", "companies"),
    ]
    return {
        "time": int(time.time() * 1000),
        "has_updates": True,
        "feature_gates": [*segment_specs(project=project), *gates],
        "dynamic_configs": [],
        "layer_configs": [],
    }


USERS = [
    {"userID": "u1", "email": "a@example.com"},
    {"userID": "U1", "email": "a@other.com"},
    {"userID": "U3"},
    {"userID": "member-7"},
    {"userID": "member-7 "},
    {"userID": "x", "customIDs": {"companyID": "c1"}},
    {"userID": "y", "customIDs": {"companyID": "c2"}},
]
EXPECTED = {
    # user index -> gates that pass
    0: {"employees_gate", "small_gate", "not_big_gate"},
    1: {"not_big_gate"},
    2: {"small_gate", "not_big_gate"},
    3: {"big_gate"},
    4: {"not_big_gate"},
    5: {"not_big_gate", "companies_gate"},
    6: {"not_big_gate"},
}
GATES = ["employees_gate", "small_gate", "big_gate", "not_big_gate", "companies_gate"]


def test_evaluation__our_evaluator__members_pass(segments_world):
    from evaluation import CompiledRuleset, EvaluationUser, evaluate_gate

    project = segments_world.project
    ruleset = CompiledRuleset.from_specs(_payload(project), id_lists_for_project(project.pk))
    for index, user in enumerate(USERS):
        passing = {
            gate
            for gate in GATES
            if evaluate_gate(ruleset, EvaluationUser.from_dict(user), gate).value
        }
        assert passing == EXPECTED[index], user


def test_evaluation__official_sdk__agrees_on_rule_and_inline_segments(segments_world):
    """Differential: the unmodified SDK (local mode, bootstrapped with our specs) answers as
    our evaluator for rule-based and inline segments (ID-list files need the live test)."""
    from statsig import StatsigOptions, StatsigUser
    from statsig import statsig as sdk

    from evaluation import CompiledRuleset, EvaluationUser, evaluate_gate

    payload = _payload(segments_world.project)
    ours = CompiledRuleset.from_specs(payload, {})
    sdk.initialize(
        "secret-local",
        StatsigOptions(
            local_mode=True, bootstrap_values=json.dumps(payload), disable_all_logging=True
        ),
    )
    try:
        for user in USERS:
            for gate in ("employees_gate", "small_gate", "companies_gate"):
                sdk_user = StatsigUser(
                    user_id=user["userID"],
                    email=user.get("email"),
                    custom_ids=user.get("customIDs"),
                )
                expected = evaluate_gate(ours, EvaluationUser.from_dict(user), gate).value
                assert sdk.check_gate(sdk_user, gate) is expected, (user, gate)
    finally:
        sdk.shutdown()
