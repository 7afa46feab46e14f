"""Browser screens of the analysis app: metrics (list, create, edit, delete) and the results
sections of the experiment page and of the gate page (loaded into them with htmx, recomputed on
demand)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from analysis import selectors, services
from analysis.forms import MetricForm, ResultsForm
from analysis.models import Directionality, Metric
from console.errors import DomainError
from console.models import Role
from console.web import entities
from console.web.shell import add_domain_errors, paginate, project_view, require_role
from flags.models import Experiment, Gate
from flags.selectors import experiment_get, gate_get
from flags.services.experiments import experiment_update

# The lift bar: a confidence interval drawn on a scale symmetric around zero.
BAR_WIDTH = 240
CHART_WIDTH = 320
CHART_HEIGHT = 90
# Exposures this unlikely under the configured split are flagged (Statsig warns at 0.01).
SRM_WARNING_P = 0.01


# -- metrics ----------------------------------------------------------------------------------


@project_view(Role.VIEWER)
@require_GET
def metric_list(request: HttpRequest) -> HttpResponse:
    page = paginate(request, selectors.metric_list(project=request.project))
    return render(request, "analysis/metric_list.html", {"page": page})


@project_view(Role.MEMBER)
@require_http_methods(["GET", "POST"])
def metric_create(request: HttpRequest) -> HttpResponse:
    form = MetricForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                metric = services.metric_create(
                    project=request.project, actor=request.actor, data=form.definition()
                )
            except DomainError as error:
                add_domain_errors(form, error)
                status = error.status_code
            else:
                messages.success(request, f"Metric “{metric.name}” created.")
                return redirect("metric-detail", request.project.slug, metric.slug)
    return render(request, "analysis/metric_form.html", {"form": form}, status=status)


def _metric_initial(metric: Metric) -> dict[str, Any]:
    return {
        "name": metric.name,
        "type": metric.type,
        "description": metric.description,
        "directionality": metric.directionality,
        "unitTypes": ", ".join(metric.unit_types),
        "metricEvents": metric.metric_events,
    }


@project_view(Role.VIEWER)
@require_http_methods(["GET", "POST"])
def metric_detail(request: HttpRequest, metric_id: str) -> HttpResponse:
    metric = entities.get_or_404(
        lambda: selectors.metric_get(project=request.project, metric_id=metric_id)
    )
    form = MetricForm(request.POST or None, initial=_metric_initial(metric), editing=True)
    status = 200
    if request.method == "POST":
        require_role(request, Role.MEMBER)
        status = 400
        if form.is_valid():
            try:
                services.metric_update(
                    project=request.project,
                    actor=request.actor,
                    metric_id=metric.slug,
                    data=form.definition(),
                )
            except DomainError as error:
                add_domain_errors(form, error)
                status = error.status_code
            else:
                messages.success(request, f"Metric “{metric.name}” saved.")
                return redirect("metric-detail", request.project.slug, metric.slug)
    return render(
        request, "analysis/metric_form.html", {"form": form, "metric": metric}, status=status
    )


@project_view(Role.MEMBER)
@require_POST
def metric_delete(request: HttpRequest, metric_id: str) -> HttpResponse:
    entities.get_or_404(
        lambda: services.metric_delete(
            project=request.project, actor=request.actor, metric_id=metric_id
        )
    )
    messages.success(request, "Metric deleted.")
    return redirect("metric-list", request.project.slug)


# -- experiment results -------------------------------------------------------------------------


def _bar(comparison: dict[str, Any], scale: float, directionality: str) -> dict[str, Any]:
    """The interval as x positions on a bar of BAR_WIDTH whose middle is zero."""

    def x(value: float) -> float:
        return round(BAR_WIDTH / 2 + value / scale * (BAR_WIDTH / 2 - 4), 1)

    low, high = comparison["ciLow"], comparison["ciHigh"]
    significant = low is not None and (low > 0 or high < 0)
    good = (comparison["relativeDelta"] or 0) > 0
    if directionality == Directionality.DECREASE:
        good = not good
    tone = ("good" if good else "bad") if significant else "neutral"
    bar = {"tone": tone, "significant": significant, "width": BAR_WIDTH, "zero": BAR_WIDTH / 2}
    if low is not None:
        bar.update(x=x(low), span=max(x(high) - x(low), 1.5), point=x(comparison["relativeDelta"]))
    return bar


def _history(days: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """Per metric, the relative lift of each test group over the days computed (the results
    of each day's run, oldest first), as SVG points."""
    series: dict[tuple[str, str], dict[str, list]] = {}
    for index, day in enumerate(days):
        for metric in day["metrics"]:
            for comparison in metric["comparisons"]:
                if comparison["relativeDelta"] is None:
                    continue
                key = (metric["name"], metric["type"])
                points = series.setdefault(key, {}).setdefault(comparison["test"], [])
                points.append((index, day["day"], comparison["relativeDelta"]))
    charts = {}
    for key, tests in series.items():
        peak = max(abs(v) for points in tests.values() for _, _, v in points) or 1.0
        step = CHART_WIDTH / max(len(days) - 1, 1)

        def y(value: float, peak: float = peak) -> float:
            return round(CHART_HEIGHT / 2 - value / peak * (CHART_HEIGHT / 2 - 6), 1)

        charts[key] = {
            "width": CHART_WIDTH,
            "height": CHART_HEIGHT,
            "zero": CHART_HEIGHT / 2,
            "peak": peak,
            "days": len(days),
            "lines": [
                {
                    "test": test,
                    "index": number,
                    "points": " ".join(f"{round(i * step, 1)},{y(v)}" for i, _, v in points),
                    "last": points[-1][2],
                }
                for number, (test, points) in enumerate(sorted(tests.items()))
            ],
        }
    return charts


def _metric_views(
    request: HttpRequest,
    results: dict[str, Any],
    *,
    history: dict[tuple[str, str], dict[str, Any]],
    primary: set[tuple[str, str]],
) -> list[dict[str, Any]]:
    """Each metric of ``results`` as ``analysis/_metric_results.html`` draws it: its rows with
    their lift bars on a common scale and its history chart."""
    directions = dict(
        selectors.metric_list(project=request.project).values_list("slug", "directionality")
    )
    metrics = []
    for metric in results["metrics"]:
        key = (metric["name"], metric["type"])
        direction = directions.get(f"{metric['name']}::{metric['type']}", Directionality.INCREASE)
        bounds = [
            abs(value)
            for c in metric["comparisons"]
            for value in (c["ciLow"], c["ciHigh"])
            if value is not None
        ]
        scale = max(bounds, default=1.0) * 1.1 or 1.0
        metrics.append(
            {
                **metric,
                "primary": key in primary,
                "directionality": direction,
                "rows": [
                    {
                        **c,
                        "bar": _bar(c, scale, direction),
                        "test_group": metric["groups"].get(c["test"]),
                        "control_group": metric["groups"].get(c["control"]),
                    }
                    for c in metric["comparisons"]
                ],
                "scale": scale,
                "history": history.get(key),
            }
        )
    return metrics


def _results_context(request: HttpRequest, experiment: Experiment) -> dict[str, Any]:
    control_default, others = selectors.group_names(experiment)
    groups = [name for name in [control_default, *others] if name]
    form = ResultsForm(request.GET or None, groups=groups)
    choices = form.cleaned_data if form.is_valid() else {}
    query = selectors.pulse_query(
        experiment=experiment,
        control=choices.get("control") or None,
        cuped=choices.get("cuped") != "off",
        confidence=choices.get("confidence") or None,
    )
    results = selectors.pulse_results(experiment=experiment, query=query)
    context: dict[str, Any] = {
        "experiment": experiment,
        "results_form": form,
        "query": query,
        "results": results,
        "can_edit": request.can_edit,
    }
    if results is None:
        return context
    primary = {(m["name"], m["type"]) for m in experiment.primary_metrics}
    metrics = _metric_views(
        request,
        results,
        history=_history(selectors.pulse_history(experiment=experiment, query=query)),
        primary=primary,
    )
    metrics.sort(key=lambda metric: not metric["primary"])  # primary metrics first
    srm = results["srm"]["pValue"]
    run = selectors.latest_run(experiment=experiment)
    context.update(
        metrics=metrics,
        srm_warning=srm is not None and srm < SRM_WARNING_P,
        srm_p=srm,
        excluded_units=run.excluded_units,
        computed_at=run.computed_at,
    )
    return context


def _metric_choices(request: HttpRequest, experiment: Experiment) -> list[dict[str, Any]]:
    """Every defined metric, with where the experiment uses it (primary, secondary, or not)."""
    primary = {f"{m['name']}::{m['type']}" for m in experiment.primary_metrics}
    secondary = {f"{m['name']}::{m['type']}" for m in experiment.secondary_metrics}
    return [
        {
            "metric": metric,
            "role": "primary"
            if metric.slug in primary
            else "secondary"
            if metric.slug in secondary
            else "",
        }
        for metric in selectors.metric_list(project=request.project)
    ]


@project_view(Role.VIEWER)
@require_GET
def experiment_results(request: HttpRequest, experiment_id: str) -> HttpResponse:
    """The results section (an htmx fragment; ``?view=summary`` for the decision card)."""
    experiment = entities.get_or_404(
        lambda: experiment_get(project=request.project, experiment_id=experiment_id)
    )
    try:
        context = _results_context(request, experiment)
    except DomainError as error:
        return HttpResponse(error.message, status=error.status_code)
    context["metric_choices"] = _metric_choices(request, experiment)
    template = (
        "analysis/_results_summary.html"
        if request.GET.get("view") == "summary"
        else "analysis/_results.html"
    )
    return render(request, template, context)


@project_view(Role.MEMBER)
@require_POST
def experiment_results_recompute(request: HttpRequest, experiment_id: str) -> HttpResponse:
    experiment = entities.get_or_404(
        lambda: services.pulse_request(
            project=request.project, actor=request.actor, experiment_id=experiment_id
        )
    )
    messages.info(request, "Results are being recomputed; reload in a moment.")
    url = reverse("experiment-detail", args=[request.project.slug, experiment.slug])
    return redirect(f"{url}#results")


@project_view(Role.MEMBER)
@require_POST
def experiment_metrics_set(request: HttpRequest, experiment_id: str) -> HttpResponse:
    """The experiment's primary and secondary metrics, chosen among the defined ones."""
    experiment = entities.get_or_404(
        lambda: experiment_get(project=request.project, experiment_id=experiment_id)
    )
    chosen: dict[str, list[dict[str, str]]] = {"primary": [], "secondary": []}
    for metric in selectors.metric_list(project=request.project):
        role = request.POST.get(f"metric:{metric.slug}", "")
        if role in chosen:
            chosen[role].append({"name": metric.name, "type": metric.type})
    url = reverse("experiment-detail", args=[request.project.slug, experiment.slug])
    try:
        outcome = experiment_update(
            project=request.project,
            actor=request.actor,
            experiment_id=experiment.slug,
            primary_metrics=chosen["primary"],
            secondary_metrics=chosen["secondary"],
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        entities.announce(request, outcome, "Metrics saved; recompute to see their results.")
    return redirect(f"{url}#results")


# -- gate results -------------------------------------------------------------------------------


def _gate_results_context(request: HttpRequest, gate: Gate) -> dict[str, Any]:
    """Per rule with a partial rollout, its pass group against its fail group."""
    form = ResultsForm(request.GET or None, groups=[selectors.GATE_CONTROL])
    choices = form.cleaned_data if form.is_valid() else {}
    query = selectors.gate_pulse_query(
        cuped=choices.get("cuped") != "off", confidence=choices.get("confidence") or None
    )
    rules = []
    for rule in services.rollout_rules(gate):
        results = selectors.gate_pulse_results(gate=gate, rule_id=rule["id"], query=query)
        shown: dict[str, Any] = {"rule": rule, "results": results}
        if results is not None:
            history = selectors.gate_pulse_history(gate=gate, rule_id=rule["id"], query=query)
            srm = results["srm"]["pValue"]
            run = selectors.gate_latest_run(gate=gate, rule_id=rule["id"])
            shown.update(
                metrics=_metric_views(request, results, history=_history(history), primary=set()),
                srm_warning=srm is not None and srm < SRM_WARNING_P,
                srm_p=srm,
                excluded_units=run.excluded_units,
                computed_at=run.computed_at,
            )
        rules.append(shown)
    return {
        "gate": gate,
        "results_form": form,
        "query": query,
        "rules": rules,
        "can_edit": request.can_edit,
    }


@project_view(Role.VIEWER)
@require_GET
def gate_results(request: HttpRequest, gate_id: str) -> HttpResponse:
    """The results section of the gate page (an htmx fragment)."""
    gate = entities.get_or_404(lambda: gate_get(project=request.project, gate_id=gate_id))
    try:
        context = _gate_results_context(request, gate)
    except DomainError as error:
        return HttpResponse(error.message, status=error.status_code)
    return render(request, "analysis/_gate_results.html", context)


@project_view(Role.MEMBER)
@require_POST
def gate_results_recompute(request: HttpRequest, gate_id: str) -> HttpResponse:
    """Queues the computation of the gate's rules; a gate without a partial rollout is told so."""
    try:
        entities.get_or_404(
            lambda: services.gate_pulse_request(
                project=request.project, actor=request.actor, gate_id=gate_id
            )
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.info(request, "Results are being recomputed; reload in a moment.")
    return redirect(reverse("gate-detail", args=[request.project.slug, gate_id]) + "#results")
