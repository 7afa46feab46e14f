"""Accepting an invitation: the link's token is the credential. Someone without an account
chooses a password and is logged in; someone logged in with the invited email joins with one
click; anyone else is told what to do. Every case lands in the project with the invited role."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from console.errors import DomainError, NotFound
from console.forms import InvitationAcceptForm
from console.models import Invitation, Role
from console.services import invitations as invitation_services
from console.web.shell import add_domain_errors

TEMPLATE = "console/invitation_accept.html"
# The session of someone who has just chosen their password (several backends are configured).
LOGIN_BACKEND = "console.web.authentication.EmailOrUsernameBackend"


def _situation(request: HttpRequest, invitation: Invitation) -> str:
    """ "join" (logged in as the invitee), "other_user" (logged in as someone else),
    "log_in" (the invitee has an account already) or "new_account"."""
    user = request.user
    if user.is_authenticated:
        return "join" if (user.email or "").lower() == invitation.email else "other_user"
    if get_user_model()._default_manager.filter(email__iexact=invitation.email).exists():
        return "log_in"
    return "new_account"


def _page(
    request: HttpRequest, invitation: Invitation, form: InvitationAcceptForm, status: int = 200
) -> HttpResponse:
    context: dict[str, Any] = {
        "invitation": invitation,
        "situation": _situation(request, invitation),
        "form": form,
    }
    return render(request, TEMPLATE, context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = invitation_services.invitation_for_token(token=token)
    except NotFound as error:
        return render(
            request, "console/invitation_invalid.html", {"message": error.message}, status=404
        )
    form = InvitationAcceptForm(request.POST or None)
    if request.method == "GET":
        return _page(request, invitation, form)
    situation = _situation(request, invitation)
    if situation == "new_account" and not form.is_valid():
        return _page(request, invitation, form, status=400)
    if situation in ("log_in", "other_user"):
        return _page(request, invitation, form, status=409)
    try:
        if situation == "join":
            user, membership = invitation_services.invitation_accept(token=token, user=request.user)
        else:
            user, membership = invitation_services.invitation_accept(
                token=token,
                password=form.cleaned_data["password"],
                name=form.cleaned_data["name"],
            )
    except DomainError as error:
        add_domain_errors(form, error)
        return _page(request, invitation, form, status=error.status_code)
    if situation == "new_account":
        login(request, user, backend=LOGIN_BACKEND)
    article = "an" if membership.role == Role.ADMIN else "a"
    messages.success(
        request,
        f"Welcome to {membership.project.name}. You are {article} "
        f"{membership.get_role_display().lower()} of this project.",
    )
    return redirect("project-dashboard", project_slug=membership.project.slug)
