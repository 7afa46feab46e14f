"""The API keys screen: create (the secret is shown once), deactivate, rotate.

Every write goes through a console service; its domain errors are shown next to the form field
they name. Viewers see no edit controls, and the server refuses their writes with 403 whatever the
page showed."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from console import selectors
from console.errors import DomainError, NotFound
from console.forms import (
    ApiKeyCreateForm,
)
from console.models import (
    ApiKey,
    Role,
)
from console.services import api_keys as key_services
from console.web.shell import (
    add_domain_errors,
    paginate,
    project_view,
    render_with_errors,
    require_role,
)


def _key_page(request: HttpRequest):
    page = paginate(
        request, selectors.api_key_list(project=request.project).select_related("created_by")
    )
    last_used = selectors.api_key_last_used(keys=page.object_list)
    for key in page.object_list:
        key.last_used_fresh = last_used[key.pk]
    return page


def _key_list_context(request: HttpRequest, form: ApiKeyCreateForm | None) -> dict[str, Any]:
    return {
        "page": _key_page(request),
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
    require_role(request, Role.ADMIN)
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
            scopes=form.cleaned_data["scopes"],
        )
    except DomainError as error:
        add_domain_errors(form, error)
        return render_with_errors(
            request, "console/key_list.html", _key_list_context(request, form), error
        )
    return _key_secret_response(request, key, secret)


@project_view(Role.ADMIN)
@require_POST
def key_deactivate(request: HttpRequest, public_id: str) -> HttpResponse:
    try:
        key = key_services.api_key_deactivate(
            project=request.project, actor=request.actor, key_ref=public_id
        )
    except NotFound as error:
        raise Http404(error.message) from error
    messages.success(request, f"Key {key.hint}… is deactivated; requests with it now fail.")
    return redirect("key-list", project_slug=request.project.slug)


@project_view(Role.ADMIN)
@require_POST
def key_rotate(request: HttpRequest, public_id: str) -> HttpResponse:
    try:
        old = selectors.api_key_get(project=request.project, key_ref=public_id)
        key, secret = key_services.api_key_rotate(
            project=request.project, actor=request.actor, key_ref=public_id
        )
    except NotFound as error:
        raise Http404(error.message) from error
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("key-list", project_slug=request.project.slug)
    return _key_secret_response(request, key, secret, rotated_from=old)


@project_view(Role.VIEWER)
@require_GET
def key_usage(request: HttpRequest) -> HttpResponse:
    """The "last used" cells of one page of keys, swapped in place by the page's poll."""
    return render(request, "console/_key_usage.html", {"page": _key_page(request)})
