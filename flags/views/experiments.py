"""Experiment screens: the list, create, the detail page with groups (sizes summing to 100 and
parameter values per group), allocation and layer placement with the layer's bucket map, the
lifecycle buttons (start, schedule the start, make a decision, abandon, reset, restart as new,
archive), the IDs overridden into each group, and "Test a user".

Lifecycle changes go through ``flags.services.experiments``; when a change needs review it is
filed as one and the page says so (``entities.announce``)."""

from __future__ import annotations

import json
from datetime import UTC
from decimal import Decimal
from typing import Any

from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from console.errors import DomainError
from console.models import Role
from console.web import entities
from console.web.shell import project_view
from flags import selectors as flag_selectors
from flags.forms import (
    ArchiveForm,
    ExperimentCreateForm,
    ExperimentDecisionForm,
    ExperimentForm,
    ExperimentOverridesForm,
    ExperimentRestartForm,
    ExperimentScheduleForm,
)
from flags.models import Experiment, ExperimentStatus, Gate, Layer
from flags.services import experiments as experiment_services
from flags.services.experiments import lifecycle
from flags.services.experiments.groups import DEFAULT_GROUPS
from flags.views import buckets, charts

EXPERIMENTS = experiment_services.EXPERIMENTS
LIFECYCLE = EXPERIMENTS.lifecycle


def _listing(project, filters: dict[str, str]):
    return (
        flag_selectors.experiment_list(
            project=project,
            status=filters["status"] or None,
            tags=[filters["tag"]] if filters["tag"] else None,
            search=filters["q"] or None,
        )
        .prefetch_related(None)
        .select_related("layer")
        .defer("buckets", "overrides")
    )


SCREEN = entities.Screen(
    kind=EXPERIMENTS,
    url_name="experiment",
    title="Experiments",
    noun="experiment",
    plural="experiments",
    article="an",
    intro="An experiment splits users into groups that get different parameter values, so you "
    "can compare them. Place experiments in a layer so that none of them shares a user.",
    empty_title="No experiments yet",
    empty_text="Create an experiment with a control and a test group, give each group its "
    "parameter values, then start it.",
    listing=_listing,
    delete_consequence="its layer space is freed and SDKs get the default values.",
    statuses=tuple(ExperimentStatus.choices),
    exposure_kind="experiment",
    columns=({"label": "Groups", "numeric": True}, {"label": "Layer"}, {"label": "Allocation"}),
    cells=lambda experiment: [
        entities.cell(len(experiment.groups), numeric=True),
        entities.cell(experiment.layer.name if experiment.layer_id else "—"),
        entities.cell(f"{experiment.allocation:g}%"),
    ],
    status=lambda experiment: experiment.get_status_display(),
)
# The form's fields by the service's names (``lifecycle.STATES`` says which a state lets change).
FORM_FIELDS = {
    "name": "name",
    "description": "description",
    "hypothesis": "hypothesis",
    "tags": "tags",
    "groups": "groups",
    "allocation": "allocation",
    "layer_id": "layer",
    "targeting_gate_id": "targetingGate",
    "id_type": "idType",
}
# The lifecycle actions offered as buttons at the top of the page (the table says when).
HEADER_ACTIONS = ("start", "reset", "archive", "unarchive")
PRIMARY_ACTIONS = {"start"}


def _editable(experiment: Experiment) -> set[str]:
    """The form fields the page offers for the experiment's state (the service checks again)."""
    editable = lifecycle.state_of(experiment).editable
    return {
        form_name
        for service_name, form_name in FORM_FIELDS.items()
        if editable is None or service_name in editable
    }


def _experiment_or_404(request: HttpRequest, experiment_id: str) -> Experiment:
    return entities.get_or_404(
        lambda: flag_selectors.experiment_get(project=request.project, experiment_id=experiment_id)
    )


def _choices(request: HttpRequest) -> dict[str, list[tuple[str, str]]]:
    project = request.project
    return {
        "layers": [
            (slug, f"{name} ({slug})")
            for slug, name in Layer.objects.filter(project=project)
            .order_by("name")
            .values_list("slug", "name")[:500]
        ],
        "gates": [
            (slug, f"{name} ({slug})")
            for slug, name in Gate.objects.filter(project=project)
            .order_by("name")
            .values_list("slug", "name")[:1000]
        ],
    }


def _layer_parameters(request: HttpRequest) -> dict[str, list[dict[str, Any]]]:
    return dict(
        Layer.objects.filter(project=request.project).values_list("slug", "parameters")[:500]
    )


# -- create -----------------------------------------------------------------------------------------


@project_view(Role.MEMBER)
@require_http_methods(["GET", "POST"])
def experiment_create(request: HttpRequest) -> HttpResponse:
    choices = _choices(request)
    form = ExperimentCreateForm(
        request.POST or None,
        initial={
            "groups": json.dumps(DEFAULT_GROUPS, indent=2),
            "allocation": 100,
            "layer": request.GET.get("layer", ""),
        },
        **choices,
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                experiment = experiment_services.experiment_create(
                    project=request.project,
                    actor=request.actor,
                    name=data["name"],
                    experiment_id=data["id"] or None,
                    description=data["description"],
                    hypothesis=data["hypothesis"],
                    id_type=data["idType"],
                    tags=data["tags"],
                    groups=data["groups"] or None,
                    allocation=str(data["allocation"]) if data["allocation"] is not None else 100,
                    layer_id=data["layer"] or None,
                    targeting_gate_id=data["targetingGate"] or None,
                )
            except DomainError as exc:
                entities.add_renamed_errors(form, exc, ERROR_FIELDS)
                status = exc.status_code
            else:
                entities.announce(
                    request,
                    None,
                    f"Experiment “{experiment.name}” created. Check its groups, then start it.",
                )
                return redirect(
                    "experiment-detail",
                    project_slug=request.project.slug,
                    experiment_id=experiment.slug,
                )
        else:
            status = 400
    return render(
        request,
        "flags/experiment_create.html",
        {"form": form, "layer_parameters": _layer_parameters(request)},
        status=status,
    )


# The form's names of the service's fields, where they differ.
ERROR_FIELDS = {"layerID": "layer", "targetingGateID": "targetingGate", "controlGroupID": "groups"}


# -- detail -----------------------------------------------------------------------------------------


def _groups_for_editor(groups: list[dict[str, Any]]) -> str:
    return json.dumps(groups, indent=2, ensure_ascii=False)


def _initial(experiment: Experiment) -> dict[str, Any]:
    return {
        "name": experiment.name,
        "description": experiment.description,
        "hypothesis": experiment.hypothesis,
        "tags": experiment.tags,
        "groups": _groups_for_editor(experiment.groups),
        "allocation": experiment.allocation,
        "layer": experiment.layer.slug if experiment.layer_id else "",
        "targetingGate": experiment.targeting_gate.slug if experiment.targeting_gate_id else "",
        "version": experiment.version,
    }


def _overrides_form(
    request: HttpRequest, experiment: Experiment, data=None
) -> ExperimentOverridesForm:
    return ExperimentOverridesForm(
        data,
        overrides=experiment.overrides,
        id_type=experiment.id_type,
        groups=experiment.groups,
        prefix="overrides",
    )


def _schedule_form(
    request: HttpRequest, experiment: Experiment, data=None
) -> ExperimentScheduleForm:
    scheduled = experiment.scheduled_start_time
    # Naive UTC: the input shows UTC whatever the server's time zone.
    initial = timezone.make_naive(scheduled, UTC) if scheduled else None
    return ExperimentScheduleForm(data, initial={"scheduledTime": initial}, prefix="schedule")


def _restart_form(request: HttpRequest, experiment: Experiment, data=None) -> ExperimentRestartForm:
    return ExperimentRestartForm(data, initial={"name": f"{experiment.name} v2"}, prefix="restart")


def _detail_context(
    request: HttpRequest,
    experiment: Experiment,
    *,
    form: ExperimentForm | None = None,
    test_form=None,
    test_result=None,
    **posted: Form,
) -> dict[str, Any]:
    project = request.project
    groups = experiment.groups
    launched = (
        experiment.group(experiment.launched_group_id) if experiment.launched_group_id else None
    )
    actions = entities.transition_texts(LIFECYCLE, experiment, available_only=True)
    return {
        "experiment": experiment,
        "form": form or ExperimentForm(initial=_initial(experiment), **_choices(request)),
        "editable": _editable(experiment),
        "state": lifecycle.state_of(experiment),
        "actions": actions,
        "header_actions": [
            {**actions[verb], "primary": verb in PRIMARY_ACTIONS}
            for verb in HEADER_ACTIONS
            if verb in actions
        ],
        "groups": groups,
        "control_group_id": experiment.control_group_id,
        "launched_group": launched,
        "layer_parameters": _layer_parameters(request),
        "bucket_map": buckets.bucket_map(layer=experiment.layer, experiment=experiment)
        if experiment.layer_id
        else buckets.bucket_map(experiment=experiment),
        "decision_form": ExperimentDecisionForm(
            groups=[(g["id"], g["name"]) for g in groups], prefix="decision"
        ),
        "archive_form": ArchiveForm(),
        "review": entities.pending_review(
            project, entity_type=EXPERIMENTS.entity_type, entity_id=experiment.slug
        ),
        "history": entities.entity_history(
            project, entity_type=EXPERIMENTS.entity_type, entity_id=experiment.slug
        ),
        "chart": charts.exposure_chart(
            project=project,
            kind="experiment",
            name=experiment.slug,
            labels={g["name"]: g["name"] for g in groups},
            title="Exposures per group per day, last 30 days",
        ),
        "test_form": test_form or entities.panel_form(request),
        "test_result": test_result,
        "overrides_form": _overrides_form(request, experiment),
        "overrides_editable": request.can_edit and "overrides" in actions,
        "schedule_form": _schedule_form(request, experiment) if "schedule" in actions else None,
        "restart_form": _restart_form(request, experiment) if "restart_as_new" in actions else None,
        **posted,
    }


def _normalised_groups(groups: Any) -> Any:
    if not isinstance(groups, list):
        return groups
    out = []
    for group in groups:
        if not isinstance(group, dict):
            return groups
        size = group.get("size")
        try:
            size = float(Decimal(str(size)))
        except Exception:  # the service reports a bad size
            return groups
        out.append(
            {
                "id": group.get("id") or "",
                "name": group.get("name"),
                "size": size,
                "parameterValues": group.get("parameterValues") or {},
                "description": group.get("description") or "",
                "disabled": bool(group.get("disabled", False)),
            }
        )
    return out


def _changed_fields(
    request: HttpRequest, experiment: Experiment, data: dict[str, Any]
) -> dict[str, Any]:
    """The service's keyword arguments for what the form changed (only fields the page offered
    for the experiment's state are considered)."""
    editable = _editable(experiment)
    posted = set(request.POST)
    current = _initial(experiment)
    changes: dict[str, Any] = {}
    for key in ("name", "description", "hypothesis"):
        if key in editable and key in posted and data[key] != current[key]:
            changes[key] = data[key]
    if "tags" in editable and "tags" in posted and data["tags"] != experiment.tags:
        changes["tags"] = data["tags"]
    if (
        "groups" in editable
        and "groups" in posted
        and _normalised_groups(data["groups"]) != _normalised_groups(experiment.groups)
    ):
        changes["groups"] = data["groups"]
    if (
        "allocation" in editable
        and data.get("allocation") is not None
        and Decimal(data["allocation"]) != Decimal(experiment.allocation)
    ):
        changes["allocation"] = str(data["allocation"])
    if "layer" in editable and "layer" in posted and (data["layer"] or "") != current["layer"]:
        changes["layer_id"] = data["layer"] or None
    if (
        "targetingGate" in editable
        and "targetingGate" in posted
        and (data["targetingGate"] or "") != current["targetingGate"]
    ):
        changes["targeting_gate_id"] = data["targetingGate"] or None
    return changes


@project_view(Role.VIEWER)
@require_http_methods(["GET", "POST"])
def experiment_detail(request: HttpRequest, experiment_id: str) -> HttpResponse:
    experiment = _experiment_or_404(request, experiment_id)
    if request.method == "GET":
        return render(request, "flags/experiment_detail.html", _detail_context(request, experiment))
    entities.require_editor(request)
    form = ExperimentForm(request.POST, **_choices(request))
    if not form.is_valid():
        return render(
            request,
            "flags/experiment_detail.html",
            _detail_context(request, experiment, form=form),
            status=400,
        )
    changes = _changed_fields(request, experiment, form.cleaned_data)
    if not changes:
        entities.announce(request, None, "Nothing to save: no field changed.")
        return redirect(
            "experiment-detail", project_slug=request.project.slug, experiment_id=experiment.slug
        )
    try:
        outcome = experiment_services.experiment_update(
            project=request.project,
            actor=request.actor,
            experiment_id=experiment.slug,
            expected_version=form.cleaned_data["version"],
            **changes,
        )
    except DomainError as error:
        entities.add_renamed_errors(form, error, ERROR_FIELDS)
        return render(
            request,
            "flags/experiment_detail.html",
            _detail_context(request, experiment, form=form),
            status=error.status_code,
        )
    entities.announce(request, outcome, "Experiment saved.")
    return redirect(
        "experiment-detail", project_slug=request.project.slug, experiment_id=experiment.slug
    )


def _decide(request: HttpRequest, experiment: Experiment, **common: Any):
    form = ExperimentDecisionForm(
        request.POST, groups=[(g["id"], g["name"]) for g in experiment.groups], prefix="decision"
    )
    if not form.is_valid():
        raise DomainError("Choose the group to ship.")
    return experiment_services.experiment_make_decision(
        group_id=form.cleaned_data["group"], decision_reason=form.cleaned_data["reason"], **common
    )


# The lifecycle actions posted as buttons, by the table's verb: (request, experiment, **common).
ACTIONS = {
    "start": lambda request, experiment, **common: experiment_services.experiment_start(**common),
    "decide": _decide,
    "abandon": lambda request, experiment, **common: experiment_services.experiment_abandon(
        decision_reason=request.POST.get("reason", ""), **common
    ),
    "reset": lambda request, experiment, **common: experiment_services.experiment_reset(**common),
    "archive": lambda request, experiment, **common: experiment_services.experiment_archive(
        archive_reason=request.POST.get("reason", ""), **common
    ),
    "unarchive": lambda request, experiment, **common: experiment_services.experiment_unarchive(
        **common
    ),
}


@project_view(Role.MEMBER)
@require_POST
def experiment_action(request: HttpRequest, experiment_id: str, action: str) -> HttpResponse:
    experiment = _experiment_or_404(request, experiment_id)
    transition = LIFECYCLE.by_verb(action)
    if transition is None or action not in ACTIONS:
        raise Http404("No such action.")
    try:
        outcome = ACTIONS[action](
            request,
            experiment,
            project=request.project,
            actor=request.actor,
            experiment_id=experiment.slug,
        )
    except DomainError as error:
        entities.error_message(request, error)
    else:
        entities.announce(request, outcome, transition.done)
    return redirect(
        "experiment-detail", project_slug=request.project.slug, experiment_id=experiment.slug
    )


FORMS = {
    "overrides": entities.DetailForm(
        context_key="overrides_form",
        build=_overrides_form,
        service=experiment_services.experiment_overrides_set,
        arguments=lambda form: {"overrides": form.overrides()},
        done=LIFECYCLE.by_verb("overrides").done,
    ),
    "schedule": entities.DetailForm(
        context_key="schedule_form",
        build=_schedule_form,
        service=experiment_services.experiment_schedule_start,
        arguments=lambda form: {"scheduled_time": form.epoch_ms()},
        done=LIFECYCLE.by_verb("schedule").done,
    ),
    "restart-as-new": entities.DetailForm(
        context_key="restart_form",
        build=_restart_form,
        service=experiment_services.experiment_restart_as_new,
        arguments=lambda form: {"name": form.cleaned_data["name"]},
        done=LIFECYCLE.by_verb("restart-as-new").done,
        opens=lambda outcome: outcome.result,
    ),
}


@project_view(Role.MEMBER)
@require_POST
def experiment_form(request: HttpRequest, experiment_id: str, form_name: str) -> HttpResponse:
    experiment = _experiment_or_404(request, experiment_id)
    return entities.post_detail_form(
        request,
        FORMS[form_name],
        experiment,
        entity_keyword="experiment_id",
        template="flags/experiment_detail.html",
        context=_detail_context,
    )


@project_view(Role.VIEWER)
@require_POST
def experiment_test(request: HttpRequest, experiment_id: str) -> HttpResponse:
    experiment = _experiment_or_404(request, experiment_id)
    form = entities.panel_form(request, request.POST)
    result = None
    if form.is_valid():
        result = entities.evaluate_for_panel(
            project=request.project,
            kind="config",
            name=experiment.slug,
            user=form.user(),
            rules=[{"id": g["id"], "name": g["name"]} for g in experiment.groups],
        )
        if result.group_name and not result.error:
            result.explanation = f"In group “{result.group_name}”."
    if request.htmx:
        return render(
            request,
            "flags/_test_panel.html",
            {
                "test_form": form,
                "test_result": result,
                "test_url": request.path,
                "kind": "experiment",
            },
        )
    return render(
        request,
        "flags/experiment_detail.html",
        _detail_context(request, experiment, test_form=form, test_result=result),
    )
