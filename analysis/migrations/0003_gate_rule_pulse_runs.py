"""Pulse runs of gate rules: a run belongs to an experiment or to one rule of a gate (its
units split into pass and fail), each unique per day."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("analysis", "0002_pulse_moments_denominators"),
        ("flags", "0010_entity_allowed_reviewers"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="pulserun",
            options={"ordering": ["experiment", "gate", "rule_id", "-day"]},
        ),
        migrations.RemoveConstraint(
            model_name="pulserun",
            name="pulse_run_unique_day",
        ),
        migrations.AddField(
            model_name="pulserun",
            name="gate",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="flags.gate",
            ),
        ),
        migrations.AddField(
            model_name="pulserun",
            name="rule_id",
            field=models.CharField(blank=True, default="", max_length=400),
        ),
        migrations.AlterField(
            model_name="pulserun",
            name="experiment",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="flags.experiment",
            ),
        ),
        migrations.AddConstraint(
            model_name="pulserun",
            constraint=models.UniqueConstraint(
                condition=models.Q(("experiment__isnull", False)),
                fields=("experiment", "day"),
                name="pulse_run_unique_day",
            ),
        ),
        migrations.AddConstraint(
            model_name="pulserun",
            constraint=models.UniqueConstraint(
                condition=models.Q(("gate__isnull", False)),
                fields=("gate", "rule_id", "day"),
                name="pulse_run_unique_gate_rule_day",
            ),
        ),
        migrations.AddConstraint(
            model_name="pulserun",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("experiment__isnull", False), ("gate__isnull", True)),
                    models.Q(
                        ("experiment__isnull", True), ("gate__isnull", False), ("rule_id__gt", "")
                    ),
                    _connector="OR",
                ),
                name="pulse_run_experiment_or_gate_rule",
            ),
        ),
    ]
