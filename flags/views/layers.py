"""Layer screens. A layer has typed parameters with defaults and the experiments placed in it
(with the picture of its 1000 buckets)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from console.errors import DomainError
from console.models import Role
from console.web import entities
from console.web.shell import add_domain_errors, project_view
from flags import selectors as flag_selectors
from flags.forms import LayerCreateForm, LayerForm
from flags.models import Layer
from flags.services import layers as layer_services
from flags.views import buckets

LAYERS = layer_services.LAYERS


def _listing(project, filters: dict[str, str]):
    return flag_selectors.layer_list(
        project=project,
        tags=[filters["tag"]] if filters["tag"] else None,
        search=filters["q"] or None,
    ).annotate(experiment_count=Count("experiments"))


SCREEN = entities.Screen(
    kind=LAYERS,
    url_name="layer",
    title="Layers",
    noun="layer",
    plural="layers",
    intro="A layer holds parameters with their default values; the experiments placed in it "
    "override them for their users, and no user is in two experiments of one layer.",
    empty_title="No layers yet",
    empty_text="Create a layer with the parameters your app reads (e.g. button_color), then "
    "place experiments in it.",
    listing=_listing,
    delete_consequence="SDKs asking for it get no parameters.",
    exposure_kind="layer",
    columns=({"label": "Parameters", "numeric": True}, {"label": "Experiments", "numeric": True}),
    cells=lambda layer: [
        entities.cell(len(layer.parameters), numeric=True),
        entities.cell(layer.experiment_count, numeric=True),
    ],
    status=lambda layer: "Active" if layer.experiment_count else "Inactive",
)


def _layer_or_404(request: HttpRequest, layer_id: str) -> Layer:
    return entities.get_or_404(
        lambda: flag_selectors.layer_get(project=request.project, layer_id=layer_id)
    )


@project_view(Role.MEMBER)
@require_http_methods(["GET", "POST"])
def layer_create(request: HttpRequest) -> HttpResponse:
    form = LayerCreateForm(request.POST or None, initial={"parameters": "[]"})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                layer = layer_services.layer_create(
                    project=request.project,
                    actor=request.actor,
                    name=data["name"],
                    layer_id=data["id"] or None,
                    description=data["description"],
                    id_type=data["idType"],
                    tags=data["tags"],
                    parameters=data["parameters"],
                )
            except DomainError as exc:
                add_domain_errors(form, exc)
                status = exc.status_code
            else:
                entities.announce(request, None, f"Layer “{layer.name}” created.")
                return redirect(
                    "layer-detail", project_slug=request.project.slug, layer_id=layer.slug
                )
        else:
            status = 400
    return render(request, "flags/layer_create.html", {"form": form}, status=status)


def _layer_context(
    request: HttpRequest, layer: Layer, *, form=None, test_form=None, test_result=None
) -> dict[str, Any]:
    project = request.project
    return {
        "layer": layer,
        "form": form
        or LayerForm(
            initial={
                "name": layer.name,
                "description": layer.description,
                "tags": layer.tags,
                "parameters": layer.parameters,
                "version": layer.version,
            }
        ),
        "experiments": flag_selectors.layer_experiments(project=project, layer_id=layer.slug),
        "bucket_map": buckets.bucket_map(layer=layer),
        "referrers": layer_services.layer_referrers(layer=layer),
        "review": entities.pending_review(
            project, entity_type=LAYERS.entity_type, entity_id=layer.slug
        ),
        "history": entities.entity_history(
            project, entity_type=LAYERS.entity_type, entity_id=layer.slug
        ),
        "test_form": test_form or entities.panel_form(request),
        "test_result": test_result,
    }


@project_view(Role.VIEWER)
@require_http_methods(["GET", "POST"])
def layer_detail(request: HttpRequest, layer_id: str) -> HttpResponse:
    layer = _layer_or_404(request, layer_id)
    if request.method == "GET":
        return render(request, "flags/layer_detail.html", _layer_context(request, layer))
    entities.require_editor(request)
    form = LayerForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "flags/layer_detail.html",
            _layer_context(request, layer, form=form),
            status=400,
        )
    data = form.cleaned_data
    changes = {
        key: data[key]
        for key in ("name", "description", "tags", "parameters")
        if data[key] != getattr(layer, key)
    }
    if not changes:
        entities.announce(request, None, "Nothing to save: no field changed.")
        return redirect("layer-detail", project_slug=request.project.slug, layer_id=layer.slug)
    try:
        outcome = layer_services.layer_update(
            project=request.project,
            actor=request.actor,
            layer_id=layer.slug,
            expected_version=data["version"],
            **changes,
        )
    except DomainError as error:
        add_domain_errors(form, error)
        return render(
            request,
            "flags/layer_detail.html",
            _layer_context(request, layer, form=form),
            status=error.status_code,
        )
    entities.announce(request, outcome, "Layer saved.")
    return redirect("layer-detail", project_slug=request.project.slug, layer_id=layer.slug)


@project_view(Role.VIEWER)
@require_POST
def layer_test(request: HttpRequest, layer_id: str) -> HttpResponse:
    layer = _layer_or_404(request, layer_id)
    form = entities.panel_form(request, request.POST)
    result = None
    if form.is_valid():
        result = entities.evaluate_for_panel(
            project=request.project, kind="layer", name=layer.slug, user=form.user(), rules=[]
        )
        if not result.error:
            if result.allocated_experiment:
                group = f", group “{result.group_name}”" if result.group_name else ""
                result.explanation = f"In experiment “{result.allocated_experiment}”{group}."
            elif result.rule_position is None and result.rule_id in ("", "default"):
                result.explanation = "In no experiment of the layer: the defaults apply."
    if request.htmx:
        return render(
            request,
            "flags/_test_panel.html",
            {"test_form": form, "test_result": result, "test_url": request.path, "kind": "layer"},
        )
    return render(
        request,
        "flags/layer_detail.html",
        _layer_context(request, layer, test_form=form, test_result=result),
    )
