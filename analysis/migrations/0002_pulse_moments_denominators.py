"""Moments of ratio and mean metrics' denominators, so CUPED applies to them: a ratio's
denominator moves from x to d (x becomes the pre-exposure numerator), and the rows stored before
get the denominators their types imply (1 for every type but ratio; no pre-exposure data for
ratios, which leaves them unadjusted)."""

from django.db import migrations, models
from django.db.models import F, Value

NEW_FIELDS = (
    "sum_d",
    "sum_d2",
    "sum_yd",
    "sum_m",
    "sum_m2",
    "sum_xm",
    "sum_ym",
    "sum_dx",
    "sum_dm",
)


def fill_denominators(apps, schema_editor):
    results = apps.get_model("analysis", "PulseMetricResult").objects
    # One UPDATE each: every F() reads the row's value from before the statement.
    results.filter(metric_type="ratio").update(
        sum_d=F("sum_x"),
        sum_d2=F("sum_x2"),
        sum_yd=F("sum_xy"),
        sum_x=Value(0.0),
        sum_x2=Value(0.0),
        sum_xy=Value(0.0),
        sum_m=F("units"),
        sum_m2=F("units"),
        sum_xm=Value(0.0),
        sum_ym=F("sum_y"),
        sum_dx=Value(0.0),
        sum_dm=F("sum_x"),
    )
    results.exclude(metric_type="ratio").update(
        sum_d=F("units"),
        sum_d2=F("units"),
        sum_yd=F("sum_y"),
        sum_m=F("units"),
        sum_m2=F("units"),
        sum_xm=F("sum_x"),
        sum_ym=F("sum_y"),
        sum_dx=F("sum_x"),
        sum_dm=F("units"),
    )


def restore_ratio_denominators(apps, schema_editor):
    results = apps.get_model("analysis", "PulseMetricResult").objects
    results.filter(metric_type="ratio").update(
        sum_x=F("sum_d"), sum_x2=F("sum_d2"), sum_xy=F("sum_yd")
    )


class Migration(migrations.Migration):
    dependencies = [("analysis", "0001_metrics_and_pulse_results")]

    operations = [
        *(
            migrations.AddField(
                model_name="pulsemetricresult",
                name=name,
                field=models.FloatField(default=0.0),
                preserve_default=False,
            )
            for name in NEW_FIELDS
        ),
        migrations.RunPython(fill_denominators, restore_ratio_denominators),
    ]
