"""Evaluation of gates, configs (and experiments) and layers against a compiled ruleset.

The walk mirrors the official Python SDK (0.72.1) step for step, because answers must match it:
rules in order, every condition of a rule evaluated (no short-circuit) so that every gate
condition leaves its exposure, the first matching rule decides even when its pass percentage
fails, and a nested ``pass_gate`` evaluates into the very result being built (its exposures,
its resets and the value it leaves behind are all visible to the outer evaluation).

A standalone spec (no rule evaluates another spec) takes a shorter walk to one of the results
its compiled form holds ready (``CompiledSpec.standalone``); when that walk fails, the full walk
runs again to write the error result exactly as above. ``UserEvaluation`` hands those results
out shared, for requests that evaluate many specs for one user.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from evaluation.hashing import FIRST_8_BYTES
from evaluation.result import (
    RULE_ID_DEFAULT,
    RULE_ID_DISABLED,
    RULE_ID_ERROR,
    EvaluationResult,
    Reason,
)
from evaluation.ruleset import CompiledRule, CompiledRuleset, CompiledSpec
from evaluation.user import EvaluationUser

# A spec to evaluate: the table holding it (the ruleset's gates, configs or layers), its name, and
# the spec (``table.get(name)``, looked up by the caller).
SpecEntry = tuple[Mapping[Any, CompiledSpec], Any, "CompiledSpec | None"]

# Specs nested through pass_gate / configDelegate deeper than this are treated as a cycle. The
# SDK has no limit of its own: it runs into Python's recursion limit at about 190 levels.
MAX_DEPTH = 64


def evaluate_gate(ruleset: CompiledRuleset, user: EvaluationUser, name: str) -> EvaluationResult:
    return _evaluate_one(ruleset, user, ruleset.gates, name)


def evaluate_config(ruleset: CompiledRuleset, user: EvaluationUser, name: str) -> EvaluationResult:
    """Dynamic configs and experiments; ``json_value`` is the config's value."""
    return _evaluate_one(ruleset, user, ruleset.configs, name)


def evaluate_layer(ruleset: CompiledRuleset, user: EvaluationUser, name: str) -> EvaluationResult:
    """``json_value`` is the layer's parameters: the allocated experiment's values when
    ``allocated_experiment`` is set, else the layer defaults."""
    return _evaluate_one(ruleset, user, ruleset.layers, name)


def _evaluate_one(
    ruleset: CompiledRuleset, user: EvaluationUser, table: Mapping[Any, CompiledSpec], name: Any
) -> EvaluationResult:
    """A result of the caller's own: a standalone spec's shared result is copied."""
    spec = table.get(name)
    if spec is None or not spec.standalone:
        return _evaluate_top(ruleset, user, table, name)
    return _own_copy(UserEvaluation(ruleset, user).evaluate(table, name))


class UserEvaluation:
    """Evaluations of one user against one ruleset, for a request that evaluates many specs:
    ``gate``, ``config`` and ``layer`` answer as ``evaluate_gate`` and its siblings do, but a
    standalone spec's result is the one its compiled form holds, shared with every other
    evaluation that ends there. Treat every result as read-only. A condition that several specs
    share (equal conditions compile to one) is evaluated once, unless it reads the clock."""

    __slots__ = ("environment", "id_lists", "ruleset", "user", "values")

    def __init__(self, ruleset: CompiledRuleset, user: EvaluationUser) -> None:
        # What conditions read (see conditions.Run); a standalone spec has no gate condition.
        self.ruleset = ruleset
        self.user = user
        environment = user.statsig_environment
        self.environment = ruleset.environment if environment is None else environment
        self.id_lists = ruleset.id_lists
        # What each condition answered for this user.
        self.values: dict[Any, Any] = {}

    def gate(self, name: Any) -> EvaluationResult:
        return self.evaluate(self.ruleset.gates, name)

    def config(self, name: Any) -> EvaluationResult:
        return self.evaluate(self.ruleset.configs, name)

    def layer(self, name: Any) -> EvaluationResult:
        return self.evaluate(self.ruleset.layers, name)

    def evaluate(self, table: Mapping[Any, CompiledSpec], name: Any) -> EvaluationResult:
        """The spec ``name`` of ``table`` (the ruleset's gates, configs or layers)."""
        return self.evaluate_spec(table, name, table.get(name))

    def evaluate_spec(
        self, table: Mapping[Any, CompiledSpec], name: Any, spec: CompiledSpec | None
    ) -> EvaluationResult:
        """``evaluate`` for a caller that looked ``spec`` (``table[name]``, or None) up once
        for many users."""
        return self.evaluate_specs(((table, name, spec),))[0]

    def evaluate_specs(self, entries: Iterable[SpecEntry]) -> list[EvaluationResult]:
        """``evaluate_spec`` of each ``(table, name, spec)``, in order. One loop for a request's
        specs, which reads and encodes each unit id once: a 200-flag request spends most of its
        time here, about a microsecond per spec."""
        values = self.values
        user = self.user
        units: dict[Any, bytes] = {}
        results: list[EvaluationResult] = []
        for table, name, spec in entries:
            if spec is None or not spec.standalone:
                results.append(_evaluate_top(self.ruleset, user, table, name))
                continue
            # The walk of ``_evaluate``, ending in a result made at compile time.
            try:
                result = spec.default
                if spec.enabled:
                    for rule in spec.rules:
                        matched = True
                        for condition in rule.conditions:
                            value = values.get(condition)
                            if value is None:
                                value = condition(self)
                                if not rule.reads_clock:
                                    values[condition] = value
                            if not value:
                                matched = False
                        if matched:
                            passed = rule.fixed_pass
                            if passed is None:
                                unit = units.get(rule.unit)
                                if unit is None:
                                    unit = units[rule.unit] = (rule.unit(user) or "").encode()
                                # CompiledRule.passes, the unit read once per request.
                                hashed = rule.salted.copy()
                                hashed.update(unit)
                                passed = FIRST_8_BYTES(hashed.digest())[0] % 10000 < rule.threshold
                            result = rule.passed if passed else rule.failed
                            break
            except Exception:
                # The full walk writes the error result the SDK answers.
                result = _evaluate_top(self.ruleset, user, table, name)
            results.append(result)
        return results


def _own_copy(result: EvaluationResult) -> EvaluationResult:
    """A result the caller may keep and change: shared results are copied, lists included."""
    return EvaluationResult(
        value=result.value,
        json_value=result.json_value,
        rule_id=result.rule_id,
        group_name=result.group_name,
        is_experiment_group=result.is_experiment_group,
        secondary_exposures=list(result.secondary_exposures),
        undelegated_secondary_exposures=list(result.undelegated_secondary_exposures),
        explicit_parameters=list(result.explicit_parameters),
        allocated_experiment=result.allocated_experiment,
        id_type=result.id_type,
        reason=result.reason,
        rule_index=result.rule_index,
    )


class _Run:
    """One evaluation in progress: the result being written and how deep we are."""

    __slots__ = ("depth", "environment", "id_lists", "result", "ruleset", "user")

    def __init__(self, ruleset: CompiledRuleset, user: EvaluationUser, depth: int) -> None:
        self.ruleset = ruleset
        self.user = user
        environment = user.statsig_environment
        self.environment = ruleset.environment if environment is None else environment
        self.id_lists = ruleset.id_lists
        self.result = _new_result()
        self.depth = depth

    def gate_in_place(self, name: Any) -> bool:
        result = self.result
        try:
            _evaluate(self, self.ruleset.gates, name, nested=True)
        except RecursionError:
            raise
        except Exception:
            # The nested gate's error does not end the outer evaluation (as in the SDK): its
            # exposure says "error" and the value it left behind is used.
            _mark_error(result)
        result.secondary_exposures.append(_exposure(name, result.value, result.rule_id))
        return result.value

    def gate_apart(self, name: Any) -> bool:
        other = _evaluate_guarded(self.ruleset, self.user, self.ruleset.gates, name, self.depth)
        self.result.secondary_exposures.append(_exposure(name, other.value, other.rule_id))
        return other.value


def _evaluate_top(
    ruleset: CompiledRuleset, user: EvaluationUser, table: Mapping[Any, CompiledSpec], name: str
) -> EvaluationResult:
    try:
        result = _evaluate_guarded(ruleset, user, table, name, 0)
    except RecursionError:
        # The SDK lets a cycle exhaust the stack and answers its "nothing" default; we answer
        # an explicit error.
        result = _new_result()
        _mark_error(result)
        return result
    # The SDK's result objects turn these None into their empty forms.
    if result.json_value is None:
        result.json_value = {}
    if result.rule_id is None:
        result.rule_id = ""
    return result


def _evaluate_guarded(
    ruleset: CompiledRuleset,
    user: EvaluationUser,
    table: Mapping[Any, CompiledSpec],
    name: Any,
    depth: int,
) -> EvaluationResult:
    run = _Run(ruleset, user, depth)
    try:
        _evaluate(run, table, name, nested=False)
    except RecursionError:
        raise
    except Exception:
        # Whatever the walk wrote before the failure stays, as in the SDK.
        _mark_error(run.result)
    return run.result


def _evaluate(run: _Run, table: Mapping[Any, CompiledSpec], name: Any, *, nested: bool) -> None:
    if run.depth >= MAX_DEPTH:
        raise RecursionError(f"specs nest deeper than {MAX_DEPTH} levels at {name!r}")
    result = run.result
    spec = table.get(name)
    if spec is None:
        _reset(
            result, Reason.UNSUPPORTED if name in run.ruleset.unsupported else Reason.UNRECOGNIZED
        )
        return
    run.depth += 1
    try:
        if spec.enabled:
            for rule in spec.rules:
                matched = True
                for condition in rule.conditions:
                    if not condition(run):
                        matched = False
                result.value = matched
                if matched:
                    if rule.delegate is not None:
                        _delegate(run, rule.delegate)
                    else:
                        _finalize(result, spec, rule.passes(run.user), rule, nested=nested)
                    return
        _finalize(result, spec, False, None, nested=nested)
    finally:
        run.depth -= 1


def _delegate(run: _Run, experiment_name: str) -> None:
    result = run.result
    result.undelegated_secondary_exposures = result.secondary_exposures[:]
    _evaluate(run, run.ruleset.configs, experiment_name, nested=True)
    result.explicit_parameters = run.ruleset.configs[experiment_name].explicit_parameters
    result.allocated_experiment = experiment_name
    _clean_exposures(result)


def _finalize(
    result: EvaluationResult,
    spec: CompiledSpec,
    passed: bool,
    rule: CompiledRule | None,
    *,
    nested: bool,
) -> None:
    result.value = passed
    result.id_type = spec.id_type
    result.reason = Reason.RECOGNIZED
    if rule is None:
        result.json_value = spec.default_value
        result.rule_id = RULE_ID_DEFAULT if spec.enabled else RULE_ID_DISABLED
        result.group_name = None
        result.is_experiment_group = False
        result.rule_index = None
    else:
        result.json_value = rule.return_value if passed else spec.default_value
        result.rule_id = rule.id
        result.group_name = rule.group_name
        result.is_experiment_group = rule.is_experiment_group
        result.rule_index = rule.index
    if not nested:
        _clean_exposures(result)


def _new_result() -> EvaluationResult:
    # One list for both until a delegation or a reset separates them, as in the SDK.
    exposures: list[dict[str, str]] = []
    return EvaluationResult(
        secondary_exposures=exposures, undelegated_secondary_exposures=exposures
    )


def _reset(result: EvaluationResult, reason: Reason) -> None:
    """What the SDK does on an unknown name, even in the middle of an outer evaluation: the
    outer's exposures collected so far are forgotten too."""
    result.value = False
    result.json_value = {}
    result.rule_id = ""
    result.group_name = None
    result.is_experiment_group = False
    result.secondary_exposures = []
    result.undelegated_secondary_exposures = []
    result.explicit_parameters = []
    result.allocated_experiment = None
    result.id_type = ""
    result.reason = reason
    result.rule_index = None


def _mark_error(result: EvaluationResult) -> None:
    result.rule_id = RULE_ID_ERROR
    result.reason = Reason.ERROR
    result.rule_index = None


def _exposure(gate: Any, value: bool, rule_id: Any) -> dict[str, Any]:
    return {"gate": gate, "gateValue": "true" if value else "false", "ruleID": rule_id}


def _clean_exposures(result: EvaluationResult) -> None:
    result.secondary_exposures = _cleaned(result.secondary_exposures)
    result.undelegated_secondary_exposures = _cleaned(result.undelegated_secondary_exposures)


def _cleaned(exposures: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Without segment exposures and duplicates. The key is the SDK's joined string (not a
    tuple) so that names containing "|" collide exactly as they do there."""
    kept: list[dict[str, Any]] = []
    if not exposures:
        return kept
    seen: set[str] = set()
    for exposure in exposures:
        gate = exposure["gate"]
        if gate.startswith("segment:"):
            continue
        key = f"{gate}|{exposure['gateValue']}|{exposure['ruleID']}"
        if key not in seen:
            seen.add(key)
            kept.append(exposure)
    return kept
