"""The project every SDK test evaluates, built through the services: one gate per console
condition type, an ID-list segment of 1,500 ids (above the inline limit, so server SDKs download
it as an ID list), a rule-based segment, a dynamic config, an experiment of its own and one in a
layer; and the users the SDKs evaluate it for."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from console.models import Role
from flags.services.configs import dynamic_config_create
from flags.services.experiments import experiment_create, experiment_start
from flags.services.gates import gate_create
from flags.services.layers import layer_create
from ruleset.conditions import CONDITION_TYPES
from segments.services import segment_create, segment_ids_add
from tests.user_agents import CHROME_ADG, CHROME_WINDOWS, EDGE_MAC, FIREFOX_LINUX, SAFARI_IPHONE

SEGMENT_IDS = [f"member-{n}" for n in range(1500)]
DAY_MS = 24 * 3600 * 1000

USER_AGENTS = [CHROME_WINDOWS, CHROME_ADG, SAFARI_IPHONE, FIREFOX_LINUX, EDGE_MAC]


def _one_condition_rules(condition: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"name": "Rule", "passPercentage": 100, "conditions": [condition]}]


def _conditions(now_ms: int) -> dict[str, dict[str, Any]]:
    """One condition per console condition type, each true for some of ``USERS``."""
    return {
        "public": {"type": "public"},
        "user_id": {"type": "user_id", "operator": "any", "targetValue": ["u1", "u3", "u5"]},
        "email": {
            "type": "email",
            "operator": "str_contains_any",
            "targetValue": ["@example.com"],
        },
        "custom_field": {
            "type": "custom_field",
            "field": "plan",
            "operator": "any",
            "targetValue": ["pro"],
        },
        "unit_id": {
            "type": "unit_id",
            "customID": "companyID",
            "operator": "any",
            "targetValue": ["c1", "c2"],
        },
        "app_version": {"type": "app_version", "operator": "version_gte", "targetValue": "2.0.0"},
        "browser_name": {"type": "browser_name", "operator": "any", "targetValue": ["Chrome"]},
        "browser_version": {
            "type": "browser_version",
            "operator": "version_gte",
            "targetValue": "110",
        },
        "os_name": {"type": "os_name", "operator": "any", "targetValue": ["Windows", "iOS"]},
        "os_version": {"type": "os_version", "operator": "version_gte", "targetValue": "17"},
        "country": {"type": "country", "operator": "any", "targetValue": ["US", "DE"]},
        "ip_address": {"type": "ip_address", "operator": "any", "targetValue": ["8.8.8.8"]},
        "locale": {"type": "locale", "operator": "any", "targetValue": ["en_US"]},
        "device_model": {"type": "device_model", "operator": "any", "targetValue": ["Pixel 7"]},
        "environment_tier": {
            "type": "environment_tier",
            "operator": "any",
            "targetValue": ["staging"],
        },
        "time": {"type": "time", "operator": "after", "targetValue": now_ms - DAY_MS},
        "passes_gate": {"type": "passes_gate", "targetValue": "user_id"},
        "fails_gate": {"type": "fails_gate", "targetValue": "email"},
        "passes_segment": {"type": "passes_segment", "targetValue": "big_list"},
        "fails_segment": {"type": "fails_segment", "targetValue": "pro_plans"},
        "target_app": {"type": "target_app", "operator": "any", "targetValue": ["web"]},
    }


@dataclass(frozen=True)
class SdkWorld:
    gates: list[str]
    configs: list[str]
    experiments: list[str]
    layers: list[str]


def build_sdk_world(world) -> SdkWorld:
    """Gates named after their condition type (``user_id``, ``passes_segment``, ...), a
    half-percentage gate ``half``, the config ``pricing``, the experiments ``checkout`` (its own)
    and ``banner`` (in the layer ``homepage``)."""
    project, actor = world.project, world.actor(Role.ADMIN)
    segment_create(project=project, actor=actor, name="Big list", type="id_list")
    segment_ids_add(project=project, actor=actor, segment_id="big_list", ids=SEGMENT_IDS)
    segment_create(
        project=project,
        actor=actor,
        name="Pro plans",
        type="rule_based",
        rules=_one_condition_rules(_conditions(0)["custom_field"]),
    )
    conditions = _conditions(int(time.time() * 1000))
    assert set(conditions) == set(CONDITION_TYPES)
    gates = []
    for kind, condition in conditions.items():
        gate_create(project=project, actor=actor, name=kind, rules=_one_condition_rules(condition))
        gates.append(kind)
    gate_create(
        project=project,
        actor=actor,
        name="half",
        rules=[{"name": "Half", "passPercentage": 50, "conditions": []}],
    )
    gates.append("half")
    dynamic_config_create(
        project=project,
        actor=actor,
        name="pricing",
        default_value={"price": 5, "currency": "USD"},
        rules=[
            {
                "name": "Europe",
                "passPercentage": 100,
                "conditions": [conditions["country"]],
                "returnValue": {"price": 4, "currency": "EUR"},
            }
        ],
    )
    layer_create(
        project=project,
        actor=actor,
        name="homepage",
        parameters=[
            {"name": "color", "type": "string", "defaultValue": "blue"},
            {"name": "count", "type": "number", "defaultValue": 1},
        ],
    )
    experiments = {
        "checkout": {
            "groups": [
                {"name": "Control", "size": 50, "parameterValues": {"button": "grey"}},
                {"name": "Test", "size": 50, "parameterValues": {"button": "green"}},
            ],
            "allocation": 100,
        },
        "banner": {
            "groups": [
                {"name": "Control", "size": 50, "parameterValues": {"color": "red"}},
                {"name": "Test", "size": 50, "parameterValues": {"color": "green", "count": 3}},
            ],
            "layer_id": "homepage",
            "allocation": 60,
        },
    }
    for name, options in experiments.items():
        experiment_create(project=project, actor=actor, name=name, **options)
        experiment_start(project=project, actor=actor, experiment_id=name)
    return SdkWorld(
        gates=gates, configs=["pricing"], experiments=list(experiments), layers=["homepage"]
    )


def sdk_users() -> list[dict[str, Any]]:
    """Users that pass and fail each condition: members of the big segment, every user agent,
    countries by IP and by field, environments, company ids."""
    users: list[dict[str, Any]] = []
    ips = ["8.8.8.8", "81.2.69.160", "2.16.0.1", "1.1.1.1"]
    for index in range(24):
        user: dict[str, Any] = {
            "userID": f"member-{index * 61}" if index % 3 == 0 else f"u{index}",
            "userAgent": USER_AGENTS[index % len(USER_AGENTS)],
            "ip": ips[index % len(ips)],
            "customIDs": {"companyID": f"c{index % 4}"},
            "custom": {"plan": "pro" if index % 4 == 1 else "free", "device_model": "Pixel 7"},
        }
        if index % 2:
            user["email"] = f"person{index}@example.com"
        if index % 5 == 0:
            user["country"] = "DE"
        if index % 3 == 1:
            user["appVersion"] = f"{index % 4}.1.0"
        if index % 4 == 2:
            user["locale"] = "en_US"
        if index % 6 == 3:
            user["statsigEnvironment"] = {"tier": "staging"}
        users.append(user)
    users.append({"userID": "member-1499"})
    users.append({"userID": "u1", "email": "u1@example.com"})
    return users
