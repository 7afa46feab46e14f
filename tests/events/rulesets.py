"""A small ``download_config_specs`` document with one entity of each kind the PostHog endpoints
map, and a way to serve it as a project's current ruleset.

Used where the test is about the PostHog mapping of a known ruleset; tests that compare with
``/v1/check_gate`` build their entities through the flags services instead.
"""

from __future__ import annotations

import time
from typing import Any


def _condition(type_: str, **extra: Any) -> dict[str, Any]:
    condition = {
        "type": type_,
        "targetValue": None,
        "operator": None,
        "field": None,
        "additionalValues": {},
        "isDeviceBased": False,
        "idType": "userID",
    }
    condition.update(extra)
    return condition


def _rule(
    rule_id: str, conditions: list, *, pass_percentage: float = 100, value: Any = True, **extra
):
    rule = {
        "name": rule_id,
        "id": rule_id,
        "salt": rule_id,
        "passPercentage": pass_percentage,
        "conditions": conditions,
        "returnValue": value,
        "idType": "userID",
        "isDeviceBased": False,
    }
    rule.update(extra)
    return rule


def _gate(name: str, rules: list, *, enabled: bool = True) -> dict[str, Any]:
    return {
        "name": name,
        "type": "feature_gate",
        "entity": "feature_gate",
        "salt": f"{name}-salt",
        "enabled": enabled,
        "defaultValue": False,
        "rules": rules,
        "idType": "userID",
        "isDeviceBased": False,
    }


EMPLOYEES = _rule(
    "employees",
    [
        _condition(
            "user_field", field="email", operator="str_contains_any", targetValue=["@acme.com"]
        )
    ],
)
PRO_PLAN = _rule(
    "pro_plan",
    [_condition("user_field", field="plan", operator="any", targetValue=["pro"])],
    value={"price": 10, "currency": "EUR"},
)
COMPANY = _rule(
    "acme_company",
    [_condition("unit_id", idType="companyID", operator="any", targetValue=["acme"])],
)


def payload() -> dict[str, Any]:
    experiment_bucket = {"salt": "exp-salt"}
    return {
        "time": int(time.time() * 1000),
        "has_updates": True,
        "feature_gates": [
            _gate("employees_only", [EMPLOYEES]),
            _gate(
                "nobody_rollout",
                [_rule("everyone_zero", [_condition("public")], pass_percentage=0)],
            ),
            _gate("everyone", [_rule("public_rule", [_condition("public")])]),
            _gate("switched_off", [_rule("public_rule", [_condition("public")])], enabled=False),
            _gate("acme_only", [COMPANY]),
            _gate(
                "office_ip",
                [
                    _rule(
                        "office",
                        [
                            _condition(
                                "user_field",
                                field="ip",
                                operator="any",
                                targetValue=["203.0.113.7"],
                            )
                        ],
                    )
                ],
            ),
            {**_gate("segment:beta", [_rule("s", [_condition("public")])]), "entity": "segment"},
        ],
        "dynamic_configs": [
            {
                "name": "pricing",
                "type": "dynamic_config",
                "entity": "dynamic_config",
                "salt": "pricing-salt",
                "enabled": True,
                "defaultValue": {"price": 20, "currency": "EUR"},
                "rules": [PRO_PLAN],
                "idType": "userID",
                "isDeviceBased": False,
            },
            {
                "name": "checkout_exp",
                "type": "dynamic_config",
                "entity": "experiment",
                "salt": "exp-salt",
                "enabled": True,
                "isActive": True,
                "hasSharedParams": False,
                "defaultValue": {"color": "grey"},
                "rules": [
                    _rule(
                        "targetingGate",
                        [_condition("fail_gate", targetValue="everyone")],
                        value={"color": "grey"},
                    ),
                    _rule(
                        "control_id",
                        [
                            _condition(
                                "user_bucket",
                                operator="lt",
                                targetValue=500,
                                additionalValues=experiment_bucket,
                            )
                        ],
                        value={"color": "blue"},
                        groupName="Control",
                        isExperimentGroup=True,
                    ),
                    _rule(
                        "test_id",
                        [
                            _condition(
                                "user_bucket",
                                operator="lt",
                                targetValue=1000,
                                additionalValues=experiment_bucket,
                            )
                        ],
                        value={"color": "green"},
                        groupName="Test",
                        isExperimentGroup=True,
                    ),
                ],
                "idType": "userID",
                "isDeviceBased": False,
            },
        ],
        "layer_configs": [],
        "layers": {},
    }
