"""Logging in to the browser console: with the username or the email address, throttled per
account and per client address by django-axes (``AXES_*`` in ``console.settings``).

The functions below are the project's side of django-axes: which account a typed identifier
means (so that "Ada@Example.com" and "ada" share one failure count), which address a request
comes from (the proxy's last hop when ``DJANGO_BEHIND_TLS_PROXY`` is on), and the page a locked-out
visitor sees."""

from __future__ import annotations

import math
from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

# The last hop of X-Forwarded-For is the address the proxy saw; anything left of it was sent by
# the client and can be forged.
FORWARDED_FOR = "HTTP_X_FORWARDED_FOR"


def _users_for(identifier: str) -> list:
    """The accounts a login identifier names: the one with that exact username, otherwise those
    whose email matches it, ignoring case (Django does not make emails unique)."""
    users = get_user_model()._default_manager
    by_username = users.filter(username=identifier).first()
    if by_username is not None:
        return [by_username]
    if "@" not in identifier:
        return []
    return list(users.filter(email__iexact=identifier).order_by("pk"))


class EmailOrUsernameBackend(ModelBackend):
    """Django's model backend, also accepting the account's email address (any case)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if not username or password is None:
            return None
        candidates = _users_for(username.strip())
        if not candidates:
            # Spend the time of one password check, so that unknown accounts answer as slowly as
            # known ones (Django's model backend does the same).
            get_user_model()().set_password(password)
            return None
        matches = [
            user
            for user in candidates
            if user.check_password(password) and self.user_can_authenticate(user)
        ]
        # Two accounts sharing an email and a password: refuse rather than guess.
        return matches[0] if len(matches) == 1 else None


class LoginForm(AuthenticationForm):
    username = forms.CharField(
        label="Email or username",
        max_length=254,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That email or username and password do not match an account. "
        "The password is case-sensitive.",
    }


def throttle_username(request: HttpRequest, credentials: dict | None) -> str:
    """``AXES_USERNAME_CALLABLE``: the account's username when the identifier names exactly one
    account, else the identifier itself, trimmed and lower-cased."""
    source = credentials if credentials is not None else request.POST
    typed = (source.get("username") or "").strip()
    accounts = _users_for(typed) if typed else []
    if len(accounts) == 1:
        return accounts[0].get_username()
    return typed.lower()


def client_address(request: HttpRequest) -> str:
    """``AXES_CLIENT_IP_CALLABLE``: the connecting address, or behind the TLS proxy the address
    the proxy appended to X-Forwarded-For."""
    if settings.BEHIND_TLS_PROXY:
        hops = [hop.strip() for hop in request.META.get(FORWARDED_FOR, "").split(",")]
        if hops and hops[-1]:
            return hops[-1]
    return request.META.get("REMOTE_ADDR", "")


def _minutes(delta: timedelta) -> int:
    return max(1, math.ceil(delta.total_seconds() / 60))


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """``AXES_LOCKOUT_CALLABLE``: the login page again, saying why and for how long, with 429."""
    minutes = _minutes(settings.AXES_COOLOFF_TIME)
    form = LoginForm(request, initial={"username": (credentials or {}).get("username", "")})
    message = (
        f"Too many failed logins for this account or from your network. Logging in is paused "
        f"for {minutes} minute{'s' if minutes != 1 else ''} after the last failed attempt; "
        "try again then, or ask an admin of this console for help."
    )
    response = render(
        request,
        "registration/login.html",
        {"form": form, "lockout_message": message, "next": request.POST.get("next", "")},
        status=429,
    )
    response["Retry-After"] = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    return response
