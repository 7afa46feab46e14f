"""The Pulse aggregation in SQL over the partitioned event and exposure tables.

Two statements per computation, whatever the number of metrics, and no row per unit or event
ever reaches Python:

1. ``pulse_units`` (a temporary table dropped at commit): one row per unit exposed to the
   experiment, with its group and its first exposure. A unit seen in two groups keeps a row with
   ``groups > 1`` so it can be counted and is left out of every metric.
2. One join of those units with their events (the metrics' event names only, from seven days
   before the earliest exposure): per unit, every metric's value after its first exposure (y)
   and in the seven days before it (x, the CUPED covariate; for a ratio, x is the denominator),
   then per group the moments ``analysis.statistics.Moments`` needs.

Unit values (Statsig's definitions): ``event_count`` the number of events (or of distinct values
of ``metadataKey`` for ``count_distinct``), ``event_user`` 1 if the unit logged the event,
``sum`` the sum of event values, ``mean`` the mean of the unit's event values (units without
events left out), ``ratio`` numerator and denominator as counts or sums.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection

from analysis.models import Metric, MetricEventType, MetricType
from analysis.statistics import Moments
from events.models import Event, Exposure, ExposureKind

CUPED_DAYS = 7
# A value is numeric when it reads as a JSON number; anything else counts as no value.
NUMBER_PATTERN = r"^\s*-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?\s*$"


@dataclass(frozen=True)
class UnitCounts:
    exposures: dict[str, int]
    excluded_units: int
    first_exposure: datetime | None


def _unit_column(id_type: str, alias: str) -> tuple[str, list[str]]:
    """The SQL expression of a row's unit id for the experiment's id type."""
    if id_type.lower() == "userid":
        return f"{alias}.user_id", []
    if id_type.lower() == "stableid":
        return f"{alias}.stable_id", []
    return f"COALESCE({alias}.custom_ids ->> %s, '')", [id_type]


def use_work_mem(size: str) -> None:
    """Memory for the sorts and hashes of this transaction's aggregation (``SET LOCAL``): a
    hash of a million units spills to disk at PostgreSQL's 4 MB default."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('work_mem', %s, true)", [size])


def build_units(*, project_id: int, experiment: str, id_type: str) -> UnitCounts:
    """Creates ``pulse_units`` for the experiment's exposures (inside a transaction)."""
    unit, unit_params = _unit_column(id_type, "x")
    with connection.cursor() as cursor:
        # Dropped at commit; a second computation inside the same transaction replaces it.
        cursor.execute("DROP TABLE IF EXISTS pulse_units")
        cursor.execute(
            f"""
            CREATE TEMPORARY TABLE pulse_units ON COMMIT DROP AS
            SELECT unit, MIN(group_name) AS group_name, MIN(first_exposure) AS first_exposure,
                   COUNT(*) AS groups
            FROM (
                SELECT {unit} AS unit, x.group_name, MIN(x.time) AS first_exposure
                FROM {Exposure._meta.db_table} x
                WHERE x.project_id = %s AND x.group_name <> ''
                  AND ((x.kind = %s AND x.name = %s)
                       OR (x.kind = %s AND x.allocated_experiment = %s))
                GROUP BY 1, 2
            ) per_group
            WHERE unit <> ''
            GROUP BY unit
            """,
            [
                *unit_params,
                project_id,
                ExposureKind.CONFIG,
                experiment,
                # An experiment in a layer is exposed through the layer's parameters.
                ExposureKind.LAYER,
                experiment,
            ],
        )
        cursor.execute("ANALYZE pulse_units")
        cursor.execute(
            "SELECT group_name, COUNT(*) FILTER (WHERE groups = 1), COUNT(*) FILTER "
            "(WHERE groups > 1), MIN(first_exposure) FROM pulse_units GROUP BY group_name"
        )
        rows = cursor.fetchall()
    # A unit in several groups has one row, filed under the smallest of its group names.
    return UnitCounts(
        exposures={group: single for group, single, _, _ in rows if single},
        excluded_units=sum(several for _, _, several, _ in rows),
        first_exposure=min((first for *_, first in rows), default=None),
    )


class _Sql:
    """Collects SQL fragments and their parameters in order."""

    def __init__(self) -> None:
        self.params: list = []

    def value(self, value) -> str:
        self.params.append(value)
        return "%s"


def _matches(sql: _Sql, metric_event: dict) -> str:
    parts = [f"e.name = {sql.value(metric_event['name'])}"]
    for criterion in metric_event.get("criteria") or []:
        column = f"(e.properties ->> {sql.value(criterion['column'])})"
        test = f"{column} = ANY({sql.value(list(criterion['values']))})"
        parts.append(test if criterion["condition"] == "in" else f"COALESCE(NOT {test}, TRUE)")
    return " AND ".join(parts)


def _event_value(sql: _Sql, metric_event: dict) -> str:
    key = metric_event.get("metadataKey")
    if not key:
        return "e.numeric_value"
    # Parameters in the order their placeholders appear.
    tested = f"(e.properties ->> {sql.value(key)}) ~ {sql.value(NUMBER_PATTERN)}"
    return f"CASE WHEN {tested} THEN (e.properties ->> {sql.value(key)})::float8 END"


def _aggregate(sql: _Sql, metric_event: dict, window: str) -> str:
    """One metric event's contribution to a unit's value within ``window``."""
    # Each fragment is built in the order it appears in the statement (its parameters too).
    if metric_event["type"] == MetricEventType.COUNT_DISTINCT:
        key = sql.value(metric_event["metadataKey"])
        where = f"{_matches(sql, metric_event)} AND {window}"
        return f"COUNT(DISTINCT e.properties ->> {key}) FILTER (WHERE {where})"
    if metric_event["type"] == MetricEventType.VALUE:
        value = _event_value(sql, metric_event)
        where = f"{_matches(sql, metric_event)} AND {window}"
        return f"COALESCE(SUM({value}) FILTER (WHERE {where}), 0)"
    return f"COUNT(*) FILTER (WHERE {_matches(sql, metric_event)} AND {window})"


AFTER = "e.time >= u.first_exposure"
BEFORE = "e.time < u.first_exposure"


def _unit_values(sql: _Sql, metric: Metric) -> tuple[str, str]:
    """(y, x) of one metric per unit: its value after exposure and its covariate."""
    events = metric.metric_events
    if metric.type == MetricType.RATIO:
        return _aggregate(sql, events[0], AFTER), _aggregate(sql, events[1], AFTER)
    if metric.type == MetricType.MEAN:
        values = [
            f"SUM({_event_value(sql, ev)}) FILTER (WHERE {_matches(sql, ev)} AND {AFTER})"
            for ev in events
        ]
        counts = [
            f"COUNT({_event_value(sql, ev)}) FILTER (WHERE {_matches(sql, ev)} AND {AFTER})"
            for ev in events
        ]
        # NULL for a unit without valued events: left out of the group's units.
        total = " + ".join(f"COALESCE({value}, 0)" for value in values)
        return f"(({total})::float8 / NULLIF({' + '.join(counts)}, 0))", "0"
    y = " + ".join(f"({_aggregate(sql, ev, AFTER)})" for ev in events)
    x = " + ".join(f"({_aggregate(sql, ev, BEFORE)})" for ev in events)
    if metric.type == MetricType.EVENT_USER:
        return f"(CASE WHEN {y} > 0 THEN 1 ELSE 0 END)", f"(CASE WHEN {x} > 0 THEN 1 ELSE 0 END)"
    return y, x


def metric_moments(
    *,
    project_id: int,
    id_type: str,
    metrics: Sequence[Metric],
    first_exposure: datetime,
    until: datetime,
) -> dict[str, dict[str, Moments]]:
    """{metric slug: {group: Moments}} over the units of ``pulse_units`` in one group."""
    if not metrics:
        return {}
    sql = _Sql()
    unit, unit_params = _unit_column(id_type, "e")
    per_unit = []
    for index, metric in enumerate(metrics):
        y, x = _unit_values(sql, metric)
        per_unit.append(f"{y} AS y{index}, {x} AS x{index}")
    per_unit_params = sql.params
    names = sorted({ev["name"] for metric in metrics for ev in metric.metric_events})
    per_group = ", ".join(
        f"COUNT(y{i}), SUM(y{i}), SUM(y{i} * y{i}), SUM(x{i}) FILTER (WHERE y{i} IS NOT NULL), "
        f"SUM(x{i} * x{i}) FILTER (WHERE y{i} IS NOT NULL), SUM(x{i} * y{i})"
        for i in range(len(metrics))
    )
    statement = f"""
        SELECT group_name, {per_group}
        FROM (
            SELECT u.group_name, {", ".join(per_unit)}
            FROM pulse_units u
            LEFT JOIN {Event._meta.db_table} e
              ON e.project_id = %s AND e.name = ANY(%s) AND {unit} = u.unit
             AND e.time >= %s AND e.time <= %s
             AND e.time >= u.first_exposure - %s
            WHERE u.groups = 1
            GROUP BY u.unit, u.group_name
        ) unit_values
        GROUP BY group_name
    """
    params = [
        *per_unit_params,
        project_id,
        names,
        *unit_params,
        first_exposure - timedelta(days=CUPED_DAYS),
        until,
        timedelta(days=CUPED_DAYS),
    ]
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        rows = cursor.fetchall()
    results: dict[str, dict[str, Moments]] = {metric.slug: {} for metric in metrics}
    for row in rows:
        group = row[0]
        for index, metric in enumerate(metrics):
            units, *sums = row[1 + 6 * index : 7 + 6 * index]
            if units:
                results[metric.slug][group] = Moments(int(units), *(float(s or 0) for s in sums))
    return results
