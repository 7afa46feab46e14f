"""Results stored before ratio and mean metrics had CUPED read the same after the migration."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from analysis.statistics import Moments, group_stats

BEFORE = [("analysis", "0001_metrics_and_pulse_results")]
AFTER = [("analysis", "0002_pulse_moments_denominators")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def latest_schema_after():
    """Every later test (and the fresh processes some start) reads the latest schema: migrate
    the app forward to its last migration, whatever this test migrated it to."""
    yield
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes("analysis"))


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("latest_schema_after")
def test_migration_0002__stored_ratio_and_count_rows__same_statistics(capi, experiment):
    # Given rows stored by the former code: a ratio's x was its denominator
    old = _migrate(BEFORE)
    run = old.get_model("analysis", "PulseRun").objects.create(
        experiment_id=experiment.pk, day=date(2026, 1, 1), computed_at=datetime.now(UTC)
    )
    results = old.get_model("analysis", "PulseMetricResult").objects
    # ratio: units 3, numerators [1, 2, 3], denominators [2, 2, 4]
    results.create(
        run=run,
        metric_name="r",
        metric_type="ratio",
        group_name="Control",
        units=3,
        sum_y=6,
        sum_y2=14,
        sum_x=8,
        sum_x2=24,
        sum_xy=18,
    )
    # count: values [1, 2, 3], pre-period [0, 1, 1]
    results.create(
        run=run,
        metric_name="c",
        metric_type="event_count",
        group_name="Control",
        units=3,
        sum_y=6,
        sum_y2=14,
        sum_x=2,
        sum_x2=2,
        sum_xy=5,
    )

    # When migrated
    new = _migrate(AFTER)

    # Then each row's moments are those of the same unit values under the new layout
    stored = new.get_model("analysis", "PulseMetricResult").objects

    def moments(name: str) -> Moments:
        row = stored.get(metric_name=name)
        return Moments(**{field.name: getattr(row, field.name) for field in fields(Moments)})

    assert moments("r") == Moments.of([1, 2, 3], d=[2, 2, 4])
    assert moments("c") == Moments.of([1, 2, 3], [0, 1, 1])
    assert group_stats(moments("r")).mean == pytest.approx(6 / 8)
