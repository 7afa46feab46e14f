"""The console's shared browser screens: the landing redirect, new projects, the project
dashboard, API keys, members, the audit log, the review queue and project settings.

Every write goes through a console service; its domain errors are shown next to the form field
they name. Viewers see no edit controls, and the server refuses their writes with 403 whatever the
page showed (``project_view(minimum_role)`` or ``_require_role`` on POST).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, time
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import Count, Q
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from console import selectors
from console.errors import DomainError, NotFound
from console.forms import (
    REVIEW_FILTERS,
    ApiKeyCreateForm,
    AuditFilterForm,
    EnvironmentCreateForm,
    MemberAddForm,
    MemberRoleForm,
    ProjectCreateForm,
    ReviewApproveForm,
    ReviewRejectForm,
    ReviewSettingsForm,
)
from console.models import (
    OPEN_REVIEW_STATUSES,
    ApiKey,
    AuditLog,
    Project,
    Review,
    ReviewStatus,
    Role,
)
from console.services import api_keys as key_services
from console.services import projects as project_services
from console.services import reviews as review_services
from console.templatetags.console_tags import AREAS, SECTION_BUILD, area_model, area_url
from console.web import add_domain_errors, paginate, project_view

RECENT_ACTIVITY = 8


def _require_role(request: HttpRequest, role: str) -> None:
    """Server-side refusal for writes of a role the page would not have offered them to."""
    if not request.actor.has_role(role):
        raise DjangoPermissionDenied("Your role does not allow this.")


def _render_with_errors(
    request: HttpRequest, template: str, context: dict[str, Any], error: DomainError
) -> HttpResponse:
    return render(request, template, context, status=error.status_code)


def _project_url(name: str, project: Project, *args: Any) -> str:
    return reverse(name, args=[project.slug, *args])


# --- Landing and projects ------------------------------------------------------------------


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """``/``: the user's first project, or the page that says how to get one."""
    project = selectors.projects_for_user(user=request.user).first()
    if project is None:
        return redirect("project-create")
    return redirect("project-dashboard", project_slug=project.slug)


@login_required
@require_http_methods(["GET", "POST"])
def project_create(request: HttpRequest) -> HttpResponse:
    """A new project with the user as its admin; also the "no project yet" page."""
    user_projects = selectors.projects_for_user(user=request.user)
    request.user_projects = user_projects
    form = ProjectCreateForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            project, _keys = project_services.project_create(
                name=form.cleaned_data["name"], owner=request.user
            )
        except DomainError as error:
            add_domain_errors(form, error)
            status = error.status_code
        else:
            messages.success(
                request,
                f"Project “{project.name}” created with its environments and one key of each "
                "kind. Create a key under Keys to see its secret.",
            )
            return redirect("project-dashboard", project_slug=project.slug)
    elif request.method == "POST":
        status = 400
    return render(
        request,
        "console/project_create.html",
        {"form": form, "has_projects": user_projects.exists()},
        status=status,
    )


# --- Dashboard -----------------------------------------------------------------------------


def _entity_cards(project: Project, role: str) -> list[dict[str, Any]]:
    """One card per entity area whose model exists (apps are imported lazily: an area whose app
    has no model yet is left out)."""
    cards = []
    for area in AREAS:
        model = area_model(area)
        if model is None:
            continue
        cards.append(
            {
                "section": area.section,
                "label": area.count_label or area.label,
                "count": model._default_manager.filter(project=project).count(),
                "url": area_url(area, project.slug, role),
            }
        )
    return cards


@project_view(Role.VIEWER)
@require_GET
def project_dashboard(request: HttpRequest) -> HttpResponse:
    project = request.project
    review_counts = selectors.review_list(project=project).aggregate(
        pending=Count("id", filter=Q(status=ReviewStatus.PENDING)),
        approved=Count("id", filter=Q(status=ReviewStatus.APPROVED)),
    )
    key_counts = selectors.api_key_list(project=project).aggregate(
        active=Count("id", filter=Q(is_active=True)),
        total=Count("id"),
    )
    cards = _entity_cards(project, request.role)
    return render(
        request,
        "console/dashboard.html",
        {
            "cards": cards,
            "has_entities": any(card["count"] for card in cards),
            "first_area": next(
                (card for card in cards if card["url"] and card["section"] == SECTION_BUILD),
                None,
            ),
            "review_counts": review_counts,
            "key_counts": key_counts,
            "member_count": selectors.member_list(project=project).count(),
            "environments": selectors.environment_list(project=project),
            "recent": selectors.audit_log_list(project=project)[:RECENT_ACTIVITY],
        },
    )


# --- API keys ------------------------------------------------------------------------------


def _key_list_context(request: HttpRequest, form: ApiKeyCreateForm | None) -> dict[str, Any]:
    keys = selectors.api_key_list(project=request.project).select_related("created_by")
    return {
        "page": paginate(request, keys),
        "form": form
        if form is not None
        else (ApiKeyCreateForm(project=request.project) if request.is_admin else None),
    }


def _key_secret_response(
    request: HttpRequest, key: ApiKey, secret: str, *, rotated_from: ApiKey | None = None
) -> HttpResponse:
    response = render(
        request,
        "console/key_created.html",
        {"key": key, "secret": secret, "rotated_from": rotated_from},
    )
    # The secret is shown this once: keep it out of every cache, the back button's included.
    response["Cache-Control"] = "no-store"
    return response


@project_view(Role.VIEWER)
@require_http_methods(["GET", "POST"])
def key_list(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return render(request, "console/key_list.html", _key_list_context(request, None))
    _require_role(request, Role.ADMIN)
    form = ApiKeyCreateForm(request.POST, project=request.project)
    if not form.is_valid():
        return render(
            request, "console/key_list.html", _key_list_context(request, form), status=400
        )
    try:
        key, secret = key_services.api_key_create(
            project=request.project,
            actor=request.actor,
            kind=form.cleaned_data["type"],
            description=form.cleaned_data["description"],
            environments=form.cleaned_data["environments"],
        )
    except DomainError as error:
        add_domain_errors(form, error)
        return _render_with_errors(
            request, "console/key_list.html", _key_list_context(request, form), error
        )
    return _key_secret_response(request, key, secret)


@project_view(Role.ADMIN)
@require_POST
def key_deactivate(request: HttpRequest, public_id: str) -> HttpResponse:
    try:
        key = key_services.api_key_deactivate(
            project=request.project, actor=request.actor, public_id=public_id
        )
    except NotFound as error:
        raise Http404(error.message) from error
    messages.success(request, f"Key {key.hint}… is deactivated; requests with it now fail.")
    return redirect("key-list", project_slug=request.project.slug)


@project_view(Role.ADMIN)
@require_POST
def key_rotate(request: HttpRequest, public_id: str) -> HttpResponse:
    try:
        old = selectors.api_key_get(project=request.project, public_id=public_id)
        key, secret = key_services.api_key_rotate(
            project=request.project, actor=request.actor, public_id=public_id
        )
    except NotFound as error:
        raise Http404(error.message) from error
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("key-list", project_slug=request.project.slug)
    return _key_secret_response(request, key, secret, rotated_from=old)


# --- Members -------------------------------------------------------------------------------


def _member_context(request: HttpRequest, form: MemberAddForm | None) -> dict[str, Any]:
    return {
        "memberships": selectors.member_list(project=request.project),
        "form": form if form is not None else (MemberAddForm() if request.is_admin else None),
        "roles": Role.choices,
    }


@project_view(Role.VIEWER)
@require_http_methods(["GET", "POST"])
def member_list(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return render(request, "console/member_list.html", _member_context(request, None))
    _require_role(request, Role.ADMIN)
    form = MemberAddForm(request.POST)
    if not form.is_valid():
        return render(
            request, "console/member_list.html", _member_context(request, form), status=400
        )
    try:
        membership = project_services.membership_set(
            project=request.project,
            actor=request.actor,
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
        )
    except DomainError as error:
        add_domain_errors(form, error)
        return _render_with_errors(
            request, "console/member_list.html", _member_context(request, form), error
        )
    messages.success(
        request, f"{membership.user.email} is now {membership.get_role_display().lower()}."
    )
    return redirect("member-list", project_slug=request.project.slug)


@project_view(Role.ADMIN)
@require_POST
def member_role(request: HttpRequest, user_id: int) -> HttpResponse:
    membership = selectors.member_list(project=request.project).filter(user_id=user_id).first()
    if membership is None:
        raise Http404("Member not found.")
    form = MemberRoleForm(request.POST)
    if form.is_valid():
        try:
            project_services.membership_set(
                project=request.project,
                actor=request.actor,
                email=membership.user.email,
                role=form.cleaned_data["role"],
            )
        except DomainError as error:
            messages.error(request, f"{membership.user.email}: {error.message}")
        else:
            messages.success(
                request, f"{membership.user.email} is now {form.cleaned_data['role']}."
            )
    else:
        messages.error(request, "Choose one of the roles.")
    return redirect("member-list", project_slug=request.project.slug)


@project_view(Role.ADMIN)
@require_POST
def member_remove(request: HttpRequest, user_id: int) -> HttpResponse:
    try:
        project_services.membership_remove(
            project=request.project, actor=request.actor, user_id=user_id
        )
    except NotFound as error:
        raise Http404(error.message) from error
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Member removed from the project.")
    if user_id == request.user.pk:
        return redirect("dashboard")
    return redirect("member-list", project_slug=request.project.slug)


# --- Audit log -----------------------------------------------------------------------------


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


# --- Reviews -------------------------------------------------------------------------------

# How the review screen reads an entity's current state, to show a review's change against it.
# Apps register one loader per entity type, returning the entity in the shape their changes
# use (e.g. the console API output), or None when it does not exist:
#
#     @register_review_state("gate")
#     def _gate_state(project, entity_id): ...
ReviewStateLoader = Callable[[Project, str], Mapping[str, Any] | None]
_REVIEW_STATE_LOADERS: dict[str, ReviewStateLoader] = {}


def register_review_state(entity_type: str) -> Callable[[ReviewStateLoader], ReviewStateLoader]:
    def decorator(loader: ReviewStateLoader) -> ReviewStateLoader:
        _REVIEW_STATE_LOADERS[entity_type] = loader
        return loader

    return decorator


_MISSING = object()


def _dump(value: Any) -> str | None:
    return None if value is _MISSING else json.dumps(value, ensure_ascii=False, sort_keys=True)


def _diff_into(path: str, old: Any, new: Any, rows: list[dict[str, Any]]) -> None:
    if isinstance(old, Mapping) and isinstance(new, Mapping) and old and new:
        for key in [*new, *(k for k in old if k not in new)]:
            _diff_into(f"{path}.{key}", old.get(key, _MISSING), new.get(key, _MISSING), rows)
        return
    if isinstance(old, list) and isinstance(new, list) and old and new:
        for index in range(max(len(old), len(new))):
            _diff_into(
                f"{path}[{index}]",
                old[index] if index < len(old) else _MISSING,
                new[index] if index < len(new) else _MISSING,
                rows,
            )
        return
    if old is _MISSING:
        kind = "added"
    elif new is _MISSING:
        kind = "removed"
    elif old == new:
        kind = "unchanged"
    else:
        kind = "changed"
    rows.append({"path": path, "old": _dump(old), "new": _dump(new), "kind": kind})


def review_diff(
    change: Mapping[str, Any], current: Mapping[str, Any] | None
) -> list[dict[str, Any]]:
    """Rows ``{path, old, new, kind}`` comparing each field the change sets with the entity's
    current value, down to the leaves where both sides have the same shape
    (``rules[0].conditions[1].operator``). ``old``/``new`` are JSON, None when absent."""
    rows: list[dict[str, Any]] = []
    for field, proposed in change.items():
        existing = current.get(field, _MISSING) if current is not None else _MISSING
        _diff_into(str(field), existing, proposed, rows)
    return rows


def _current_state(review: Review) -> tuple[Mapping[str, Any] | None, bool]:
    """The entity's state and whether it could be read."""
    loader = _REVIEW_STATE_LOADERS.get(review.entity_type)
    if loader is None:
        return None, False
    try:
        return loader(review.project, review.entity_id), True
    except DomainError:
        return None, True


def _current_version(review: Review) -> int | None:
    try:
        kind = review_services.change_kind(review.change_type)
    except DomainError:
        return None
    return kind.current_version(review.project, review.entity_id)


@project_view(Role.VIEWER)
@require_GET
def review_list(request: HttpRequest) -> HttpResponse:
    current = request.GET.get("status", "open")
    if current not in REVIEW_FILTERS:
        current = "open"
    reviews = selectors.review_list(
        project=request.project, statuses=[s.value for s in REVIEW_FILTERS[current][1]]
    )
    open_count = selectors.review_list(
        project=request.project, statuses=list(OPEN_REVIEW_STATUSES)
    ).count()
    return render(
        request,
        "console/review_list.html",
        {
            "page": paginate(request, reviews),
            "current": current,
            "tabs": [(key, label) for key, (label, _statuses) in REVIEW_FILTERS.items()],
            "open_count": open_count,
        },
    )


def _review_context(
    request: HttpRequest,
    review: Review,
    *,
    approve_form: ReviewApproveForm | None = None,
    reject_form: ReviewRejectForm | None = None,
    error: str | None = None,
) -> dict[str, Any]:
    is_open = review.status in OPEN_REVIEW_STATUSES
    is_author = review.author_user_id is not None and review.author_user_id == request.user.pk
    current_state, state_known = _current_state(review)
    current_version = _current_version(review)
    return {
        "review": review,
        "decisions": review.decisions.all(),
        "diff": review_diff(review.change, current_state)
        if isinstance(review.change, dict)
        else [],
        "state_known": state_known,
        "is_stale": is_open
        and review.base_version is not None
        and current_version != review.base_version,
        "current_version": current_version,
        "is_author": is_author,
        "can_decide": request.can_edit and is_open,
        "can_approve": request.can_edit and is_open and not is_author,
        "can_commit": request.can_edit and review.status == ReviewStatus.APPROVED,
        "can_cancel": is_open and (is_author or request.is_admin),
        "approve_form": approve_form or ReviewApproveForm(prefix="approve"),
        "reject_form": reject_form or ReviewRejectForm(prefix="reject"),
        "action_error": error,
    }


def _get_review(request: HttpRequest, review_id: str) -> Review:
    try:
        return selectors.review_get(project=request.project, review_id=review_id)
    except NotFound as error:
        raise Http404(error.message) from error


@project_view(Role.VIEWER)
@require_GET
def review_detail(request: HttpRequest, review_id: str) -> HttpResponse:
    review = _get_review(request, review_id)
    return render(request, "console/review_detail.html", _review_context(request, review))


REVIEW_ACTIONS = ("approve", "reject", "commit", "cancel")
REVIEW_DONE = {
    "approve": "Review approved. It can now be committed.",
    "reject": "Review rejected.",
    "commit": "Review committed: the change is applied.",
    "cancel": "Review cancelled.",
}


@project_view(Role.MEMBER)
@require_POST
def review_action(request: HttpRequest, review_id: str, action: str) -> HttpResponse:
    if action not in REVIEW_ACTIONS:
        raise Http404("No such action.")
    review = _get_review(request, review_id)
    form: Form | None = None
    project, actor = request.project, request.actor
    try:
        if action == "approve":
            form = ReviewApproveForm(request.POST, prefix="approve")
            form.is_valid()
            review_services.review_approve(
                project=project,
                actor=actor,
                review_id=review.public_id,
                reason=form.cleaned_data.get("reason", ""),
            )
        elif action == "reject":
            form = ReviewRejectForm(request.POST, prefix="reject")
            form.is_valid()
            review_services.review_reject(
                project=project,
                actor=actor,
                review_id=review.public_id,
                reason=form.cleaned_data.get("reason", ""),
            )
        elif action == "commit":
            review_services.review_commit(project=project, actor=actor, review_id=review.public_id)
        else:
            review_services.review_cancel(project=project, actor=actor, review_id=review.public_id)
    except DomainError as error:
        if form is not None:
            add_domain_errors(form, error)
        review.refresh_from_db()
        context = _review_context(
            request,
            review,
            approve_form=form if action == "approve" else None,
            reject_form=form if action == "reject" else None,
            error=None if form is not None and error.errors else error.message,
        )
        return render(request, "console/review_detail.html", context, status=error.status_code)
    messages.success(request, REVIEW_DONE[action])
    return redirect("review-detail", project_slug=project.slug, review_id=review.public_id)


# --- Project settings ----------------------------------------------------------------------


def _settings_context(
    request: HttpRequest,
    *,
    review_form: ReviewSettingsForm | None = None,
    environment_form: EnvironmentCreateForm | None = None,
) -> dict[str, Any]:
    project = request.project
    return {
        "environments": selectors.environment_list(project=project),
        "review_form": review_form
        or ReviewSettingsForm(initial={"is_config_review_required": project.requires_review}),
        "environment_form": environment_form or EnvironmentCreateForm(),
    }


@project_view(Role.VIEWER)
@require_GET
def project_settings(request: HttpRequest) -> HttpResponse:
    return render(request, "console/settings.html", _settings_context(request))


@project_view(Role.ADMIN)
@require_POST
def settings_reviews(request: HttpRequest) -> HttpResponse:
    form = ReviewSettingsForm(request.POST)
    form.is_valid()  # a checkbox: always valid
    try:
        project_services.project_review_settings_update(
            project=request.project,
            actor=request.actor,
            is_config_review_required=form.cleaned_data["is_config_review_required"],
        )
    except DomainError as error:
        add_domain_errors(form, error)
        return _render_with_errors(
            request, "console/settings.html", _settings_context(request, review_form=form), error
        )
    messages.success(
        request,
        "Changes now require review."
        if request.project.requires_review
        else "Changes no longer require review.",
    )
    return redirect("project-settings", project_slug=request.project.slug)


@project_view(Role.ADMIN)
@require_POST
def environment_create(request: HttpRequest) -> HttpResponse:
    form = EnvironmentCreateForm(request.POST)
    if form.is_valid():
        try:
            environment = project_services.environment_create(
                project=request.project,
                actor=request.actor,
                name=form.cleaned_data["name"],
                requires_review=form.cleaned_data["requires_review"],
            )
        except DomainError as error:
            add_domain_errors(form, error)
            return _render_with_errors(
                request,
                "console/settings.html",
                _settings_context(request, environment_form=form),
                error,
            )
        messages.success(request, f"Environment “{environment.name}” added.")
        return redirect("project-settings", project_slug=request.project.slug)
    return render(
        request,
        "console/settings.html",
        _settings_context(request, environment_form=form),
        status=400,
    )
