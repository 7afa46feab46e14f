"""The screens every kind of entity has, read from its ``console.web.entities.Screen`` and the
descriptor it names (``flags.services.descriptor.EntityKind``): the list page with its search,
tag and status filters, and the delete confirmation. ``flags.urls`` routes each kind's URLs here
with its screen, so a new kind gets these screens from its descriptor."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from console.errors import DomainError
from console.models import Role
from console.web import entities
from console.web.shell import paginate, project_view
from flags import selectors as flag_selectors
from flags.services import kernel


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
