"""A ``download_config_specs`` (v1) ruleset compiled for evaluation."""

from __future__ import annotations

import json
from collections.abc import Container, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

from evaluation import fields
from evaluation.conditions import SUPPORTED_TYPES, Condition, compile_condition
from evaluation.hashing import FIRST_8_BYTES, sha256
from evaluation.operators import SUPPORTED_OPERATORS
from evaluation.result import RULE_ID_DEFAULT, RULE_ID_DISABLED, EvaluationResult, Reason
from evaluation.user import EvaluationUser

IdLists = Mapping[str, Container[str]]
_NO_ID_LISTS: IdLists = MappingProxyType({})

# Condition types that evaluate another gate: a spec using one is not standalone.
_NESTING_TYPES = frozenset(("pass_gate", "fail_gate", "multi_pass_gate", "multi_fail_gate"))


@dataclass(frozen=True, slots=True)
class CompiledRule:
    index: int
    id: Any
    conditions: tuple[Condition, ...]
    return_value: Any
    group_name: Any
    is_experiment_group: bool
    # Name of the config (experiment) this rule hands the evaluation to, when that config exists.
    delegate: str | None
    # True / False when the pass percentage is 100 / 0, which need no hash.
    fixed_pass: bool | None
    # The bucket (``% 10000`` of the hash) a unit must fall under to pass.
    threshold: Any
    # SHA-256 already fed "<spec salt>.<rule salt>.": a copy of it hashes a unit id for less than
    # a new hash of the whole text. None when a salt is not a string (the SDK fails on those).
    salted: Any
    unit: fields.UnitReader
    # The top-level results of a standalone spec decided by this rule (see CompiledSpec).
    passed: EvaluationResult
    failed: EvaluationResult
    # A condition reads the clock: its value may change between two evaluations for one user.
    reads_clock: bool

    def passes(self, user: EvaluationUser) -> bool:
        if self.fixed_pass is not None:
            return self.fixed_pass
        if self.salted is None:
            raise TypeError("the spec or rule salt cannot be hashed")
        # hashing.bucket_hash of salt + unit written out (UserEvaluation.evaluate_specs has its
        # own copy of these lines, for the ~160 hashes of a 200-flag request).
        hashed = self.salted.copy()
        hashed.update((self.unit(user) or "").encode())
        return FIRST_8_BYTES(hashed.digest())[0] % 10000 < self.threshold


@dataclass(frozen=True, slots=True)
class CompiledSpec:
    """``standalone``: no rule evaluates another spec (no gate condition, no delegation), so
    every evaluation ends in one of a few results known at compile time: a rule's ``passed`` or
    ``failed``, or ``default`` when no rule decided. Those are shared: read-only."""

    enabled: bool
    rules: tuple[CompiledRule, ...]
    default_value: Any
    id_type: Any
    explicit_parameters: Any
    standalone: bool
    default: EvaluationResult


@dataclass(frozen=True, slots=True)
class CompiledRuleset:
    """Build with ``from_specs``. ``gates``, ``configs`` (dynamic configs and experiments) and
    ``layers`` hold the specs the SDK would keep; ``unsupported`` names the specs it drops
    because they use a condition type or operator it does not know."""

    time: int
    default_environment: str | None
    gates: Mapping[str, CompiledSpec]
    configs: Mapping[str, CompiledSpec]
    layers: Mapping[str, CompiledSpec]
    unsupported: frozenset[Any]
    id_lists: IdLists
    # The environment of users who bring none: {"tier": default_environment}.
    environment: Mapping[str, Any] | None

    @property
    def gate_names(self) -> tuple[str, ...]:
        return tuple(self.gates)

    @property
    def config_names(self) -> tuple[str, ...]:
        return tuple(self.configs)

    @property
    def layer_names(self) -> tuple[str, ...]:
        return tuple(self.layers)

    @classmethod
    def from_specs(
        cls, specs: Mapping[str, Any], id_lists: IdLists | None = None
    ) -> CompiledRuleset:
        """Compiles a parsed ``download_config_specs`` body. ``id_lists`` maps a list name to a
        container of id hashes (``id_list_hash``). Raises ValueError for a body the SDK would
        refuse to load (not an object, no ``time``, spec tables or rules of the wrong shape), and
        for a "no change" reply (``has_updates: false``)."""
        if not isinstance(specs, Mapping):
            raise ValueError("the ruleset must be a JSON object")
        if specs.get("has_updates") is False:
            raise ValueError("the ruleset says has_updates: false; it carries no specs")
        if specs.get("time") is None:
            raise ValueError("the ruleset has no 'time'")
        unsupported: set[Any] = set()
        raw_tables = [
            _supported_specs(specs, key, unsupported)
            for key in ("feature_gates", "dynamic_configs", "layer_configs")
        ]
        config_names = raw_tables[1].keys()
        app_id = specs.get("app_id")
        interned: dict[str, Condition] = {}
        gates, configs, layers = (
            {
                name: _compile_spec(
                    raw, app_id=app_id, config_names=config_names, interned=interned
                )
                for name, raw in table.items()
            }
            for table in raw_tables
        )
        default_environment = specs.get("default_environment")
        return cls(
            time=int(specs["time"]),
            default_environment=default_environment,
            gates=MappingProxyType(gates),
            configs=MappingProxyType(configs),
            layers=MappingProxyType(layers),
            unsupported=frozenset(unsupported),
            id_lists=_NO_ID_LISTS if id_lists is None else id_lists,
            environment=None if default_environment is None else {"tier": default_environment},
        )

    def with_id_lists(self, id_lists: IdLists) -> CompiledRuleset:
        """The same compiled specs with other id lists (the specs are shared, not copied)."""
        return replace(self, id_lists=id_lists)


def _objects(value: Any, where: str) -> list[Mapping[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        raise ValueError(f"{where} must be a list of objects")
    return value


def _supported_specs(
    specs: Mapping[str, Any], key: str, unsupported: set[Any]
) -> dict[Any, Mapping[str, Any]]:
    """The table of specs by name, later duplicates winning, without the unsupported ones."""
    table: dict[Any, Mapping[str, Any]] = {}
    for raw in _objects(specs.get(key, []), key):
        name = raw.get("name")
        if name is not None:
            table[name] = raw
        if not _is_supported(raw, key):
            unsupported.add(name)
            table.pop(name, None)
    return table


def _is_supported(raw: Mapping[str, Any], key: str) -> bool:
    where = f"{key}[{raw.get('name')!r}].rules"
    supported = True
    for index, rule in enumerate(_objects(raw.get("rules", []), where)):
        for condition in _objects(rule.get("conditions", []), f"{where}[{index}].conditions"):
            for value, known in (
                (condition.get("operator"), SUPPORTED_OPERATORS),
                (condition.get("type"), SUPPORTED_TYPES),
            ):
                if value is not None and (not isinstance(value, str) or value.lower() not in known):
                    supported = False
    return supported


def _compile_spec(
    raw: Mapping[str, Any],
    *,
    app_id: Any,
    config_names: Container[Any],
    interned: dict[str, Condition],
) -> CompiledSpec:
    spec_salt = raw.get("salt", "")
    enabled = bool(raw.get("enabled", False))
    default_value = raw.get("defaultValue", {})
    id_type = raw.get("idType", "")
    rules = tuple(
        _compile_rule(
            index,
            rule,
            spec_salt=spec_salt,
            app_id=app_id,
            config_names=config_names,
            default_value=default_value,
            id_type=id_type,
            interned=interned,
        )
        for index, rule in enumerate(raw.get("rules", []))
    )
    return CompiledSpec(
        enabled=enabled,
        rules=rules,
        default_value=default_value,
        id_type=id_type,
        explicit_parameters=raw.get("explicitParameters", []),
        standalone=all(
            rule.delegate is None and not _nests(raw_rule)
            for rule, raw_rule in zip(rules, raw.get("rules", []), strict=True)
        ),
        default=_top_level_result(
            value=False,
            json_value=default_value,
            rule_id=RULE_ID_DEFAULT if enabled else RULE_ID_DISABLED,
            group_name=None,
            is_experiment_group=False,
            id_type=id_type,
            rule_index=None,
        ),
    )


def _nests(raw_rule: Mapping[str, Any]) -> bool:
    for condition in raw_rule.get("conditions", []):
        kind = condition.get("type")
        if isinstance(kind, str) and kind.lower() in _NESTING_TYPES:
            return True
    return False


def _top_level_result(
    *,
    value: bool,
    json_value: Any,
    rule_id: Any,
    group_name: Any,
    is_experiment_group: bool,
    id_type: Any,
    rule_index: int | None,
) -> EvaluationResult:
    """What the evaluator answers at the top level when a standalone spec ends here: no
    exposures, and None turned into the empty forms as ``evaluate_gate`` does."""
    return EvaluationResult(
        value=value,
        json_value={} if json_value is None else json_value,
        rule_id="" if rule_id is None else rule_id,
        group_name=group_name,
        is_experiment_group=is_experiment_group,
        secondary_exposures=[],
        undelegated_secondary_exposures=[],
        explicit_parameters=[],
        allocated_experiment=None,
        id_type=id_type,
        reason=Reason.RECOGNIZED,
        rule_index=rule_index,
    )


def _compile_rule(
    index: int,
    raw: Mapping[str, Any],
    *,
    spec_salt: Any,
    app_id: Any,
    config_names: Container[Any],
    default_value: Any,
    id_type: Any,
    interned: dict[str, Condition],
) -> CompiledRule:
    rule_id = raw.get("id", "")
    # A present "salt" wins even when empty or null; only a missing one falls back to the id.
    rule_salt = raw.get("salt", rule_id)
    pass_percentage = raw.get("passPercentage", 0)
    delegate = raw.get("configDelegate")
    return_value = raw.get("returnValue")
    group_name = raw.get("groupName")
    is_experiment_group = raw.get("isExperimentGroup", False) is True

    def decided(passed: bool) -> EvaluationResult:
        return _top_level_result(
            value=passed,
            json_value=return_value if passed else default_value,
            rule_id=rule_id,
            group_name=group_name,
            is_experiment_group=is_experiment_group,
            id_type=id_type,
            rule_index=index,
        )

    return CompiledRule(
        index=index,
        id=rule_id,
        conditions=tuple(
            _interned_condition(condition, app_id=app_id, interned=interned)
            for condition in raw.get("conditions", [])
        ),
        return_value=return_value,
        group_name=group_name,
        is_experiment_group=is_experiment_group,
        delegate=delegate if isinstance(delegate, str) and delegate in config_names else None,
        fixed_pass=True if pass_percentage == 100 else False if pass_percentage == 0 else None,
        threshold=_threshold(pass_percentage),
        salted=_salted(spec_salt, rule_salt),
        unit=fields.unit_id(raw.get("idType", "userID")),
        passed=decided(True),
        failed=decided(False),
        reads_clock=any(
            str(condition.get("type")).lower() == "current_time"
            for condition in raw.get("conditions", [])
        ),
    )


def _threshold(pass_percentage: Any) -> Any:
    # Anything but a number is kept: comparing it with a bucket fails, as it does in the SDK.
    return pass_percentage * 100 if isinstance(pass_percentage, int | float) else pass_percentage


def _salted(spec_salt: Any, rule_salt: Any) -> Any:
    if not isinstance(spec_salt, str) or not isinstance(rule_salt, str):
        return None
    try:
        return sha256(f"{spec_salt}.{rule_salt}.".encode())
    except UnicodeEncodeError:  # a lone surrogate: the SDK fails to hash it, so do we
        return None


def _interned_condition(
    raw: Mapping[str, Any], *, app_id: Any, interned: dict[str, Condition]
) -> Condition:
    """Equal conditions (of any spec) compile to one callable, so that ``UserEvaluation``
    evaluates each of them once for its user."""
    key = json.dumps(raw, sort_keys=True, default=repr)
    condition = interned.get(key)
    if condition is None:
        condition = interned[key] = compile_condition(raw, app_id=app_id)
    return condition
