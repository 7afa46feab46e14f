"""What the flags console API views share: list responses, query filters and schema pieces."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.response import Response

from console import selectors as console_selectors
from console.api.base import ConsoleAPIView
from console.api.review_shape import ReviewSerializer
from console.api.schema import RESPECT_REVIEWS_HEADER, envelope, responses
from console.models import Review
from flags import selectors
from flags.api.inputs import plain
from flags.api.outputs import checks_per_hour


def query_parameters(*names: str) -> list[OpenApiParameter]:
    return [OpenApiParameter(name, str, OpenApiParameter.QUERY, required=False) for name in names]


TAGS_PARAMETER = OpenApiParameter(
    "tags", str, OpenApiParameter.QUERY, required=False, many=True, explode=True
)


def text_filters(params, names: dict[str, str]) -> dict[str, str]:
    """``{selector keyword: value}`` for the query parameters given (``names``: wire -> keyword)."""
    return {keyword: params[wire] for wire, keyword in names.items() if params.get(wire)}


def tags_filter(params) -> list[str] | None:
    """Statsig sends ``tags`` once or repeated (``tags=a&tags=b``); ``tags[]`` is accepted too."""
    tags = [tag for tag in (*params.getlist("tags"), *params.getlist("tags[]")) if tag]
    return tags or None


class EntityAPIView(ConsoleAPIView):
    """A console API view about one kind of entity. Subclasses set ``entity_type`` (as the
    reviews know it, or "" when the entity is not reviewable), ``exposure_kind`` when the output
    carries ``checksPerHour``, and ``render``."""

    entity_type: str = ""
    exposure_kind: str = ""
    # ``checksPerHour`` of the page being listed, read once for all its rows (None otherwise).
    page_checks: Mapping[str, int] | None = None
    # The members among the allowed reviewers of the page being listed (None otherwise).
    page_members: Mapping[str, Any] | None = None

    def render(self, entity: Any, reviews: dict[str, Review] | None = None) -> dict[str, Any]:
        raise NotImplementedError

    def respond_entities(self, message: str, entities: QuerySet | Iterable[Any]) -> Response:
        """A page of ``entities`` (newest first as the selector orders them) in Statsig's list
        envelope, with the open reviews and the checks per hour of the page read in one query
        each."""
        page = self.page()
        if isinstance(entities, QuerySet):
            total = entities.count()
            items = list(entities[page.offset : page.offset + page.limit])
        else:
            everything = list(entities)
            total = len(everything)
            items = everything[page.offset : page.offset + page.limit]
        reviews = (
            selectors.active_reviews(
                project=self.project,
                entity_type=self.entity_type,
                entity_ids=[item.slug for item in items],
            )
            if self.entity_type
            else None
        )
        if self.entity_type:
            self.page_members = console_selectors.members_by_id(
                project=self.project,
                user_ids={user_id for item in items for user_id in item.allowed_reviewers},
            )
        if self.exposure_kind:
            self.page_checks = checks_per_hour(
                project=self.project,
                kind=self.exposure_kind,
                names=[item.slug for item in items],
            )
        return self.respond_page(
            message, [self.render(item, reviews) for item in items], page, total
        )


def mutation(
    request=None, success: dict | None = None, *, reviewable: bool = True, **kwargs
) -> dict[str, Any]:
    """``extend_schema`` arguments of a mutation: the body, the success responses and the error
    shapes; for a change that may need review, the review header and the 202 answer."""
    if not reviewable:
        return {"request": request, "responses": responses(success or {}), **kwargs}
    return {
        "request": request,
        "responses": responses(
            {**(success or {}), 202: envelope("ChangeSubmittedForReview", ReviewSerializer)}
        ),
        "parameters": [RESPECT_REVIEWS_HEADER, *kwargs.pop("parameters", [])],
        **kwargs,
    }


def reading(success: dict, **kwargs) -> dict[str, Any]:
    return {"responses": responses(success), **kwargs}


class VersionField(serializers.IntegerField):
    """The entity ``version`` the client last read: a stale one is refused with 409."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault(
            "help_text",
            "The version you last read. When given and the entity changed since, the update "
            "is refused with 409.",
        )
        super().__init__(**kwargs)


class EntityOverridesView(EntityAPIView):
    """Statsig's ``/<entities>/{id}/overrides``: GET reads them, POST replaces them, PATCH adds to
    them, DELETE removes the ones given. A subclass names the entity (``label``), reads it
    (``get_entity``, ``overrides_of``) and points ``replace``/``add``/``remove`` at its services,
    which take the URL's id keyword; ``overrides_schema`` documents it."""

    label = ""
    success_status = 200
    replace: Any
    add: Any
    remove: Any

    def get_entity(self, entity_id: str) -> Any:
        raise NotImplementedError

    def overrides_of(self, entity: Any) -> dict[str, Any]:
        raise NotImplementedError

    def get(self, request, **url_ids):
        """Reads the overrides."""
        (entity_id,) = url_ids.values()
        return self.respond(
            f"{self.label} Overrides read successfully.",
            self.overrides_of(self.get_entity(entity_id)),
            self.success_status,
        )

    def post(self, request, **url_ids):
        """Replaces the overrides."""
        return self._change(self.replace, url_ids)

    def patch(self, request, **url_ids):
        """Adds to the overrides."""
        return self._change(self.add, url_ids)

    def delete(self, request, **url_ids):
        """Removes these overrides."""
        return self._change(self.remove, url_ids)

    def _change(self, service, url_ids: dict[str, str]) -> Response:
        data = self.validated(self.InputSerializer)
        outcome = service(project=self.project, actor=self.actor, overrides=plain(data), **url_ids)
        return self.respond_outcome(
            outcome,
            f"{self.label} Overrides updated successfully.",
            self.overrides_of,
            self.success_status,
        )


def overrides_schema(input_serializer, response, *, status: int = 200):
    """The OpenAPI operations of an ``EntityOverridesView`` subclass."""
    success = {status: response}
    change = extend_schema(**mutation(input_serializer, success))
    return extend_schema_view(
        get=extend_schema(**reading(success)), post=change, patch=change, delete=change
    )
