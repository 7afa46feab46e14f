"""The screens every kind of entity has, read from its ``console.web.entities.Screen`` and the
descriptor it names (``flags.services.descriptor.EntityKind``): the list page with its search,
tag and status filters, the delete confirmation, and the versions with "Restore this version". ``flags.urls`` routes each kind's URLs here
with its screen, so a new kind gets these screens from its descriptor."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from console import selectors as console_selectors
from console.errors import DomainError
from console.models import Role
from console.selectors import person_name
from console.web import entities
from console.web.comparison import without_internal
from console.web.diffs import change_diffs
from console.web.shell import paginate, project_view
from flags import selectors as flag_selectors
from flags.forms import AllowedReviewersForm
from flags.services import history, kernel
from flags.services.descriptor import ALLOWED_REVIEWERS
from flags.services.versions import restorable_values


@project_view(Role.VIEWER)
@require_GET
def entity_list(request: HttpRequest, *, screen: entities.Screen) -> HttpResponse:
    project = request.project
    kind = screen.kind
    form = entities.filter_form(
        request,
        tags=flag_selectors.distinct_tags(project=project, model=kind.model),
        statuses=screen.statuses,
    )
    filters = form.filters()
    listed = entities.sorted_by(
        screen.listing(project, filters),
        filters["sort"],
        modified_field=kind.ownership.modified_at,
    )
    page = paginate(request, listed)
    return render(
        request,
        "flags/entity_list.html",
        {
            "screen": screen,
            "page": page,
            "rows": entities.rows_for_page(page, project=project, screen=screen),
            "form": form,
            "filtered": any(filters[key] for key in ("q", "tag", "status")),
            "hide_status_filter": not screen.statuses,
        },
    )


@project_view(Role.MEMBER)
@require_http_methods(["GET", "POST"])
def entity_delete(request: HttpRequest, entity_id: str, *, screen: entities.Screen) -> HttpResponse:
    """The confirmation names what still refers to the entity (the delete is refused then);
    a delete that needs review is filed and the detail page says so."""
    project = request.project
    kind = screen.kind
    entity = entities.get_or_404(
        lambda: flag_selectors.entity_get(project=project, kind=kind, entity_id=entity_id)
    )
    referrers = kind.referrers(project, entity) if kind.referrers else []
    error = None
    status = 200
    if request.method == "POST":
        try:
            outcome = kernel.delete(
                kind, project=project, actor=request.actor, entity_id=kind.id_of(entity)
            )
        except DomainError as exc:
            error = exc.message
            status = exc.status_code
        else:
            entities.announce(request, outcome, f"{kind.label} “{entity.name}” deleted.")
            if outcome.review is not None:
                return redirect(screen.detail_url_name, project.slug, kind.id_of(entity))
            return redirect(screen.list_url_name, project_slug=project.slug)
    return render(
        request,
        "flags/confirm_delete.html",
        {
            "entity": entity,
            "entity_id": kind.id_of(entity),
            "entity_label": kind.label.lower(),
            "referrers": referrers,
            "archivable": kind.lifecycle is not None and kind.lifecycle.by_verb("archive"),
            "error": error,
            "cancel_url_name": screen.detail_url_name,
            "consequence": screen.delete_consequence,
        },
        status=status,
    )


# -- allowed reviewers ------------------------------------------------------------------------


def _members(project) -> list[tuple[str, str]]:
    return [
        (str(membership.user_id), f"{person_name(membership.user)} ({membership.user.email})")
        for membership in console_selectors.member_list(project=project)
    ]


@project_view(Role.VIEWER)
@require_http_methods(["GET", "POST"])
def entity_reviewers(
    request: HttpRequest, entity_id: str, *, screen: entities.Screen
) -> HttpResponse:
    """The entity's allowed reviewers (Statsig's ``reviewSettings.allowedReviewers``): a choice
    of members, saved through the entity core, so the change is reviewed and audited as any
    edit of the entity as a whole."""
    project, kind = request.project, screen.kind
    entity = entities.get_or_404(
        lambda: flag_selectors.entity_get(project=project, kind=kind, entity_id=entity_id)
    )
    members = _members(project)
    if request.method == "GET":
        form = AllowedReviewersForm(
            initial={"reviewers": entity.allowed_reviewers}, members=members
        )
        return _reviewers_page(request, screen, entity, form)
    entities.require_editor(request)
    form = AllowedReviewersForm(request.POST, members=members)
    if not form.is_valid():
        return _reviewers_page(request, screen, entity, form, status=400)
    try:
        outcome = kernel.submit_fields(
            kind,
            project=project,
            actor=request.actor,
            entity_id=kind.id_of(entity),
            fields={ALLOWED_REVIEWERS: form.cleaned_data["reviewers"]},
        )
    except DomainError as error:
        entities.add_renamed_errors(form, error, {"reviewSettings": "reviewers"})
        return _reviewers_page(request, screen, entity, form, status=error.status_code)
    entities.announce(request, outcome, "Allowed reviewers saved.")
    return redirect(screen.detail_url_name, project.slug, kind.id_of(entity))


def _reviewers_page(
    request: HttpRequest, screen: entities.Screen, entity: Any, form: Any, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "flags/entity_reviewers.html",
        {
            "screen": screen,
            "entity": entity,
            "entity_id": screen.kind.id_of(entity),
            "form": form,
            "review": entities.pending_review(
                request.project,
                entity_type=screen.kind.entity_type,
                entity_id=screen.kind.id_of(entity),
            ),
        },
        status=status,
    )


# -- versions ---------------------------------------------------------------------------------

VERSIONS_SHOWN = 50


@dataclass(frozen=True, slots=True)
class VersionsScreen:
    """The versions page of a kind whose ``restorable_fields`` a restore brings back:
    ``<url_name>-detail``, ``-versions`` and ``-restore`` are its URL names."""

    kind: Any
    noun: str
    url_name: str

    @property
    def detail_url_name(self) -> str:
        return f"{self.url_name}-detail"

    @property
    def versions_url_name(self) -> str:
        return f"{self.url_name}-versions"

    @property
    def restore_url_name(self) -> str:
        return f"{self.url_name}-restore"


def _shown(kind, snapshot: dict[str, Any]) -> dict[str, Any]:
    """What a version restores, and the lifecycle state it recorded (shown, never restored)."""
    state = [kind.lifecycle.state_field] if kind.lifecycle else []
    keys = [*kind.restorable_fields, *state, "is_enabled", "archived"]
    values = restorable_values(kind, snapshot)
    return without_internal({key: values[key] for key in keys if key in values})


def _version_rows(kind, entity, versions: list) -> list[dict[str, Any]]:
    """Each version with who made it and what it changed from the version before it."""
    rows = []
    fields = [_shown(kind, version.snapshot) for version in versions]
    modifier = f"{kind.ownership.modifier}_name"
    for index, version in enumerate(versions):
        older = fields[index + 1] if index + 1 < len(fields) else None
        changes = {
            key: {"old": None if older is None else older.get(key), "new": value}
            for key, value in fields[index].items()
            if older is None or older.get(key) != value
        }
        rows.append(
            {
                "version": version.version,
                "created_at": version.created_at,
                "author": version.snapshot.get(modifier) or "",
                "is_current": version.version == entity.version,
                # The rule of the restore: a version differing from now in a restored field.
                "restorable": bool(history.restored_fields(kind, entity, version.snapshot)),
                "is_first": older is None,
                "diffs": change_diffs(changes),
            }
        )
    return rows


@project_view(Role.VIEWER)
@require_GET
def entity_versions(
    request: HttpRequest, entity_id: str, *, screen: VersionsScreen
) -> HttpResponse:
    """Every stored version of the entity, newest first, each with what it changed and a
    "Restore this version" button for editors."""
    project, kind = request.project, screen.kind
    entity = entities.get_or_404(
        lambda: flag_selectors.entity_get(project=project, kind=kind, entity_id=entity_id)
    )
    versions = list(
        flag_selectors.entity_version_list(
            project=project, entity_type=kind.entity_type, entity_id=kind.id_of(entity)
        )[: VERSIONS_SHOWN + 1]
    )
    return render(
        request,
        "flags/entity_versions.html",
        {
            "screen": screen,
            "entity": entity,
            "entity_id": kind.id_of(entity),
            "rows": _version_rows(kind, entity, versions)[:VERSIONS_SHOWN],
            "review": entities.pending_review(
                project, entity_type=kind.entity_type, entity_id=kind.id_of(entity)
            ),
        },
    )


@project_view(Role.MEMBER)
@require_POST
def entity_restore(
    request: HttpRequest, entity_id: str, version: int, *, screen: VersionsScreen
) -> HttpResponse:
    """Restores a version through the kind's restore change (reviewed and audited as any
    edit: ``flags.services.history``)."""
    project, kind = request.project, screen.kind
    entity = entities.get_or_404(
        lambda: flag_selectors.entity_get(project=project, kind=kind, entity_id=entity_id)
    )
    try:
        outcome = history.restore_version(
            kind,
            project=project,
            actor=request.actor,
            entity_id=kind.id_of(entity),
            version=version,
        )
    except DomainError as error:
        entities.error_message(request, error)
        return redirect(screen.versions_url_name, project.slug, kind.id_of(entity))
    entities.announce(request, outcome, f"Version {version} restored.")
    return redirect(screen.detail_url_name, project.slug, kind.id_of(entity))
