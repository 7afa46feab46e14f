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
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
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
from evaluation import (
    EvaluationUser,
    InvalidUserError,
    evaluate_config,
    evaluate_gate,
    evaluate_layer,
)
from events import selectors as event_selectors
from flags import selectors as flag_selectors
from flags.forms import SORTS, EntityFilterForm, TestUserForm
from flags.services.descriptor import EntityKind, Lifecycle
from ruleset import load as ruleset_load

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
    review = outcome.review if isinstance(outcome, ChangeOutcome) else None
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


def add_renamed_errors(form: Form, error: DomainError, renames: Mapping[str, str]) -> None:
    """A service's errors at the form's fields, where the form names a field otherwise than the
    service's errors do (``renames``: ``{"layerID": "layer"}``)."""
    if not error.errors:
        add_domain_errors(form, error)
        return
    for field_error in error.errors:
        root = field_error.property.split(".")[0].split("[")[0]
        name = renames.get(root, root)
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
    """Every tag the project's entities of ``model`` carry (the segments list's tag filter)."""
    return flag_selectors.distinct_tags(project=project, model=model)


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
    """The screens of one kind of entity (``flags.services.descriptor.EntityKind``): what its
    list page (``templates/flags/entity_list.html``) and delete page say, and how its list is
    read. URL names are ``<url_name>-list``, ``-detail``, ``-create`` and ``-delete``."""

    kind: EntityKind
    url_name: str
    title: str
    noun: str
    plural: str
    intro: str
    empty_title: str
    empty_text: str
    # The list for the filters ``{"q", "tag", "status"}``, sorted by the page.
    listing: Callable[[Any, dict[str, str]], QuerySet]
    # What deleting an entity does to the SDKs asking for it.
    delete_consequence: str
    statuses: tuple[tuple[str, str], ...] = ()
    # The exposure kind counted in the "Checks 24 h" column (None: no such column).
    exposure_kind: str | None = None
    article: str = "a"
    # Extra columns: [{"label", "numeric"}]; each row brings its ``cells(entity)``.
    columns: tuple[dict[str, Any], ...] = ()
    cells: Callable[[Any], list[dict[str, Any]]] | None = None
    # A row's status text when the entity has no ``status`` field of its own.
    status: Callable[[Any], str] | None = None

    @property
    def detail_url_name(self) -> str:
        return f"{self.url_name}-detail"

    @property
    def create_url_name(self) -> str:
        return f"{self.url_name}-create"

    @property
    def list_url_name(self) -> str:
        return f"{self.url_name}-list"

    @property
    def checks(self) -> bool:
        return self.exposure_kind is not None


def cell(text: Any, *, numeric: bool = False) -> dict[str, Any]:
    return {"text": text, "numeric": numeric}


@dataclass(frozen=True, slots=True)
class Row:
    """One entity of a list page with what the page shows beside it."""

    entity: Any
    entity_id: str
    checks: int
    review: Review | None
    cells: list[dict[str, Any]] = field(default_factory=list)
    status: str | None = None


def rows_for_page(page, *, project, screen: Screen) -> list[Row]:
    kind = screen.kind
    exposure_kind = screen.exposure_kind
    entities = list(page.object_list)
    ids = [kind.id_of(entity) for entity in entities]
    checks = checks_last_day(project, kind=exposure_kind, names=ids) if exposure_kind else {}
    reviews = flag_selectors.active_reviews(
        project=project, entity_type=kind.entity_type, entity_ids=ids
    )
    return [
        Row(
            entity,
            kind.id_of(entity),
            checks.get(kind.id_of(entity), 0),
            reviews.get(kind.id_of(entity)),
            screen.cells(entity) if screen.cells else [],
            screen.status(entity) if screen.status else None,
        )
        for entity in entities
    ]


# -- detail pages -----------------------------------------------------------------------------------


def transition_texts(
    lifecycle: Lifecycle, entity: Any, *, available_only: bool = False
) -> dict[str, dict[str, str]]:
    """What a detail page shows of the entity's lifecycle actions (all, or those its state
    allows): ``{verb: {"verb", "label", "confirm"}}``, with "-" in a verb as "_" so that a
    template can name it (``actions.restart_as_new.label``)."""
    transitions = lifecycle.available(entity).values() if available_only else lifecycle.transitions
    return {
        transition.verb.replace("-", "_"): {
            "verb": transition.verb,
            "label": transition.label,
            "confirm": transition.confirmation(entity),
        }
        for transition in transitions
    }


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
    # A rule's conditions matched but the user is not in its pass percentage.
    outside_rollout: bool = False
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
    matched: dict[str, Any] = {}
    for position, rule in enumerate(rules, start=1):
        if rule.get("id") == result.rule_id or (
            result.rule_id and str(result.rule_id).startswith(f"{rule.get('id')}:")
        ):
            outcome.rule_name = rule.get("name", "")
            outcome.rule_position = position
            matched = rule
            break
    if outcome.rule_position is not None:
        outcome.explanation = f"Rule {outcome.rule_position} matched: “{outcome.rule_name}”."
        if kind in ("gate", "config") and not result.value:
            # The conditions held, the rollout percentage did not: the rule fails for this user.
            outcome.outside_rollout = True
            outcome.explanation += (
                f" The user is outside its {matched.get('passPercentage', 100)}% rollout, so "
                + ("the gate fails for them." if kind == "gate" else "they get the default value.")
            )
    elif str(result.reason) == "Unrecognized":
        outcome.explanation = (
            "Not in the served ruleset yet: it is rebuilt a moment after each change."
        )
    else:
        outcome.explanation = SPECIAL_RULE_IDS.get(
            str(result.rule_id), f"Decided by “{result.rule_id}”."
        )
    return outcome
