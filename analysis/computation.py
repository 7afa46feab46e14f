"""The Pulse aggregation in SQL over the partitioned event and exposure tables.

Two statements per computation, whatever the number of metrics, and no row per unit or event
ever reaches Python:

1. ``pulse_units`` (a temporary table dropped at commit): one row per unit exposed to the
   experiment (or to a gate's rule: pass and fail are its groups), with its group and its
   first exposure. A unit seen in two groups keeps a row with
   ``groups > 1`` so it can be counted and is left out of every metric.
2. One join of those units with their events (the metrics' event names only, from seven days
   before the earliest exposure): per unit, every metric's value after its first exposure (y,
   over a denominator d for a ratio) and in the seven days before it (x over m, the CUPED
   covariate), then per group the moments ``analysis.statistics.Moments`` needs.

Unit values (Statsig's definitions): ``event_count`` the number of events (or of distinct values
of ``metadataKey`` for ``count_distinct``), ``event_user`` 1 if the unit logged the event,
``sum`` the sum of event values, ``mean`` the mean of the unit's event values (units without
events left out), ``ratio`` numerator and denominator as counts or sums. Before exposure the
same definitions give the covariate, except for a mean, whose covariate is the sum and count of
the unit's earlier values (a ratio over the units: units without earlier values stay in).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection

from analysis.models import Metric, MetricEventType, MetricType
from analysis.statistics import TERMS, Moments
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


# The group of a gate exposure: the value the rule gave the unit.
GATE_PASS = "pass"
GATE_FAIL = "fail"


def build_units(*, project_id: int, experiment: str, id_type: str) -> UnitCounts:
    """Creates ``pulse_units`` for the experiment's exposures (inside a transaction)."""
    return _create_units(
        id_type=id_type,
        group="x.group_name",
        where="""x.project_id = %s AND x.group_name <> ''
                  AND ((x.kind = %s AND x.name = %s)
                       OR (x.kind = %s AND x.allocated_experiment = %s))""",
        params=[
            project_id,
            ExposureKind.CONFIG,
            experiment,
            # An experiment in a layer is exposed through the layer's parameters.
            ExposureKind.LAYER,
            experiment,
        ],
    )


def build_gate_rule_units(*, project_id: int, gate: str, rule_id: str, id_type: str) -> UnitCounts:
    """Creates ``pulse_units`` for the exposures of one rule of a gate (inside a transaction):
    the units it passed in ``GATE_PASS``, those it failed in ``GATE_FAIL``."""
    return _create_units(
        id_type=id_type,
        group=f"CASE WHEN x.value THEN '{GATE_PASS}' ELSE '{GATE_FAIL}' END",
        where="x.project_id = %s AND x.kind = %s AND x.name = %s AND x.rule_id = %s "
        "AND x.value IS NOT NULL",
        params=[project_id, ExposureKind.GATE, gate, rule_id],
    )


def _create_units(*, id_type: str, group: str, where: str, params: list) -> UnitCounts:
    """``pulse_units``: per unit of the selected exposures, its group and first exposure."""
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
                SELECT {unit} AS unit, {group} AS group_name, MIN(x.time) AS first_exposure
                FROM {Exposure._meta.db_table} x
                WHERE {where}
                GROUP BY 1, 2
            ) per_group
            WHERE unit <> ''
            GROUP BY unit
            """,
            [*unit_params, *params],
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


def _valued(sql: _Sql, events: list[dict], window: str) -> tuple[str, str]:
    """(sum, count) of the values of a mean metric's events within ``window`` (the sum is NULL
    when the unit has no valued event)."""
    values = [
        f"SUM({_event_value(sql, ev)}) FILTER (WHERE {_matches(sql, ev)} AND {window})"
        for ev in events
    ]
    counts = [
        f"COUNT({_event_value(sql, ev)}) FILTER (WHERE {_matches(sql, ev)} AND {window})"
        for ev in events
    ]
    total = " + ".join(f"COALESCE({value}, 0)" for value in values)
    return f"({total})::float8", f"({' + '.join(counts)})"


def _unit_values(sql: _Sql, metric: Metric) -> dict[str, str | None]:
    """One metric's unit values (``analysis.statistics.VARIABLES``) as SQL over the unit's
    events; None for a denominator that is always 1."""
    events = metric.metric_events
    if metric.type == MetricType.RATIO:
        numerator, denominator = events
        return {
            "y": _aggregate(sql, numerator, AFTER),
            "d": _aggregate(sql, denominator, AFTER),
            "x": _aggregate(sql, numerator, BEFORE),
            "m": _aggregate(sql, denominator, BEFORE),
        }
    if metric.type == MetricType.MEAN:
        after_sum, after_count = _valued(sql, events, AFTER)
        before_sum, before_count = _valued(sql, events, BEFORE)
        # NULL for a unit without valued events: left out of the group's units. Before
        # exposure, the covariate is Σvalues/Σcounts over the units (the delta-method form),
        # so a unit without earlier values adds nothing.
        return {
            "y": f"({after_sum} / NULLIF({after_count}, 0))",
            "d": None,
            "x": before_sum,
            "m": before_count,
        }
    y = " + ".join(f"({_aggregate(sql, ev, AFTER)})" for ev in events)
    x = " + ".join(f"({_aggregate(sql, ev, BEFORE)})" for ev in events)
    if metric.type == MetricType.EVENT_USER:
        y, x = f"(CASE WHEN {y} > 0 THEN 1 ELSE 0 END)", f"(CASE WHEN {x} > 0 THEN 1 ELSE 0 END)"
    return {"y": y, "d": None, "x": x, "m": None}


def _moment_aggregates(index: int, values: dict[str, str | None]) -> dict[str, str]:
    """The SQL aggregate of every Moments field over one group's units that have a value; a
    product with a denominator that is always 1 drops that factor."""
    columns = {name: f"{name}{index}" for name, expression in values.items() if expression}
    counted = f"FILTER (WHERE y{index} IS NOT NULL)"
    aggregates = {"units": f"COUNT(y{index})"}
    for field, variables in TERMS.items():
        factors = [columns[name] for name in variables if name in columns]
        aggregates[field] = (
            f"SUM({' * '.join(factors)}) {counted}" if factors else f"COUNT(y{index})"
        )
    return aggregates


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
    fields: list[dict[str, str]] = []
    for index, metric in enumerate(metrics):
        values = _unit_values(sql, metric)
        per_unit.extend(
            f"{expression} AS {name}{index}" for name, expression in values.items() if expression
        )
        fields.append(_moment_aggregates(index, values))
    per_unit_params = sql.params
    names = sorted({ev["name"] for metric in metrics for ev in metric.metric_events})
    # Each distinct aggregate is computed once, whichever fields share it.
    aggregates = list(dict.fromkeys(aggregate for each in fields for aggregate in each.values()))
    column_of = {aggregate: 1 + position for position, aggregate in enumerate(aggregates)}
    per_group = ", ".join(aggregates)
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
        for metric, metric_fields in zip(metrics, fields, strict=True):
            sums = {field: row[column_of[aggregate]] for field, aggregate in metric_fields.items()}
            units = int(sums.pop("units"))
            if units:
                results[metric.slug][group] = Moments(
                    units=units, **{field: float(s or 0) for field, s in sums.items()}
                )
    return results
