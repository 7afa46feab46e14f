"""Metrics (Statsig's console API shape) and the Pulse results computed for experiments.

A ``PulseRun`` is one computation of one experiment, or of one rule of a gate (its units
split into pass and fail), on one day (recomputing the same day replaces it), so the rows of successive days are the history the console charts. Each
``PulseMetricResult`` holds a group's moments of one metric (see ``analysis.statistics``):
lifts, intervals and p-values are derived from them when read, for the control, test group,
confidence level and CUPED choice the reader asks for.
"""

from __future__ import annotations

from django.db import models

from console.models import Project
from flags.models import Experiment, Gate


class MetricType(models.TextChoices):
    EVENT_COUNT = "event_count", "Event count (events per unit)"
    EVENT_USER = "event_user", "Event user (conversion)"
    SUM = "sum", "Sum of values"
    MEAN = "mean", "Mean of values"
    RATIO = "ratio", "Ratio (numerator / denominator)"


class MetricEventType(models.TextChoices):
    COUNT = "count", "Count of events"
    COUNT_DISTINCT = "count_distinct", "Count of distinct metadata values"
    VALUE = "value", "Event value"


class Directionality(models.TextChoices):
    INCREASE = "increase", "Increase is good"
    DECREASE = "decrease", "Decrease is good"


class Metric(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    # Statsig's metric id: "<name>::<type>".
    slug = models.CharField(max_length=140)
    name = models.CharField(max_length=100)
    type = models.CharField(max_length=16, choices=MetricType.choices)
    description = models.TextField(blank=True, default="")
    unit_types = models.JSONField(default=list, blank=True)
    # [{name, type: count|count_distinct|value, metadataKey?, criteria?: [{type: metadata,
    # column, condition: in|not_in, values}]}]; for a ratio, numerator then denominator.
    metric_events = models.JSONField(default=list)
    directionality = models.CharField(
        max_length=8, choices=Directionality.choices, default=Directionality.INCREASE
    )
    creator_name = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["project", "name", "type"]
        constraints = [
            models.UniqueConstraint(fields=["project", "slug"], name="metric_unique_slug"),
            models.CheckConstraint(
                condition=models.Q(type__in=MetricType.values), name="metric_type_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.slug


class PulseRun(models.Model):
    # An experiment's run, or a gate rule's (``gate`` and ``rule_id``): exactly one of them.
    experiment = models.ForeignKey(
        Experiment, on_delete=models.CASCADE, related_name="+", null=True, blank=True
    )
    gate = models.ForeignKey(
        Gate, on_delete=models.CASCADE, related_name="+", null=True, blank=True
    )
    rule_id = models.CharField(max_length=400, blank=True, default="")
    day = models.DateField()
    computed_at = models.DateTimeField()
    # {group name: exposed units}, units seen in one group only.
    exposures = models.JSONField(default=dict)
    # Units exposed to more than one group: left out of every metric.
    excluded_units = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["experiment", "gate", "rule_id", "-day"]
        constraints = [
            models.UniqueConstraint(
                fields=["experiment", "day"],
                condition=models.Q(experiment__isnull=False),
                name="pulse_run_unique_day",
            ),
            models.UniqueConstraint(
                fields=["gate", "rule_id", "day"],
                condition=models.Q(gate__isnull=False),
                name="pulse_run_unique_gate_rule_day",
            ),
            models.CheckConstraint(
                condition=models.Q(experiment__isnull=False, gate__isnull=True)
                | models.Q(experiment__isnull=True, gate__isnull=False, rule_id__gt=""),
                name="pulse_run_experiment_or_gate_rule",
            ),
        ]

    def __str__(self) -> str:
        subject = self.experiment_id or f"{self.gate_id}/{self.rule_id}"
        return f"{subject} {self.day}"


class PulseMetricResult(models.Model):
    run = models.ForeignKey(PulseRun, on_delete=models.CASCADE, related_name="metric_results")
    metric_name = models.CharField(max_length=100)
    metric_type = models.CharField(max_length=16, choices=MetricType.choices)
    group_name = models.CharField(max_length=400)
    # analysis.statistics.Moments: sums over the group's units of y (the unit value after
    # exposure, a ratio's numerator), d (its denominator, 1 but for a ratio), x and m (the
    # same before exposure: the CUPED covariate x/m) and of their products.
    units = models.BigIntegerField()
    sum_y = models.FloatField()
    sum_y2 = models.FloatField()
    sum_x = models.FloatField()
    sum_x2 = models.FloatField()
    sum_xy = models.FloatField()
    sum_d = models.FloatField()
    sum_d2 = models.FloatField()
    sum_yd = models.FloatField()
    sum_m = models.FloatField()
    sum_m2 = models.FloatField()
    sum_xm = models.FloatField()
    sum_ym = models.FloatField()
    sum_dx = models.FloatField()
    sum_dm = models.FloatField()

    class Meta:
        ordering = ["run", "metric_name", "metric_type", "group_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "metric_name", "metric_type", "group_name"],
                name="pulse_metric_result_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.metric_name} {self.group_name}"
