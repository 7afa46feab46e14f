"""Pulse runs of gates: per rule with a partial rollout, the units it passed (the test group,
``pass``) against those it failed (the control, ``fail``), through the same computation as
experiments (``gate_pulse_compute``, queued by ``gate_pulse_request`` and by the daily job)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import transaction

from analysis import computation
from analysis.models import Metric
from analysis.services.pulse import named_metrics, store_run, unit_moments
from console.actors import Actor
from console.errors import PermissionDenied, ValidationError
from console.models import Project, Role
from flags.models import Gate, GateStatus
from flags.selectors import gate_get

logger = logging.getLogger(__name__)

GATE_PULSE_TASK = "analysis.tasks.compute_gate_pulse"


def has_rollout(rule: dict[str, Any]) -> bool:
    """A rule passing some of its units and failing the others: the two groups compared."""
    return 0 < float(rule.get("passPercentage", 100)) < 100


def rollout_rules(gate: Gate) -> list[dict[str, Any]]:
    return [rule for rule in gate.rules if has_rollout(rule)]


def gate_metrics(gate: Gate, requested: list[str] | None = None) -> list[Metric]:
    """The metrics a gate's results measure: those ``requested`` (metric ids ``name::type``, or
    names, which take every type of that name), else the gate's ``monitoringMetrics``, else
    every metric of the project (Statsig measures a gate's lifts on all metrics)."""
    metrics = Metric.objects.filter(project_id=gate.project_id)
    if requested:
        chosen: dict[str, Metric] = {}
        for index, value in enumerate(requested):
            found = [m for m in metrics if value in (m.slug, m.name)]
            if not found:
                raise ValidationError.for_field(
                    "metrics", f"metrics[{index}]: no metric '{value}' in this project."
                )
            chosen.update((m.slug, m) for m in found)
        return list(chosen.values())
    monitored = gate.settings.get("monitoringMetrics", [])
    if monitored:
        return named_metrics(gate.project_id, monitored)
    return list(metrics)


@transaction.atomic
def gate_pulse_compute(
    *, gate: Gate, rule_id: str, metrics: list[Metric], now: datetime | None = None
) -> None:
    """Aggregates the rule's exposures and the events up to ``now`` into today's run."""
    now = now or datetime.now(UTC)
    computation.use_work_mem(settings.PULSE_WORK_MEM)
    units = computation.build_gate_rule_units(
        project_id=gate.project_id, gate=gate.slug, rule_id=rule_id, id_type=gate.id_type
    )
    moments = unit_moments(
        project_id=gate.project_id, id_type=gate.id_type, units=units, metrics=metrics, until=now
    )
    store_run(
        keys={"gate": gate, "rule_id": rule_id},
        units=units,
        metrics=metrics,
        moments=moments,
        now=now,
    )
    logger.info(
        "pulse computed gate=%s rule=%s units=%s excluded=%s metrics=%s",
        gate.pk,
        rule_id,
        sum(units.exposures.values()),
        units.excluded_units,
        len(metrics),
    )


def gate_pulse_compute_rules(*, gate: Gate, metric_ids: list[str] | None = None) -> int:
    """Today's run of every rule of the gate with a partial rollout; how many were computed."""
    rules = rollout_rules(gate)
    metrics = gate_metrics(gate, metric_ids)
    for rule in rules:
        gate_pulse_compute(gate=gate, rule_id=rule["id"], metrics=metrics)
    return len(rules)


def gate_pulse_request(
    *, project: Project, actor: Actor, gate_id: str, metric_ids: list[str] | None = None
) -> Gate:
    """Queues the computation of the gate's rules with a partial rollout (after the request's
    commit); refuses a gate without such a rule and metrics that are not defined."""
    if not actor.has_role(Role.MEMBER):
        raise PermissionDenied("Viewers cannot recompute results.")
    gate = gate_get(project=project, gate_id=gate_id)
    if not rollout_rules(gate):
        raise ValidationError.for_field(
            "rules", "The gate has no rule with a partial rollout: no pass and fail to compare."
        )
    slugs = [metric.slug for metric in gate_metrics(gate, metric_ids)]
    # By name: the task module imports this one (``AnalysisConfig.ready`` registers it).
    task = current_app.tasks[GATE_PULSE_TASK]
    gate_pk = gate.pk
    transaction.on_commit(lambda: task.delay(gate_pk, slugs))
    return gate


def gate_pulse_compute_due() -> int:
    """The daily job's gate part: today's run of every rule with a partial rollout of the
    enabled gates that measure metric lifts (``measureMetricLifts``, on unless turned off)."""
    computed = 0
    for gate in Gate.objects.filter(is_enabled=True).exclude(status=GateStatus.ARCHIVED):
        if gate.settings.get("measureMetricLifts", True) and rollout_rules(gate):
            computed += gate_pulse_compute_rules(gate=gate)
    return computed
