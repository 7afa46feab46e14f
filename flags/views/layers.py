"""Layer and holdout screens. A layer has typed parameters with defaults and the experiments
placed in it (with the picture of its 1000 buckets); a holdout keeps a percentage of units out of
the gates, experiments and layers it names."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from console.errors import DomainError
from console.models import Role
from console.web import paginate, project_view
from flags import selectors as flag_selectors
from flags.forms import HoldoutCreateForm, HoldoutForm, LayerCreateForm, LayerForm
from flags.models import Experiment, Gate, Holdout, Layer
from flags.services import holdouts as holdout_services
from flags.services import layers as layer_services
from flags.views import buckets, common
from flags.views.experiments import _add_errors

LAYER_SCREEN = common.Screen(
    title="Layers",
    noun="layer",
    plural="layers",
    intro="A layer holds parameters with their default values; the experiments placed in it "
    "override them for their users, and no user is in two experiments of one layer.",
    detail_url_name="layer-detail",
    create_url_name="layer-create",
    empty_title="No layers yet",
    empty_text="Create a layer with the parameters your app reads (e.g. button_color), then "
    "place experiments in it.",
    columns=({"label": "Parameters", "numeric": True}, {"label": "Experiments", "numeric": True}),
)
HOLDOUT_SCREEN = common.Screen(
    title="Holdouts",
    noun="holdout",
    plural="holdouts",
    intro="A holdout keeps a small share of users (up to 10%) out of the gates, experiments and "
    "layers it names, to measure their combined effect.",
    detail_url_name="holdout-detail",
    create_url_name="holdout-create",
    empty_title="No holdouts yet",
    empty_text="Create a holdout of a few percent and choose what it holds users out of.",
    checks=False,
    columns=(
        {"label": "Held out", "numeric": True},
        {"label": "Applies to"},
    ),
)
HOLDOUT_ERROR_FIELDS = {
    "gateIDs": "gates",
    "experimentIDs": "experiments",
    "layerIDs": "layers",
    "passPercentage": "passPercentage",
    "isGlobal": "isGlobal",
}


# -- layers -----------------------------------------------------------------------------------------


def _layer_or_404(request: HttpRequest, layer_id: str) -> Layer:
    return common.get_or_404(
        lambda: flag_selectors.layer_get(project=request.project, layer_id=layer_id)
    )


def _no_statuses() -> list[tuple[str, str]]:
    return []


@project_view(Role.VIEWER)
@require_GET
def layer_list(request: HttpRequest) -> HttpResponse:
    from django.db.models import Count

    project = request.project
    form = common.filter_form(
        request, tags=common.distinct_tags(Layer, project), statuses=_no_statuses()
    )
    filters = form.filters()
    layers = flag_selectors.layer_list(
        project=project,
        tags=[filters["tag"]] if filters["tag"] else None,
        search=filters["q"] or None,
    ).annotate(experiment_count=Count("experiments"))
    page = paginate(request, common.sorted_by(layers, filters["sort"]))
    return render(
        request,
        "flags/entity_list.html",
        {
            "screen": LAYER_SCREEN,
            "page": page,
            "rows": common.rows_for_page(
                page,
                project=project,
                exposure_kind="layer",
                entity_type=layer_services.ENTITY_TYPE,
                cells=lambda layer: [
                    common.cell(len(layer.parameters), numeric=True),
                    common.cell(layer.experiment_count, numeric=True),
                ],
                status=lambda layer: "Active" if layer.experiment_count else "Inactive",
            ),
            "form": form,
            "filtered": any(filters[key] for key in ("q", "tag")),
            "hide_status_filter": True,
        },
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
                _add_errors(form, exc)
                status = exc.status_code
            else:
                common.announce(request, None, f"Layer “{layer.name}” created.")
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
        "review": common.pending_review(
            project, entity_type=layer_services.ENTITY_TYPE, entity_id=layer.slug
        ),
        "history": common.entity_history(
            project, entity_type=layer_services.ENTITY_TYPE, entity_id=layer.slug
        ),
        "test_form": test_form or common.panel_form(request),
        "test_result": test_result,
    }


@project_view(Role.VIEWER)
@require_http_methods(["GET", "POST"])
def layer_detail(request: HttpRequest, layer_id: str) -> HttpResponse:
    layer = _layer_or_404(request, layer_id)
    if request.method == "GET":
        return render(request, "flags/layer_detail.html", _layer_context(request, layer))
    common.require_editor(request)
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
        common.announce(request, None, "Nothing to save: no field changed.")
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
        _add_errors(form, error)
        return render(
            request,
            "flags/layer_detail.html",
            _layer_context(request, layer, form=form),
            status=error.status_code,
        )
    common.announce(request, outcome, "Layer saved.")
    return redirect("layer-detail", project_slug=request.project.slug, layer_id=layer.slug)


@project_view(Role.MEMBER)
@require_http_methods(["GET", "POST"])
def layer_delete(request: HttpRequest, layer_id: str) -> HttpResponse:
    layer = _layer_or_404(request, layer_id)
    referrers = layer_services.layer_referrers(layer=layer)
    error = None
    status = 200
    if request.method == "POST":
        try:
            outcome = layer_services.layer_delete(
                project=request.project, actor=request.actor, layer_id=layer.slug
            )
        except DomainError as exc:
            error = exc.message
            status = exc.status_code
        else:
            common.announce(request, outcome, f"Layer “{layer.name}” deleted.")
            if outcome.review is not None:
                return redirect(
                    "layer-detail", project_slug=request.project.slug, layer_id=layer.slug
                )
            return redirect("layer-list", project_slug=request.project.slug)
    return render(
        request,
        "flags/confirm_delete.html",
        {
            "entity": layer,
            "entity_id": layer.slug,
            "entity_label": "layer",
            "referrers": referrers,
            "error": error,
            "cancel_url_name": "layer-detail",
            "consequence": "SDKs asking for it get no parameters.",
        },
        status=status,
    )


@project_view(Role.VIEWER)
@require_POST
def layer_test(request: HttpRequest, layer_id: str) -> HttpResponse:
    layer = _layer_or_404(request, layer_id)
    form = common.panel_form(request, request.POST)
    result = None
    if form.is_valid():
        result = common.evaluate_for_panel(
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


# -- holdouts ---------------------------------------------------------------------------------------


def _holdout_or_404(request: HttpRequest, holdout_id: str) -> Holdout:
    return common.get_or_404(
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


def _holdout_errors(form, error: DomainError) -> None:
    for field_error in error.errors:
        root = field_error.property.split(".")[0].split("[")[0]
        name = HOLDOUT_ERROR_FIELDS.get(root, root)
        form.add_error(name if name in form.fields else None, field_error.message)
    if not error.errors:
        form.add_error(None, error.message)


@project_view(Role.VIEWER)
@require_GET
def holdout_list(request: HttpRequest) -> HttpResponse:
    project = request.project
    form = common.filter_form(
        request, tags=common.distinct_tags(Holdout, project), statuses=_no_statuses()
    )
    filters = form.filters()
    holdouts = flag_selectors.holdout_list(
        project=project,
        tags=[filters["tag"]] if filters["tag"] else None,
        search=filters["q"] or None,
    )
    page = paginate(request, common.sorted_by(holdouts, filters["sort"]))

    def applies_to(holdout: Holdout) -> str:
        if holdout.is_global:
            return "Everything new"
        parts = [
            f"{len(holdout.gates.all())} gates",
            f"{len(holdout.experiments.all())} experiments",
            f"{len(holdout.layers.all())} layers",
        ]
        return ", ".join(parts)

    return render(
        request,
        "flags/entity_list.html",
        {
            "screen": HOLDOUT_SCREEN,
            "page": page,
            "rows": common.rows_for_page(
                page,
                project=project,
                exposure_kind=None,
                entity_type=holdout_services.ENTITY_TYPE,
                cells=lambda holdout: [
                    common.cell(f"{holdout.pass_percentage:g}%", numeric=True),
                    common.cell(applies_to(holdout)),
                ],
                status=lambda holdout: "Enabled" if holdout.is_enabled else "Disabled",
            ),
            "form": form,
            "filtered": any(filters[key] for key in ("q", "tag")),
            "hide_status_filter": True,
        },
    )


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
                _holdout_errors(form, exc)
                status = exc.status_code
            else:
                common.announce(request, None, f"Holdout “{holdout.name}” created.")
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
        "review": common.pending_review(
            project, entity_type=holdout_services.ENTITY_TYPE, entity_id=holdout.slug
        ),
        "history": common.entity_history(
            project, entity_type=holdout_services.ENTITY_TYPE, entity_id=holdout.slug
        ),
    }


@project_view(Role.VIEWER)
@require_http_methods(["GET", "POST"])
def holdout_detail(request: HttpRequest, holdout_id: str) -> HttpResponse:
    holdout = _holdout_or_404(request, holdout_id)
    if request.method == "GET":
        return render(request, "flags/holdout_detail.html", _holdout_context(request, holdout))
    common.require_editor(request)
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
        common.announce(request, None, "Nothing to save: no field changed.")
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
        _holdout_errors(form, error)
        return render(
            request,
            "flags/holdout_detail.html",
            _holdout_context(request, holdout, form=form),
            status=error.status_code,
        )
    common.announce(request, outcome, "Holdout saved.")
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
        common.error_message(request, error)
    else:
        common.announce(
            request,
            outcome,
            "Holdout disabled: nobody is held out."
            if holdout.is_enabled
            else "Holdout enabled: its users get the defaults.",
        )
    return redirect("holdout-detail", project_slug=request.project.slug, holdout_id=holdout.slug)


@project_view(Role.MEMBER)
@require_http_methods(["GET", "POST"])
def holdout_delete(request: HttpRequest, holdout_id: str) -> HttpResponse:
    holdout = _holdout_or_404(request, holdout_id)
    error = None
    status = 200
    if request.method == "POST":
        try:
            outcome = holdout_services.holdout_delete(
                project=request.project, actor=request.actor, holdout_id=holdout.slug
            )
        except DomainError as exc:
            error = exc.message
            status = exc.status_code
        else:
            common.announce(request, outcome, f"Holdout “{holdout.name}” deleted.")
            if outcome.review is not None:
                return redirect(
                    "holdout-detail", project_slug=request.project.slug, holdout_id=holdout.slug
                )
            return redirect("holdout-list", project_slug=request.project.slug)
    return render(
        request,
        "flags/confirm_delete.html",
        {
            "entity": holdout,
            "entity_id": holdout.slug,
            "entity_label": "holdout",
            "referrers": [],
            "error": error,
            "cancel_url_name": "holdout-detail",
            "consequence": "the users it held out get what everyone else gets.",
        },
        status=status,
    )
