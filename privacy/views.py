"""The Privacy screen: admins submit deletion requests and queue the job; members see the list
(status, dates, id count and progress, never the ids); viewers see nothing of it."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from console.errors import DomainError
from console.models import Role
from console.web.shell import add_domain_errors, paginate, project_view
from privacy import selectors, services
from privacy.forms import DeletionRequestForm
from privacy.models import DeletionSource

#: While a batch is running the table refreshes itself this often.
POLL_SECONDS = 3


def _table_context(request: HttpRequest) -> dict:
    page = paginate(request, selectors.deletion_request_list(project=request.project))
    running = any(r.is_pending and r.started_at for r in page.object_list)
    return {
        "page_obj": page,
        "requests": page.object_list,
        "running": running,
        "poll": POLL_SECONDS,
    }


def _list_context(request: HttpRequest, form: DeletionRequestForm | None) -> dict:
    context = _table_context(request)
    summary = selectors.deletion_pending_summary(project_id=request.project.pk)
    unit_types = selectors.deletion_unit_types(project=request.project)
    if form is None and request.is_admin:
        form = DeletionRequestForm(unit_types=unit_types)
    context.update(form=form, summary=summary, unit_types=unit_types)
    return context


@project_view(Role.MEMBER)
@require_http_methods(["GET", "POST"])
def privacy_list(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return render(request, "privacy/privacy_list.html", _list_context(request, None))
    return privacy_create(request)


def privacy_create(request: HttpRequest) -> HttpResponse:
    if not request.is_admin:
        raise PermissionDenied("Only admins can submit deletion requests.")
    unit_types = selectors.deletion_unit_types(project=request.project)
    form = DeletionRequestForm(request.POST, request.FILES, unit_types=unit_types)
    if not form.is_valid():
        return render(
            request, "privacy/privacy_list.html", _list_context(request, form), status=400
        )
    try:
        deletion = services.deletion_request_submit(
            project=request.project,
            actor=request.actor,
            unit_type=form.cleaned_data["unit_type"],
            ids=form.id_values(),
            delimiter=form.cleaned_data["delimiter"] or None,
            request_id=form.cleaned_data["request_id"] or None,
            source=DeletionSource.CONSOLE,
        )
    except DomainError as error:
        add_domain_errors(form, error)
        return render(
            request, "privacy/privacy_list.html", _list_context(request, form), status=400
        )
    messages.success(
        request,
        f"Deletion request {deletion.request_id} accepted: {deletion.id_count} ID(s), due "
        f"{deletion.due_at:%Y-%m-%d}. It cannot be cancelled.",
    )
    return redirect("privacy-list", project_slug=request.project.slug)


@project_view(Role.MEMBER)
@require_GET
def privacy_table(request: HttpRequest) -> HttpResponse:
    """The request table alone, polled by htmx while a batch runs."""
    return render(request, "privacy/_request_table.html", _table_context(request))


@project_view(Role.ADMIN)
@require_POST
def privacy_process_now(request: HttpRequest) -> HttpResponse:
    summary = selectors.deletion_pending_summary(project_id=request.project.pk)
    if not summary.pending:
        messages.info(request, "There are no pending deletion requests to process.")
    else:
        services.deletion_process_now_queue(project=request.project, actor=request.actor)
        messages.success(
            request,
            f"Queued: {summary.pending} pending request(s) will be processed by a worker shortly.",
        )
    return redirect("privacy-list", project_slug=request.project.slug)
