"""Celery tasks of the analysis app: fetch ids, call a service."""

from __future__ import annotations

from celery import shared_task

from analysis.services import (
    gate_pulse_compute_due,
    gate_pulse_compute_rules,
    pulse_compute,
    pulse_compute_due,
)
from analysis.services.gate_pulse import GATE_PULSE_TASK
from analysis.services.pulse import PULSE_TASK
from flags.models import Experiment, Gate


@shared_task(name=PULSE_TASK, ignore_result=True)
def compute_pulse(experiment_pk: int) -> None:
    experiment = Experiment.objects.filter(pk=experiment_pk).first()
    if experiment is not None:
        pulse_compute(experiment=experiment)


@shared_task(name=GATE_PULSE_TASK, ignore_result=True)
def compute_gate_pulse(gate_pk: int, metric_ids: list[str]) -> None:
    gate = Gate.objects.filter(pk=gate_pk).first()
    if gate is not None:
        gate_pulse_compute_rules(gate=gate, metric_ids=metric_ids)


@shared_task(name="analysis.tasks.compute_due_pulses", ignore_result=True)
def compute_due_pulses() -> int:
    return pulse_compute_due() + gate_pulse_compute_due()
