"""The ``EntityKind`` descriptor and its parts: everything that differs between the kinds of
entity (gates, dynamic configs, experiments, layers, holdouts, and segments in
``segments.services.kind``), read by the generic core in ``flags.services.kernel``.

A descriptor says (in the spirit of PostHog's approval actions): the model and where it keeps its
id, its owners and its version; the label its messages use; how each field is validated and which
changes need review; the lifecycle table; what may not be deleted while something refers to it;
what happens on create (joining global holdouts) and on delete; how overrides are checked and
merged; how a rule list changes on its own; which fields a stored version may bring back (and
the references it keeps for them).
Adding a kind is writing a descriptor, registering it in its ``AppConfig.ready()`` and writing its
thin named services; see docs/ARCHITECTURE.md, "Entity core".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import models

from console.errors import ValidationError
from console.models import Project
from console.selectors import members_by_id
from console.validation import (
    id_from_name,
    validate_bool,
    validate_id_type,
    validate_name,
    validate_tags,
    validate_text,
)


class _Unset:
    """A keyword argument the caller did not pass (partial updates)."""

    _instance: _Unset | None = None

    def __new__(cls) -> _Unset:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: Any = _Unset()

# The field every flags entity names its allowed reviewers in, and its name on the wire.
ALLOWED_REVIEWERS = "allowed_reviewers"
ALLOWED_REVIEWERS_FIELD = "reviewSettings.allowedReviewers"


class _NoReview:
    def __repr__(self) -> str:
        return "NO_REVIEW"


# A change scope meaning "this change never needs review" (description, tags, ...). Otherwise a
# scope is ``None`` (the entity as a whole) or the set of environments the change touches.
NO_REVIEW: Any = _NoReview()
ReviewScope = Any

NAME_IN_USE = "Name is already in use"

# validator(project, entity, value) -> the value as stored; raises ValidationError naming the field.
FieldValidator = Callable[[Project, Any, Any], Any]


# -- the descriptor ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ownership:
    """Where a kind keeps who created and who last changed an entity (``<creator>_id``,
    ``_name``, ``_email``), and when it last changed (list screens sort by it)."""

    creator: str = "creator"
    modifier: str = "modifier"
    modified_at: str = "modified_at"


@dataclass(frozen=True, slots=True)
class Transition:
    """One row of a lifecycle table: the action (its change type), the states it may start from
    and the state it leads to (``to_state``, set by the core; None when the action keeps the
    state or its effect decides it), and how screens (``verb``, ``label``, ``confirm``,
    ``done``) and the console API (``api_verb``, ``api_message``) present it.

    A transition either changes fields (``fields(entity)``, stored and applied as a field change)
    or has an ``effect(kind, project, entity, change)`` run when it is applied, which may return
    a new entity it created."""

    action: str
    verb: str
    from_states: tuple[str, ...]
    to_state: str | None = None
    label: str = ""
    confirm: str = ""
    done: str = ""
    api_verb: str = ""
    api_message: str = ""
    # Why the entity's state refuses the action: per state, then for any other state.
    refusals: Mapping[str, str] = field(default_factory=dict)
    refusal: str = ""
    fields: Callable[[Any], dict[str, Any]] | None = None
    effect: Callable[..., Any] | None = None

    def confirmation(self, entity: Any) -> str:
        return self.confirm.format(name=entity.name)


@dataclass(frozen=True, slots=True)
class Lifecycle:
    """A kind's lifecycle: its transitions, read by services (may it happen, what it does),
    views and templates (which actions to offer) and the console API (verbs and messages)."""

    label: str
    transitions: tuple[Transition, ...]
    state_field: str = "status"

    def __post_init__(self) -> None:
        actions = [t.action for t in self.transitions]
        verbs = [t.verb for t in self.transitions]
        if len(set(actions)) != len(actions) or len(set(verbs)) != len(verbs):
            raise ValueError(f"{self.label} lifecycle: actions and verbs must be unique.")

    def state(self, entity: Any) -> str:
        return getattr(entity, self.state_field)

    def transition(self, action: str) -> Transition:
        for transition in self.transitions:
            if transition.action == action:
                return transition
        raise ValidationError.for_field("action", f"Unknown action '{action}'.")

    def by_verb(self, verb: str) -> Transition | None:
        return next((t for t in self.transitions if t.verb == verb), None)

    def allows(self, entity: Any, transition: Transition) -> bool:
        return self.state(entity) in transition.from_states

    def available(self, entity: Any) -> dict[str, Transition]:
        """The transitions the entity's state allows, by verb."""
        return {t.verb: t for t in self.transitions if self.allows(entity, t)}

    def path(
        self, start: str, goal: str, *, avoiding: frozenset[str] = frozenset()
    ) -> list[Transition] | None:
        """The shortest series of transitions leading from the state ``start`` to ``goal`` (by
        the states they lead to; [] when already there, None when none does), without the
        actions ``avoiding`` names: what setting the state field directly (Statsig's
        ``PATCH {status}``) performs."""
        paths: dict[str, list[Transition]] = {start: []}
        frontier = [start]
        while frontier and goal not in paths:
            following = []
            for state in frontier:
                for transition in self.transitions:
                    leads_to = transition.to_state
                    if (
                        state in transition.from_states
                        and leads_to
                        and leads_to not in paths
                        and transition.action not in avoiding
                    ):
                        paths[leads_to] = [*paths[state], transition]
                        following.append(leads_to)
            frontier = following
        return paths.get(goal)

    def refuse_unless_allowed(self, entity: Any, transition: Transition) -> None:
        state = self.state(entity)
        if state in transition.from_states:
            return
        message = transition.refusals.get(state) or transition.refusal
        raise ValidationError.for_field(
            self.state_field,
            message
            or f"{self.label} is {state}; this needs {' or '.join(transition.from_states)}.",
        )


@dataclass(frozen=True, slots=True)
class OverridesRule:
    """How a kind's overrides are checked (``validate(project, entity, raw)``), added to
    (``merged(current, extra)``) and taken from (``without(current, removed)``), and the change
    type that sets them: a field change of ``overrides``, or (``as_field`` False) a lifecycle
    action storing ``{"overrides": ...}``."""

    validate: Callable[[Project, Any, Any], dict[str, Any]]
    merged: Callable[[Mapping[str, Any], Mapping[str, Any]], dict[str, Any]]
    without: Callable[[Mapping[str, Any], Mapping[str, Any]], dict[str, Any]]
    action: str
    as_field: bool = True


@dataclass(frozen=True, slots=True)
class RuleList:
    """How a kind's rule list (gates, dynamic configs) changes on its own: the change type a
    change of the rules alone is stored as (the console API's rule endpoints, an update that
    sends only rules), and the lifecycle states in which the ``frozen_fields`` may not change,
    with the refusal (an archived gate or config keeps its rules and stays as enabled as it
    was)."""

    action: str
    frozen_states: tuple[str, ...]
    frozen_refusal: str
    frozen_fields: frozenset[str]


def set_attributes(project: Project, entity: Any, fields: Mapping[str, Any]) -> None:
    """The default way a kind writes validated fields onto its entity."""
    for key, value in fields.items():
        setattr(entity, key, value)


def current_attribute(entity: Any, key: str) -> Any:
    return getattr(entity, key)


def refused_while_referenced(
    kind: EntityKind, entity: Any, referrers: list[Any]
) -> ValidationError:
    """The default refusal of a delete while other entities refer to the entity."""
    return ValidationError.for_field(
        "id",
        f"{kind.label} is used by {', '.join(map(str, referrers))}; remove those references first.",
    )


def field_review_scope(kind: EntityKind, entity: Any, fields: Mapping[str, Any]) -> ReviewScope:
    """The default review rule: ``kind.review_scopes[field](old, new)`` for fields with their own
    rule (rules: the environments they touch), the whole entity for a changed
    ``whole_entity_fields`` field or for turning reviews off, no review for anything else."""
    scopes = []
    for key, value in fields.items():
        current = kind.value_of(entity, key)
        if key in kind.review_scopes:
            scopes.append(kind.review_scopes[key](current, value))
        elif key in kind.whole_entity_fields:
            scopes.append(None if current != value else NO_REVIEW)
        elif key == "review_required":
            scopes.append(None if current and not value else NO_REVIEW)
        elif key == ALLOWED_REVIEWERS:
            # Who may approve is reviewed as a change of the whole entity.
            scopes.append(None if current != value else NO_REVIEW)
        else:
            scopes.append(NO_REVIEW)
    return wider_scope(*scopes)


@dataclass(frozen=True, eq=False)
class EntityKind:
    """Everything the core needs to know about one kind of entity (see the module docstring)."""

    model: type[models.Model]
    # Reviews, audit entries and versions name the kind so: "gate", "dynamic_config".
    entity_type: str
    # Messages: "Gate not found.", "Unknown gate field 'x'.", "Viewers cannot change gates."
    label: str
    plural: str
    # Change types are "<action_prefix>_create", "_update", "_delete".
    action_prefix: str
    validators: Mapping[str, FieldValidator]
    # Change types applied as field changes (``apply_fields``); the lifecycle adds its own.
    update_actions: tuple[str, ...] = ()
    # Cross-field rules run after every field passed: may refuse, or complete the fields.
    complete_fields: Callable[[Project, Any, dict[str, Any]], dict[str, Any]] | None = None
    # Which fields a change may touch in the entity's current state (the others are refused
    # unless sent unchanged); None: any field.
    admit_fields: Callable[[Any, Mapping[str, Any]], dict[str, Any]] | None = None
    whole_entity_fields: frozenset[str] = frozenset()
    review_scopes: Mapping[str, Callable[[Any, Any], ReviewScope]] = field(default_factory=dict)
    review_scope: Callable[[EntityKind, Any, Mapping[str, Any]], ReviewScope] = field_review_scope
    lifecycle: Lifecycle | None = None
    overrides: OverridesRule | None = None
    rule_list: RuleList | None = None
    # What refers to an entity ("experiment 'x'"): deleting it is refused while any does, with
    # the error ``referenced_error`` makes of them.
    referrers: Callable[[Project, Any], list[Any]] | None = None
    referenced_error: Callable[[EntityKind, Any, list[Any]], ValidationError] = (
        refused_while_referenced
    )
    # Delete hooks: the audit entry of a delete, and what goes with the entity (run before the
    # row is deleted, in the same transaction).
    deleted_audit: Callable[[Any], dict[str, Any]] = lambda entity: {
        "name": {"old": entity.name, "new": None}
    }
    before_delete: Callable[[Project, Any], None] | None = None
    # The fields a stored version may bring back (``history.restore_version``); none: the kind
    # has no restore.
    restorable_fields: tuple[str, ...] = ()
    # Restorable fields a version keeps beside the model's columns (``versions.record_version``),
    # each read from the entity in the form its validator takes: references by id (the column
    # keeps a row id, which names nothing once that row is deleted) and many-to-many links.
    versioned_references: Mapping[str, Callable[[Any], Any]] = field(default_factory=dict)
    # A restored field whose validator would not bring a version's value back as sent (settings
    # add to today's): field -> (entity, the version's value) -> the value the restore sends.
    restored_values: Mapping[str, Callable[[Any, Any], Any]] = field(default_factory=dict)
    # The relation of ``Holdout`` that a new entity joins for each global holdout of its id type.
    global_holdout_relation: str | None = None
    # The audit entry of a create: {field: value} of the new entity.
    created_audit: Callable[[Any], dict[str, Any]] = lambda entity: {"name": entity.name}
    # A field's current value as its validator returns it (for "did it change").
    value_of: Callable[[Any, str], Any] = current_attribute
    write: Callable[[Project, Any, Mapping[str, Any]], None] = set_attributes
    # Fields stored in many-to-many relations (field -> (model, relation)), set after the save.
    relations: Mapping[str, tuple[type[models.Model], str]] = field(default_factory=dict)
    # When set, an applied change is audited as the difference of two snapshots (before and after
    # ``write``), not field by field: for kinds whose write changes more than the fields given.
    snapshot: Callable[[Any], dict[str, Any]] | None = None
    id_field: str = "slug"
    id_rule: Callable[[str], str] = id_from_name
    # The models (this kind's among them) whose ids share one list of the compiled ruleset, so
    # may not share an id; they keep it in the same field.
    id_namespace: tuple[type[models.Model], ...] = ()
    ownership: Ownership = Ownership()
    versioned: bool = True

    @property
    def create_action(self) -> str:
        return f"{self.action_prefix}_create"

    @property
    def update_action(self) -> str:
        return f"{self.action_prefix}_update"

    @property
    def delete_action(self) -> str:
        return f"{self.action_prefix}_delete"

    @property
    def restore_action(self) -> str:
        return f"{self.action_prefix}_restore"

    def id_of(self, entity: Any) -> str:
        return getattr(entity, self.id_field)


# -- the fields every kind has -----------------------------------------------------------------


def ensure_name_free(
    *, project: Project, model: type[models.Model], name: str, exclude_pk: int | None = None
) -> None:
    same_name = model.objects.filter(project=project, name__iexact=name)
    if exclude_pk is not None:
        same_name = same_name.exclude(pk=exclude_pk)
    if same_name.exists():
        raise ValidationError.for_field("name", NAME_IN_USE)


def accepted_as_is(project: Project, entity: Any, value: Any) -> Any:
    """Fields only the services set (``status`` of a lifecycle action, ...)."""
    return value


def _name(project: Project, entity: Any, value: Any) -> str:
    name = validate_name(value)
    ensure_name_free(project=project, model=type(entity), name=name, exclude_pk=entity.pk)
    return name


def validate_allowed_reviewers(project: Project, entity: Any, value: Any) -> list[str]:
    """Statsig's ``allowedReviewers`` (``[{id, name?, email?}]``, or bare ids) as the ids of
    project members, in the order sent, each once; an id that is no member's is refused naming
    its place (``reviewSettings.allowedReviewers[1]``)."""
    if not isinstance(value, list):
        raise ValidationError.for_field(ALLOWED_REVIEWERS_FIELD, "Send a list of members.")
    user_ids: list[str] = []
    for index, entry in enumerate(value):
        user_id = entry.get("id") if isinstance(entry, dict) else entry
        if isinstance(user_id, int) and not isinstance(user_id, bool):
            user_id = str(user_id)
        if not isinstance(user_id, str) or not user_id.strip():
            raise ValidationError.for_field(
                f"{ALLOWED_REVIEWERS_FIELD}[{index}]", "Name a project member by their id."
            )
        user_ids.append(user_id.strip())
    members = members_by_id(project=project, user_ids=user_ids)
    for index, user_id in enumerate(user_ids):
        if user_id not in members:
            raise ValidationError.for_field(
                f"{ALLOWED_REVIEWERS_FIELD}[{index}]",
                f"'{user_id}' is not the id of a member of this project.",
            )
    return list(dict.fromkeys(user_ids))


# The fields every kind has, validated alike.
COMMON_VALIDATORS: dict[str, FieldValidator] = {
    "name": _name,
    "description": lambda project, entity, value: validate_text(value, "description"),
    "tags": lambda project, entity, value: validate_tags(value),
    "id_type": lambda project, entity, value: validate_id_type(value),
    "review_required": lambda project, entity, value: validate_bool(
        value, "reviewSettings.requiredReview"
    ),
    ALLOWED_REVIEWERS: validate_allowed_reviewers,
}


# Statsig's ``creatorID`` / ``creatorEmail``: an owner other than the caller, named in the body.
OWNER_VALIDATORS: dict[str, FieldValidator] = {
    "creator_id": lambda project, entity, value: validate_text(value, "creatorID", max_length=64),
    "creator_email": lambda project, entity, value: validate_text(
        value, "creatorEmail", max_length=254
    ),
    # Set by ``owner_named`` (a change filed for review is validated again when applied).
    "creator_name": lambda project, entity, value: validate_text(
        value, "creatorName", max_length=200
    ),
}


def owner_named(fields: dict[str, Any]) -> dict[str, Any]:
    """An owner named by id is a person: the caller's name (an API key's) no longer applies."""
    if fields.get("creator_id"):
        fields["creator_name"] = ""
    return fields


def wider_scope(*scopes: ReviewScope) -> ReviewScope:
    """The combined review scope of several parts of one change."""
    environments: set[str] = set()
    reviewable = False
    for scope in scopes:
        if scope is NO_REVIEW:
            continue
        if scope is None:
            return None
        reviewable = True
        environments.update(scope)
    return frozenset(environments) if reviewable else NO_REVIEW
