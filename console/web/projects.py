"""The landing redirect, new projects, the project dashboard and project settings.

Every write goes through a console service; its domain errors are shown next to the form field
they name. Viewers see no edit controls, and the server refuses their writes with 403 whatever the
page showed."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from console import selectors
from console.errors import DomainError
from console.forms import (
    EnvironmentCreateForm,
    ProjectCreateForm,
    ReviewSettingsForm,
)
from console.models import (
    Project,
    ReviewStatus,
    Role,
)
from console.services import projects as project_services
from console.templatetags.console_tags import AREAS, SECTION_BUILD, area_model, area_url
from console.web.shell import (
    add_domain_errors,
    project_view,
    render_with_errors,
)
from events import selectors as event_selectors

RECENT_ACTIVITY = 8


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
        "parked_exposures": event_selectors.parked_exposure_count(project=project),
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
        return render_with_errors(
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
            return render_with_errors(
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
