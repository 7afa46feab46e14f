"""Audit entries: written by every service inside the transaction of the change it records."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction

from console.actors import Actor
from console.models import AuditLog, Project, Review


def field_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``{field: {"old": ..., "new": ...}}`` for every field whose value differs."""
    return {
        field: {"old": old.get(field), "new": new.get(field)}
        for field in sorted(set(old) | set(new))
        if old.get(field) != new.get(field)
    }


def audit_record(
    *,
    project: Project,
    actor: Actor,
    action_type: str,
    entity_type: str,
    entity_id: str,
    entity_name: str = "",
    changes: Mapping[str, Any] | None = None,
    review: Review | None = None,
) -> AuditLog:
    if not transaction.get_connection().in_atomic_block:
        # An entry outside the change's transaction could outlive a rolled-back change.
        raise RuntimeError("audit_record must run inside the transaction of the change")
    return AuditLog.objects.create(
        project=project,
        actor_type=actor.type,
        actor_user=actor.user,
        actor_key=actor.api_key,
        actor_name=actor.name,
        actor_email=actor.email,
        action_type=action_type,
        entity_type=entity_type,
        entity_id=entity_id,
        entity_name=entity_name or entity_id,
        changes=dict(changes or {}),
        review=review,
    )
