"""Writes of the analysis app: metric definitions (``metrics``) and Pulse runs of experiments
(``pulse``) and of gate rules (``gate_pulse``)."""

from analysis.services.gate_pulse import (
    gate_metrics,
    gate_pulse_compute,
    gate_pulse_compute_due,
    gate_pulse_compute_rules,
    gate_pulse_request,
    rollout_rules,
)
from analysis.services.metrics import (
    ENTITY_TYPE,
    metric_create,
    metric_delete,
    metric_slug,
    metric_update,
    validated_definition,
)
from analysis.services.pulse import pulse_compute, pulse_compute_due, pulse_request

__all__ = [
    "ENTITY_TYPE",
    "gate_metrics",
    "gate_pulse_compute",
    "gate_pulse_compute_due",
    "gate_pulse_compute_rules",
    "gate_pulse_request",
    "metric_create",
    "metric_delete",
    "metric_slug",
    "metric_update",
    "pulse_compute",
    "pulse_compute_due",
    "pulse_request",
    "rollout_rules",
    "validated_definition",
]
