"""Reads of the analysis app: metrics, and the Pulse results of an experiment or of a gate's
rule (statistics derived from the stored moments for the groups, confidence and CUPED choice
asked for)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from django.db.models import QuerySet

from analysis import computation
from analysis.models import Metric, PulseMetricResult, PulseRun
from analysis.statistics import (
    Comparison,
    GroupStats,
    Moments,
    compare,
    cuped_stats,
    cuped_theta,
    group_stats,
    srm_p_value,
)
from console.errors import NotFound, ValidationError
from console.models import Project
from flags.models import Experiment, Gate


def metric_list(*, project: Project) -> QuerySet[Metric]:
    return Metric.objects.filter(project=project)


def metric_get(*, project: Project, metric_id: str) -> Metric:
    metric = Metric.objects.filter(project=project, slug=metric_id).first()
    if metric is None:
        raise NotFound("Metric not found.")
    return metric


# -- Pulse results ------------------------------------------------------------------------------


def latest_run(*, experiment: Experiment) -> PulseRun | None:
    return PulseRun.objects.filter(experiment=experiment).order_by("-day").first()


def group_names(experiment: Experiment) -> tuple[str | None, list[str]]:
    """(control group name, the other groups' names) from the experiment's configuration."""
    names = [group["name"] for group in experiment.groups]
    control = next(
        (g["name"] for g in experiment.groups if g["id"] == experiment.control_group_id),
        names[0] if names else None,
    )
    return control, [name for name in names if name != control]


def resolve_group(experiment: Experiment, value: str, field: str) -> str:
    """A group named by its name or its id."""
    for group in experiment.groups:
        if value in (group["name"], group["id"]):
            return group["name"]
    raise ValidationError.for_field(field, f"No group '{value}' in this experiment.")


@dataclass(frozen=True)
class PulseQuery:
    control: str
    tests: list[str]
    cuped: bool
    confidence: float


def pulse_query(
    *,
    experiment: Experiment,
    control: str | None = None,
    test: str | None = None,
    cuped: bool = True,
    confidence: float | None = None,
) -> PulseQuery:
    default_control, others = group_names(experiment)
    control_name = resolve_group(experiment, control, "control") if control else default_control
    if control_name is None:
        raise ValidationError.for_field("control", "The experiment has no groups.")
    if test:
        tests = [resolve_group(experiment, test, "test")]
        if tests == [control_name]:
            raise ValidationError.for_field("test", "The test group must differ from control.")
    else:
        tests = [name for name in [default_control, *others] if name and name != control_name]
    level = float(confidence if confidence is not None else experiment.default_confidence_interval)
    if not 50 <= level < 100:
        raise ValidationError.for_field("confidence", "confidence is a percentage from 50 to 99.9.")
    return PulseQuery(control=control_name, tests=tests, cuped=cuped, confidence=level)


def _moments(result: PulseMetricResult) -> Moments:
    return Moments(**{field.name: getattr(result, field.name) for field in fields(Moments)})


def _group_output(stats: GroupStats) -> dict[str, Any]:
    return {"units": stats.units, "mean": stats.mean, "variance": stats.variance}


def _comparison_output(control: str, test: str, comparison: Comparison) -> dict[str, Any]:
    return {
        "control": control,
        "test": test,
        "absoluteDelta": comparison.absolute_delta,
        "relativeDelta": comparison.relative_delta,
        "ciLow": comparison.ci_low,
        "ciHigh": comparison.ci_high,
        "pValue": comparison.p_value,
        "cuped": comparison.cuped,
    }


def _compare(
    control: Moments, test: Moments, *, query: PulseQuery, confidence: float
) -> Comparison:
    if query.cuped:
        theta = cuped_theta([control, test])
        pooled_covariate = (control + test).covariate
        return compare(
            cuped_stats(control, theta=theta, pooled_covariate=pooled_covariate),
            cuped_stats(test, theta=theta, pooled_covariate=pooled_covariate),
            confidence=confidence,
            cuped=True,
        )
    return compare(group_stats(control), group_stats(test), confidence=confidence)


def _effective_confidence(experiment: Experiment, query: PulseQuery) -> float:
    """Bonferroni: the error rate split over the comparisons against control."""
    if experiment.bonferroni_correction and len(query.tests) > 1:
        return 100 - (100 - query.confidence) / len(query.tests)
    return query.confidence


def run_results(*, experiment: Experiment, run: PulseRun, query: PulseQuery) -> dict[str, Any]:
    """One run's results in the console API's ``pulse_results`` shape."""
    sizes = {group["name"]: float(group["size"]) for group in experiment.groups}
    return _run_output(run, query, confidence=_effective_confidence(experiment, query), sizes=sizes)


def _run_output(
    run: PulseRun, query: PulseQuery, *, confidence: float, sizes: dict[str, float]
) -> dict[str, Any]:
    """The results of a run's groups against ``query``; ``sizes`` are the expected shares of
    the groups for the sample ratio test."""
    by_metric: dict[tuple[str, str], dict[str, Moments]] = {}
    for result in run.metric_results.all():
        key = (result.metric_name, result.metric_type)
        by_metric.setdefault(key, {})[result.group_name] = _moments(result)
    metrics = []
    for (name, metric_type), groups in by_metric.items():
        control = groups.get(query.control)
        metrics.append(
            {
                "name": name,
                "type": metric_type,
                "groups": {g: _group_output(group_stats(m)) for g, m in sorted(groups.items())},
                "comparisons": [
                    _comparison_output(
                        query.control,
                        test,
                        _compare(
                            control,
                            groups[test],
                            query=query,
                            confidence=confidence,
                        ),
                    )
                    for test in query.tests
                    if control is not None and test in groups
                ],
            }
        )
    return {
        "computedAt": int(run.computed_at.timestamp() * 1000),
        "exposures": dict(run.exposures),
        "srm": {"pValue": srm_p_value(run.exposures, sizes)},
        "metrics": metrics,
    }


def pulse_results(*, experiment: Experiment, query: PulseQuery) -> dict[str, Any] | None:
    run = latest_run(experiment=experiment)
    if run is None:
        return None
    return run_results(experiment=experiment, run=run, query=query)


def pulse_history(
    *, experiment: Experiment, query: PulseQuery, days: int = 60
) -> list[dict[str, Any]]:
    """The results of each day's run, oldest first (the lift chart)."""
    runs = PulseRun.objects.filter(experiment=experiment).order_by("-day")[:days]
    return [
        {"day": run.day, **run_results(experiment=experiment, run=run, query=query)}
        for run in reversed(list(runs.prefetch_related("metric_results")))
    ]


# -- Pulse results of gate rules ----------------------------------------------------------------

# A gate rule's groups: the units it passed are compared with those it failed.
GATE_CONTROL = computation.GATE_FAIL
GATE_TEST = computation.GATE_PASS
GATE_DEFAULT_CONFIDENCE = 95.0


def gate_rule_get(*, gate: Gate, rule_id: str) -> dict[str, Any]:
    rule = next((rule for rule in gate.rules if rule.get("id") == rule_id), None)
    if rule is None:
        raise ValidationError.for_field("ruleID", f"No rule '{rule_id}' in this gate.")
    return rule


def gate_pulse_query(*, cuped: bool = True, confidence: float | None = None) -> PulseQuery:
    level = float(confidence if confidence is not None else GATE_DEFAULT_CONFIDENCE)
    if not 50 <= level < 100:
        raise ValidationError.for_field("confidence", "confidence is a percentage from 50 to 99.9.")
    return PulseQuery(control=GATE_CONTROL, tests=[GATE_TEST], cuped=cuped, confidence=level)


def _gate_rule_results(run: PulseRun, rule: dict[str, Any], query: PulseQuery) -> dict[str, Any]:
    passed = float(rule.get("passPercentage", 100))
    return _run_output(
        run,
        query,
        confidence=query.confidence,
        sizes={GATE_TEST: passed, GATE_CONTROL: 100 - passed},
    )


def gate_latest_run(*, gate: Gate, rule_id: str) -> PulseRun | None:
    return PulseRun.objects.filter(gate=gate, rule_id=rule_id).order_by("-day").first()


def gate_pulse_results(*, gate: Gate, rule_id: str, query: PulseQuery) -> dict[str, Any] | None:
    """The latest results of the gate's rule (``ruleID`` refused when the gate has no such
    rule); None before the first computation."""
    rule = gate_rule_get(gate=gate, rule_id=rule_id)
    run = gate_latest_run(gate=gate, rule_id=rule_id)
    if run is None:
        return None
    return _gate_rule_results(run, rule, query)


def gate_pulse_history(
    *, gate: Gate, rule_id: str, query: PulseQuery, days: int = 60
) -> list[dict[str, Any]]:
    """The results of each day's run of the rule, oldest first (the lift chart)."""
    rule = gate_rule_get(gate=gate, rule_id=rule_id)
    runs = PulseRun.objects.filter(gate=gate, rule_id=rule_id).order_by("-day")[:days]
    return [
        {"day": run.day, **_gate_rule_results(run, rule, query)}
        for run in reversed(list(runs.prefetch_related("metric_results")))
    ]
