"""Small builders for hand-written ``download_config_specs`` fixtures in the unit tests."""

from __future__ import annotations

from typing import Any

from evaluation import CompiledRuleset, EvaluationUser


def condition(
    type_: str, operator: str | None = None, target: Any = None, **extra: Any
) -> dict[str, Any]:
    return {
        "type": type_,
        "operator": operator,
        "targetValue": target,
        "field": extra.pop("field", None),
        "additionalValues": extra.pop("additionalValues", {}),
        "isDeviceBased": False,
        "idType": extra.pop("idType", "userID"),
        **extra,
    }


def field(name: str, operator: str, target: Any) -> dict[str, Any]:
    return condition("user_field", operator, target, field=name)


PUBLIC = condition("public")


def rule(
    rule_id: str,
    *conditions: dict[str, Any],
    pass_percentage: float = 100,
    return_value: Any = True,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "name": rule_id,
        "id": rule_id,
        "salt": rule_id,
        "passPercentage": pass_percentage,
        "conditions": list(conditions),
        "returnValue": return_value,
        "idType": "userID",
        "isDeviceBased": False,
        **extra,
    }


def gate(name: str, *rules: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "type": "feature_gate",
        "entity": "feature_gate",
        "salt": f"{name}-salt",
        "enabled": True,
        "defaultValue": False,
        "rules": list(rules),
        "isDeviceBased": False,
        "idType": "userID",
        **extra,
    }


def config(
    name: str, *rules: dict[str, Any], default: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        **gate(name, *rules),
        "type": "dynamic_config",
        "entity": "dynamic_config",
        "defaultValue": {} if default is None else default,
        **extra,
    }


def ruleset(
    *,
    gates: tuple[dict[str, Any], ...] = (),
    configs: tuple[dict[str, Any], ...] = (),
    layers: tuple[dict[str, Any], ...] = (),
    id_lists: dict[str, set[str]] | None = None,
    **extra: Any,
) -> CompiledRuleset:
    specs = {
        "time": 1_700_000_000_000,
        "feature_gates": list(gates),
        "dynamic_configs": list(configs),
        "layer_configs": list(layers),
        **extra,
    }
    return CompiledRuleset.from_specs(specs, id_lists=id_lists)


def user(**data: Any) -> EvaluationUser:
    data.setdefault("userID", "user-1")
    return EvaluationUser.from_dict(data)
