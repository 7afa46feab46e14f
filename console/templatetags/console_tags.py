"""Template helpers every console screen shares: the project navigation, status badges, relative
times, query-string links for pagination and filters, form widgets styled for Bootstrap, and
readable renderings of JSON and audit changes.

    {% load console_tags %}
    {{ gate.status|status_badge }}          {{ review.created_at|relative_time }}
    {% include "includes/field.html" with field=form.name %}
    {% include "includes/pagination.html" with page=page_obj %}
    {% project_url "gate-list" as gates_url %}{% if gates_url %}...{% endif %}

Navigation: each screen of the console is an ``Area`` below. An item appears in the sidebar (and
its count on the dashboard) as soon as one of its URL names resolves with ``project_slug``, so a
new screen only needs its ``<area>-list`` URL name in its app's ``urls.py``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from django import template
from django.apps import apps
from django.forms import BoundField, CheckboxInput, CheckboxSelectMultiple, RadioSelect, Select
from django.urls import NoReverseMatch, Resolver404, resolve, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.timesince import timesince, timeuntil

from console.actors import ROLE_RANK
from console.models import Role
from console.web.diffs import old_and_new

register = template.Library()


@dataclass(frozen=True, slots=True)
class Area:
    label: str
    # URL names tried in order, each reversed with ``project_slug``.
    url_names: tuple[str, ...]
    section: str
    # "app_label.ModelName" of the entity counted on the dashboard (filtered by ``project``).
    model: str | None = None
    # The dashboard card's label when it differs from the navigation's.
    count_label: str | None = None
    # The least role that may open the screen (when its view does not say so itself through a
    # ``minimum_role`` attribute): roles below it get no link.
    minimum_role: str = Role.VIEWER


SECTION_BUILD = "Build"
SECTION_DATA = "Data"
SECTION_PROJECT = "Project"

AREAS: tuple[Area, ...] = (
    Area("Gates", ("gate-list",), SECTION_BUILD, "flags.Gate"),
    Area(
        "Dynamic configs",
        ("config-list", "dynamic-config-list"),
        SECTION_BUILD,
        "flags.DynamicConfig",
    ),
    Area("Experiments", ("experiment-list",), SECTION_BUILD, "flags.Experiment"),
    Area("Layers", ("layer-list",), SECTION_BUILD, "flags.Layer"),
    Area("Holdouts", ("holdout-list",), SECTION_BUILD, "flags.Holdout"),
    Area("Segments", ("segment-list",), SECTION_BUILD, "segments.Segment"),
    Area("Metrics", ("metric-list",), SECTION_BUILD, "analysis.Metric"),
    Area("Connect an SDK", ("connect-sdk",), SECTION_DATA),
    Area("Events", ("event-list",), SECTION_DATA),
    Area(
        "Privacy",
        ("privacy-list", "deletion-request-list"),
        SECTION_DATA,
        "privacy.DeletionRequest",
        count_label="Deletion requests",
        minimum_role=Role.MEMBER,
    ),
    Area("Reviews", ("review-list",), SECTION_PROJECT),
    Area("Audit log", ("audit-list",), SECTION_PROJECT),
    Area("Keys", ("key-list",), SECTION_PROJECT),
    Area("Members", ("member-list",), SECTION_PROJECT),
    Area("Settings", ("project-settings",), SECTION_PROJECT),
)
SECTIONS = (SECTION_BUILD, SECTION_DATA, SECTION_PROJECT)


def project_reverse(name: str, project_slug: str, *args: Any) -> str | None:
    """The URL of a project screen, or None when no such screen is installed."""
    try:
        return reverse(name, args=[project_slug, *args])
    except NoReverseMatch:
        return None


def _minimum_role(url: str, default: str) -> str:
    """The stricter of the area's own minimum and the one its view enforces."""
    try:
        view = resolve(url).func
    except Resolver404:
        return default
    enforced = getattr(view, "minimum_role", None) or default
    return max(default, enforced, key=lambda role: ROLE_RANK[Role(role)])


def area_url(area: Area, project_slug: str, role: str | None = None) -> str | None:
    """The area's screen in the project, or None when it is not installed or ``role`` (if
    given) may not open it."""
    for name in area.url_names:
        url = project_reverse(name, project_slug)
        if url:
            if (
                role is not None
                and ROLE_RANK[Role(role)] < ROLE_RANK[Role(_minimum_role(url, area.minimum_role))]
            ):
                return None
            return url
    return None


def area_model(area: Area):
    """The area's model class, or None while its app has not defined it."""
    if area.model is None:
        return None
    try:
        return apps.get_model(area.model)
    except (LookupError, ValueError):
        return None


@register.simple_tag(takes_context=True)
def project_url(context, name: str, *args: Any) -> str:
    """``{% project_url "gate-list" as url %}``: the URL in the current project, or "" if the
    screen does not exist (yet)."""
    project = context.get("project")
    if project is None:
        return ""
    return project_reverse(name, project.slug, *args) or ""


@register.inclusion_tag("includes/nav.html", takes_context=True)
def project_nav(context) -> dict[str, Any]:
    project = context.get("project")
    request = context.get("request")
    path = request.path if request is not None else ""
    sections: list[dict[str, Any]] = []
    dashboard_url = project_reverse("project-dashboard", project.slug) if project else None
    if project is not None:
        for section in SECTIONS:
            items = []
            for area in AREAS:
                if area.section != section:
                    continue
                url = area_url(area, project.slug, context.get("role"))
                if url:
                    items.append({"label": area.label, "url": url, "active": path.startswith(url)})
            if items:
                sections.append({"title": section, "items": items})
    return {
        "project": project,
        "sections": sections,
        "dashboard_url": dashboard_url,
        "dashboard_active": bool(dashboard_url) and path == dashboard_url,
    }


# Status words of every entity, mapped to a Bootstrap colour. Keys are normalised: lower case,
# spaces and dashes as underscores.
BADGE_COLOURS = {
    # reviews
    "pending": "warning",
    "approved": "info",
    "rejected": "danger",
    "committed": "success",
    "cancelled": "secondary",
    # keys, generic on/off
    "active": "success",
    "inactive": "secondary",
    "deactivated": "secondary",
    "enabled": "success",
    "disabled": "secondary",
    "on": "success",
    "off": "secondary",
    "true": "success",
    "false": "secondary",
    # gates, configs, experiments
    "in_progress": "primary",
    "launched": "success",
    "archived": "dark",
    "setup": "secondary",
    "decision_made": "info",
    "abandoned": "dark",
    "running": "success",
    # deletion requests
    "scheduled": "warning",
    "processing": "primary",
    "completed": "success",
    "done": "success",
    "failed": "danger",
    # roles
    "admin": "danger",
    "member": "primary",
    "viewer": "secondary",
}
_DARK_TEXT = {"warning", "info", "light"}


def _badge_key(value: Any) -> str:
    return str(value).strip().lower().replace(" ", "_").replace("-", "_")


@register.filter
def status_badge(value: Any, label: str | None = None) -> SafeString:
    """``{{ review.status|status_badge }}``; booleans take "yes,no" labels:
    ``{{ key.is_active|status_badge:"Active,Deactivated" }}``."""
    if isinstance(value, bool):
        yes, _, no = (label or "Yes,No").partition(",")
        text = yes if value else (no or f"Not {yes.lower()}")
        key = "true" if value else "false"
    else:
        key = _badge_key(value)
        text = label or str(value).replace("_", " ").capitalize()
    colour = BADGE_COLOURS.get(key, "secondary")
    text_class = "text-dark" if colour in _DARK_TEXT else ""
    return format_html(
        '<span class="badge text-bg-{} {} status-badge" data-status="{}">{}</span>',
        colour,
        text_class,
        key,
        text,
    )


@register.filter
def relative_time(value: datetime | None) -> SafeString | str:
    """``<time>`` with the exact UTC timestamp in ``datetime`` and ``title``; "3 minutes ago"."""
    if not value:
        return "—"
    now = timezone.now()
    delta = (now - value).total_seconds()
    if abs(delta) < 60:
        text = "just now"
    elif delta > 0:
        text = f"{timesince(value, now, depth=1)} ago"
    else:
        text = f"in {timeuntil(value, now, depth=1)}"
    exact = value.astimezone(UTC)
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        exact.isoformat(),
        exact.strftime("%Y-%m-%d %H:%M:%S UTC"),
        text,
    )


@register.simple_tag(takes_context=True)
def query_replace(context, **changes: Any) -> str:
    """The current query string with some parameters replaced (None or "" removes them):
    ``href="{% query_replace page=3 %}"``."""
    request = context.get("request")
    params = request.GET.copy() if request is not None else {}
    if hasattr(params, "setlist"):
        for key, value in changes.items():
            if value is None or value == "":
                params.pop(key, None)
            else:
                params.setlist(key, [str(value)])
        encoded = params.urlencode()
    else:  # pragma: no cover - templates rendered without a request
        encoded = urlencode({k: v for k, v in changes.items() if v not in (None, "")})
    return f"?{encoded}" if encoded else "?"


@register.filter
def page_window(page, radius: int = 2) -> list[int | None]:
    """Page numbers around the current one, with None for a gap: [1, None, 4, 5, 6, None, 20]."""
    total = page.paginator.num_pages
    current = page.number
    shown = {1, total, *range(max(1, current - radius), min(total, current + radius) + 1)}
    numbers: list[int | None] = []
    previous = 0
    for number in sorted(shown):
        if number - previous > 1:
            numbers.append(None)
        numbers.append(number)
        previous = number
    return numbers


def _widget_class(field: BoundField) -> str:
    widget = field.field.widget
    if isinstance(widget, CheckboxInput):
        base = "form-check-input"
    elif isinstance(widget, Select) and not getattr(widget, "allow_multiple_selected", False):
        base = "form-select"
    else:
        base = "form-control"
    existing = widget.attrs.get("class", "")
    invalid = " is-invalid" if field.errors else ""
    return f"{base} {existing}".strip() + invalid


@register.filter
def bs_widget(field: BoundField) -> SafeString:
    """The field's widget with Bootstrap classes and ``is-invalid`` when it has errors (Django
    adds ``aria-invalid`` and ``aria-describedby`` for the help text and errors itself)."""
    return field.as_widget(attrs={"class": _widget_class(field)})


@register.filter
def widget_kind(field: BoundField) -> str:
    """ "checkbox", "choices" (radio or checkbox group, rendered as a fieldset) or "input"."""
    widget = field.field.widget
    if isinstance(widget, CheckboxInput):
        return "checkbox"
    if isinstance(widget, (RadioSelect, CheckboxSelectMultiple)):
        return "choices"
    return "input"


def _compact(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


@register.filter
def json_compact(value: Any) -> str:
    """A value as one line of JSON (strings as they are)."""
    if value is None:
        return "—"
    return _compact(value)


@register.filter
def json_pretty(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


@register.filter
def change_rows(changes: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """An audit entry's ``{field: {old, new}}`` as rows for a table or list."""
    rows = []
    for field, change in (changes or {}).items():
        old, new = old_and_new(change)
        rows.append(
            {
                "field": field,
                "old": "—" if old is None else _compact(old),
                "new": "—" if new is None else _compact(new),
            }
        )
    return rows


@register.filter
def humanize_action(action_type: str) -> str:
    """``gate_review_approve`` -> "Gate review approve"."""
    return str(action_type).replace("_", " ").capitalize()


@register.filter
def joined(values: Iterable[Any] | None, separator: str = ", ") -> str:
    return separator.join(str(v) for v in values or ())
