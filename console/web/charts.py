"""Per-day counts as a stacked bar chart drawn in inline SVG (no JavaScript library): the geometry
is computed here from rows of ``{day, <series>, count}`` and ``templates/flags/_chart.html`` draws it,
with a data table for screen readers."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.utils import timezone

logger = logging.getLogger(__name__)

CHART_DAYS = 30
WIDTH = 600
HEIGHT = 160
BAR_GAP = 2
PALETTE = 8


@dataclass(slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    series: int
    label: str


@dataclass(slots=True)
class Chart:
    title: str
    series: list[dict[str, Any]]
    days: list[date]
    table: list[dict[str, Any]]
    bars: list[Bar] = field(default_factory=list)
    total: int = 0
    peak: int = 0
    width: int = WIDTH
    height: int = HEIGHT
    empty_text: str = (
        "No exposures in the last 30 days. Checks from SDKs and /v1/ appear here within a minute."
    )

    @property
    def ticks(self) -> list[dict[str, Any]]:
        """Day labels under the chart: the first, every seventh, the last."""
        step = WIDTH / max(len(self.days), 1)
        picked = [0, *range(7, len(self.days) - 3, 7), len(self.days) - 1]
        last = len(self.days) - 1
        return [
            {
                "x": 0 if i == 0 else WIDTH if i == last else round(i * step + step / 2, 1),
                "anchor": "start" if i == 0 else "end" if i == last else "middle",
                "label": f"{self.days[i]:%b} {self.days[i].day}",
            }
            for i in picked
            if 0 <= i < len(self.days)
        ]


def _days(count: int) -> list[date]:
    today = timezone.now().date()
    return [today - timedelta(days=count - 1 - i) for i in range(count)]


def build_chart(
    rows: list[dict[str, Any]],
    *,
    split: str,
    labels: dict[Any, str] | None = None,
    title: str,
    empty_text: str | None = None,
) -> Chart:
    """``rows``: ``[{"day", split, "count"}]``; one series per distinct ``split`` value."""
    labels = labels or {}
    days = _days(CHART_DAYS)
    keys: list[Any] = []
    for key in labels:
        keys.append(key)
    for row in rows:
        if row[split] not in keys:
            keys.append(row[split])
    counts: dict[tuple[date, Any], int] = {}
    for row in rows:
        counts[(row["day"], row[split])] = counts.get((row["day"], row[split]), 0) + row["count"]
    series = [
        {
            "key": key,
            "label": labels.get(key) or (str(key) if key not in (None, "") else "No group"),
            "index": index % PALETTE,
            "total": sum(counts.get((day, key), 0) for day in days),
        }
        for index, key in enumerate(keys)
    ]
    totals = [sum(counts.get((day, key), 0) for key in keys) for day in days]
    chart = Chart(
        title=title,
        series=series,
        days=days,
        table=[
            {"day": day, "counts": [counts.get((day, key), 0) for key in keys], "total": total}
            for day, total in zip(days, totals, strict=True)
        ],
        total=sum(totals),
        peak=max(totals, default=0),
    )
    if empty_text:
        chart.empty_text = empty_text
    if not chart.peak:
        return chart
    step = WIDTH / len(days)
    for i, day in enumerate(days):
        y = float(HEIGHT)
        for item in series:
            count = counts.get((day, item["key"]), 0)
            if not count:
                continue
            height = count / chart.peak * (HEIGHT - 4)
            y -= height
            chart.bars.append(
                Bar(
                    x=round(i * step + BAR_GAP / 2, 2),
                    y=round(y, 2),
                    width=round(step - BAR_GAP, 2),
                    height=round(height, 2),
                    series=item["index"],
                    label=f"{day:%b} {day.day}: {count:,} {item['label']}",
                )
            )
    return chart
