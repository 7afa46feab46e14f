"""The members screen: add a member by email (or invite someone without an account), change a
role, remove, withdraw an invitation.

Every write goes through a console service; its domain errors are shown next to the form field
they name. Viewers see no edit controls, and the server refuses their writes with 403 whatever the
page showed."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from console import selectors
from console.errors import DomainError, NotFound
from console.forms import (
    MemberAddForm,
    MemberRoleForm,
)
from console.models import (
    Invitation,
    Role,
)
from console.services import invitations as invitation_services
from console.services import projects as project_services
from console.web.shell import (
    add_domain_errors,
    project_view,
    public_url,
    render_with_errors,
    require_role,
)


def _member_context(
    request: HttpRequest, form: MemberAddForm | None, **extra: Any
) -> dict[str, Any]:
    return {
        "memberships": selectors.member_list(project=request.project),
        "invitations": selectors.open_invitation_list(project=request.project)
        if request.is_admin
        else (),
        "form": form if form is not None else (MemberAddForm() if request.is_admin else None),
        "roles": Role.choices,
        **extra,
    }


def _invitation_made(request: HttpRequest, invitation: Invitation, token: str) -> HttpResponse:
    """Mails the link when mail is set up; otherwise (or when sending failed) shows it to the
    admin, this once."""
    link = public_url(request, reverse("invitation-accept", args=[token]))
    if invitation_services.invitation_send(invitation=invitation, link=link):
        messages.success(
            request,
            f"Invitation sent to {invitation.email}. The link expires in "
            f"{settings.INVITATION_DAYS} days.",
        )
        return redirect("member-list", project_slug=request.project.slug)
    response = render(
        request,
        "console/member_list.html",
        _member_context(
            request,
            None,
            invitation_link=link,
            new_invitation=invitation,
            mail_configured=settings.EMAIL_CONFIGURED,
        ),
    )
    # The link is shown this once: keep it out of every cache, the back button's included.
    response["Cache-Control"] = "no-store"
    return response


@project_view(Role.VIEWER)
@require_http_methods(["GET", "POST"])
def member_list(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return render(request, "console/member_list.html", _member_context(request, None))
    require_role(request, Role.ADMIN)
    form = MemberAddForm(request.POST)
    if not form.is_valid():
        return render(
            request, "console/member_list.html", _member_context(request, form), status=400
        )
    try:
        added = invitation_services.member_add_or_invite(
            project=request.project,
            actor=request.actor,
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
        )
    except DomainError as error:
        add_domain_errors(form, error)
        return render_with_errors(
            request, "console/member_list.html", _member_context(request, form), error
        )
    if added.invitation is not None:
        return _invitation_made(request, added.invitation, added.token)
    membership = added.membership
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


@project_view(Role.ADMIN)
@require_POST
def invitation_revoke(request: HttpRequest, invitation_id: int) -> HttpResponse:
    try:
        invitation = invitation_services.invitation_revoke(
            project=request.project, actor=request.actor, invitation_id=invitation_id
        )
    except NotFound as error:
        raise Http404(error.message) from error
    messages.success(request, f"The invitation of {invitation.email} is withdrawn.")
    return redirect("member-list", project_slug=request.project.slug)
