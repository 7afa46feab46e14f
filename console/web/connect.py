"""Connect an SDK: the project's keys, copy-ready snippets for the Statsig and PostHog SDKs with
this server's address filled in, and an indicator that turns green when the first event or
exposure arrives.

Secrets are stored hashed, so the snippets carry real keys only right after an admin creates a
pair here (shown once, like on the Keys screen); otherwise they carry placeholders naming the
kind of key to paste."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods

from console import selectors
from console.models import ApiKeyKind, Role
from console.services import api_keys as key_services
from console.web.shell import project_view, public_url, require_role
from console.web.snippets import (
    CLIENT_KEY_PLACEHOLDER,
    GROUPS,
    SERVER_KEY_PLACEHOLDER,
    sdk_snippets,
)
from events.selectors import project_has_received_data

SNIPPET_KEY_DESCRIPTION = "Created on Connect an SDK"
SNIPPET_KEY_KINDS = (ApiKeyKind.SERVER, ApiKeyKind.CLIENT)


def _context(request: HttpRequest, secrets: dict[str, str]) -> dict[str, Any]:
    project = request.project
    snippets = sdk_snippets(
        base_url=public_url(request, "/").rstrip("/"),
        server_key=secrets.get(ApiKeyKind.SERVER, SERVER_KEY_PLACEHOLDER),
        client_key=secrets.get(ApiKeyKind.CLIENT, CLIENT_KEY_PLACEHOLDER),
    )
    active = selectors.api_key_list(project=project).filter(
        is_active=True, kind__in=SNIPPET_KEY_KINDS
    )
    return {
        "groups": [
            {"title": group, "snippets": [s for s in snippets if s.group == group]}
            for group in GROUPS
        ],
        "secrets": secrets,
        "active_keys": {kind: [k for k in active if k.kind == kind] for kind in SNIPPET_KEY_KINDS},
        "received": project_has_received_data(project=project),
        "server_url": public_url(request, "/"),
    }


@project_view(Role.VIEWER)
@require_http_methods(["GET", "POST"])
def connect_sdk(request: HttpRequest) -> HttpResponse:
    """GET: the snippets with placeholders. POST (admins): a new server key and client key,
    whose secrets fill the snippets this once."""
    secrets: dict[str, str] = {}
    if request.method == "POST":
        require_role(request, Role.ADMIN)
        for kind in SNIPPET_KEY_KINDS:
            _key, secrets[kind] = key_services.api_key_create(
                project=request.project,
                actor=request.actor,
                kind=kind,
                description=SNIPPET_KEY_DESCRIPTION,
            )
    response = render(request, "console/connect.html", _context(request, secrets))
    if secrets:
        # The secrets are shown this once: keep them out of every cache.
        response["Cache-Control"] = "no-store"
    return response


@project_view(Role.VIEWER)
@require_GET
def connect_status(request: HttpRequest) -> HttpResponse:
    """The indicator alone, polled by the page until the first event or exposure is stored."""
    return render(
        request,
        "console/_first_event.html",
        {"received": project_has_received_data(project=request.project)},
    )
