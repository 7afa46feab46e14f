"""How the review screen reads an entity, to show a review's change beside it. Each app registers,
in its ``AppConfig.ready()``, one loader per entity type: the entity as it is now, keyed as its
changes are (or None when it does not exist), and, when its changes are not a plain mapping of
those keys, how to read what a change sets::

    register_review_state(
        "gate", current=gate_state, proposal=lambda change: change["fields"], url_name="gate-detail"
    )

This module imports nothing of the screens, so registering loads no views."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from console.models import Project

CurrentState = Callable[[Project, str], Mapping[str, Any] | None]
Proposal = Callable[[Mapping[str, Any]], Mapping[str, Any]]


def whole_change(change: Mapping[str, Any]) -> Mapping[str, Any]:
    return change


@dataclass(frozen=True, slots=True)
class ReviewState:
    current: CurrentState
    proposal: Proposal = whole_change
    # The entity's page (reversed with the project's slug and the entity's id), if it has one.
    url_name: str | None = None


_STATES: dict[str, ReviewState] = {}


def register_review_state(
    entity_type: str,
    *,
    current: CurrentState,
    proposal: Proposal = whole_change,
    url_name: str | None = None,
) -> None:
    _STATES[entity_type] = ReviewState(current=current, proposal=proposal, url_name=url_name)


def review_state(entity_type: str) -> ReviewState | None:
    return _STATES.get(entity_type)
