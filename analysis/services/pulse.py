"""Pulse runs: compute an experiment's results for today (``pulse_compute``, run by the
``compute_pulse`` command, the daily beat job and the task queued by ``pulse_request``)."""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import transaction

from analysis import computation
from analysis.models import Metric, PulseMetricResult, PulseRun
from analysis.statistics import Moments
from console.actors import Actor
from console.errors import PermissionDenied
from console.models import Project, Role
from flags.models import Experiment, ExperimentStatus
from flags.selectors import experiment_get

logger = logging.getLogger(__name__)

PULSE_TASK = "analysis.tasks.compute_pulse"


def named_metrics(project_id: int, named: list[dict[str, Any]]) -> list[Metric]:
    """The metrics of a ``[{name, type}]`` list (Statsig's shape) that are defined in the
    project, in the list's order, each once."""
    slugs = list(dict.fromkeys(f"{m['name']}::{m['type']}" for m in named))
    found = {m.slug: m for m in Metric.objects.filter(project_id=project_id, slug__in=slugs)}
    return [found[slug] for slug in slugs if slug in found]


def experiment_metrics(experiment: Experiment) -> list[Metric]:
    """The experiment's primary then secondary metrics that are defined in its project."""
    return named_metrics(
        experiment.project_id, [*experiment.primary_metrics, *experiment.secondary_metrics]
    )


def unit_moments(
    *,
    project_id: int,
    id_type: str,
    units: computation.UnitCounts,
    metrics: list[Metric],
    until: datetime,
) -> dict[str, dict[str, Moments]]:
    """Each metric's moments over the units (none when no unit was exposed)."""
    if units.first_exposure is None:
        return {}
    return computation.metric_moments(
        project_id=project_id,
        id_type=id_type,
        metrics=metrics,
        first_exposure=units.first_exposure,
        until=until,
    )


@transaction.atomic
def pulse_compute(*, experiment: Experiment, now: datetime | None = None) -> PulseRun:
    """Aggregates the experiment's exposures and events up to ``now`` into today's run
    (replacing an earlier run of the same day)."""
    now = now or datetime.now(UTC)
    computation.use_work_mem(settings.PULSE_WORK_MEM)
    units = computation.build_units(
        project_id=experiment.project_id, experiment=experiment.slug, id_type=experiment.id_type
    )
    metrics = experiment_metrics(experiment)
    moments = unit_moments(
        project_id=experiment.project_id,
        id_type=experiment.id_type,
        units=units,
        metrics=metrics,
        until=now,
    )
    run = store_run(
        keys={"experiment": experiment}, units=units, metrics=metrics, moments=moments, now=now
    )
    logger.info(
        "pulse computed experiment=%s units=%s excluded=%s metrics=%s",
        experiment.pk,
        sum(units.exposures.values()),
        units.excluded_units,
        len(metrics),
    )
    return run


def store_run(
    *,
    keys: dict[str, Any],
    units: computation.UnitCounts,
    metrics: list[Metric],
    moments: dict[str, dict[str, Moments]],
    now: datetime,
) -> PulseRun:
    """Today's run of what ``keys`` names (an experiment, or a gate and rule), replacing an
    earlier run of the same day with these units and moments."""
    run, _ = PulseRun.objects.update_or_create(
        **keys,
        day=now.date(),
        defaults={
            "computed_at": now,
            "exposures": units.exposures,
            "excluded_units": units.excluded_units,
        },
    )
    run.metric_results.all().delete()
    PulseMetricResult.objects.bulk_create(
        PulseMetricResult(
            run=run,
            metric_name=metric.name,
            metric_type=metric.type,
            group_name=group,
            **asdict(m),
        )
        for metric in metrics
        for group, m in moments.get(metric.slug, {}).items()
    )
    return run


def pulse_request(*, project: Project, actor: Actor, experiment_id: str) -> Experiment:
    """Queues a computation of the experiment's results (after the request's commit)."""
    if not actor.has_role(Role.MEMBER):
        raise PermissionDenied("Viewers cannot recompute results.")
    experiment = experiment_get(project=project, experiment_id=experiment_id)
    # By name: the task module imports this one (``AnalysisConfig.ready`` registers it).
    task = current_app.tasks[PULSE_TASK]
    experiment_pk = experiment.pk
    transaction.on_commit(lambda: task.delay(experiment_pk))
    return experiment


def pulse_compute_due() -> int:
    """The daily job: today's run of every running experiment and of those decided today."""
    today = datetime.now(UTC).date()
    due = Experiment.objects.filter(status=ExperimentStatus.ACTIVE) | Experiment.objects.filter(
        decision_time__date=today
    )
    computed = 0
    for experiment in due.distinct():
        pulse_compute(experiment=experiment)
        computed += 1
    return computed
