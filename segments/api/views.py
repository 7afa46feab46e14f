"""``/console/v1/segments``: one view per operation, Statsig's envelopes and messages
(reference §1.5, §1.6). Validation of values lives in ``segments.services`` so the browser
screens answer the same; the input serializers check shapes and document the payloads."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.response import Response

from console.api.base import ConsoleAPIView
from console.api.pagination import page_request, pagination_block
from console.api.review_shape import ReviewSerializer
from console.api.reviews import ReviewListView, active_review_output
from console.api.schema import PAGE_PARAMETERS, RESPECT_REVIEWS_HEADER, envelope, responses
from console.errors import Conflict, ValidationError
from console.models import Review
from console.services.reviews import open_review_for
from flags import selectors as flag_selectors
from flags.services import as_sent
from segments import selectors, services
from segments.models import DEFAULT_ID_TYPE, Segment, SegmentType

ID_PAGE_DEFAULT_LIMIT = 100
ID_PAGE_MAX_LIMIT = 10_000


# -- output --------------------------------------------------------------------------------


class ConditionInputSerializer(serializers.Serializer):
    type = serializers.CharField()
    operator = serializers.CharField(required=False, allow_null=True)
    targetValue = serializers.JSONField(required=False, allow_null=True)
    field = serializers.CharField(required=False, allow_null=True)
    customID = serializers.CharField(required=False, allow_null=True)


class RuleInputSerializer(serializers.Serializer):
    """Documentation of a segment rule; values are validated by the service (reference §1.6)."""

    name = serializers.CharField()
    passPercentage = serializers.FloatField(min_value=0, max_value=100)
    conditions = ConditionInputSerializer(many=True)
    environments = serializers.ListField(
        child=serializers.CharField(), required=False, allow_null=True
    )
    id = serializers.CharField(required=False)
    baseID = serializers.CharField(required=False)


class ConditionOutputSerializer(serializers.Serializer):
    type = serializers.CharField()
    operator = serializers.CharField(allow_null=True)
    targetValue = serializers.JSONField(allow_null=True)
    field = serializers.CharField(allow_null=True)
    customID = serializers.CharField(allow_null=True)


class RuleOutputSerializer(serializers.Serializer):
    id = serializers.CharField()
    baseID = serializers.CharField()
    name = serializers.CharField()
    passPercentage = serializers.FloatField()
    conditions = ConditionOutputSerializer(many=True)
    environments = serializers.ListField(child=serializers.CharField(), allow_null=True)


class ActiveReviewSerializer(serializers.Serializer):
    reviewID = serializers.CharField()
    reviewStatus = serializers.CharField()
    description = serializers.CharField()


class SegmentOutputSerializer(serializers.Serializer):
    id = serializers.CharField()
    isEnabled = serializers.BooleanField()
    description = serializers.CharField()
    lastModifierName = serializers.CharField()
    lastModifierID = serializers.CharField()
    type = serializers.CharField(help_text="id_list | rule_based | analysis_list")
    count = serializers.IntegerField()
    tags = serializers.ListField(child=serializers.CharField())
    name = serializers.CharField()
    idType = serializers.CharField()
    rules = RuleOutputSerializer(many=True)
    lastModifierEmail = serializers.CharField(allow_null=True)
    lastModifiedTime = serializers.IntegerField()
    creatorID = serializers.CharField(allow_null=True)
    creatorName = serializers.CharField()
    creatorEmail = serializers.CharField(allow_null=True)
    createdTime = serializers.IntegerField()
    team = serializers.CharField(allow_null=True)
    teamID = serializers.CharField(allow_null=True)
    isArchived = serializers.BooleanField()
    version = serializers.IntegerField()
    activeReview = ActiveReviewSerializer(allow_null=True)


class IdListPageSerializer(serializers.Serializer):
    name = serializers.CharField()
    count = serializers.IntegerField()
    ids = serializers.ListField(child=serializers.CharField())


class IdListChangeSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    count = serializers.IntegerField()
    added = serializers.IntegerField()
    removed = serializers.IntegerField()


class IdListMetadataSerializer(serializers.Serializer):
    currentVersion = serializers.IntegerField()
    isUpdating = serializers.BooleanField()
    count = serializers.IntegerField()
    fileID = serializers.CharField()
    fileSize = serializers.IntegerField()
    creationTime = serializers.IntegerField()


def _ms(value) -> int:
    return int(value.timestamp() * 1000)


def rule_output(rule: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": rule["id"],
        "baseID": rule.get("baseID") or rule["id"],
        "name": rule.get("name", ""),
        "passPercentage": rule.get("passPercentage", 100),
        # As they were sent (``flags.services.as_sent``).
        "conditions": [as_sent.condition_output(c) for c in rule.get("conditions", [])],
        "environments": as_sent.rule_environments_output(rule),
    }


def segment_output(segment: Segment, review: Review | None = None) -> dict[str, Any]:
    # The first eight keys in the order of Statsig's create example.
    return {
        "id": segment.key,
        "isEnabled": segment.is_enabled,
        "description": segment.description,
        "lastModifierName": segment.last_modifier_name,
        "lastModifierID": segment.last_modifier_id,
        "type": segment.type,
        "count": segment.id_count,
        "tags": list(segment.tags),
        "name": segment.name,
        "idType": segment.id_type,
        "rules": [rule_output(rule) for rule in segment.rules],
        "lastModifierEmail": segment.last_modifier_email or None,
        "lastModifiedTime": _ms(segment.updated_at),
        "creatorID": segment.creator_id or None,
        "creatorName": segment.creator_name,
        "creatorEmail": segment.creator_email or None,
        "createdTime": _ms(segment.created_at),
        "team": segment.team or None,
        "teamID": segment.team_id or None,
        "isArchived": segment.archived,
        "version": segment.version,
        "activeReview": active_review_output(review),
    }


def id_list_change_output(change: services.IdListChange) -> dict[str, Any]:
    return {
        "id": change.segment.key,
        "name": change.segment.name,
        "count": change.segment.id_count,
        "added": change.added,
        "removed": change.removed,
    }


SEGMENT_RESPONSE = envelope("Segment", SegmentOutputSerializer)
MUTATION_PARAMETERS = [RESPECT_REVIEWS_HEADER]


class _SegmentView(ConsoleAPIView):
    def render(self, segment: Segment) -> dict[str, Any]:
        review = open_review_for(
            project=self.project, entity_type=services.ENTITY_TYPE, entity_id=segment.key
        )
        return segment_output(segment, review)

    def body_object(self) -> dict[str, Any]:
        data = self.request.data
        if not isinstance(data, dict):
            raise ValidationError.for_field("body", "The body must be a JSON object.")
        return data


# -- /segments -----------------------------------------------------------------------------


class SegmentListCreateView(_SegmentView):
    class InputSerializer(serializers.Serializer):
        """Shapes only: ``segments.services.segment_create`` checks every value (lengths,
        enums, rules) and reports all problems at once, as for the browser."""

        name = serializers.CharField(allow_blank=True, help_text="3 to 100 characters")
        type = serializers.CharField(
            allow_blank=True, help_text="id_list | rule_based | analysis_list"
        )
        id = serializers.CharField(
            required=False, allow_blank=True, help_text="3 to 100 characters; defaults to the name"
        )
        description = serializers.CharField(
            required=False, allow_blank=True, default="", help_text="at most 1000 characters"
        )
        idType = serializers.CharField(required=False, default=DEFAULT_ID_TYPE)
        tags = serializers.ListField(
            child=serializers.CharField(allow_blank=True, trim_whitespace=False),
            required=False,
            default=list,
        )
        creatorID = serializers.CharField(required=False, allow_null=True, allow_blank=True)
        creatorEmail = serializers.CharField(required=False, allow_null=True, allow_blank=True)
        team = serializers.CharField(required=False, allow_null=True, allow_blank=True)
        teamID = serializers.CharField(required=False, allow_null=True, allow_blank=True)
        # Validated by the service with the segment condition vocabulary (reference §1.6).
        rules = serializers.ListField(
            child=serializers.JSONField(), required=False, allow_null=True
        )

    @extend_schema(
        parameters=[
            *PAGE_PARAMETERS,
            OpenApiParameter(
                "type",
                str,
                OpenApiParameter.QUERY,
                description="id_list | rule_based | analysis_list",
            ),
            OpenApiParameter("tags", str, OpenApiParameter.QUERY, description="comma separated"),
            OpenApiParameter("idType", str, OpenApiParameter.QUERY),
        ],
        responses=responses(
            {200: envelope("SegmentList", SegmentOutputSerializer, many=True, paginated=True)}
        ),
    )
    def get(self, request):
        params = request.query_params
        page = self.page()
        tags = [
            tag.strip()
            for value in params.getlist("tags") + params.getlist("tags[]")
            for tag in value.split(",")
            if tag.strip()
        ]
        segments = selectors.segment_list(
            project=self.project,
            type=params.get("type") or None,
            tags=tags,
            id_type=params.get("idType") or None,
        )
        total = segments.count()
        rows = list(segments[page.offset : page.offset + page.limit])
        reviews = flag_selectors.active_reviews(
            project=self.project, entity_type=services.ENTITY_TYPE, entity_ids=[s.key for s in rows]
        )
        items = [segment_output(s, reviews.get(s.key)) for s in rows]
        return self.respond_page("Segments listed successfully.", items, page, total)

    @extend_schema(
        request=InputSerializer,
        parameters=MUTATION_PARAMETERS,
        responses=responses({201: envelope("SegmentCreated", SegmentOutputSerializer)}),
    )
    def post(self, request):
        data = self.validated(self.InputSerializer)
        segment = services.segment_create(
            project=self.project,
            actor=self.actor,
            name=data["name"],
            type=data["type"],
            id=data.get("id"),
            description=data.get("description", ""),
            id_type=data.get("idType") or DEFAULT_ID_TYPE,
            tags=data.get("tags"),
            rules=data.get("rules"),
            creator_id=data.get("creatorID"),
            creator_email=data.get("creatorEmail"),
            team=data.get("team"),
            team_id=data.get("teamID"),
        )
        return self.respond("Segment created successfully.", segment_output(segment), 201)


class SegmentDetailView(_SegmentView):
    @extend_schema(responses=responses({200: SEGMENT_RESPONSE}))
    def get(self, request, segment_id: str):
        segment = selectors.segment_get(project=self.project, segment_id=segment_id)
        return self.respond("Segment read successfully.", self.render(segment))

    @extend_schema(
        parameters=MUTATION_PARAMETERS,
        responses=responses({200: envelope("SegmentDeleted")}),
    )
    def delete(self, request, segment_id: str):
        outcome = services.segment_delete(
            project=self.project, actor=self.actor, segment_id=segment_id
        )
        return self.respond_outcome(outcome, "Segment deleted successfully.", lambda _: None)


class SegmentArchiveView(_SegmentView):
    @extend_schema(
        request=None, parameters=MUTATION_PARAMETERS, responses=responses({200: SEGMENT_RESPONSE})
    )
    def put(self, request, segment_id: str):
        outcome = services.segment_archive(
            project=self.project, actor=self.actor, segment_id=segment_id
        )
        return self.respond_outcome(outcome, "Segment archived successfully.", self.render)


class SegmentConditionalView(_SegmentView):
    @extend_schema(
        request=RuleInputSerializer(many=True),
        parameters=MUTATION_PARAMETERS,
        responses=responses({200: SEGMENT_RESPONSE}),
    )
    def post(self, request, segment_id: str):
        rules = request.data
        if isinstance(rules, dict) and "rules" in rules:
            rules = rules["rules"]
        if not isinstance(rules, list):
            raise ValidationError.for_field("rules", "The body must be a JSON array of rules.")
        outcome = services.segment_update_rules(
            project=self.project, actor=self.actor, segment_id=segment_id, rules=rules
        )
        return self.respond_outcome(outcome, "Rules successfully updated", self.render)


# -- ID lists ------------------------------------------------------------------------------


class IdsInputSerializer(serializers.Serializer):
    """``{"ids": [...]}``: trimmed strings of 1–256 characters (checked by the service, not
    here, so a million ids do not pass through a serializer field each)."""

    ids = serializers.ListField(child=serializers.CharField(max_length=256))


ID_CHANGE_RESPONSE = responses({200: envelope("SegmentIdListChange", IdListChangeSerializer)})


class SegmentIdListView(_SegmentView):
    @extend_schema(
        parameters=[
            *PAGE_PARAMETERS,
            OpenApiParameter(
                "after",
                str,
                OpenApiParameter.QUERY,
                required=False,
                description="Keyset paging for large lists: ids after this one (page is "
                "ignored); nextPage carries the next 'after'.",
            ),
        ],
        responses=responses({200: envelope("SegmentIdList", IdListPageSerializer, paginated=True)}),
    )
    def get(self, request, segment_id: str):
        params = request.query_params
        page = page_request(
            params, default_limit=ID_PAGE_DEFAULT_LIMIT, max_limit=ID_PAGE_MAX_LIMIT
        )
        segment = selectors.segment_get(project=self.project, segment_id=segment_id)
        services.require_type(segment, SegmentType.ID_LIST)
        after = params.get("after")
        if after is None:
            ids = selectors.segment_member_page(
                segment=segment, offset=page.offset, limit=page.limit
            )
            pagination = pagination_block(
                path=request.path, params=params, page=page, total=segment.id_count
            )
        else:
            ids = selectors.segment_member_page_after(
                segment=segment, after=after, limit=page.limit
            )
            kept = {k: v for k, v in params.items() if k not in ("page", "limit", "after")}
            next_page = (
                f"{request.path}?{urlencode({**kept, 'after': ids[-1], 'limit': page.limit})}"
                if len(ids) == page.limit
                else None
            )
            pagination = {
                "itemsPerPage": page.limit,
                # A cursor page has no number; the spec requires one, so it counts from the cursor.
                "pageNumber": page.page,
                "nextPage": next_page,
                "previousPage": None,
                "totalItems": segment.id_count,
                "all": f"{request.path}?{urlencode(kept)}" if kept else request.path,
            }
        return Response(
            {
                "message": "Segments listed successfully.",
                "data": {"name": segment.name, "count": segment.id_count, "ids": ids},
                "pagination": pagination,
            }
        )

    @extend_schema(
        request=IdsInputSerializer, parameters=MUTATION_PARAMETERS, responses=ID_CHANGE_RESPONSE
    )
    def patch(self, request, segment_id: str):
        outcome = services.segment_ids_add(
            project=self.project,
            actor=self.actor,
            segment_id=segment_id,
            ids=self.body_object().get("ids"),
        )
        return self.respond_outcome(
            outcome, "IDs successfully added to Segment ID List", id_list_change_output
        )

    @extend_schema(
        request=IdsInputSerializer, parameters=MUTATION_PARAMETERS, responses=ID_CHANGE_RESPONSE
    )
    def delete(self, request, segment_id: str):
        outcome = services.segment_ids_remove(
            project=self.project,
            actor=self.actor,
            segment_id=segment_id,
            ids=self.body_object().get("ids"),
        )
        return self.respond_outcome(
            outcome, "IDs successfully removed from Segment ID List", id_list_change_output
        )


# Statsig's add_ids / remove_ids: at most this many ids a request.
MAX_IDS_PER_CHANGE = 1000


class IdsChangeInputSerializer(serializers.Serializer):
    """``SegmentIDListUserStoreContractDto``: ``version``, when sent, is the segment version the
    client last read (409 when it changed since)."""

    ids = serializers.ListField(
        child=serializers.CharField(max_length=256), max_length=MAX_IDS_PER_CHANGE
    )
    version = serializers.IntegerField(required=False, min_value=1)


class _SegmentIdsChangeView(_SegmentView):
    """``PATCH /segments/{id}/add_ids`` and ``remove_ids``: the ID list's members changed by
    at most 1000 ids."""

    change: Any
    message = ""

    def patch(self, request, segment_id: str):
        # Another project's segment is not found, whatever the body.
        segment = selectors.segment_get(project=self.project, segment_id=segment_id)
        data = self.validated(IdsChangeInputSerializer)
        if "version" in data and segment.version != data["version"]:
            raise Conflict(
                f"Segment '{segment.key}' is at version {segment.version}, not "
                f"{data['version']}. Read it again and retry."
            )
        outcome = self.change(
            project=self.project, actor=self.actor, segment_id=segment_id, ids=data["ids"]
        )
        return self.respond_outcome(outcome, self.message, id_list_change_output)


IDS_CHANGE_SCHEMA = extend_schema(
    request=IdsChangeInputSerializer, parameters=MUTATION_PARAMETERS, responses=ID_CHANGE_RESPONSE
)


@extend_schema_view(patch=IDS_CHANGE_SCHEMA)
class SegmentAddIdsView(_SegmentIdsChangeView):
    change = staticmethod(services.segment_ids_add)
    message = "IDs successfully added to Segment ID List"


@extend_schema_view(patch=IDS_CHANGE_SCHEMA)
class SegmentRemoveIdsView(_SegmentIdsChangeView):
    change = staticmethod(services.segment_ids_remove)
    message = "IDs successfully removed from Segment ID List"


class SegmentIdListResetView(_SegmentView):
    @extend_schema(
        request=IdsInputSerializer, parameters=MUTATION_PARAMETERS, responses=ID_CHANGE_RESPONSE
    )
    def post(self, request, segment_id: str):
        outcome = services.segment_ids_reset(
            project=self.project,
            actor=self.actor,
            segment_id=segment_id,
            ids=self.body_object().get("ids"),
        )
        return self.respond_outcome(
            outcome, "Segment Reset reset successfully.", id_list_change_output
        )


class SegmentIdListMetadataView(_SegmentView):
    @extend_schema(
        responses=responses({200: envelope("SegmentIdListMetadata", IdListMetadataSerializer)})
    )
    def get(self, request, segment_id: str):
        segment = selectors.segment_get(project=self.project, segment_id=segment_id)
        services.require_type(segment, SegmentType.ID_LIST)
        return self.respond(
            "Segment ID list metadata read successfully.",
            {
                "currentVersion": segment.list_version,
                "isUpdating": False,
                "count": segment.id_count,
                "fileID": segment.list_file_id,
                "fileSize": segment.list_file_size,
                "creationTime": segment.list_file_created_ms,
            },
        )


# -- reviews -------------------------------------------------------------------------------


class SegmentReviewListView(ReviewListView):
    """``GET /segments/{id}/reviews``: the segment's reviews, 404 for a segment the project does
    not have (the other review endpoints are the shared ones)."""

    @extend_schema(
        parameters=PAGE_PARAMETERS,
        responses=responses(
            {200: envelope("ReviewList", ReviewSerializer, many=True, paginated=True)}
        ),
    )
    def get(self, request, entity_id: str):
        selectors.segment_get(project=self.project, segment_id=entity_id)
        return super().get(request, entity_id)
