"""What the review screen shows of an entity of the core (gate, config, experiment, layer,
holdout, segment): the entity as it is now, keyed by the model fields its changes set, and what
a change sets (a field change's ``fields``; an effect transition's or an ID-list change's
parameters). Registered for each kind in the ``ready()`` that registers it with the core."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from console.models import Project
from console.web.review_states import register_review_state
from flags.services.descriptor import EntityKind

# Bookkeeping of the services, never part of what a person reviews or restores.
NOT_SHOWN = frozenset({"id", "project_id", "salt", "version", "buckets"})


def _plain(value: Any) -> Any:
    """A number as the changes send it (``2`` or ``2.5``, not the column's ``Decimal("2.00")``)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def entity_state(kind: EntityKind, entity: Any) -> dict[str, Any]:
    """The entity's fields as its changes name them: a reference as the referred entity's id
    (``layer_id: "checkout"``), a many-to-many relation as the sorted ids."""
    state: dict[str, Any] = {}
    for model_field in entity._meta.concrete_fields:
        if model_field.attname in NOT_SHOWN:
            continue
        if model_field.is_relation:
            related = getattr(entity, model_field.name)
            state[model_field.attname] = getattr(related, "slug", None) if related else None
        else:
            state[model_field.attname] = _plain(getattr(entity, model_field.attname))
    for key in kind.relations:
        state[key] = kind.value_of(entity, key)
    return state


def proposed_fields(change: Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(change.get("fields"), Mapping):
        return change["fields"]
    return {key: value for key, value in change.items() if key != "action"}


def _current(kind: EntityKind):
    def current(project: Project, entity_id: str) -> dict[str, Any] | None:
        entity = kind.model.objects.filter(project=project, **{kind.id_field: entity_id}).first()
        return None if entity is None else entity_state(kind, entity)

    return current


# The page of each flags kind (``flags.urls``), reversed with the project's slug and the id.
DETAIL_URL_NAMES = {
    "gate": "gate-detail",
    "dynamic_config": "config-detail",
    "experiment": "experiment-detail",
    "layer": "layer-detail",
    "holdout": "holdout-detail",
}


def register(kind: EntityKind, *, url_name: str) -> None:
    """How the review screen reads ``kind`` (called from the ``ready()`` of the app that
    registers the kind with the entity core)."""
    register_review_state(
        kind.entity_type, current=_current(kind), proposal=proposed_fields, url_name=url_name
    )
