"""Exposure charts of the gate, config and experiment pages, drawn by ``console.web.charts``."""

from __future__ import annotations

from typing import Any

from console.web.charts import CHART_DAYS, Chart, build_chart
from events.selectors import exposure_counts


def exposure_chart(
    *, project, kind: str, name: str, labels: dict[Any, str] | None = None, title: str
) -> Chart:
    """The last 30 days of exposures of one entity."""
    rows = exposure_counts(project=project, kind=kind, name=name, days=CHART_DAYS)
    split = "value" if rows and "value" in rows[0] else "group"
    if kind == "gate":
        split = "value"
    return build_chart(rows, split=split, labels=labels, title=title)


def gate_chart(*, project, gate_id: str) -> Chart:
    return exposure_chart(
        project=project,
        kind="gate",
        name=gate_id,
        labels={True: "pass", False: "fail"},
        title="Checks per day, last 30 days",
    )
