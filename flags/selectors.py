"""Reads of gates, dynamic configs, experiments, layers and holdouts: lists with the filters the
console API and screens offer, single entities, references, and the open review of each."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from django.db import connection, models
from django.db.models import (
    Q,
    QuerySet,
    TextField,
)
from django.db.models.functions import Cast

from console.errors import NotFound
from console.models import OPEN_REVIEW_STATUSES, Project, Review
from flags.models import (
    DynamicConfig,
    EntityVersion,
    Experiment,
    Gate,
    Holdout,
    Layer,
    Tag,
)
from ruleset.conditions import referenced_ids


def _with_tags(queryset: QuerySet, tags: Iterable[str]) -> QuerySet:
    """Entities carrying any of ``tags`` (Statsig's ``tags`` list filter)."""
    wanted = [tag for tag in tags if tag]
    if not wanted:
        return queryset
    query = Q()
    if connection.vendor == "postgresql":
        for tag in wanted:
            query |= Q(tags__contains=[tag])
        return queryset.filter(query)
    # SQLite has no JSON containment: match the serialised list element in the JSON text.
    queryset = queryset.annotate(_tags_text=Cast("tags", TextField()))
    for tag in wanted:
        query |= Q(_tags_text__contains=json.dumps(tag))
    return queryset.filter(query)


def distinct_tags(*, project: Project, model: type[models.Model]) -> list[str]:
    """Every tag the project's entities of ``model`` carry, sorted (at most 500): the choices of
    a list screen's tag filter, in one query."""
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(model._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f'SELECT DISTINCT jsonb_array_elements_text("tags") AS tag FROM {table} '
                'WHERE "project_id" = %s AND jsonb_typeof("tags") = \'array\' ORDER BY tag '
                "LIMIT 500",
                [project.pk],
            )
            return [row[0] for row in cursor.fetchall()]
    found: set[str] = set()
    for tags in model._default_manager.filter(project=project).values_list("tags", flat=True):
        found.update(tag for tag in tags or () if isinstance(tag, str))
    return sorted(found)[:500]


def _common_filters(
    queryset: QuerySet,
    *,
    id_type: str | None,
    tags: Iterable[str] | None,
    creator_name: str | None,
    creator_id: str | None,
    search: str | None,
) -> QuerySet:
    if id_type:
        queryset = queryset.filter(id_type=id_type)
    if tags:
        queryset = _with_tags(queryset, tags)
    if creator_name:
        queryset = queryset.filter(creator_name=creator_name)
    if creator_id:
        queryset = queryset.filter(creator_id=creator_id)
    if search:
        queryset = queryset.filter(Q(name__icontains=search) | Q(slug__icontains=search))
    return queryset


def _get(model, *, project: Project, slug: str, label: str):
    entity = model.objects.filter(project=project, slug=slug).first()
    if entity is None:
        raise NotFound(f"{label} not found.")
    return entity


def entity_get(*, project: Project, kind: Any, entity_id: str) -> Any:
    """One entity of a kind (``flags.services.descriptor.EntityKind``) by its id."""
    entity = kind.model.objects.filter(project=project, **{kind.id_field: entity_id}).first()
    if entity is None:
        raise NotFound(f"{kind.label} not found.")
    return entity


# -- gates --------------------------------------------------------------------------------------


def gate_list(
    *,
    project: Project,
    id_type: str | None = None,
    type: str | None = None,
    status: str | None = None,
    tags: Iterable[str] | None = None,
    creator_name: str | None = None,
    creator_id: str | None = None,
    search: str | None = None,
) -> QuerySet[Gate]:
    queryset = Gate.objects.filter(project=project).prefetch_related("holdouts")
    if type:
        queryset = queryset.filter(type=type)
    if status:
        queryset = queryset.filter(status=status)
    return _common_filters(
        queryset,
        id_type=id_type,
        tags=tags,
        creator_name=creator_name,
        creator_id=creator_id,
        search=search,
    )


def gate_get(*, project: Project, gate_id: str) -> Gate:
    return _get(Gate, project=project, slug=gate_id, label="Gate")


# -- dynamic configs ----------------------------------------------------------------------------


def dynamic_config_list(
    *,
    project: Project,
    id_type: str | None = None,
    status: str | None = None,
    tags: Iterable[str] | None = None,
    creator_name: str | None = None,
    creator_id: str | None = None,
    search: str | None = None,
) -> QuerySet[DynamicConfig]:
    queryset = DynamicConfig.objects.filter(project=project)
    if status:
        queryset = queryset.filter(status=status)
    return _common_filters(
        queryset,
        id_type=id_type,
        tags=tags,
        creator_name=creator_name,
        creator_id=creator_id,
        search=search,
    )


def dynamic_config_get(*, project: Project, config_id: str) -> DynamicConfig:
    return _get(DynamicConfig, project=project, slug=config_id, label="Dynamic config")


# -- experiments --------------------------------------------------------------------------------


def experiment_list(
    *,
    project: Project,
    layer_id: str | None = None,
    id_type: str | None = None,
    status: str | None = None,
    tags: Iterable[str] | None = None,
    creator_name: str | None = None,
    creator_id: str | None = None,
    search: str | None = None,
    created_start: Any = None,
    created_end: Any = None,
    created_after: Any = None,
    created_before: Any = None,
) -> QuerySet[Experiment]:
    """``created_start`` / ``created_end`` (or ``created_after`` / ``created_before``):
    datetimes bounding ``created_at``."""
    created_start = created_start if created_start is not None else created_after
    created_end = created_end if created_end is not None else created_before
    queryset = (
        Experiment.objects.filter(project=project)
        .select_related("layer", "targeting_gate")
        .prefetch_related("holdouts")
    )
    if layer_id:
        queryset = queryset.filter(layer__slug=layer_id)
    if status:
        queryset = queryset.filter(status=status)
    if created_start is not None:
        queryset = queryset.filter(created_at__gte=created_start)
    if created_end is not None:
        queryset = queryset.filter(created_at__lte=created_end)
    return _common_filters(
        queryset,
        id_type=id_type,
        tags=tags,
        creator_name=creator_name,
        creator_id=creator_id,
        search=search,
    )


def experiment_get(*, project: Project, experiment_id: str) -> Experiment:
    experiment = (
        Experiment.objects.filter(project=project, slug=experiment_id)
        .select_related("layer", "targeting_gate")
        .first()
    )
    if experiment is None:
        raise NotFound("Experiment not found.")
    return experiment


# -- layers -------------------------------------------------------------------------------------


def layer_list(
    *,
    project: Project,
    id_type: str | None = None,
    tags: Iterable[str] | None = None,
    creator_name: str | None = None,
    creator_id: str | None = None,
    search: str | None = None,
) -> QuerySet[Layer]:
    return _common_filters(
        Layer.objects.filter(project=project),
        id_type=id_type,
        tags=tags,
        creator_name=creator_name,
        creator_id=creator_id,
        search=search,
    )


def layer_get(*, project: Project, layer_id: str) -> Layer:
    return _get(Layer, project=project, slug=layer_id, label="Layer")


def layer_experiments(*, project: Project, layer_id: str) -> QuerySet[Experiment]:
    """Every experiment placed in the layer (lineage), newest first."""
    layer = layer_get(project=project, layer_id=layer_id)
    return layer.experiments.select_related("targeting_gate").order_by("-created_at", "-id")


# -- holdouts -----------------------------------------------------------------------------------


def holdout_list(
    *,
    project: Project,
    id_type: str | None = None,
    tags: Iterable[str] | None = None,
    search: str | None = None,
) -> QuerySet[Holdout]:
    return _common_filters(
        Holdout.objects.filter(project=project).prefetch_related("gates", "experiments", "layers"),
        id_type=id_type,
        tags=tags,
        creator_name=None,
        creator_id=None,
        search=search,
    )


def holdout_get(*, project: Project, holdout_id: str) -> Holdout:
    return _get(Holdout, project=project, slug=holdout_id, label="Holdout")


# -- reviews ------------------------------------------------------------------------------------


def active_reviews(
    *, project: Project, entity_type: str, entity_ids: Iterable[str]
) -> dict[str, Review]:
    """The newest open review per entity for a page of a list, in one query."""
    found: dict[str, Review] = {}
    reviews = Review.objects.filter(
        project=project,
        entity_type=entity_type,
        entity_id__in=list(entity_ids),
        status__in=OPEN_REVIEW_STATUSES,
    ).order_by("-created_at", "-id")
    for review in reviews:
        found.setdefault(review.entity_id, review)
    return found


# -- segments -----------------------------------------------------------------------------------


def segment_referrers(*, project: Project, segment_id: str) -> list[tuple[str, str]]:
    """``(entity_type, entity_id)`` of every gate, dynamic config and experiment whose rules or
    overrides target the segment (used by the segments app before deleting or archiving one)."""
    found: list[tuple[str, str]] = []
    for entity_type, model in (("gate", Gate), ("dynamic_config", DynamicConfig)):
        for slug, rules in model.objects.filter(project=project).values_list("slug", "rules"):
            if segment_id in referenced_ids(rules, "segment"):
                found.append((entity_type, slug))
    for slug, overrides in Experiment.objects.filter(project=project).values_list(
        "slug", "overrides"
    ):
        if any(
            o.get("type") == "segment" and o.get("id") == segment_id
            for o in (overrides or {}).get("overrides", [])
        ):
            found.append(("experiment", slug))
    for slug, overrides in Layer.objects.filter(project=project).values_list("slug", "overrides"):
        if any(
            o.get("type") == "segment" and o.get("name") == segment_id
            for o in (overrides or {}).get("conditionalOverrides", [])
        ):
            found.append(("layer", slug))
    return sorted(found)


# -- versions -----------------------------------------------------------------------------------


def entity_versions(
    *, project: Project, entity: models.Model, entity_type: str, entity_id: str
) -> list[Any]:
    """The entity at each of its stored versions (``flags.services.versions.record_version``),
    newest first, as unsaved instances of its model: what ``GET /gates/{id}/versions`` lists and
    what a history screen shows. ``entity_type`` and ``entity_id`` name it as its kind does."""
    model = type(entity)
    rows = entity_version_list(project=project, entity_type=entity_type, entity_id=entity_id)
    fields = {field.attname: field for field in model._meta.concrete_fields}
    versions = []
    for row in rows:
        values = {
            name: fields[name].to_python(value)
            for name, value in row.snapshot.items()
            if name in fields and name != "project_id"
        }
        instance = model(project=project, **values)
        instance.pk = None
        versions.append(instance)
    return versions


def entity_version_list(
    *, project: Project, entity_type: str, entity_id: str
) -> QuerySet[EntityVersion]:
    """The stored version rows of one entity (``snapshot``, ``created_at``), newest first."""
    return EntityVersion.objects.filter(
        project=project, entity_type=entity_type, entity_id=entity_id
    ).order_by("-version")


def gate_versions(*, project: Project, gate_id: str) -> list[Gate]:
    gate = _get(Gate, project=project, slug=gate_id, label="Gate")
    return entity_versions(project=project, entity=gate, entity_type="gate", entity_id=gate.slug)


def dynamic_config_versions(*, project: Project, config_id: str) -> list[DynamicConfig]:
    config = _get(DynamicConfig, project=project, slug=config_id, label="Dynamic config")
    return entity_versions(
        project=project, entity=config, entity_type="dynamic_config", entity_id=config.slug
    )


# -- tags ---------------------------------------------------------------------------------------


TAGGED_KINDS = (
    (Gate, "gate"),
    (DynamicConfig, "dynamic_config"),
    (Experiment, "experiment"),
    (Layer, "layer"),
    (Holdout, "holdout"),
)


def tagged_entities(project: Project) -> dict[tuple[str, str], list[str]]:
    """``{(entity_type, id): tags}`` of the project's tagged entities (one query per kind)."""
    found: dict[tuple[str, str], list[str]] = {}
    for model, entity_type in TAGGED_KINDS:
        rows = model.objects.filter(project=project).exclude(tags=[]).values_list("slug", "tags")
        found.update({(entity_type, slug): list(tags) for slug, tags in rows if tags})
    return found


def tag_list(*, project: Project) -> QuerySet[Tag]:
    return Tag.objects.filter(project=project).order_by("name", "id")


def tag_get(*, project: Project, tag_id: str) -> Tag:
    """By name (case-insensitive, as Statsig addresses tags) or by the id it was listed with."""
    tags = Tag.objects.filter(project=project)
    tag = tags.filter(name__iexact=tag_id).first() or tags.filter(public_id=tag_id).first()
    if tag is None:
        raise NotFound("Tag not found.")
    return tag
