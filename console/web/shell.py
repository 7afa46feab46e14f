"""What every browser screen shares: the project from the URL, the member's role, the acting
identity, and turning domain errors into form errors."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Page, Paginator
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from console import selectors
from console.actors import Actor
from console.errors import DomainError
from console.models import Project, Role

PAGE_SIZE = 50


def project_view(minimum_role: str = Role.VIEWER) -> Callable:
    """Resolves ``<project_slug>`` to a project the user is a member of (404 otherwise, so other
    projects cannot even be probed) and refuses roles below ``minimum_role`` with 403."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, project_slug: str, *args: Any, **kwargs: Any):
            membership = selectors.membership_for(user=request.user, project_slug=project_slug)
            if membership is None:
                raise Http404("No such project.")
            actor = Actor.for_user(request.user, membership.role)
            if not actor.has_role(minimum_role):
                raise DjangoPermissionDenied("Your role does not allow this.")
            request.project = membership.project
            request.role = membership.role
            request.actor = actor
            request.can_edit = actor.has_role(Role.MEMBER)
            request.is_admin = actor.has_role(Role.ADMIN)
            request.user_projects = selectors.projects_for_user(user=request.user)
            return view(request, *args, **kwargs)

        # The navigation hides screens a role may not open.
        wrapper.minimum_role = minimum_role
        return wrapper

    return decorator


def add_domain_errors(form: Form, error: DomainError) -> None:
    """Shows a service's error next to the field it names (or at the top of the form)."""
    if not error.errors:
        form.add_error(None, error.message)
        return
    for field_error in error.errors:
        root = field_error.property.split(".")[0].split("[")[0]
        form.add_error(root if root in form.fields else None, field_error.message)


def paginate(request: HttpRequest, items, per_page: int = PAGE_SIZE) -> Page:
    return Paginator(items, per_page).get_page(request.GET.get("page"))


def require_role(request: HttpRequest, role: str) -> None:
    """Server-side refusal for writes of a role the page would not have offered them to."""
    if not request.actor.has_role(role):
        raise DjangoPermissionDenied("Your role does not allow this.")


def render_with_errors(
    request: HttpRequest, template: str, context: dict[str, Any], error: DomainError
) -> HttpResponse:
    return render(request, template, context, status=error.status_code)


def project_url(name: str, project: Project, *args: Any) -> str:
    return reverse(name, args=[project.slug, *args])


def public_url(request: HttpRequest, path: str) -> str:
    """An absolute URL of this console: on ``CONSOLE_PUBLIC_URL`` when configured (the address
    people and SDKs use, which a proxy may hide from the request), else the request's own."""
    if settings.CONSOLE_PUBLIC_URL:
        return settings.CONSOLE_PUBLIC_URL + path
    return request.build_absolute_uri(path)
