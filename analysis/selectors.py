"""Reads of the analysis app: metrics, and the Pulse results of an experiment."""

from __future__ import annotations

from django.db.models import QuerySet

from analysis.models import Metric
from console.errors import NotFound
from console.models import Project


def metric_list(*, project: Project) -> QuerySet[Metric]:
    return Metric.objects.filter(project=project)


def metric_get(*, project: Project, metric_id: str) -> Metric:
    metric = Metric.objects.filter(project=project, slug=metric_id).first()
    if metric is None:
        raise NotFound("Metric not found.")
    return metric
