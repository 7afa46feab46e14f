"""An experiment's analysis settings (Statsig's ``primaryMetrics``, ``secondaryMetrics``,
``bonferroniCorrection``, ``defaultConfidenceInterval``): their wire names and validators. The
metrics are named as ``{name, type}`` with any of Statsig's metric types (its built-in ``user``
metrics too); Pulse (the analysis app) computes those defined in the project, so a metric may be
defined after the experiment names it."""

from __future__ import annotations

from typing import Any

from console.errors import ValidationError
from console.validation import validate_bool

ANALYSIS_WIRE_NAMES = {
    "primaryMetrics": "primary_metrics",
    "secondaryMetrics": "secondary_metrics",
    "bonferroniCorrection": "bonferroni_correction",
    "defaultConfidenceInterval": "default_confidence_interval",
}
CONFIDENCE_LEVELS = (80, 90, 95, 98, 99)
MAX_METRICS = 20


def _metrics(path: str):
    def validate(project, experiment, value: Any) -> list[dict[str, str]]:
        if value is None:
            return []
        if not isinstance(value, list) or len(value) > MAX_METRICS:
            raise ValidationError.for_field(path, f"{path} is a list of at most {MAX_METRICS}.")
        metrics: list[dict[str, str]] = []
        for index, item in enumerate(value):
            where = f"{path}[{index}]"
            if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                raise ValidationError.for_field(f"{where}.name", "A metric is {name, type}.")
            metric_type = item.get("type")
            if not isinstance(metric_type, str) or not 0 < len(metric_type.strip()) <= 100:
                raise ValidationError.for_field(
                    f"{where}.type", "type is the metric's type, e.g. event_count or user."
                )
            metric = {"name": item["name"].strip(), "type": metric_type.strip()}
            if metric not in metrics:
                metrics.append(metric)
        return metrics

    return validate


def _confidence(project, experiment, value: Any) -> int:
    try:
        level = int(str(value).strip())
    except ValueError:
        level = None
    if level not in CONFIDENCE_LEVELS:
        raise ValidationError.for_field(
            "defaultConfidenceInterval",
            f"defaultConfidenceInterval is one of {', '.join(map(str, CONFIDENCE_LEVELS))}.",
        )
    return level


ANALYSIS_VALIDATORS = {
    "primary_metrics": _metrics("primaryMetrics"),
    "secondary_metrics": _metrics("secondaryMetrics"),
    "bonferroni_correction": lambda project, experiment, value: validate_bool(
        value, "bonferroniCorrection"
    ),
    "default_confidence_interval": _confidence,
}
