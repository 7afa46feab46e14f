"""Template filters of the results screens."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def percent(value: float | None, digits: int = 1) -> str:
    """A relative change as a signed percentage: 0.0425 -> "+4.3%"."""
    if value is None:
        return "—"
    return f"{value * 100:+.{digits}f}%"
