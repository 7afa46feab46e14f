"""Holdout screens: the list, create, and the detail page with its percentage, the gates,
experiments and layers it holds out, ID overrides and the on/off switch."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from console.errors import DomainError
from console.models import Role
from console.web import entities
from console.web.shell import project_view
from flags import selectors as flag_selectors
from flags.forms import HoldoutCreateForm, HoldoutForm
from flags.models import Experiment, Gate, Holdout, Layer
from flags.services import holdouts as holdout_services

HOLDOUTS = holdout_services.HOLDOUTS


def _listing(project, filters: dict[str, str]):
    return flag_selectors.holdout_list(
        project=project,
        tags=[filters["tag"]] if filters["tag"] else None,
        search=filters["q"] or None,
    )


def _applies_to(holdout: Holdout) -> str:
    if holdout.is_global:
        return "Everything new"
    parts = [
        f"{len(holdout.gates.all())} gates",
        f"{len(holdout.experiments.all())} experiments",
        f"{len(holdout.layers.all())} layers",
    ]
    return ", ".join(parts)


SCREEN = entities.Screen(
    kind=HOLDOUTS,
    url_name="holdout",
    title="Holdouts",
    noun="holdout",
    plural="holdouts",
    intro="A holdout keeps a small share of users (up to 10%) out of the gates, experiments and "
    "layers it names, to measure their combined effect.",
    empty_title="No holdouts yet",
    empty_text="Create a holdout of a few percent and choose what it holds users out of.",
    listing=_listing,
    delete_consequence="the users it held out get what everyone else gets.",
    columns=(
        {"label": "Held out", "numeric": True},
        {"label": "Applies to"},
    ),
    cells=lambda holdout: [
        entities.cell(f"{holdout.pass_percentage:g}%", numeric=True),
        entities.cell(_applies_to(holdout)),
    ],
    status=lambda holdout: "Enabled" if holdout.is_enabled else "Disabled",
)
HOLDOUT_ERROR_FIELDS = {
    "gateIDs": "gates",
    "experimentIDs": "experiments",
    "layerIDs": "layers",
    "passPercentage": "passPercentage",
    "isGlobal": "isGlobal",
}


def _holdout_or_404(request: HttpRequest, holdout_id: str) -> Holdout:
    return entities.get_or_404(
        lambda: flag_selectors.holdout_get(project=request.project, holdout_id=holdout_id)
    )


def _targets(request: HttpRequest) -> dict[str, list[tuple[str, str]]]:
    project = request.project

    def choices(model) -> list[tuple[str, str]]:
        return [
            (slug, f"{name} ({slug})")
            for slug, name in model.objects.filter(project=project)
            .order_by("name")
            .values_list("slug", "name")[:1000]
        ]

    return {"gates": choices(Gate), "experiments": choices(Experiment), "layers": choices(Layer)}


@project_view(Role.MEMBER)
@require_http_methods(["GET", "POST"])
def holdout_create(request: HttpRequest) -> HttpResponse:
    form = HoldoutCreateForm(request.POST or None, initial={"passPercentage": 5})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                holdout = holdout_services.holdout_create(
                    project=request.project,
                    actor=request.actor,
                    name=data["name"],
                    holdout_id=data["id"] or None,
                    description=data["description"],
                    id_type=data["idType"],
                    tags=data["tags"],
                    pass_percentage=str(data["passPercentage"]),
                    is_global=data["isGlobal"],
                )
            except DomainError as exc:
                entities.add_renamed_errors(form, exc, HOLDOUT_ERROR_FIELDS)
                status = exc.status_code
            else:
                entities.announce(request, None, f"Holdout “{holdout.name}” created.")
                return redirect(
                    "holdout-detail", project_slug=request.project.slug, holdout_id=holdout.slug
                )
        else:
            status = 400
    return render(request, "flags/holdout_create.html", {"form": form}, status=status)


def _holdout_initial(holdout: Holdout) -> dict[str, Any]:
    return {
        "name": holdout.name,
        "description": holdout.description,
        "tags": holdout.tags,
        "passPercentage": holdout.pass_percentage,
        "isGlobal": holdout.is_global,
        "gates": sorted(holdout.gates.values_list("slug", flat=True)),
        "experiments": sorted(holdout.experiments.values_list("slug", flat=True)),
        "layers": sorted(holdout.layers.values_list("slug", flat=True)),
        "version": holdout.version,
    }


def _holdout_context(request: HttpRequest, holdout: Holdout, *, form=None) -> dict[str, Any]:
    project = request.project
    return {
        "holdout": holdout,
        "form": form or HoldoutForm(initial=_holdout_initial(holdout), **_targets(request)),
        "held": {
            "gates": holdout.gates.order_by("name"),
            "experiments": holdout.experiments.order_by("name"),
            "layers": holdout.layers.order_by("name"),
        },
        "review": entities.pending_review(
            project, entity_type=HOLDOUTS.entity_type, entity_id=holdout.slug
        ),
        "history": entities.entity_history(
            project, entity_type=HOLDOUTS.entity_type, entity_id=holdout.slug
        ),
    }


@project_view(Role.VIEWER)
@require_http_methods(["GET", "POST"])
def holdout_detail(request: HttpRequest, holdout_id: str) -> HttpResponse:
    holdout = _holdout_or_404(request, holdout_id)
    if request.method == "GET":
        return render(request, "flags/holdout_detail.html", _holdout_context(request, holdout))
    entities.require_editor(request)
    form = HoldoutForm(request.POST, **_targets(request))
    if not form.is_valid():
        return render(
            request,
            "flags/holdout_detail.html",
            _holdout_context(request, holdout, form=form),
            status=400,
        )
    data = form.cleaned_data
    current = _holdout_initial(holdout)
    mapping = {
        "name": "name",
        "description": "description",
        "tags": "tags",
        "isGlobal": "is_global",
        "gates": "gate_ids",
        "experiments": "experiment_ids",
        "layers": "layer_ids",
    }
    changes = {
        service_key: data[form_key]
        for form_key, service_key in mapping.items()
        if data[form_key] != current[form_key]
    }
    if Decimal(data["passPercentage"]) != Decimal(holdout.pass_percentage):
        changes["pass_percentage"] = str(data["passPercentage"])
    if not changes:
        entities.announce(request, None, "Nothing to save: no field changed.")
        return redirect(
            "holdout-detail", project_slug=request.project.slug, holdout_id=holdout.slug
        )
    try:
        outcome = holdout_services.holdout_update(
            project=request.project,
            actor=request.actor,
            holdout_id=holdout.slug,
            expected_version=data["version"],
            **changes,
        )
    except DomainError as error:
        entities.add_renamed_errors(form, error, HOLDOUT_ERROR_FIELDS)
        return render(
            request,
            "flags/holdout_detail.html",
            _holdout_context(request, holdout, form=form),
            status=error.status_code,
        )
    entities.announce(request, outcome, "Holdout saved.")
    return redirect("holdout-detail", project_slug=request.project.slug, holdout_id=holdout.slug)


@project_view(Role.MEMBER)
@require_POST
def holdout_toggle(request: HttpRequest, holdout_id: str) -> HttpResponse:
    holdout = _holdout_or_404(request, holdout_id)
    try:
        outcome = holdout_services.holdout_update(
            project=request.project,
            actor=request.actor,
            holdout_id=holdout.slug,
            is_enabled=not holdout.is_enabled,
        )
    except DomainError as error:
        entities.error_message(request, error)
    else:
        entities.announce(
            request,
            outcome,
            "Holdout disabled: nobody is held out."
            if holdout.is_enabled
            else "Holdout enabled: its users get the defaults.",
        )
    return redirect("holdout-detail", project_slug=request.project.slug, holdout_id=holdout.slug)
