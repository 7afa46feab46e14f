"""Metric definitions: validated here, so the console API and the browser screens refuse the
same inputs with the same field names."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from analysis.models import Directionality, Metric, MetricEventType, MetricType
from console.actors import Actor
from console.errors import Conflict, NotFound, PermissionDenied, ValidationError
from console.models import Project, Role
from console.services.audit import audit_record
from console.validation import validate_id_type, validate_name, validate_text

ENTITY_TYPE = "metric"
MAX_METRIC_EVENTS = 10
MAX_CRITERIA = 10
CRITERIA_CONDITIONS = ("in", "not_in")
EVENT_NAME_MAX = 400


def metric_slug(name: str, type: str) -> str:
    return f"{name}::{type}"


def _require_editor(actor: Actor) -> None:
    if not actor.has_role(Role.MEMBER):
        raise PermissionDenied("Viewers cannot change metrics.")


def _choice(value: Any, path: str, choices: type) -> str:
    if value not in choices.values:
        raise ValidationError.for_field(path, f"{path} must be one of {', '.join(choices.values)}.")
    return value


def _criteria(value: Any, path: str) -> list[dict[str, Any]]:
    if value in (None, []):
        return []
    if not isinstance(value, list) or len(value) > MAX_CRITERIA:
        raise ValidationError.for_field(path, f"criteria is a list of at most {MAX_CRITERIA}.")
    kept = []
    for index, item in enumerate(value):
        where = f"{path}[{index}]"
        if not isinstance(item, dict):
            raise ValidationError.for_field(where, "A criterion is an object.")
        if item.get("type", "metadata") != "metadata":
            raise ValidationError.for_field(f"{where}.type", "Criteria filter on metadata.")
        column = validate_text(item.get("column"), f"{where}.column", max_length=100, min_length=1)
        condition = item.get("condition", "in")
        if condition not in CRITERIA_CONDITIONS:
            raise ValidationError.for_field(f"{where}.condition", "condition is in or not_in.")
        values = item.get("values")
        if not isinstance(values, list) or not values or len(values) > 100:
            raise ValidationError.for_field(f"{where}.values", "values is a list of 1 to 100.")
        if not all(isinstance(v, str | int | float) and not isinstance(v, bool) for v in values):
            raise ValidationError.for_field(f"{where}.values", "values are strings or numbers.")
        kept.append(
            {
                "type": "metadata",
                "column": column,
                "condition": condition,
                "values": [str(v) for v in values],
            }
        )
    return kept


def _metric_events(value: Any, metric_type: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not value:
        raise ValidationError.for_field("metricEvents", "metricEvents needs at least one event.")
    if len(value) > MAX_METRIC_EVENTS:
        raise ValidationError.for_field(
            "metricEvents", f"metricEvents has at most {MAX_METRIC_EVENTS} events."
        )
    if metric_type == MetricType.RATIO and len(value) != 2:
        raise ValidationError.for_field(
            "metricEvents", "A ratio metric has two events: the numerator, then the denominator."
        )
    events = []
    for index, item in enumerate(value):
        path = f"metricEvents[{index}]"
        if not isinstance(item, dict):
            raise ValidationError.for_field(path, "A metric event is an object.")
        name = validate_text(
            item.get("name"), f"{path}.name", max_length=EVENT_NAME_MAX, min_length=1
        )
        event_type = _choice(item.get("type", "count"), f"{path}.type", MetricEventType)
        metadata_key = validate_text(item.get("metadataKey"), f"{path}.metadataKey", max_length=100)
        if event_type == MetricEventType.COUNT_DISTINCT and not metadata_key:
            raise ValidationError.for_field(
                f"{path}.metadataKey", "count_distinct counts distinct values of a metadataKey."
            )
        if metric_type in (MetricType.SUM, MetricType.MEAN) and event_type != MetricEventType.VALUE:
            raise ValidationError.for_field(
                f"{path}.type", f"A {metric_type} metric sums event values: type must be value."
            )
        if metric_type == MetricType.RATIO and event_type == MetricEventType.COUNT_DISTINCT:
            raise ValidationError.for_field(f"{path}.type", "A ratio's events are count or value.")
        events.append(
            {
                "name": name,
                "type": event_type,
                "metadataKey": metadata_key or None,
                "criteria": _criteria(item.get("criteria"), f"{path}.criteria"),
            }
        )
    return events


def _unit_types(value: Any) -> list[str]:
    if value in (None, []):
        return ["userID"]
    if not isinstance(value, list):
        raise ValidationError.for_field("unitTypes", "unitTypes is a list of unit types.")
    return list(dict.fromkeys(validate_id_type(v, f"unitTypes[{i}]") for i, v in enumerate(value)))


def validated_definition(data: dict[str, Any]) -> dict[str, Any]:
    """A metric body (console API names) as model fields; refuses with the field named."""
    metric_type = _choice(data.get("type"), "type", MetricType)
    return {
        "name": validate_name(data.get("name")),
        "type": metric_type,
        "description": validate_text(data.get("description"), "description"),
        "unit_types": _unit_types(data.get("unitTypes")),
        "metric_events": _metric_events(data.get("metricEvents"), metric_type),
        "directionality": _choice(
            data.get("directionality") or Directionality.INCREASE, "directionality", Directionality
        ),
    }


def _snapshot(metric: Metric) -> dict[str, Any]:
    return {
        "name": metric.name,
        "type": metric.type,
        "description": metric.description,
        "unitTypes": metric.unit_types,
        "metricEvents": metric.metric_events,
        "directionality": metric.directionality,
    }


def metric_create(*, project: Project, actor: Actor, data: dict[str, Any]) -> Metric:
    _require_editor(actor)
    fields = validated_definition(data)
    slug = metric_slug(fields["name"], fields["type"])
    try:
        with transaction.atomic():
            metric = Metric.objects.create(
                project=project, slug=slug, creator_name=actor.name, **fields
            )
            audit_record(
                project=project,
                actor=actor,
                action_type="metric_create",
                entity_type=ENTITY_TYPE,
                entity_id=slug,
                entity_name=metric.name,
                changes={"after": _snapshot(metric)},
            )
    except IntegrityError as error:
        raise Conflict(f"A metric '{slug}' already exists.") from error
    return metric


def _locked(project: Project, metric_id: str) -> Metric:
    metric = Metric.objects.select_for_update().filter(project=project, slug=metric_id).first()
    if metric is None:
        raise NotFound("Metric not found.")
    return metric


@transaction.atomic
def metric_update(
    *, project: Project, actor: Actor, metric_id: str, data: dict[str, Any]
) -> Metric:
    """Replaces the definition; the name and type make the id, so they stay as they are."""
    _require_editor(actor)
    metric = _locked(project, metric_id)
    fields = validated_definition({"name": metric.name, "type": metric.type, **data})
    for key in ("name", "type"):
        if fields[key] != getattr(metric, key):
            raise ValidationError.for_field(
                key, f"A metric's {key} is part of its id: create a new one."
            )
    before = _snapshot(metric)
    for key, value in fields.items():
        setattr(metric, key, value)
    metric.save()
    audit_record(
        project=project,
        actor=actor,
        action_type="metric_update",
        entity_type=ENTITY_TYPE,
        entity_id=metric.slug,
        entity_name=metric.name,
        changes={"before": before, "after": _snapshot(metric)},
    )
    return metric


@transaction.atomic
def metric_delete(*, project: Project, actor: Actor, metric_id: str) -> None:
    _require_editor(actor)
    metric = _locked(project, metric_id)
    audit_record(
        project=project,
        actor=actor,
        action_type="metric_delete",
        entity_type=ENTITY_TYPE,
        entity_id=metric.slug,
        entity_name=metric.name,
        changes={"before": _snapshot(metric)},
    )
    metric.delete()
