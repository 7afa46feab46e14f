"""What the gates, configs, experiments, layers and holdouts screens share: list pages with a
fixed number of queries, service outcomes turned into messages (applied, or filed for review),
the detail pages' small forms posted to a service, the "Test a user" panel on the API's
evaluator, and the entity's recent history.

List pages issue the same queries whatever the number of entities: the count, the page, the
tags for the filter, one aggregated exposure count for the page's entities (last 24 hours), and
one query for the page's open reviews.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import connection
from django.db.models import Model, QuerySet
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from console import selectors as console_selectors
from console.errors import DomainError, NotFound
from console.models import Review, Role
from console.services.reviews import ChangeOutcome, open_review_for
from console.web.shell import add_domain_errors
from events import selectors as event_selectors
from flags import selectors as flag_selectors
from flags.forms import SORTS, EntityFilterForm, TestUserForm

logger = logging.getLogger(__name__)

HISTORY_LENGTH = 8


def require_editor(request: HttpRequest) -> None:
    """Viewers see no edit controls; the server refuses their writes too."""
    if not request.actor.has_role(Role.MEMBER):
        raise DjangoPermissionDenied("Viewers cannot change this project.")


def not_found(error: NotFound) -> Http404:
    return Http404(error.message)


def announce(request: HttpRequest, outcome: ChangeOutcome | Any, done: str) -> None:
    """A message for a service's outcome: applied now, or filed for review (with its link)."""
    review = getattr(outcome, "review", None)
    if review is not None:
        url = reverse("review-detail", args=[request.project.slug, review.public_id])
        messages.warning(
            request,
            format_html(
                'This change needs review. It was filed as <a href="{}">review {}</a> and '
                "applies once it is approved and committed.",
                url,
                review.public_id,
            ),
        )
        return
    messages.success(request, done)


def error_message(request: HttpRequest, error: DomainError) -> None:
    details = "; ".join(e.message for e in error.errors[1:4])
    messages.error(request, f"{error.message}{' (' + details + ')' if details else ''}")


def add_form_errors(form: Form, error: DomainError) -> None:
    """A service's errors next to the fields they name; a form that sent lists says which of
    its fields a position in them came from (``field_for``)."""
    field_for = getattr(form, "field_for", None)
    if field_for is None or not error.errors:
        add_domain_errors(form, error)
        return
    for field_error in error.errors:
        name = field_for(field_error.property)
        form.add_error(name if name in form.fields else None, field_error.message)


@dataclass(frozen=True, slots=True)
class DetailForm:
    """A small form of a detail page posted to one service: its name in the page's context, how
    it is built for the entity (``build(request, entity, data)``), the service's arguments from
    the valid form, the message once applied, and which entity to show next (``opens``, from
    the outcome; the same one when absent or when the change was filed for review)."""

    context_key: str
    build: Callable[..., Form]
    service: Callable[..., ChangeOutcome]
    arguments: Callable[[Any], dict[str, Any]]
    done: str
    opens: Callable[[ChangeOutcome], Any] | None = None


def post_detail_form(
    request: HttpRequest,
    spec: DetailForm,
    entity: Any,
    *,
    entity_keyword: str,
    template: str,
    context: Callable[..., dict[str, Any]],
) -> HttpResponse:
    """Posts ``spec``'s form for ``entity``: the outcome announced and a redirect to the detail
    page of the entity to show; or ``template`` again (``context(request, entity, **posted)``)
    with the errors at their fields. ``entity_keyword`` (``gate_id``) names the entity both to
    the service and to its detail URL (``gate-detail``)."""
    form = spec.build(request, entity, request.POST)

    def page(status: int) -> HttpResponse:
        posted = {spec.context_key: form}
        return render(request, template, context(request, entity, **posted), status=status)

    if not form.is_valid():
        return page(400)
    try:
        outcome = spec.service(
            project=request.project,
            actor=request.actor,
            **{entity_keyword: entity.slug},
            **spec.arguments(form),
        )
    except DomainError as error:
        add_form_errors(form, error)
        return page(error.status_code)
    announce(request, outcome, spec.done)
    shown = (spec.opens(outcome) if spec.opens else None) or entity
    return redirect(
        f"{entity_keyword.removesuffix('_id')}-detail",
        project_slug=request.project.slug,
        **{entity_keyword: shown.slug},
    )


# -- lists ------------------------------------------------------------------------------------------


def distinct_tags(model: type[Model], project) -> list[str]:
    """Every tag the project's entities of ``model`` carry (one query)."""
    table = model._meta.db_table
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f'SELECT DISTINCT jsonb_array_elements_text("tags") AS tag FROM "{table}" '
                'WHERE "project_id" = %s AND jsonb_typeof("tags") = \'array\' ORDER BY tag '
                "LIMIT 500",
                [project.pk],
            )
            return [row[0] for row in cursor.fetchall()]
    tags: set[str] = set()
    for entity_tags in model._default_manager.filter(project=project).values_list(
        "tags", flat=True
    ):
        tags.update(entity_tags or ())
    return sorted(tags)[:500]


def with_tag(queryset: QuerySet, tag: str) -> QuerySet:
    if not tag:
        return queryset
    if connection.vendor == "postgresql":
        return queryset.filter(tags__contains=[tag])
    # SQLite (local runs) has no JSON containment: filter the ids in Python.
    ids = [pk for pk, tags in queryset.values_list("pk", "tags") if tag in (tags or ())]
    return queryset.filter(pk__in=ids)


def sorted_by(queryset: QuerySet, sort: str, *, modified_field: str = "modified_at") -> QuerySet:
    _label, order = SORTS.get(sort) or SORTS["-modified"]
    return queryset.order_by(*(field.replace("modified_at", modified_field) for field in order))


def filter_form(request: HttpRequest, *, tags: list[str], statuses) -> EntityFilterForm:
    return EntityFilterForm(request.GET or None, tags=tags, statuses=list(statuses))


def checks_last_day(project, *, kind: str, names: Iterable[str]) -> dict[str, int]:
    """Exposures (checks) per entity over the last 24 hours, for the entities of one list page:
    one aggregated query."""
    return event_selectors.exposure_totals(
        project=project, kind=kind, names=names, since=timezone.now() - timedelta(hours=24)
    )


@dataclass(frozen=True, slots=True)
class Screen:
    """What differs between the list screens (``templates/flags/entity_list.html``)."""

    title: str
    noun: str
    plural: str
    intro: str
    detail_url_name: str
    create_url_name: str | None
    empty_title: str
    empty_text: str
    article: str = "a"
    checks: bool = True
    # Extra columns: [{"label", "numeric"}]; each row brings its ``cells``.
    columns: tuple[dict[str, Any], ...] = ()


def cell(text: Any, *, numeric: bool = False) -> dict[str, Any]:
    return {"text": text, "numeric": numeric}


@dataclass(frozen=True, slots=True)
class Row:
    """One entity of a list page with what the page shows beside it."""

    entity: Any
    checks: int
    review: Review | None
    cells: list[dict[str, Any]] = field(default_factory=list)
    status: str | None = None


def rows_for_page(
    page,
    *,
    project,
    exposure_kind: str | None,
    entity_type: str,
    id_attr: str = "slug",
    cells: Callable[[Any], list[dict[str, Any]]] | None = None,
    status: Callable[[Any], str] | None = None,
) -> list[Row]:
    entities = list(page.object_list)
    ids = [getattr(entity, id_attr) for entity in entities]
    checks = checks_last_day(project, kind=exposure_kind, names=ids) if exposure_kind else {}
    reviews = flag_selectors.active_reviews(
        project=project, entity_type=entity_type, entity_ids=ids
    )
    return [
        Row(
            entity,
            checks.get(getattr(entity, id_attr), 0),
            reviews.get(getattr(entity, id_attr)),
            cells(entity) if cells else [],
            status(entity) if status else None,
        )
        for entity in entities
    ]


# -- detail pages -----------------------------------------------------------------------------------


def entity_history(project, *, entity_type: str, entity_id: str) -> list:
    return list(
        console_selectors.audit_log_list(
            project=project, entity_type=entity_type, entity_id=entity_id
        )[:HISTORY_LENGTH]
    )


def pending_review(project, *, entity_type: str, entity_id: str) -> Review | None:
    return open_review_for(project=project, entity_type=entity_type, entity_id=entity_id)


def get_or_404(getter: Callable[[], Any]) -> Any:
    try:
        return getter()
    except NotFound as error:
        raise not_found(error) from error


# -- "Test a user" ------------------------------------------------------------------------------


def panel_form(request: HttpRequest, data=None) -> TestUserForm:
    return TestUserForm(
        data,
        environments=console_selectors.environment_names(project=request.project),
        prefix="test",
    )


@dataclass(slots=True)
class TestOutcome:
    """What the evaluator answered for the user, and which of the entity's rules that is."""

    user: dict[str, Any]
    value: Any = None
    json_value: Any = None
    rule_id: str = ""
    rule_name: str = ""
    rule_position: int | None = None
    group_name: str | None = None
    allocated_experiment: str | None = None
    explanation: str = ""
    reason: str = ""
    ruleset_time: int | None = None
    secondary_exposures: list[dict[str, str]] | None = None
    error: str = ""


SPECIAL_RULE_IDS = {
    "default": "No rule matched: the default applies.",
    "disabled": "Disabled: everyone gets the default.",
    "error": "The evaluation failed.",
    "override": "An override decided.",
    "launchedGroup": "The experiment's shipped group.",
    "prestart": "The experiment has not started: everyone gets the default.",
    "abandoned": "The experiment was abandoned: everyone gets the default.",
    "layerAssignment": "Not allocated to this experiment of the layer.",
}


def evaluate_for_panel(
    *, project, kind: str, name: str, user: dict[str, Any], rules: list[dict[str, Any]]
) -> TestOutcome:
    """Evaluates ``name`` for ``user`` with the evaluator and the compiled ruleset the SDK
    endpoints use (``/v1/check_gate``, ``/v1/get_config``, ``/v1/get_layer``)."""
    outcome = TestOutcome(user=user)
    try:
        from evaluation import (
            EvaluationUser,
            InvalidUserError,
            evaluate_config,
            evaluate_gate,
            evaluate_layer,
        )
        from ruleset import load as ruleset_load
    except ImportError:  # pragma: no cover - the evaluator ships with the flags app
        outcome.error = "The evaluator is not installed."
        return outcome
    try:
        evaluation_user = EvaluationUser.from_dict(user)
    except InvalidUserError as error:
        outcome.error = f"{error.field}: {str(error).split(': ', 1)[-1]}"
        return outcome
    try:
        loaded = ruleset_load.current(project.pk)
    except Exception as error:  # the ruleset cannot be compiled or loaded: say so, do not 500
        logger.exception("test-a-user ruleset load failed project=%s", project.pk)
        outcome.error = f"The ruleset could not be loaded ({type(error).__name__})."
        return outcome
    evaluate = {"gate": evaluate_gate, "config": evaluate_config, "layer": evaluate_layer}[kind]
    result = evaluate(loaded.ruleset, evaluation_user, name)
    outcome.ruleset_time = loaded.time
    outcome.value = result.value
    outcome.json_value = result.json_value
    outcome.rule_id = result.rule_id
    outcome.group_name = result.group_name
    outcome.allocated_experiment = result.allocated_experiment
    outcome.reason = str(result.reason)
    outcome.secondary_exposures = list(result.secondary_exposures)
    for position, rule in enumerate(rules, start=1):
        if rule.get("id") == result.rule_id or (
            result.rule_id and str(result.rule_id).startswith(f"{rule.get('id')}:")
        ):
            outcome.rule_name = rule.get("name", "")
            outcome.rule_position = position
            break
    if outcome.rule_position is not None:
        outcome.explanation = f"Rule {outcome.rule_position} matched: “{outcome.rule_name}”."
    elif str(result.reason) == "Unrecognized":
        outcome.explanation = (
            "Not in the served ruleset yet: it is rebuilt a moment after each change."
        )
    else:
        outcome.explanation = SPECIAL_RULE_IDS.get(
            str(result.rule_id), f"Decided by “{result.rule_id}”."
        )
    return outcome
