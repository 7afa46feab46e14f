"""Segment screens: the list, create, and the detail page: the rule editor of rule-based
segments; for ID lists the count, file uploads processed in the background (progress polled
with htmx), pasted IDs to add or remove, and a membership lookup.

Every write is a ``segments.services`` call (uploads too, from ``segments.uploads``)."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from console.errors import DomainError
from console.models import Role
from console.web import editor, entities
from console.web.shell import add_domain_errors, paginate, project_view
from flags import selectors as flag_selectors
from ruleset import conditions
from segments import selectors, services, tasks, uploads
from segments.forms import (
    IdsForm,
    LookupForm,
    SegmentCreateForm,
    SegmentFilterForm,
    SegmentForm,
    SegmentRulesForm,
    UploadForm,
)
from segments.models import Segment, SegmentType

ENTITY_TYPE = services.ENTITY_TYPE
MEMBER_PREVIEW = 20
SORTS = {
    "-modified": ("-updated_at", "-id"),
    "name": ("name", "id"),
    "-created": ("-created_at", "-id"),
    "-count": ("-id_count", "-id"),
}


def _segment_or_404(request: HttpRequest, segment_id: str) -> Segment:
    return entities.get_or_404(
        lambda: selectors.segment_get(project=request.project, segment_id=segment_id)
    )


def _url(request: HttpRequest, segment: Segment) -> str:
    return reverse("segment-detail", args=[request.project.slug, segment.key])


# -- list -------------------------------------------------------------------------------------------


@project_view(Role.VIEWER)
@require_GET
def segment_list(request: HttpRequest) -> HttpResponse:
    project = request.project
    form = SegmentFilterForm(request.GET or None, tags=entities.distinct_tags(Segment, project))
    filters = form.filters()
    segments = selectors.segment_list(
        project=project,
        type=filters["type"] or None,
        tags=[filters["tag"]],
        archived={"": False, "archived": True, "all": None}[filters["status"]],
        search=filters["q"] or None,
    )
    segments = segments.order_by(*SORTS.get(filters["sort"], SORTS["-modified"])).defer("rules")
    page = paginate(request, segments)
    reviews = flag_selectors.active_reviews(
        project=project, entity_type=ENTITY_TYPE, entity_ids=[s.key for s in page.object_list]
    )
    return render(
        request,
        "segments/segment_list.html",
        {
            "page": page,
            "rows": [(segment, reviews.get(segment.key)) for segment in page.object_list],
            "form": form,
            "filtered": any(filters[key] for key in ("q", "tag", "type", "status")),
        },
    )


# -- create -----------------------------------------------------------------------------------------


@project_view(Role.MEMBER)
@require_http_methods(["GET", "POST"])
def segment_create(request: HttpRequest) -> HttpResponse:
    form = SegmentCreateForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                segment = services.segment_create(
                    project=request.project,
                    actor=request.actor,
                    name=data["name"],
                    type=data["type"],
                    id=data["id"] or None,
                    description=data["description"],
                    id_type=data["idType"],
                    tags=data["tags"],
                )
            except DomainError as error:
                add_domain_errors(form, error)
                status = error.status_code
            else:
                next_step = (
                    "Upload or paste its IDs."
                    if segment.is_id_list
                    else "Add the rules that decide who is in it."
                )
                entities.announce(request, None, f"Segment “{segment.name}” created. {next_step}")
                return redirect(_url(request, segment))
        else:
            status = 400
    return render(request, "segments/segment_create.html", {"form": form}, status=status)


# -- detail -----------------------------------------------------------------------------------------


def _detail_context(
    request: HttpRequest,
    segment: Segment,
    *,
    form: SegmentForm | None = None,
    rules_form: SegmentRulesForm | None = None,
    rules_error: DomainError | None = None,
    ids_form: IdsForm | None = None,
    upload_form: UploadForm | None = None,
) -> dict[str, Any]:
    project = request.project
    context: dict[str, Any] = {
        "segment": segment,
        "form": form
        or SegmentForm(
            initial={"name": segment.name, "description": segment.description, "tags": segment.tags}
        ),
        "review": entities.pending_review(project, entity_type=ENTITY_TYPE, entity_id=segment.key),
        "history": entities.entity_history(project, entity_type=ENTITY_TYPE, entity_id=segment.key),
        "referrers": [
            str(r) for r in selectors.segment_referrers(project=project, segment_id=segment.key)
        ],
        "types": SegmentType,
    }
    if segment.type == SegmentType.RULE_BASED:
        context.update(
            rules_form=rules_form
            or SegmentRulesForm(initial={"rules": editor.rules_for_editor(segment.rules)}),
            editor=editor.editor_config(
                project=project,
                allowed=conditions.SEGMENT_VOCABULARY,
                exclude_segment=segment.key,
                errors=editor.field_errors(rules_error),
            ),
            rules_display=editor.describe_rules(segment.rules),
        )
    elif segment.type == SegmentType.ID_LIST:
        job_id = request.GET.get("upload", "")
        job = uploads.upload_state(job_id) if job_id else None
        if job and (job["project_id"] != project.pk or job["segment_id"] != segment.key):
            job = None
        context.update(
            ids_form=ids_form or IdsForm(),
            upload_form=upload_form or UploadForm(),
            lookup_form=LookupForm(),
            members=selectors.segment_member_page(segment=segment, offset=0, limit=MEMBER_PREVIEW),
            job=job,
            job_id=job_id if job else "",
        )
    return context


@project_view(Role.VIEWER)
@require_http_methods(["GET", "POST"])
def segment_detail(request: HttpRequest, segment_id: str) -> HttpResponse:
    """GET shows the segment; POST saves its name, description and tags."""
    segment = _segment_or_404(request, segment_id)
    if request.method == "GET":
        return render(request, "segments/segment_detail.html", _detail_context(request, segment))
    entities.require_editor(request)
    form = SegmentForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        change = {
            key: data[key]
            for key in ("name", "description", "tags")
            if data[key] != getattr(segment, key)
        }
        if not change:
            entities.announce(request, None, "Nothing to save: no field changed.")
            return redirect(_url(request, segment))
        try:
            outcome = services.segment_update(
                project=request.project, actor=request.actor, segment_id=segment.key, **change
            )
        except DomainError as error:
            add_domain_errors(form, error)
            status = error.status_code
        else:
            entities.announce(request, outcome, "Segment saved.")
            return redirect(_url(request, segment))
    else:
        status = 400
    return render(
        request,
        "segments/segment_detail.html",
        _detail_context(request, segment, form=form),
        status=status,
    )


@project_view(Role.MEMBER)
@require_POST
def segment_rules(request: HttpRequest, segment_id: str) -> HttpResponse:
    segment = _segment_or_404(request, segment_id)
    form = SegmentRulesForm(request.POST)
    error: DomainError | None = None
    if form.is_valid():
        try:
            outcome = services.segment_update_rules(
                project=request.project,
                actor=request.actor,
                segment_id=segment.key,
                rules=form.cleaned_data["rules"],
            )
        except DomainError as exc:
            error = exc
            add_domain_errors(form, exc)
            status = exc.status_code
        else:
            entities.announce(request, outcome, "Rules saved.")
            return redirect(_url(request, segment))
    else:
        status = 400
    return render(
        request,
        "segments/segment_detail.html",
        _detail_context(request, segment, rules_form=form, rules_error=error),
        status=status,
    )


@project_view(Role.MEMBER)
@require_POST
def segment_ids(request: HttpRequest, segment_id: str, action: str) -> HttpResponse:
    """Adds (``add``) or removes (``remove``) pasted IDs."""
    segment = _segment_or_404(request, segment_id)
    if action not in ("add", "remove"):
        raise Http404("No such action.")
    form = IdsForm(request.POST)
    if form.is_valid():
        service = services.segment_ids_add if action == "add" else services.segment_ids_remove
        try:
            outcome = service(
                project=request.project,
                actor=request.actor,
                segment_id=segment.key,
                ids=form.cleaned_data["ids"],
            )
        except DomainError as error:
            add_domain_errors(form, error)
            status = error.status_code
        else:
            if outcome.result is not None:
                change = outcome.result
                done = (
                    f"{change.added:,} ID{'s' if change.added != 1 else ''} added "
                    f"({len(form.cleaned_data['ids']) - change.added:,} already in the list)."
                    if action == "add"
                    else f"{change.removed:,} ID{'s' if change.removed != 1 else ''} removed."
                )
            else:
                done = ""
            entities.announce(request, outcome, done)
            return redirect(_url(request, segment))
    else:
        status = 400
    return render(
        request,
        "segments/segment_detail.html",
        _detail_context(request, segment, ids_form=form),
        status=status,
    )


@project_view(Role.MEMBER)
@require_POST
def segment_upload(request: HttpRequest, segment_id: str) -> HttpResponse:
    segment = _segment_or_404(request, segment_id)
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid() or segment.type != SegmentType.ID_LIST:
        if form.is_valid():
            form.add_error(None, "Only ID-list segments take files of IDs.")
        return render(
            request,
            "segments/segment_detail.html",
            _detail_context(request, segment, upload_form=form),
            status=400,
        )
    job_id = tasks.queue_upload(
        project=request.project,
        actor=request.actor,
        segment=segment,
        upload=form.cleaned_data["file"],
        replace=form.cleaned_data["replace"],
    )
    return redirect(f"{_url(request, segment)}?upload={job_id}#upload")


@project_view(Role.VIEWER)
@require_GET
def segment_upload_status(request: HttpRequest, segment_id: str, job_id: str) -> HttpResponse:
    """The progress panel of an upload (polled by htmx while it runs), with the member count as
    it is now."""
    segment = _segment_or_404(request, segment_id)
    job = uploads.upload_state(job_id)
    if job is None or job["project_id"] != request.project.pk or job["segment_id"] != segment.key:
        raise Http404("No such upload.")
    return render(
        request,
        "segments/_upload_progress.html",
        {"segment": segment, "job": job, "job_id": job_id, "polled": True},
    )


@project_view(Role.VIEWER)
@require_GET
def segment_lookup(request: HttpRequest, segment_id: str) -> HttpResponse:
    """Whether an ID is a member (htmx partial; the whole page without JavaScript)."""
    segment = _segment_or_404(request, segment_id)
    form = LookupForm(request.GET)
    result = None
    if form.is_valid():
        unit_id = form.cleaned_data["id"].strip()
        result = {
            "id": unit_id,
            "member": selectors.segment_is_member(segment=segment, unit_id=unit_id),
        }
    context = {"segment": segment, "lookup_form": form, "lookup": result}
    if request.htmx:
        return render(request, "segments/_lookup.html", context)
    full = _detail_context(request, segment)
    full.update(context)
    return render(request, "segments/segment_detail.html", full)


@project_view(Role.MEMBER)
@require_POST
def segment_archive(request: HttpRequest, segment_id: str) -> HttpResponse:
    segment = _segment_or_404(request, segment_id)
    archive = not segment.archived
    try:
        outcome = services.segment_archive(
            project=request.project, actor=request.actor, segment_id=segment.key, archived=archive
        )
    except DomainError as error:
        entities.error_message(request, error)
    else:
        entities.announce(
            request,
            outcome,
            "Segment archived: hidden from pickers, still evaluated where it is used."
            if archive
            else "Segment unarchived.",
        )
    return redirect(_url(request, segment))


@project_view(Role.MEMBER)
@require_http_methods(["GET", "POST"])
def segment_delete(request: HttpRequest, segment_id: str) -> HttpResponse:
    segment = _segment_or_404(request, segment_id)
    referrers = [
        str(r) for r in selectors.segment_referrers(project=request.project, segment_id=segment.key)
    ]
    error = None
    status = 200
    if request.method == "POST":
        try:
            outcome = services.segment_delete(
                project=request.project, actor=request.actor, segment_id=segment.key
            )
        except DomainError as exc:
            error = exc.message
            status = exc.status_code
        else:
            entities.announce(request, outcome, f"Segment “{segment.name}” deleted.")
            if outcome.review is not None:
                return redirect(_url(request, segment))
            return redirect("segment-list", project_slug=request.project.slug)
    return render(
        request,
        "flags/confirm_delete.html",
        {
            "entity": segment,
            "entity_id": segment.key,
            "entity_label": "segment",
            "referrers": referrers,
            "error": error,
            "cancel_url_name": "segment-detail",
            "consequence": "its members and ID-list file are deleted too.",
        },
        status=status,
    )
