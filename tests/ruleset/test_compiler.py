"""The compiled ``download_config_specs`` document: its shape, rule order and vocabulary."""

from __future__ import annotations

from typing import Any

from console.models import Role
from evaluation.conditions import SUPPORTED_TYPES
from evaluation.operators import SUPPORTED_OPERATORS
from flags.services.configs import dynamic_config_create
from flags.services.experiments import (
    experiment_abandon,
    experiment_create,
    experiment_make_decision,
    experiment_overrides_set,
    experiment_start,
)
from flags.services.gates import gate_create
from flags.services.holdouts import holdout_create
from flags.services.layers import layer_create
from ruleset.compiler import compile_project

SPEC_KEYS = {
    "name",
    "type",
    "entity",
    "salt",
    "enabled",
    "defaultValue",
    "rules",
    "idType",
    "isDeviceBased",
}
RULE_KEYS = {
    "name",
    "id",
    "salt",
    "passPercentage",
    "conditions",
    "returnValue",
    "idType",
    "isDeviceBased",
}
CONDITION_KEYS = {
    "type",
    "targetValue",
    "operator",
    "field",
    "additionalValues",
    "isDeviceBased",
    "idType",
}


def _by_name(specs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {spec["name"]: spec for spec in specs}


def _conditions(payload: dict[str, Any]):
    for table in ("feature_gates", "dynamic_configs", "layer_configs"):
        for spec in payload[table]:
            for rule in spec["rules"]:
                yield from rule["conditions"]


def test_compile__empty_project__top_level_shape(world):
    assert compile_project(world.project, time=1234) == {
        "feature_gates": [],
        "dynamic_configs": [],
        "layer_configs": [],
        "layers": {},
        "has_updates": True,
        "time": 1234,
        "default_environment": "production",
    }


def test_compile__gate__overrides_holdouts_rules_with_environment_condition(world):
    # Given a gate with overrides, a holdout and a rule limited to staging
    actor = world.actor(Role.MEMBER)
    gate = gate_create(
        project=world.project,
        actor=actor,
        name="Checkout",
        rules=[
            {
                "name": "Staff",
                "passPercentage": 25,
                "environments": ["staging"],
                "conditions": [
                    {"type": "country", "operator": "any", "targetValue": ["DE"]},
                    {"type": "unit_id", "customID": "companyID", "operator": "is_null"},
                ],
            }
        ],
        overrides={"passingUserIDs": ["u1"], "failingUserIDs": ["u2"]},
    )
    holdout = holdout_create(
        project=world.project,
        actor=actor,
        name="Holdout",
        pass_percentage=1.5,
        gate_ids=["checkout"],
    )

    # When the project compiles
    payload = compile_project(world.project, time=1)
    specs = _by_name(payload["feature_gates"])
    spec = specs["checkout"]

    # Then the gate spec has Statsig's fields and rules in order
    assert set(spec) == SPEC_KEYS
    assert (spec["type"], spec["entity"], spec["defaultValue"], spec["salt"]) == (
        "feature_gate",
        "feature_gate",
        False,
        gate.salt,
    )
    ids = [rule["id"] for rule in spec["rules"]]
    assert ids == [
        "override:fail:userID",
        "override:pass:userID",
        holdout.rule_key,
        gate.rules[0]["id"],
    ]
    fail, passing, held, rule = spec["rules"]
    assert (fail["passPercentage"], passing["passPercentage"], held["passPercentage"]) == (
        0,
        100,
        0,
    )
    assert fail["conditions"] == [
        {
            "type": "unit_id",
            "targetValue": ["u2"],
            "operator": "any",
            "field": None,
            "additionalValues": {},
            "isDeviceBased": False,
            "idType": "userID",
        }
    ]
    assert held["conditions"][0]["type"] == "pass_gate"
    assert held["conditions"][0]["targetValue"] == "holdout"
    assert set(rule) == RULE_KEYS | {"groupName"}
    assert (rule["salt"], rule["passPercentage"], rule["returnValue"], rule["groupName"]) == (
        gate.rules[0]["salt"],
        25,
        True,
        "Staff",
    )
    assert [(c["type"], c["operator"], c["field"], c["idType"]) for c in rule["conditions"]] == [
        ("ip_based", "any", "country", "userID"),
        ("unit_id", "eq", None, "companyID"),
        ("environment_field", "any", "tier", "userID"),
    ]
    assert rule["conditions"][2]["targetValue"] == ["staging"]

    # And the holdout is a gate spec of its own
    held_spec = specs["holdout"]
    assert held_spec["entity"] == "holdout"
    assert held_spec["rules"][0]["id"] == f"{holdout.rule_key}:1.50:1"
    assert held_spec["rules"][0]["passPercentage"] == 1.5
    for condition in _conditions(payload):
        assert set(condition) == CONDITION_KEYS


def test_compile__config__rules_return_values_and_default(world):
    dynamic_config_create(
        project=world.project,
        actor=world.actor(),
        name="Pricing",
        default_value={"price": 10},
        rules=[{"name": "EU", "passPercentage": 100, "returnValue": {"price": 9}}],
    )
    spec = compile_project(world.project, time=1)["dynamic_configs"][0]
    assert (spec["type"], spec["entity"], spec["defaultValue"]) == (
        "dynamic_config",
        "dynamic_config",
        {"price": 10},
    )
    assert spec["rules"][0]["returnValue"] == {"price": 9}
    assert spec["rules"][0]["conditions"][0]["type"] == "public"


def test_compile__experiments_in_a_layer__statsig_rule_order(world):
    # Given a layer with two experiments, one with overrides, a targeting gate and a holdout
    actor = world.actor(Role.MEMBER)
    gate_create(project=world.project, actor=actor, name="Targeting")
    layer = layer_create(
        project=world.project,
        actor=actor,
        name="Checkout Layer",
        parameters=[
            {"name": "color", "type": "string", "defaultValue": "blue"},
            {"name": "steps", "type": "number", "defaultValue": 3},
        ],
    )
    experiment = experiment_create(
        project=world.project,
        actor=actor,
        name="Colors",
        layer_id=layer.slug,
        allocation=30,
        targeting_gate_id="targeting",
        groups=[
            {"name": "Control", "size": 33.3, "parameterValues": {"color": "blue"}},
            {"name": "Red", "size": 33.3, "parameterValues": {"color": "red"}},
            {"name": "Green", "size": 33.4, "parameterValues": {"color": "green"}},
        ],
    )
    experiment_start(project=world.project, actor=actor, experiment_id="colors")
    experiment_overrides_set(
        project=world.project,
        actor=actor,
        experiment_id="colors",
        overrides={"userIDOverrides": [{"groupID": "Red", "ids": ["u1"]}]},
    )
    waiting = experiment_create(
        project=world.project, actor=actor, name="Steps", layer_id=layer.slug, allocation=20
    )
    holdout = holdout_create(
        project=world.project,
        actor=actor,
        name="Holdout",
        layer_ids=[layer.slug],
        experiment_ids=["colors"],
    )
    experiment.refresh_from_db()
    waiting.refresh_from_db()

    # When the project compiles
    payload = compile_project(world.project, time=1)
    configs = _by_name(payload["dynamic_configs"])
    spec = configs["colors"]

    # Then the experiment's rules follow Statsig: overrides, holdouts, layer, targeting, groups
    groups = experiment.groups
    assert [rule["id"] for rule in spec["rules"]] == [
        f"{groups[1]['id']}:userID:id_override",
        holdout.rule_key,
        "layerAssignment",
        "targetingGate",
        *(g["id"] for g in groups),
    ]
    assert spec["entity"] == "experiment"
    assert spec["isActive"] is True
    assert spec["hasSharedParams"] is True
    assert spec["explicitParameters"] == ["color"]
    assert spec["defaultValue"] == {"color": "blue", "steps": 3}
    override, held, assignment, targeting, *group_rules = spec["rules"]
    assert override["returnValue"] == {"color": "red", "steps": 3}
    assert override["groupName"] == "Red"
    assert held["returnValue"] == spec["defaultValue"]
    assert held["passPercentage"] == 100
    assert assignment["conditions"][0] == {
        "type": "user_bucket",
        "targetValue": sorted(experiment.buckets),
        "operator": "none",
        "field": None,
        "additionalValues": {"salt": layer.salt},
        "isDeviceBased": False,
        "idType": "userID",
    }
    assert targeting["conditions"][0]["type"] == "fail_gate"
    assert targeting["conditions"][0]["targetValue"] == "targeting"
    assert [
        (r["conditions"][0]["operator"], r["conditions"][0]["targetValue"]) for r in group_rules
    ] == [
        ("lt", 333),
        ("lt", 666),
        ("lt", 1000),
    ]
    for rule, group in zip(group_rules, groups, strict=True):
        assert rule["salt"] == group["id"]
        assert rule["groupName"] == group["name"]
        assert rule["isExperimentGroup"] is True
        assert rule["conditions"][0]["additionalValues"] == {"salt": experiment.salt}
        assert rule["returnValue"] == {"color": group["parameterValues"]["color"], "steps": 3}

    # And the experiment in setup answers prestart
    assert [r["id"] for r in configs["steps"]["rules"]] == ["prestart"]
    assert configs["steps"]["isActive"] is False

    # And the layer delegates by bucket to each of its experiments
    layer_spec = payload["layer_configs"][0]
    assert layer_spec["entity"] == "layer"
    assert layer_spec["defaultValue"] == {
        "color": "blue",
        "steps": 3,
    }
    delegations = [(r["id"], r.get("configDelegate")) for r in layer_spec["rules"]]
    assert delegations == [
        ("colors " + override["id"], "colors"),
        (holdout.rule_key, None),
        ("experimentAssignment:colors", "colors"),
        ("experimentAssignment:steps", "steps"),
    ]
    assignment_rule = layer_spec["rules"][2]["conditions"][0]
    assert (assignment_rule["operator"], assignment_rule["targetValue"]) == (
        "any",
        sorted(experiment.buckets),
    )
    assert payload["layers"] == {"checkout_layer": ["colors", "steps"]}


def test_compile__experiment_outside_layer__allocation_and_lifecycle_rules(world):
    actor = world.actor(Role.MEMBER)
    full = experiment_create(project=world.project, actor=actor, name="Full")
    half = experiment_create(project=world.project, actor=actor, name="Half", allocation=50)
    experiment_create(project=world.project, actor=actor, name="Dropped")
    for slug in ("full", "half", "dropped"):
        experiment_start(project=world.project, actor=actor, experiment_id=slug)
    experiment_make_decision(
        project=world.project,
        actor=actor,
        experiment_id="full",
        group_id="Test",
        decision_reason="Won",
    )
    experiment_abandon(
        project=world.project, actor=actor, experiment_id="dropped", decision_reason="Bug"
    )

    configs = _by_name(compile_project(world.project, time=1)["dynamic_configs"])
    launched = configs["full"]["rules"][0]
    assert (launched["id"], launched["groupName"], launched["conditions"][0]["type"]) == (
        "launchedGroup",
        "Test",
        "public",
    )
    assert launched["returnValue"] == full.groups[1]["parameterValues"]
    assert configs["full"]["isActive"] is False
    assert configs["full"]["defaultValue"] == {}
    half.refresh_from_db()
    assignment = configs["half"]["rules"][0]["conditions"][0]
    assert (assignment["operator"], assignment["additionalValues"]) == (
        "none",
        {"salt": half.allocation_salt},
    )
    assert len(assignment["targetValue"]) == 500
    assert [r["id"] for r in configs["dropped"]["rules"]] == ["abandoned"]


def test_compile__every_condition__in_the_sdk_vocabulary(world):
    # Given gates using every console condition type and operator
    from ruleset.conditions import CONDITION_TYPES, Target

    actor = world.actor(Role.MEMBER)
    gate_create(project=world.project, actor=actor, name="Base")
    samples = {
        Target.LIST: ["a"],
        Target.NUMBER: 3,
        Target.VERSION: "1.2.3",
        Target.TIME: 1_700_000_000_000,
        Target.REGEX: "^a",
        Target.SCALAR: "a",
        Target.NONE: None,
    }
    index = 0
    for kind, spec in CONDITION_TYPES.items():
        if spec.reference == "segment":
            continue
        for operator, target in (spec.operators or {None: Target.NONE}).items():
            condition: dict[str, Any] = {"type": kind, "field": "f", "customID": "companyID"}
            if operator is not None:
                condition.update(operator=operator, targetValue=samples[target])
            elif spec.reference == "gate":
                condition["targetValue"] = "base"
            gate_create(
                project=world.project,
                actor=actor,
                name=f"Gate {index}",
                rules=[{"name": "r", "conditions": [condition], "environments": ["development"]}],
            )
            index += 1

    # Then the compiled document only uses types and operators the SDK keeps
    payload = compile_project(world.project, time=1)
    for condition in _conditions(payload):
        assert condition["type"] in SUPPORTED_TYPES
        assert condition["operator"] is None or condition["operator"] in SUPPORTED_OPERATORS


def test_demo_data__seeded_through_services__compiles(world):
    from flags.demo import seed_demo_data

    seed_demo_data(project=world.project, actor=world.actor(Role.MEMBER))
    payload = compile_project(world.project, time=1)
    assert {spec["name"] for spec in payload["feature_gates"]} >= {
        "internal_users",
        "new_checkout",
        "global_holdout",
    }
    assert payload["layers"] == {"checkout_layer": ["checkout_button_color"]}
