"""Erasers for the console's own stores: audit-log change payloads and reviews.

Audit entries stay (they are the project's history); the erased ids inside them become
``ERASED_MARKER``. Open reviews keep working: erased ids are dropped from the lists of the stored
change, so committing the review later applies the change without them. Closed reviews keep their
record with the ids replaced by the marker.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import Q, TextField
from django.db.models.functions import Cast

from console.models import OPEN_REVIEW_STATUSES, AuditLog, Review, ReviewDecision
from privacy.erasers import (
    chunked,
    json_text_needles,
    register_eraser,
    remove_ids_from_json,
    replace_ids_in_json,
)

#: Ids per candidate query on databases without ``LIKE ANY`` (SQLite limits expression depth).
_OR_BATCH = 100


def _like_pattern(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _mentioning(queryset, *, json_fields: tuple[str, ...], text_fields: tuple[str, ...], ids):
    """Rows whose JSON or text fields contain any of ``ids`` as a substring (the exact match is
    done in Python). PostgreSQL: one query with ``LIKE ANY``; elsewhere a query per 100 ids."""
    model = queryset.model
    if connection.vendor == "postgresql":
        qn = connection.ops.quote_name
        table = qn(model._meta.db_table)
        clauses, params = [], []
        json_patterns = [_like_pattern(n) for n in json_text_needles(ids)]
        text_patterns = [_like_pattern(v) for v in ids]
        for name in json_fields:
            column = qn(model._meta.get_field(name).column)
            clauses.append(f"{table}.{column}::text LIKE ANY(%s)")
            params.append(json_patterns)
        for name in text_fields:
            column = qn(model._meta.get_field(name).column)
            clauses.append(f"{table}.{column} LIKE ANY(%s)")
            params.append(text_patterns)
        return list(queryset.extra(where=[" OR ".join(clauses)], params=params))
    annotations = {f"_{name}_text": Cast(name, TextField()) for name in json_fields}
    found: dict[int, object] = {}
    for start in range(0, len(ids), _OR_BATCH):
        batch = ids[start : start + _OR_BATCH]
        condition = Q()
        for needle in json_text_needles(batch):
            for name in json_fields:
                condition |= Q(**{f"_{name}_text__contains": needle})
        for value in batch:
            for name in text_fields:
                condition |= Q(**{f"{name}__contains": value})
        for row in queryset.annotate(**annotations).filter(condition):
            found.setdefault(row.pk, row)
    return list(found.values())


@register_eraser("console.audit_log", covers=["console.AuditLog"])
def erase_audit_log(*, project_id: int, unit_type: str, ids: list[str]) -> int:
    """Replace the ids inside audit entries' change payloads (and names) by the marker."""
    touched = 0
    for chunk in chunked(ids):
        id_set = set(chunk)
        rows = _mentioning(
            AuditLog.objects.filter(project_id=project_id).only("pk", "changes", "entity_name"),
            json_fields=("changes",),
            text_fields=("entity_name",),
            ids=chunk,
        )
        changed = []
        for row in rows:
            changes, n_changes = replace_ids_in_json(row.changes, id_set)
            name, n_name = replace_ids_in_json(row.entity_name, id_set)
            if n_changes or n_name:
                row.changes, row.entity_name = changes, name
                changed.append(row)
        if changed:
            AuditLog.objects.bulk_update(changed, ["changes", "entity_name"], batch_size=1000)
        touched += len(changed)
    return touched


@register_eraser("console.reviews", covers=["console.Review", "console.ReviewDecision"])
def erase_reviews(*, project_id: int, unit_type: str, ids: list[str]) -> int:
    """Drop the ids from open reviews' stored changes; mark them in closed reviews and reasons."""
    touched = 0
    for chunk in chunked(ids):
        id_set = set(chunk)
        rows = _mentioning(
            Review.objects.filter(project_id=project_id).only(
                "pk", "status", "change", "description", "entity_name"
            ),
            json_fields=("change",),
            text_fields=("description", "entity_name"),
            ids=chunk,
        )
        changed = []
        for review in rows:
            scrub = remove_ids_from_json if review.status in OPEN_REVIEW_STATUSES else None
            change, n_change = (scrub or replace_ids_in_json)(review.change, id_set)
            description, n_desc = replace_ids_in_json(review.description, id_set)
            name, n_name = replace_ids_in_json(review.entity_name, id_set)
            if n_change or n_desc or n_name:
                review.change, review.description, review.entity_name = change, description, name
                changed.append(review)
        if changed:
            Review.objects.bulk_update(
                changed, ["change", "description", "entity_name"], batch_size=1000
            )
        decisions = _mentioning(
            ReviewDecision.objects.filter(review__project_id=project_id).only("pk", "reason"),
            json_fields=(),
            text_fields=("reason",),
            ids=chunk,
        )
        changed_decisions = []
        for decision in decisions:
            reason, n_reason = replace_ids_in_json(decision.reason, id_set)
            if n_reason:
                decision.reason = reason
                changed_decisions.append(decision)
        if changed_decisions:
            ReviewDecision.objects.bulk_update(changed_decisions, ["reason"], batch_size=1000)
        touched += len(changed) + len(changed_decisions)
    return touched
