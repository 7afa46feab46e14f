"""Dynamic config screens: like gates, with a JSON default value, a JSON return value per rule and
an optional JSON Schema, all validated by ``flags.services.configs``."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from console.errors import DomainError
from console.models import Role
from console.web import editor, entities
from console.web.shell import add_domain_errors, project_view
from flags import selectors as flag_selectors
from flags.forms import ConfigCreateForm, ConfigForm
from flags.models import ConfigStatus, DynamicConfig
from flags.services import configs as config_services
from flags.views import charts

DYNAMIC_CONFIGS = config_services.DYNAMIC_CONFIGS


def _listing(project, filters: dict[str, str]):
    return flag_selectors.dynamic_config_list(
        project=project,
        status=filters["status"] or None,
        tags=[filters["tag"]] if filters["tag"] else None,
        search=filters["q"] or None,
    ).defer("default_value", "schema")


SCREEN = entities.Screen(
    kind=DYNAMIC_CONFIGS,
    url_name="config",
    title="Dynamic configs",
    noun="dynamic config",
    plural="dynamic configs",
    intro="A dynamic config returns a JSON value per user: change copy, limits or settings "
    "without shipping code, with a different value for the users each rule matches.",
    empty_title="No dynamic configs yet",
    empty_text="Create a config with a default JSON value, then add rules that give other "
    "values to some users.",
    listing=_listing,
    delete_consequence="SDKs asking for it get an empty value.",
    statuses=tuple(ConfigStatus.choices),
    exposure_kind="config",
    columns=({"label": "Rules", "numeric": True},),
    cells=lambda config: [entities.cell(len(config.rules), numeric=True)],
)


def _config_or_404(request: HttpRequest, config_id: str) -> DynamicConfig:
    return entities.get_or_404(
        lambda: flag_selectors.dynamic_config_get(project=request.project, config_id=config_id)
    )


def _editor(request: HttpRequest, *, error: DomainError | None = None) -> dict[str, Any]:
    return editor.editor_config(
        project=request.project, return_values=True, errors=editor.field_errors(error)
    )


@project_view(Role.MEMBER)
@require_http_methods(["GET", "POST"])
def config_create(request: HttpRequest) -> HttpResponse:
    form = ConfigCreateForm(request.POST or None, initial={"rules": "[]", "defaultValue": "{}"})
    status = 200
    error: DomainError | None = None
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                config = config_services.dynamic_config_create(
                    project=request.project,
                    actor=request.actor,
                    name=data["name"],
                    config_id=data["id"] or None,
                    description=data["description"],
                    tags=data["tags"],
                    id_type=data["idType"],
                    default_value=data["defaultValue"],
                    schema=data["schema"],
                    rules=data["rules"],
                )
            except DomainError as exc:
                error = exc
                add_domain_errors(form, exc)
                status = exc.status_code
            else:
                entities.announce(request, None, f"Dynamic config “{config.name}” created.")
                return redirect(
                    "config-detail", project_slug=request.project.slug, config_id=config.slug
                )
        else:
            status = 400
    return render(
        request,
        "flags/config_create.html",
        {"form": form, "editor": _editor(request, error=error)},
        status=status,
    )


def _initial(config: DynamicConfig) -> dict[str, Any]:
    return {
        "name": config.name,
        "description": config.description,
        "tags": config.tags,
        "defaultValue": config.default_value,
        "schema": config.schema,
        "rules": editor.rules_for_editor(config.rules),
        "version": config.version,
    }


def _detail_context(
    request: HttpRequest,
    config: DynamicConfig,
    *,
    form: ConfigForm | None = None,
    error: DomainError | None = None,
    test_form=None,
    test_result=None,
) -> dict[str, Any]:
    project = request.project
    return {
        "config": config,
        "rules_display": editor.describe_rules(config.rules),
        "form": form or ConfigForm(initial=_initial(config)),
        "editor": _editor(request, error=error),
        "review": entities.pending_review(
            project, entity_type=DYNAMIC_CONFIGS.entity_type, entity_id=config.slug
        ),
        "history": entities.entity_history(
            project, entity_type=DYNAMIC_CONFIGS.entity_type, entity_id=config.slug
        ),
        "chart": charts.exposure_chart(
            project=project,
            kind="config",
            name=config.slug,
            title="Evaluations per day, last 30 days",
        ),
        "test_form": test_form or entities.panel_form(request),
        "test_result": test_result,
        "is_archived": config.status == ConfigStatus.ARCHIVED,
        "actions": entities.transition_texts(DYNAMIC_CONFIGS.lifecycle, config),
    }


@project_view(Role.VIEWER)
@require_http_methods(["GET", "POST"])
def config_detail(request: HttpRequest, config_id: str) -> HttpResponse:
    config = _config_or_404(request, config_id)
    if request.method == "GET":
        return render(request, "flags/config_detail.html", _detail_context(request, config))
    entities.require_editor(request)
    form = ConfigForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "flags/config_detail.html",
            _detail_context(request, config, form=form),
            status=400,
        )
    data = form.cleaned_data
    try:
        outcome = config_services.dynamic_config_update(
            project=request.project,
            actor=request.actor,
            config_id=config.slug,
            name=data["name"],
            description=data["description"],
            tags=data["tags"],
            default_value=data["defaultValue"],
            schema=data["schema"],
            rules=data["rules"],
            expected_version=data["version"],
        )
    except DomainError as error:
        add_domain_errors(form, error)
        return render(
            request,
            "flags/config_detail.html",
            _detail_context(request, config, form=form, error=error),
            status=error.status_code,
        )
    entities.announce(request, outcome, "Dynamic config saved.")
    return redirect("config-detail", project_slug=request.project.slug, config_id=config.slug)


ACTIONS = {
    "enable": config_services.dynamic_config_enable,
    "disable": config_services.dynamic_config_disable,
    "archive": config_services.dynamic_config_archive,
    "unarchive": config_services.dynamic_config_unarchive,
}


@project_view(Role.MEMBER)
@require_POST
def config_action(request: HttpRequest, config_id: str, action: str) -> HttpResponse:
    config = _config_or_404(request, config_id)
    transition = DYNAMIC_CONFIGS.lifecycle.by_verb(action)
    if transition is None:
        raise Http404("No such action.")
    try:
        outcome = ACTIONS[action](
            project=request.project, actor=request.actor, config_id=config.slug
        )
    except DomainError as error:
        entities.error_message(request, error)
    else:
        entities.announce(request, outcome, transition.done)
    return redirect("config-detail", project_slug=request.project.slug, config_id=config.slug)


@project_view(Role.VIEWER)
@require_POST
def config_test(request: HttpRequest, config_id: str) -> HttpResponse:
    config = _config_or_404(request, config_id)
    form = entities.panel_form(request, request.POST)
    result = None
    if form.is_valid():
        result = entities.evaluate_for_panel(
            project=request.project,
            kind="config",
            name=config.slug,
            user=form.user(),
            rules=config.rules,
        )
    if request.htmx:
        return render(
            request,
            "flags/_test_panel.html",
            {"test_form": form, "test_result": result, "test_url": request.path, "kind": "config"},
        )
    return render(
        request,
        "flags/config_detail.html",
        _detail_context(request, config, test_form=form, test_result=result),
    )
