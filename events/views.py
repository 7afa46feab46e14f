"""The Events screen: custom events per name per day, a live tail of received events with
filters (htmx polling), and the events dropped at intake, all read through
``events.selectors``."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from console.models import Role
from console.web import charts
from console.web.shell import project_view
from events import selectors as event_selectors
from events.forms import EventTailForm
from events.models import DropReason, EventSource

DAYS = 14
CHART_DAYS = charts.CHART_DAYS
TOP_NAMES = 7
TAIL_ROWS = 50


def _tail_form(request: HttpRequest) -> EventTailForm:
    return EventTailForm(request.GET or None, sources=EventSource.choices)


def _tail_context(request: HttpRequest) -> dict[str, Any]:
    form = _tail_form(request)
    filters = form.cleaned_data if form.is_valid() else {}
    after = filters.get("after") or 0
    events = list(
        event_selectors.recent_events(
            project=request.project,
            name=filters.get("name") or None,
            user_id=filters.get("user") or None,
            source=filters.get("source") or None,
            limit=TAIL_ROWS,
        )
    )
    query = request.GET.copy()
    query["after"] = str(events[0].id if events else after)
    return {
        "events": events,
        "after": after,
        "tail_form": form,
        "tail_query": query.urlencode(),
    }


@project_view(Role.VIEWER)
@require_GET
def event_list(request: HttpRequest) -> HttpResponse:
    project = request.project
    rows = event_selectors.event_counts_per_day(project=project, days=CHART_DAYS)
    totals: dict[str, int] = defaultdict(int)
    for row in rows:
        totals[row["name"]] += row["count"]
    ranked = sorted(totals, key=lambda name: (-totals[name], name))
    top = set(ranked[:TOP_NAMES])
    chart_rows = [
        {
            "day": row["day"],
            "name": row["name"] if row["name"] in top else "other",
            "count": row["count"],
        }
        for row in rows
    ]
    chart = charts.build_chart(
        chart_rows,
        split="name",
        labels={name: name for name in ranked[:TOP_NAMES]},
        title="Events per day, last 30 days",
        empty_text="No events in the last 30 days.",
    )
    days = chart.days[-DAYS:]
    per_name: dict[str, dict[Any, int]] = defaultdict(dict)
    for row in rows:
        per_name[row["name"]][row["day"]] = row["count"]
    table = [
        {
            "name": name,
            "total": totals[name],
            "counts": [per_name[name].get(day, 0) for day in days],
        }
        for name in ranked
    ]
    for item in table:
        peak = max(item["counts"]) or 1
        step = 100 / max(len(days) - 1, 1)
        item["sparkline"] = " ".join(
            f"{i * step:.1f},{20 - count / peak * 18:.1f}" for i, count in enumerate(item["counts"])
        )
    dropped = event_selectors.dropped_counts(project=project, days=DAYS)
    reasons = dict(DropReason.choices)
    sources = dict(EventSource.choices)
    for row in dropped:
        row["reason_label"] = reasons.get(row["reason"], row["reason"])
        row["source_label"] = sources.get(row["source"], row["source"])
    context = {
        "chart": chart,
        "days": days,
        "table": table,
        "dropped": dropped,
        "dropped_total": sum(row["count"] for row in dropped),
        "period": DAYS,
        "chart_days": CHART_DAYS,
        "names": ranked[:200],
    }
    context.update(_tail_context(request))
    return render(request, "events/event_list.html", context)


@project_view(Role.VIEWER)
@require_GET
def event_tail(request: HttpRequest) -> HttpResponse:
    """The live tail's rows (polled by htmx every few seconds)."""
    return render(request, "events/_tail.html", _tail_context(request))
