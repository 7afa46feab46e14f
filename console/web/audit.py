"""The audit log screen, filtered by entity, action and actor; each entry opens to its whole
before/after diff.

Every write goes through a console service; its domain errors are shown next to the form field
they name. Viewers see no edit controls, and the server refuses their writes with 403 whatever the
page showed."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from console import selectors
from console.errors import NotFound
from console.forms import (
    AuditFilterForm,
)
from console.models import (
    AuditLog,
    Project,
    Role,
)
from console.web.diffs import change_diffs
from console.web.shell import (
    paginate,
    project_view,
)


def _distinct(project: Project, field: str) -> list[str]:
    return list(
        AuditLog.objects.filter(project=project)
        .order_by(field)
        .values_list(field, flat=True)
        .distinct()
    )


@project_view(Role.VIEWER)
@require_GET
def audit_list(request: HttpRequest) -> HttpResponse:
    project = request.project
    form = AuditFilterForm(
        request.GET or None,
        entity_types=_distinct(project, "entity_type"),
        action_types=_distinct(project, "action_type"),
    )
    filters: dict[str, Any] = {}
    status = 200
    if form.is_bound:
        if form.is_valid():
            filters = form.cleaned_data
        else:
            status = 400
    logs = selectors.audit_log_list(
        project=project,
        entity_id=filters.get("entity_id") or None,
        entity_type=filters.get("entity_type") or None,
        action_types=[filters["action_type"]] if filters.get("action_type") else None,
    )
    # Inclusive calendar days in UTC, as the console API's startDate/endDate.
    if filters.get("start_date"):
        logs = logs.filter(created_at__gte=datetime.combine(filters["start_date"], time.min, UTC))
    if filters.get("end_date"):
        logs = logs.filter(created_at__lte=datetime.combine(filters["end_date"], time.max, UTC))
    context = {
        "form": form,
        "page": paginate(request, logs),
        "filtered": any(filters.values()) if filters else False,
    }
    template = (
        "console/_audit_results.html"
        if getattr(request, "htmx", False) and request.htmx.target == "audit-results"
        else "console/audit_list.html"
    )
    return render(request, template, context, status=status)


@project_view(Role.VIEWER)
@require_GET
def audit_entry(request: HttpRequest, entry_id: int) -> HttpResponse:
    """One entry with every changed field whole: the fragment an expanded row loads, or a page
    of its own (a link to share, and the way without JavaScript)."""
    try:
        entry = selectors.audit_log_get(project=request.project, entry_id=entry_id)
    except NotFound as error:
        raise Http404(error.message) from error
    template = (
        "console/_audit_entry_diff.html"
        if getattr(request, "htmx", False)
        else "console/audit_entry.html"
    )
    return render(request, template, {"entry": entry, "diffs": change_diffs(entry.changes)})
