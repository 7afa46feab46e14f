"""A project's entities as Statsig's ``download_config_specs`` v1 document (reference §2.3,
§3.5–§3.8, §4.3), the document the evaluation endpoints and the official SDKs evaluate.

- Gates: override rules, then one ``pass_gate <holdout>`` rule per holdout (passPercentage 0, so
  held-out units fail), then the console rules (a launched gate: one public rule instead).
  Archived or disabled gates compile with ``enabled: false``.
- Dynamic configs: their rules with ``returnValue``; archived or disabled: ``enabled: false``.
- Experiments: ID overrides and conditional (gate/segment) overrides, holdouts, then by status:
  active -> ``layerAssignment`` (``user_bucket`` of the layer salt, or of the experiment's own
  allocation salt outside a layer, ``none`` of the buckets it owns), ``targetingGate``
  (``fail_gate``) and one cumulative ``user_bucket lt`` rule per group (experiment salt);
  setup -> ``prestart``; decision made -> ``launchedGroup`` (after the targeting gate unless it
  was removed); abandoned -> ``abandoned``; archived -> as it was decided (shipped values stay)
  or ``abandoned``. Group values are merged over the layer's defaults.
- Layers: per-experiment ID overrides and ``experimentAssignment`` rules (``user_bucket`` of the
  layer salt ``any`` of the experiment's buckets) delegating with ``configDelegate``; holdouts.
- Holdouts: a ``feature_gates`` spec with entity ``holdout`` and one public rule passing
  ``passPercentage`` percent of units.
- Contributed gate specs: what apps register with ``register_gate_specs`` (segments: specs named
  ``segment:<id>``).

Rule ``environments`` become an ``environment_field tier any [...]`` condition (from
``ruleset.conditions``): the SDK evaluates it against the user's ``statsigEnvironment.tier`` or the
document's ``default_environment``, exactly like Statsig's own per-environment rules behave, and
the document stays the same for every environment. Only condition types and operators the SDK
knows are emitted (it would drop the whole spec otherwise).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from console.models import PRODUCTION, Project
from flags.models import (
    EXPERIMENT_STATUSES_HOLDING_BUCKETS,
    ConfigStatus,
    DynamicConfig,
    Experiment,
    ExperimentStatus,
    Gate,
    GateStatus,
    Holdout,
    Layer,
)
from ruleset.conditions import compile_rule_conditions, environment_condition

LAYER_BUCKETS = 1000
SEGMENT_PREFIX = "segment:"


def _number(value: Decimal | float | int) -> float | int:
    number = float(value)
    return int(number) if number.is_integer() else number


def is_device_based(id_type: str) -> bool:
    return id_type.lower() == "stableid"


def _condition(
    type_: str,
    *,
    id_type: str,
    operator: str | None = None,
    target: Any = None,
    field: str | None = None,
    salt: str | None = None,
) -> dict[str, Any]:
    return {
        "type": type_,
        "targetValue": target,
        "operator": operator,
        "field": field,
        "additionalValues": {"salt": salt} if salt is not None else {},
        "isDeviceBased": False,
        "idType": id_type,
    }


def _public(id_type: str) -> dict[str, Any]:
    return _condition("public", id_type=id_type)


def _units(ids: list[str], unit_type: str) -> dict[str, Any]:
    return _condition("unit_id", id_type=unit_type, operator="any", target=list(ids))


def _environments(environment: str | None, id_type: str) -> list[dict[str, Any]]:
    return [] if not environment else [environment_condition([environment], id_type=id_type)]


def _rule(
    *,
    rule_id: str,
    conditions: list[dict[str, Any]],
    return_value: Any,
    id_type: str,
    pass_percentage: float | int = 100,
    salt: str | None = None,
    name: str | None = None,
    group_name: str | None = None,
    is_experiment_group: bool | None = None,
    config_delegate: str | None = None,
) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "name": name if name is not None else rule_id,
        "id": rule_id,
        "salt": salt if salt is not None else rule_id,
        "passPercentage": pass_percentage,
        "conditions": conditions,
        "returnValue": return_value,
        "idType": id_type,
        "isDeviceBased": is_device_based(id_type),
    }
    if group_name is not None:
        rule["groupName"] = group_name
    if is_experiment_group is not None:
        rule["isExperimentGroup"] = is_experiment_group
    if config_delegate is not None:
        rule["configDelegate"] = config_delegate
    return rule


def _spec(
    *,
    name: str,
    kind: str,
    entity: str,
    salt: str,
    enabled: bool,
    default_value: Any,
    rules: list[dict[str, Any]],
    id_type: str,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "name": name,
        "type": kind,
        "entity": entity,
        "salt": salt,
        "enabled": enabled,
        "defaultValue": default_value,
        "rules": rules,
        "idType": id_type,
        "isDeviceBased": is_device_based(id_type),
        **extra,
    }


# -- overrides and holdouts ---------------------------------------------------------------------


def override_rules(overrides: dict[str, Any], *, id_type: str) -> list[dict[str, Any]]:
    """Gate/holdout ``OverrideDto``: environment overrides first, then the global lists; within
    each, failing before passing (a unit in both fails)."""
    rules: list[dict[str, Any]] = []

    def add(outcome: str, ids: list[str], unit_type: str, environment: str | None) -> None:
        if not ids:
            return
        rule_id = f"override:{outcome}:{unit_type}" + (f":{environment}" if environment else "")
        rules.append(
            _rule(
                rule_id=rule_id,
                conditions=[_units(ids, unit_type), *_environments(environment, id_type)],
                return_value=True,
                id_type=id_type,
                pass_percentage=100 if outcome == "pass" else 0,
                name=f"Override ({outcome})",
            )
        )

    for item in overrides.get("environmentOverrides") or []:
        add("fail", item.get("failingIDs", []), item.get("unitID") or "userID", item["environment"])
        add("pass", item.get("passingIDs", []), item.get("unitID") or "userID", item["environment"])
    add("fail", overrides.get("failingUserIDs", []), "userID", None)
    if id_type != "userID":
        add("fail", overrides.get("failingCustomIDs", []), id_type, None)
    add("pass", overrides.get("passingUserIDs", []), "userID", None)
    if id_type != "userID":
        add("pass", overrides.get("passingCustomIDs", []), id_type, None)
    return rules


def _holdout_rules(
    holdouts: Iterable[Holdout], *, id_type: str, return_value: Any, pass_percentage: int
) -> list[dict[str, Any]]:
    return [
        _rule(
            rule_id=holdout.rule_key,
            conditions=[_condition("pass_gate", id_type=id_type, target=holdout.slug)],
            return_value=return_value,
            id_type=id_type,
            pass_percentage=pass_percentage,
            name=f"Holdout {holdout.slug}",
        )
        for holdout in sorted(holdouts, key=lambda h: h.slug)
    ]


def holdout_spec(holdout: Holdout) -> dict[str, Any]:
    percent = _number(holdout.pass_percentage)
    return _spec(
        name=holdout.slug,
        kind="feature_gate",
        entity="holdout",
        salt=holdout.salt,
        enabled=holdout.is_enabled,
        default_value=False,
        rules=[
            *override_rules(holdout.overrides or {}, id_type=holdout.id_type),
            _rule(
                rule_id=f"{holdout.rule_key}:{float(percent):.2f}:1",
                salt=holdout.rule_key,
                conditions=[_public(holdout.id_type)],
                return_value=True,
                id_type=holdout.id_type,
                pass_percentage=percent,
                name="Holdout",
            ),
        ],
        id_type=holdout.id_type,
    )


# -- gates and configs --------------------------------------------------------------------------


def _console_rule(rule: dict[str, Any], *, id_type: str, return_value: Any) -> dict[str, Any]:
    return _rule(
        rule_id=rule["id"],
        salt=rule["salt"],
        name=rule["name"],
        conditions=compile_rule_conditions(rule, id_type=id_type),
        return_value=return_value,
        id_type=id_type,
        pass_percentage=rule["passPercentage"],
        group_name=rule["name"],
    )


def gate_spec(gate: Gate) -> dict[str, Any]:
    rules = [
        *override_rules(gate.overrides or {}, id_type=gate.id_type),
        *_holdout_rules(
            gate.holdouts.all(), id_type=gate.id_type, return_value=True, pass_percentage=0
        ),
    ]
    if gate.status == GateStatus.LAUNCHED:
        rules.append(
            _rule(
                rule_id="launched",
                name="Launched",
                conditions=[_public(gate.id_type)],
                return_value=True,
                id_type=gate.id_type,
                group_name="Launched",
            )
        )
    else:
        rules.extend(_console_rule(r, id_type=gate.id_type, return_value=True) for r in gate.rules)
    return _spec(
        name=gate.slug,
        kind="feature_gate",
        entity="feature_gate",
        salt=gate.salt,
        enabled=gate.is_enabled and gate.status != GateStatus.ARCHIVED,
        default_value=False,
        rules=rules,
        id_type=gate.id_type,
    )


def config_spec(config: DynamicConfig) -> dict[str, Any]:
    return _spec(
        name=config.slug,
        kind="dynamic_config",
        entity="dynamic_config",
        salt=config.salt,
        enabled=config.is_enabled and config.status != ConfigStatus.ARCHIVED,
        default_value=config.default_value,
        rules=[
            _console_rule(r, id_type=config.id_type, return_value=r.get("returnValue", {}))
            for r in config.rules
        ],
        id_type=config.id_type,
    )


# -- experiments and layers ---------------------------------------------------------------------


def _group_value(group: dict[str, Any], layer_defaults: dict[str, Any]) -> dict[str, Any]:
    return {**layer_defaults, **group.get("parameterValues", {})}


def _override_sources(experiment: Experiment) -> list[tuple[str, list[dict], list[dict]]]:
    """(rule id prefix, id overrides, conditional overrides) of the experiment itself and of
    its layer's overrides that name it."""
    own = experiment.overrides or {}
    sources = [("", own.get("userIDOverrides") or [], own.get("overrides") or [])]
    layer = experiment.layer
    if layer is not None and layer.overrides:
        sources.append(
            (
                "layer:",
                [
                    {
                        "groupID": o["groupID"],
                        "ids": o["ids"],
                        "environment": o.get("environment"),
                        "unitType": o.get("idType"),
                    }
                    for o in layer.overrides.get("idOverrides") or []
                    if o.get("experimentName") == experiment.slug
                ],
                [
                    {"type": o["type"], "id": o["name"], "groupID": o["groupID"]}
                    for o in layer.overrides.get("conditionalOverrides") or []
                    if o.get("experimentName") == experiment.slug
                ],
            )
        )
    return sources


def experiment_override_rules(
    experiment: Experiment, *, layer_defaults: dict[str, Any], delegate: bool = False
) -> list[dict[str, Any]]:
    """ID overrides and conditional overrides (the experiment's, then its layer's). With
    ``delegate`` (in the layer's spec) they hand the evaluation to the experiment instead of
    returning the group's value."""
    id_type = experiment.id_type
    rules: list[tuple[str, dict, list[dict], str | None]] = []
    for prefix, id_overrides, conditional in _override_sources(experiment):
        for item in id_overrides:
            group = experiment.group(item["groupID"])
            if group is None or not item.get("ids"):
                continue
            unit_type = item.get("unitType") or id_type
            environment = item.get("environment")
            rule_id = f"{prefix}{group['id']}:{unit_type}:id_override" + (
                f":{environment}" if environment else ""
            )
            rules.append((rule_id, group, [_units(item["ids"], unit_type)], environment))
        for item in conditional:
            group = experiment.group(item["groupID"])
            if group is None:
                continue
            target = item["id"] if item["type"] == "gate" else f"{SEGMENT_PREFIX}{item['id']}"
            environment = item.get("environment")
            rule_id = f"{prefix}{group['id']}:{item['type']}:{item['id']}:override" + (
                f":{environment}" if environment else ""
            )
            condition = _condition("pass_gate", id_type=id_type, target=target)
            rules.append((rule_id, group, [condition], environment))
    out = []
    for rule_id, group, conditions, environment in rules:
        conditions = [*conditions, *_environments(environment, id_type)]
        if delegate:
            out.append(
                _rule(
                    rule_id=f"{experiment.slug} {rule_id}",
                    conditions=conditions,
                    return_value=layer_defaults,
                    id_type=id_type,
                    config_delegate=experiment.slug,
                )
            )
        else:
            out.append(
                _rule(
                    rule_id=rule_id,
                    conditions=conditions,
                    return_value=_group_value(group, layer_defaults),
                    id_type=id_type,
                    group_name=group["name"],
                )
            )
    return out


def _layer_assignment(experiment: Experiment, *, default: dict[str, Any]) -> dict[str, Any]:
    id_type = experiment.id_type
    if experiment.layer_id is not None:
        condition = _condition(
            "user_bucket",
            id_type=id_type,
            operator="none",
            target=sorted(experiment.buckets),
            salt=experiment.layer.salt,
        )
    elif len(experiment.buckets) >= LAYER_BUCKETS:
        condition = _condition(
            "user_bucket",
            id_type=id_type,
            operator="any",
            target=[-1],
            salt=experiment.allocation_salt,
        )
    else:
        condition = _condition(
            "user_bucket",
            id_type=id_type,
            operator="none",
            target=sorted(experiment.buckets),
            salt=experiment.allocation_salt,
        )
    return _rule(
        rule_id="layerAssignment", conditions=[condition], return_value=default, id_type=id_type
    )


def _targeting(experiment: Experiment, *, default: dict[str, Any]) -> list[dict[str, Any]]:
    if experiment.targeting_gate_id is None:
        return []
    return [
        _rule(
            rule_id="targetingGate",
            conditions=[
                _condition(
                    "fail_gate", id_type=experiment.id_type, target=experiment.targeting_gate.slug
                )
            ],
            return_value=default,
            id_type=experiment.id_type,
        )
    ]


def _group_rules(experiment: Experiment, *, layer_defaults: dict[str, Any]) -> list[dict[str, Any]]:
    rules = []
    cumulative = Decimal(0)
    for group in experiment.groups:
        cumulative += Decimal(str(group["size"])) * 10
        rules.append(
            _rule(
                rule_id=group["id"],
                name=group["name"],
                conditions=[
                    _condition(
                        "user_bucket",
                        id_type=experiment.id_type,
                        operator="lt",
                        target=int(cumulative),
                        salt=experiment.salt,
                    )
                ],
                return_value=_group_value(group, layer_defaults),
                id_type=experiment.id_type,
                pass_percentage=0 if group.get("disabled") else 100,
                group_name=group["name"],
                is_experiment_group=True,
            )
        )
    return rules


def _public_rule(rule_id: str, experiment: Experiment, value: Any, group_name: str | None = None):
    return _rule(
        rule_id=rule_id,
        conditions=[_public(experiment.id_type)],
        return_value=value,
        id_type=experiment.id_type,
        group_name=group_name,
    )


def experiment_spec(experiment: Experiment) -> dict[str, Any]:
    layer = experiment.layer
    layer_defaults = layer.default_values if layer is not None else {}
    default = dict(layer_defaults)
    rules = [
        *experiment_override_rules(experiment, layer_defaults=layer_defaults),
        *_holdout_rules(
            experiment.holdouts.all(),
            id_type=experiment.id_type,
            return_value=default,
            pass_percentage=100,
        ),
    ]
    status = experiment.status
    launched = (
        experiment.group(experiment.launched_group_id) if experiment.launched_group_id else None
    )
    if status == ExperimentStatus.ACTIVE:
        rules.append(_layer_assignment(experiment, default=default))
        rules.extend(_targeting(experiment, default=default))
        rules.extend(_group_rules(experiment, layer_defaults=layer_defaults))
    elif status == ExperimentStatus.SETUP:
        rules.append(_public_rule("prestart", experiment, default))
    elif launched is not None and status in (
        ExperimentStatus.DECISION_MADE,
        ExperimentStatus.ARCHIVED,
    ):
        rules.extend(_targeting(experiment, default=default))
        rules.append(
            _public_rule(
                "launchedGroup",
                experiment,
                _group_value(launched, layer_defaults),
                launched["name"],
            )
        )
    else:
        rules.append(_public_rule("abandoned", experiment, default))
    explicit = sorted(
        {key for group in experiment.groups for key in group.get("parameterValues", {})}
    )
    return _spec(
        name=experiment.slug,
        kind="dynamic_config",
        entity="experiment",
        salt=experiment.salt,
        enabled=True,
        default_value=default,
        rules=rules,
        id_type=experiment.id_type,
        isActive=status == ExperimentStatus.ACTIVE,
        hasSharedParams=layer is not None,
        explicitParameters=explicit if layer is not None else [],
    )


def layer_spec(layer: Layer, experiments: list[Experiment]) -> dict[str, Any]:
    defaults = layer.default_values
    rules: list[dict[str, Any]] = []
    for experiment in experiments:
        rules.extend(experiment_override_rules(experiment, layer_defaults=defaults, delegate=True))
    rules.extend(
        _holdout_rules(
            layer.holdouts.all(), id_type=layer.id_type, return_value=defaults, pass_percentage=100
        )
    )
    for experiment in experiments:
        rules.append(
            _rule(
                rule_id=f"experimentAssignment:{experiment.slug}",
                name="experimentAssignment",
                conditions=[
                    _condition(
                        "user_bucket",
                        id_type=layer.id_type,
                        operator="any",
                        target=sorted(experiment.buckets),
                        salt=layer.salt,
                    )
                ],
                return_value=defaults,
                id_type=layer.id_type,
                config_delegate=experiment.slug,
            )
        )
    return _spec(
        name=layer.slug,
        kind="dynamic_config",
        entity="layer",
        salt=layer.salt,
        enabled=True,
        default_value=defaults,
        rules=rules,
        id_type=layer.id_type,
    )


SpecSource = Callable[[Project], Iterable[dict[str, Any]]]
_gate_spec_sources: list[SpecSource] = []


def register_gate_specs(source: SpecSource) -> SpecSource:
    """Adds ``source(project) -> specs`` to the ``feature_gates`` of every compiled document.
    Apps register in ``AppConfig.ready()`` (segments contribute their ``segment:<id>`` specs)."""
    if source not in _gate_spec_sources:
        _gate_spec_sources.append(source)
    return source


def _contributed_gate_specs(project: Project) -> list[dict[str, Any]]:
    return [spec for source in _gate_spec_sources for spec in source(project)]


def compile_project(project: Project, *, time: int) -> dict[str, Any]:
    """The project's ``download_config_specs`` v1 document."""
    gates = list(Gate.objects.filter(project=project).prefetch_related("holdouts").order_by("id"))
    configs = list(DynamicConfig.objects.filter(project=project).order_by("id"))
    layers = list(Layer.objects.filter(project=project).prefetch_related("holdouts").order_by("id"))
    experiments = list(
        Experiment.objects.filter(project=project)
        .select_related("layer", "targeting_gate")
        .prefetch_related("holdouts")
        .order_by("id")
    )
    holdouts = list(Holdout.objects.filter(project=project).order_by("id"))
    in_layer: dict[int, list[Experiment]] = {layer.pk: [] for layer in layers}
    for experiment in experiments:
        if (
            experiment.layer_id is not None
            and experiment.status in EXPERIMENT_STATUSES_HOLDING_BUCKETS
        ):
            in_layer[experiment.layer_id].append(experiment)
    return {
        "feature_gates": [
            *(gate_spec(gate) for gate in gates),
            *_contributed_gate_specs(project),
            *(holdout_spec(holdout) for holdout in holdouts),
        ],
        "dynamic_configs": [
            *(config_spec(config) for config in configs),
            *(experiment_spec(experiment) for experiment in experiments),
        ],
        "layer_configs": [layer_spec(layer, in_layer[layer.pk]) for layer in layers],
        "layers": {layer.slug: [e.slug for e in in_layer[layer.pk]] for layer in layers},
        "has_updates": True,
        "time": time,
        "default_environment": PRODUCTION,
    }
