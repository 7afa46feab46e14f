"""Writes of the analysis app: metric definitions (``metrics``) and Pulse runs (``pulse``)."""

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
    "metric_create",
    "metric_delete",
    "metric_slug",
    "metric_update",
    "pulse_compute",
    "pulse_compute_due",
    "pulse_request",
    "validated_definition",
]
