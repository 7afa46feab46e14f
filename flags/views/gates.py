"""Feature gate screens: the list, create, the detail page with the rule editor, overrides,
lifecycle buttons, delete with its referrers, and "Test a user".

Every write is a ``flags.services.gates`` call; its errors are shown next to the field (or, for
rules, at the rule and condition) they name, and a change that needs review says so."""

from __future__ import annotations

from typing import Any

from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from console import selectors as console_selectors
from console.errors import DomainError
from console.models import Role
from console.web import editor, entities
from console.web.shell import add_domain_errors, project_view
from flags import selectors as flag_selectors
from flags.forms import ArchiveForm, GateCreateForm, GateForm, GateOverridesForm
from flags.models import Gate, GateStatus, GateType
from flags.services import gates as gate_services
from flags.views import charts

GATES = gate_services.GATES


def _listing(project, filters: dict[str, str]):
    return (
        flag_selectors.gate_list(
            project=project,
            status=filters["status"] or None,
            tags=[filters["tag"]] if filters["tag"] else None,
            search=filters["q"] or None,
        )
        .prefetch_related(None)
        .only(
            "slug",
            "name",
            "description",
            "status",
            "is_enabled",
            "type",
            "tags",
            "rules",
            "id_type",
            "modifier_name",
            "modified_at",
        )
    )


SCREEN = entities.Screen(
    kind=GATES,
    url_name="gate",
    title="Feature gates",
    noun="gate",
    plural="gates",
    intro="A gate answers true or false per user: roll a feature out to a percentage, to a "
    "segment, or to everyone at once.",
    empty_title="No gates yet",
    empty_text="Create a gate, add a rule such as “email ends with @yourcompany.com”, then check "
    "it from your code with a server or client key.",
    listing=_listing,
    delete_consequence="SDKs asking for it get false (as for an unknown gate).",
    statuses=tuple(GateStatus.choices),
    exposure_kind="gate",
    columns=({"label": "Rules", "numeric": True},),
    cells=lambda gate: [entities.cell(len(gate.rules), numeric=True)],
)


def _gate_or_404(request: HttpRequest, gate_id: str) -> Gate:
    return entities.get_or_404(
        lambda: flag_selectors.gate_get(project=request.project, gate_id=gate_id)
    )


# -- create -----------------------------------------------------------------------------------------


def _editor(request: HttpRequest, *, error: DomainError | None = None, exclude: str | None = None):
    return editor.editor_config(
        project=request.project,
        exclude_gate=exclude,
        errors=editor.field_errors(error),
    )


@project_view(Role.MEMBER)
@require_http_methods(["GET", "POST"])
def gate_create(request: HttpRequest) -> HttpResponse:
    form = GateCreateForm(request.POST or None, initial={"rules": "[]"})
    status = 200
    error: DomainError | None = None
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                gate = gate_services.gate_create(
                    project=request.project,
                    actor=request.actor,
                    name=data["name"],
                    gate_id=data["id"] or None,
                    description=data["description"],
                    tags=data["tags"],
                    type=data["type"],
                    id_type=data["idType"],
                    rules=data["rules"],
                )
            except DomainError as exc:
                error = exc
                add_domain_errors(form, exc)
                status = exc.status_code
            else:
                entities.announce(request, None, f"Gate “{gate.name}” created.")
                return redirect("gate-detail", project_slug=request.project.slug, gate_id=gate.slug)
        else:
            status = 400
    return render(
        request,
        "flags/gate_create.html",
        {"form": form, "editor": _editor(request, error=error)},
        status=status,
    )


# -- detail -----------------------------------------------------------------------------------------


def _initial(gate: Gate) -> dict[str, Any]:
    return {
        "name": gate.name,
        "description": gate.description,
        "tags": gate.tags,
        "type": gate.type,
        "rules": editor.rules_for_editor(gate.rules),
        "version": gate.version,
    }


def _overrides_form(request: HttpRequest, gate: Gate, data=None) -> GateOverridesForm:
    return GateOverridesForm(
        data,
        overrides=gate.overrides,
        id_type=gate.id_type,
        environments=console_selectors.environment_names(project=request.project),
        prefix="overrides",
    )


def _detail_context(
    request: HttpRequest,
    gate: Gate,
    *,
    form: GateForm | None = None,
    error: DomainError | None = None,
    test_form=None,
    test_result=None,
    **posted: Form,
) -> dict[str, Any]:
    project = request.project
    referrers = gate_services.gate_referrers(project=project, gate=gate)
    return {
        "gate": gate,
        "rules_display": editor.describe_rules(gate.rules),
        "form": form or GateForm(initial=_initial(gate)),
        "editor": _editor(request, error=error, exclude=gate.slug),
        "review": entities.pending_review(
            project, entity_type=GATES.entity_type, entity_id=gate.slug
        ),
        "referrers": referrers,
        "history": entities.entity_history(
            project, entity_type=GATES.entity_type, entity_id=gate.slug
        ),
        "chart": charts.gate_chart(project=project, gate_id=gate.slug),
        "test_form": test_form or entities.panel_form(request),
        "test_result": test_result,
        "test_url_name": "gate-test",
        "archive_form": ArchiveForm(),
        "overrides_form": _overrides_form(request, gate),
        "is_archived": gate.status == GateStatus.ARCHIVED,
        "actions": entities.transition_texts(GATES.lifecycle, gate),
        "gate_types": GateType,
        **posted,
    }


@project_view(Role.VIEWER)
@require_http_methods(["GET", "POST"])
def gate_detail(request: HttpRequest, gate_id: str) -> HttpResponse:
    gate = _gate_or_404(request, gate_id)
    if request.method == "GET":
        return render(request, "flags/gate_detail.html", _detail_context(request, gate))
    entities.require_editor(request)
    form = GateForm(request.POST)
    if not form.is_valid():
        return render(
            request, "flags/gate_detail.html", _detail_context(request, gate, form=form), status=400
        )
    data = form.cleaned_data
    try:
        outcome = gate_services.gate_update(
            project=request.project,
            actor=request.actor,
            gate_id=gate.slug,
            name=data["name"],
            description=data["description"],
            tags=data["tags"],
            type=data["type"],
            rules=data["rules"],
            expected_version=data["version"],
        )
    except DomainError as error:
        add_domain_errors(form, error)
        return render(
            request,
            "flags/gate_detail.html",
            _detail_context(request, gate, form=form, error=error),
            status=error.status_code,
        )
    entities.announce(request, outcome, "Gate saved.")
    return redirect("gate-detail", project_slug=request.project.slug, gate_id=gate.slug)


ACTIONS = {
    "enable": gate_services.gate_enable,
    "disable": gate_services.gate_disable,
    "launch": gate_services.gate_launch,
    "unarchive": gate_services.gate_unarchive,
}


@project_view(Role.MEMBER)
@require_POST
def gate_action(request: HttpRequest, gate_id: str, action: str) -> HttpResponse:
    gate = _gate_or_404(request, gate_id)
    transition = GATES.lifecycle.by_verb(action)
    if transition is None:
        raise Http404("No such action.")
    try:
        if action == "archive":
            form = ArchiveForm(request.POST)
            form.is_valid()
            outcome = gate_services.gate_archive(
                project=request.project,
                actor=request.actor,
                gate_id=gate.slug,
                force=request.POST.get("force") == "1",
                reason=form.cleaned_data.get("reason", ""),
            )
        else:
            outcome = ACTIONS[action](
                project=request.project, actor=request.actor, gate_id=gate.slug
            )
    except DomainError as error:
        entities.error_message(request, error)
    else:
        entities.announce(request, outcome, transition.done)
    return redirect("gate-detail", project_slug=request.project.slug, gate_id=gate.slug)


OVERRIDES = entities.DetailForm(
    context_key="overrides_form",
    build=_overrides_form,
    service=gate_services.gate_overrides_set,
    arguments=lambda form: {"overrides": form.overrides()},
    done="Overrides saved.",
)


@project_view(Role.MEMBER)
@require_POST
def gate_overrides(request: HttpRequest, gate_id: str) -> HttpResponse:
    gate = _gate_or_404(request, gate_id)
    return entities.post_detail_form(
        request,
        OVERRIDES,
        gate,
        entity_keyword="gate_id",
        template="flags/gate_detail.html",
        context=_detail_context,
    )


@project_view(Role.VIEWER)
@require_POST
def gate_test(request: HttpRequest, gate_id: str) -> HttpResponse:
    """Evaluates the gate for a user (htmx partial; the whole page without JavaScript)."""
    gate = _gate_or_404(request, gate_id)
    form = entities.panel_form(request, request.POST)
    result = None
    if form.is_valid():
        result = entities.evaluate_for_panel(
            project=request.project, kind="gate", name=gate.slug, user=form.user(), rules=gate.rules
        )
    if request.htmx:
        return render(
            request,
            "flags/_test_panel.html",
            {"test_form": form, "test_result": result, "test_url": request.path, "kind": "gate"},
        )
    return render(
        request,
        "flags/gate_detail.html",
        _detail_context(request, gate, test_form=form, test_result=result),
    )
