"""Differential test: entities generated through the services (every console condition type and
operator, percentages, environments, overrides, holdouts, layers, experiments in every state)
are compiled, the ``download_config_specs`` body is fed to the official ``statsig`` SDK, and for
hundreds of generated users the SDK's answers must equal ours from ``/v1/check_gate``,
``/v1/get_config`` and ``/v1/get_layer``."""

from __future__ import annotations

import json
import random
import time
from typing import Any

import pytest

from console.models import Role
from flags.services.configs import dynamic_config_create
from flags.services.experiments import (
    experiment_abandon,
    experiment_archive,
    experiment_create,
    experiment_groups_set_enabled,
    experiment_make_decision,
    experiment_overrides_set,
    experiment_start,
)
from flags.services.gates import gate_create, gate_launch
from flags.services.holdouts import holdout_create
from flags.services.layers import layer_create, layer_overrides_set
from ruleset import store as ruleset_store
from ruleset.conditions import CONDITION_TYPES, Target

statsig = pytest.importorskip("statsig")
from statsig import StatsigOptions, StatsigUser  # noqa: E402
from statsig import statsig as statsig_api  # noqa: E402

SEED = 20240601
USERS = 200
DAY_MS = 24 * 3600 * 1000

EMAIL_DOMAINS = ["example.com", "Example.COM", "test.org", "mail.net"]
IPS = ["1.1.1.1", "8.8.8.8", "81.2.69.160", "2.16.0.1", "24.48.0.1", "101.0.0.1", "5.5.5.5"]
COUNTRIES = ["US", "DE", "GB", "AU", "FR"]
USER_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.6099.109 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.1.2 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/119.0.6045.163 Mobile Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/16.6 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.61",
]
APP_VERSIONS = ["1.0.0", "2.4.0", "2.4.1-beta", "10.0", "2", "3.1.4.1", "0.9.12"]
LOCALES = ["en_US", "de_DE", "fr_FR", "EN_us"]
PLANS = ["free", "pro", "Enterprise", "PRO"]
DEVICE_MODELS = ["iPhone15,2", "Pixel 7", "SM-G991B"]
TIERS = [None, "development", "staging", "production"]
COMPANIES = [f"c{i}" for i in range(12)]

# Values a condition on each console type may target (strings the users above carry).
POOLS: dict[str, list[Any]] = {
    "user_id": [f"u{i}" for i in range(40)] + ["U1", "u1"],
    "email": [f"user{i}@{d}" for i in range(6) for d in EMAIL_DOMAINS],
    "unit_id": [*COMPANIES, "C1"],
    "app_version": APP_VERSIONS,
    "browser_name": ["Chrome", "Mobile Safari", "Firefox", "Chrome Mobile", "Safari", "Edge"],
    "browser_version": ["120.0.6099", "17.1.2", "121.0", "16.6"],
    "os_name": ["Windows", "iOS", "Linux", "Android", "Mac OS X"],
    "os_version": ["10", "17.1.2", "13", "10.15.7"],
    "country": [*COUNTRIES, "us"],
    "ip_address": IPS,
    "locale": [*LOCALES, "en_us"],
    "device_model": [*DEVICE_MODELS, "pixel 7"],
    "environment_tier": ["development", "staging", "production"],
    "target_app": ["web", "ios"],
}
SUBSTRINGS = {
    "user_id": ["u1", "U2", "3"],
    "email": ["@example.com", "user1", ".ORG", "mail"],
    "unit_id": ["c1", "C"],
    "app_version": ["2.", "beta"],
    "browser_name": ["chrome", "Safari", "fox"],
    "browser_version": ["120", "17"],
    "os_name": ["win", "OS", "ux"],
    "os_version": ["10", "17"],
    "locale": ["en", "_DE"],
    "device_model": ["iphone", "Pixel"],
}


def _list_target(rng: random.Random, kind: str, operator: str, field: str | None) -> list[Any]:
    if kind == "custom_field":
        if operator.startswith("array_"):
            return rng.sample(["a", "b", "c", "1", 2, 0], k=rng.randint(1, 3))
        pool = {"plan": [*PLANS, "pro"], "age": [17, 25, "30", 40.5], "tier": ["gold", "Gold"]}
        return rng.sample(pool.get(field, PLANS), k=2)
    if operator.startswith("str_"):
        return rng.sample(SUBSTRINGS.get(kind, ["a"]), k=min(2, len(SUBSTRINGS.get(kind, ["a"]))))
    pool = POOLS[kind]
    return rng.sample(pool, k=min(len(pool), rng.randint(1, 5)))


def _target(rng: random.Random, kind: str, operator: str, target: Target, field: str | None):
    now = int(time.time() * 1000)
    if target is Target.NONE:
        return None
    if target is Target.LIST:
        return _list_target(rng, kind, operator, field)
    if target is Target.NUMBER:
        if kind == "time":
            return rng.choice([now - DAY_MS, now + DAY_MS])
        return rng.choice([18, 30, "25", 40.5])
    if target is Target.VERSION:
        return rng.choice(["2.4.0", "1.0", "10.0.1", "17.1"])
    if target is Target.TIME:
        if kind == "time":
            return rng.choice([now - 3 * DAY_MS, now + 3 * DAY_MS, now])
        return rng.choice([1_700_000_000_000, 1_700_000_000, now])
    if target is Target.REGEX:
        return rng.choice(["^user[0-2]", r"example\.com$", "^p", "o"])
    return rng.choice(["pro", 25, True, "free"])


def _conditions_for(
    rng: random.Random, kind: str, operator: str | None, gate_ids: list[str], segments: list[str]
):
    spec = CONDITION_TYPES[kind]
    if spec.reference == "gate":
        return {"type": kind, "targetValue": rng.choice(gate_ids)}
    if spec.reference == "segment":
        return {"type": kind, "targetValue": rng.choice(segments)}
    condition: dict[str, Any] = {"type": kind}
    field = None
    if spec.needs_field:
        if operator in ("before", "after", "on"):
            field = "signup"
        elif operator and operator.startswith("version"):
            field = "client_version"
        elif operator and operator.startswith("array"):
            field = "labels"
        else:
            field = rng.choice(["plan", "age", "tier"])
        condition["field"] = field
    if spec.needs_custom_id:
        condition["customID"] = "companyID"
    if operator is not None:
        condition["operator"] = operator
        condition["targetValue"] = _target(rng, kind, operator, spec.operators[operator], field)
    return condition


def _segments(project, actor) -> list[str]:
    """An ID-list segment (compiled inline) and a rule-based one, through the segments app."""
    from segments.services import segment_create, segment_ids_add

    beta = segment_create(project=project, actor=actor, name="Beta Users", type="id_list")
    segment_ids_add(
        project=project, actor=actor, segment_id=beta.key, ids=[f"u{i}" for i in range(0, 40, 3)]
    )
    pro = segment_create(
        project=project,
        actor=actor,
        name="Pro Plans",
        type="rule_based",
        rules=[
            {
                "name": "Pro",
                "passPercentage": 100,
                "conditions": [
                    {
                        "type": "custom_field",
                        "field": "plan",
                        "operator": "any",
                        "targetValue": ["pro"],
                    }
                ],
            }
        ],
    )
    return [beta.key, pro.key]


def _build_world(project, actor, rng: random.Random) -> dict[str, list[str]]:
    segments = _segments(project, actor)
    gate_ids: list[str] = []
    base = gate_create(
        project=project,
        actor=actor,
        name="Base Gate",
        rules=[{"name": "Half", "passPercentage": 50, "conditions": []}],
    )
    gate_ids.append(base.slug)
    combos = [
        (kind, operator)
        for kind, spec in CONDITION_TYPES.items()
        for operator in (spec.operators or [None])
    ]
    for index, (kind, operator) in enumerate(combos):
        rules = []
        for rule_index in range(rng.randint(1, 3)):
            conditions = [_conditions_for(rng, kind, operator, gate_ids, segments)]
            if rng.random() < 0.3:
                extra_kind, extra_op = rng.choice(combos)
                conditions.append(_conditions_for(rng, extra_kind, extra_op, gate_ids, segments))
            rules.append(
                {
                    "name": f"Rule {rule_index}",
                    "passPercentage": rng.choice([100, 100, 50, 0, 12.5]),
                    "conditions": conditions,
                    "environments": rng.choice(
                        [None, None, None, ["development"], ["staging", "production"]]
                    ),
                }
            )
        overrides = None
        if rng.random() < 0.2:
            overrides = {
                "passingUserIDs": rng.sample(POOLS["user_id"], 3),
                "failingUserIDs": rng.sample(POOLS["user_id"], 2),
                "environmentOverrides": [
                    {
                        "environment": "staging",
                        "unitID": "userID",
                        "passingIDs": rng.sample(POOLS["user_id"], 3),
                        "failingIDs": [],
                    }
                ],
            }
        gate = gate_create(
            project=project,
            actor=actor,
            name=f"Gate {index:03d} {kind} {operator or 'none'}",
            rules=rules,
            is_enabled=rng.random() > 0.05,
            overrides=overrides,
        )
        gate_ids.append(gate.slug)
    company_gate = gate_create(
        project=project,
        actor=actor,
        name="Company Gate",
        id_type="companyID",
        rules=[{"name": "Third", "passPercentage": 33.3, "conditions": []}],
        overrides={"passingCustomIDs": ["c1"], "failingCustomIDs": ["c2"]},
    )
    gate_ids.append(company_gate.slug)
    launched = gate_create(project=project, actor=actor, name="Launched Gate", rules=[])
    gate_launch(project=project, actor=actor, gate_id=launched.slug)
    gate_ids.append(launched.slug)

    config_ids = []
    for index in range(12):
        kind, operator = rng.choice(combos)
        config = dynamic_config_create(
            project=project,
            actor=actor,
            name=f"Config {index:02d}",
            default_value={"color": "grey", "size": index},
            is_enabled=index != 5,
            rules=[
                {
                    "name": f"Config rule {r}",
                    "passPercentage": rng.choice([100, 60, 0]),
                    "conditions": [_conditions_for(rng, kind, operator, gate_ids, segments)],
                    "returnValue": {"color": rng.choice(["red", "blue"]), "size": r},
                    "environments": rng.choice([None, ["production"]]),
                }
                for r in range(rng.randint(1, 3))
            ],
        )
        config_ids.append(config.slug)

    layer = layer_create(
        project=project,
        actor=actor,
        name="Main Layer",
        parameters=[
            {"name": "color", "type": "string", "defaultValue": "blue"},
            {"name": "count", "type": "number", "defaultValue": 1},
            {"name": "on", "type": "boolean", "defaultValue": False},
        ],
    )
    company_layer = layer_create(
        project=project,
        actor=actor,
        name="Company Layer",
        id_type="companyID",
        parameters=[{"name": "limit", "type": "number", "defaultValue": 10}],
    )
    targeting = gate_ids[rng.randrange(1, len(gate_ids))]

    def groups(values: list[dict[str, Any]], sizes: list[float]):
        return [
            {"name": f"Group {i}", "size": size, "parameterValues": value}
            for i, (value, size) in enumerate(zip(values, sizes, strict=True))
        ]

    experiments = {
        "plain": {
            "groups": groups([{"v": 0}, {"v": 1}, {"v": 2}], [33.3, 33.3, 33.4]),
            "allocation": 100,
        },
        "targeted": {
            "groups": groups([{"v": "a"}, {"v": "b"}], [50, 50]),
            "allocation": 40,
            "targeting_gate_id": targeting,
        },
        "waiting": {"groups": groups([{"v": 1}, {"v": 2}], [50, 50])},
        "shipped": {"groups": groups([{"v": 1}, {"v": 2}], [20, 80]), "allocation": 70},
        "dropped": {"groups": groups([{"v": 1}, {"v": 2}], [50, 50])},
        "in_layer_a": {
            "groups": groups([{"color": "red"}, {"color": "green", "count": 3}], [50, 50]),
            "layer_id": layer.slug,
            "allocation": 30,
        },
        "in_layer_b": {
            "groups": groups([{"on": True}, {"on": False}, {"count": 7}], [25, 25, 50]),
            "layer_id": layer.slug,
            "allocation": 50,
        },
        "in_layer_shipped": {
            "groups": groups([{"color": "pink"}, {"color": "black"}], [50, 50]),
            "layer_id": layer.slug,
            "allocation": 10,
        },
        "company": {
            "groups": groups([{"limit": 20}, {"limit": 30}], [50, 50]),
            "layer_id": company_layer.slug,
            "allocation": 60,
            "id_type": "companyID",
        },
        "archived": {"groups": groups([{"v": 1}, {"v": 2}], [50, 50])},
    }
    experiment_ids = {}
    for key, options in experiments.items():
        experiment = experiment_create(
            project=project, actor=actor, name=f"Experiment {key}", **options
        )
        experiment_ids[key] = experiment.slug
        if key != "waiting":
            experiment_start(project=project, actor=actor, experiment_id=experiment.slug)
    experiment_make_decision(
        project=project,
        actor=actor,
        experiment_id=experiment_ids["shipped"],
        group_id="Group 1",
        decision_reason="It won.",
    )
    experiment_make_decision(
        project=project,
        actor=actor,
        experiment_id=experiment_ids["in_layer_shipped"],
        group_id="Group 0",
        decision_reason="It won.",
    )
    experiment_make_decision(
        project=project,
        actor=actor,
        experiment_id=experiment_ids["archived"],
        group_id="Group 0",
        decision_reason="Done.",
    )
    experiment_archive(project=project, actor=actor, experiment_id=experiment_ids["archived"])
    experiment_abandon(
        project=project,
        actor=actor,
        experiment_id=experiment_ids["dropped"],
        decision_reason="Broken.",
    )
    experiment_groups_set_enabled(
        project=project,
        actor=actor,
        experiment_id=experiment_ids["in_layer_b"],
        group_names=["Group 1"],
        enabled=False,
    )
    for key in ("plain", "in_layer_a"):
        experiment_overrides_set(
            project=project,
            actor=actor,
            experiment_id=experiment_ids[key],
            overrides={
                "overrides": [{"type": "gate", "id": gate_ids[3], "groupID": "Group 1"}],
                "userIDOverrides": [
                    {"groupID": "Group 0", "ids": rng.sample(POOLS["user_id"], 5)},
                    {
                        "groupID": "Group 1",
                        "ids": rng.sample(POOLS["user_id"], 3),
                        "environment": "development",
                    },
                ],
            },
        )
    layer_overrides_set(
        project=project,
        actor=actor,
        layer_id=layer.slug,
        overrides={
            "conditionalOverrides": [
                {
                    "type": "gate",
                    "name": gate_ids[5],
                    "experimentName": experiment_ids["in_layer_b"],
                    "groupName": "Group 2",
                }
            ],
            "idOverrides": [
                {
                    "groupName": "Group 0",
                    "ids": rng.sample(POOLS["user_id"], 6),
                    "experimentName": experiment_ids["in_layer_b"],
                },
                {
                    "groupName": "Group 1",
                    "ids": ["c1", "c3"],
                    "idType": "companyID",
                    "experimentName": experiment_ids["in_layer_a"],
                },
            ],
        },
    )
    holdout_create(
        project=project,
        actor=actor,
        name="Main Holdout",
        pass_percentage=5,
        gate_ids=rng.sample(gate_ids, 20),
        experiment_ids=[experiment_ids["plain"], experiment_ids["targeted"]],
        layer_ids=[layer.slug],
    )
    holdout_create(
        project=project,
        actor=actor,
        name="Off Holdout",
        pass_percentage=10,
        is_enabled=False,
        gate_ids=rng.sample(gate_ids, 5),
    )
    holdout_create(
        project=project,
        actor=actor,
        name="Company Holdout",
        id_type="companyID",
        pass_percentage=7.5,
        layer_ids=[company_layer.slug],
        gate_ids=[company_gate.slug],
    )
    return {
        "gates": [
            *gate_ids,
            *(f"segment:{key}" for key in segments),
            "main_holdout",
            "off_holdout",
            "company_holdout",
        ],
        "configs": config_ids + list(experiment_ids.values()),
        "layers": [layer.slug, company_layer.slug],
    }


def _user(rng: random.Random, index: int) -> dict[str, Any]:
    user: dict[str, Any] = {}
    if index % 17 != 5:
        user["userID"] = rng.choice([f"u{index}", f"u{index % 40}", f"U{index % 40}"])
    if rng.random() < 0.7:
        user["email"] = f"user{index % 6}@{rng.choice(EMAIL_DOMAINS)}"
    if rng.random() < 0.6:
        user["ip"] = rng.choice(IPS)
    if rng.random() < 0.3:
        user["country"] = rng.choice(COUNTRIES)
    if rng.random() < 0.7:
        user["userAgent"] = rng.choice(USER_AGENTS)
    if rng.random() < 0.6:
        user["appVersion"] = rng.choice(APP_VERSIONS)
    if rng.random() < 0.5:
        user["locale"] = rng.choice(LOCALES)
    custom: dict[str, Any] = {}
    for key, pool in (
        ("plan", PLANS),
        ("age", [17, 25, "30", 40.5, "abc"]),
        ("tier", ["gold", "Gold", "silver"]),
        ("signup", [1_700_000_000_000, 1_600_000_000, int(time.time() * 1000)]),
        ("client_version", ["2.4.0", "1.0-rc1", "10.0.1"]),
        ("labels", [["a"], ["b", "c"], [1, 2], [], "a"]),
        ("device_model", DEVICE_MODELS),
    ):
        if rng.random() < 0.6:
            custom[key] = rng.choice(pool)
    if custom:
        user["custom"] = custom
    if rng.random() < 0.6 or "userID" not in user:
        user["customIDs"] = {"companyID": rng.choice(COMPANIES)}
    tier = rng.choice(TIERS)
    if tier is not None:
        user["statsigEnvironment"] = {"tier": tier}
    return user


def _sdk_user(user: dict[str, Any]) -> StatsigUser:
    sdk_user = StatsigUser(
        user_id=user.get("userID"),
        email=user.get("email"),
        ip=user.get("ip"),
        user_agent=user.get("userAgent"),
        country=user.get("country"),
        locale=user.get("locale"),
        app_version=user.get("appVersion"),
        custom=user.get("custom"),
        custom_ids=user.get("customIDs"),
    )
    if "statsigEnvironment" in user:
        sdk_user._statsig_environment = user["statsigEnvironment"]
    return sdk_user


@pytest.fixture
def sdk():
    def start(specs: dict[str, Any]):
        statsig_api.initialize(
            "secret-local",
            StatsigOptions(
                local_mode=True, bootstrap_values=json.dumps(specs), disable_all_logging=True
            ),
        )
        return statsig_api

    yield start
    statsig_api.shutdown()


def test_differential__generated_entities__sdk_and_http_answers_equal(world, api, sdk):
    # Given many entities built through the services, compiled and served
    rng = random.Random(SEED)
    names = _build_world(world.project, world.actor(Role.MEMBER), rng)
    ruleset_store.rebuild(world.project.id)
    response = api.get(f"/v1/download_config_specs/{world.keys['server']}.json")
    assert response.status_code == 200
    specs = response.json()
    client = sdk(specs)
    assert len(specs["feature_gates"]) == len(names["gates"])
    key = world.keys["server"]
    no_logging = {"exposureLoggingDisabled": True}

    # When hundreds of generated users are evaluated by the SDK and by our endpoints
    mismatches: list[str] = []
    passing = 0
    rule_ids: set[str] = set()
    for index in range(USERS):
        user = _user(rng, index)
        sdk_user = _sdk_user(user)
        for start in range(0, len(names["gates"]), 100):
            batch = names["gates"][start : start + 100]
            ours = api.post(
                "/v1/check_gate",
                {"user": user, "gateNames": batch, "statsigMetadata": no_logging},
                key=key,
            ).json()
            for name, answer in zip(batch, ours, strict=True):
                theirs = client.get_feature_gate(sdk_user, name, log_exposure=False)
                expected = (theirs.value, theirs.rule_id or None, theirs.group_name)
                got = (answer["value"], answer["rule_id"], answer["group_name"])
                passing += bool(answer["value"])
                rule_ids.add(answer["rule_id"] or "")
                if expected != got:
                    mismatches.append(f"gate {name} user {user}: sdk {expected} ours {got}")
        for name in names["configs"]:
            answer = api.post(
                "/v1/get_config",
                {"user": user, "configName": name, "statsigMetadata": no_logging},
                key=key,
            ).json()
            theirs = client.get_config_with_exposure_logging_disabled(sdk_user, name)
            expected = (theirs.value, theirs.rule_id, theirs.group_name)
            got = (answer["value"], answer["rule_id"], answer["group_name"])
            rule_ids.add(answer["rule_id"] or "")
            if expected != got:
                mismatches.append(f"config {name} user {user}: sdk {expected} ours {got}")
        for name in names["layers"]:
            answer = api.post(
                "/v1/get_layer",
                {"user": user, "layerName": name, "statsigMetadata": no_logging},
                key=key,
            ).json()
            theirs = client.get_layer_with_exposure_logging_disabled(sdk_user, name)
            expected = (theirs.get_values(), theirs.rule_id, theirs.allocated_experiment)
            got = (answer["value"], answer["ruleID"], answer["allocatedExperimentName"])
            rule_ids.add(answer["ruleID"] or "")
            if expected != got:
                mismatches.append(f"layer {name} user {user}: sdk {expected} ours {got}")

    # Then every answer is the SDK's, and the answers are varied (not all defaults)
    assert mismatches == [], f"{len(mismatches)} mismatches, e.g.:\n" + "\n".join(mismatches[:10])
    assert passing > USERS
    assert {"default", "disabled", "prestart", "launchedGroup", "abandoned"} <= rule_ids
    assert {"layerAssignment", "targetingGate", "launched"} <= rule_ids
