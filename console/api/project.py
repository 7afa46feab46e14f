"""Project-level console endpoints: review settings, environments and the audit log."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers

from console import selectors
from console.api.base import ConsoleAPIView
from console.api.schema import PAGE_PARAMETERS, envelope, responses
from console.errors import ValidationError
from console.models import AuditLog, Environment
from console.selectors import AUDIT_SORT_KEYS
from console.services.audit import entity_tags, statsig_action_filter, statsig_action_type
from console.services.projects import (
    environment_id,
    environments_replace,
    project_review_settings_update,
)

SORT_ORDERS = ("asc", "desc")
REVIEW_FLAGS = (
    "is_metric_review_required",
    "is_metric_review_required_on_verified_only",
    "is_whn_analysis_only_review_required",
    "is_whn_source_review_required",
)


class ReviewSettingsSerializer(serializers.Serializer):
    is_config_review_required = serializers.BooleanField()
    is_metric_review_required = serializers.BooleanField()
    is_metric_review_required_on_verified_only = serializers.BooleanField()
    is_whn_analysis_only_review_required = serializers.BooleanField(required=False)
    is_whn_source_review_required = serializers.BooleanField(required=False)


class EnvironmentSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    isProduction = serializers.BooleanField()
    requiresReview = serializers.BooleanField()
    requiresReleasePipeline = serializers.BooleanField()


class EnvironmentListSerializer(serializers.Serializer):
    environments = EnvironmentSerializer(many=True)


class AuditLogSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    entityType = serializers.CharField()
    entityID = serializers.CharField()
    changeLog = serializers.CharField()
    actionType = serializers.CharField()
    date = serializers.CharField()
    time = serializers.CharField()
    timestamp = serializers.IntegerField()
    updatedBy = serializers.CharField()
    updatedByUserID = serializers.CharField(allow_null=True)
    modifierEmail = serializers.CharField(allow_null=True)
    changes = serializers.DictField()
    reviewID = serializers.CharField(allow_null=True)
    tags = serializers.ListField(child=serializers.CharField())
    targetAppIDs = serializers.ListField(child=serializers.CharField())


def review_settings_output(project) -> dict[str, Any]:
    """Every flag Statsig's settings carry; the ones never sent read ``false``, the optional
    warehouse-native ones only once sent."""
    flags = project.review_flags or {}
    output = {"is_config_review_required": project.requires_review}
    output.update({flag: bool(flags.get(flag, False)) for flag in REVIEW_FLAGS[:2]})
    output.update({flag: flags[flag] for flag in REVIEW_FLAGS[2:] if flag in flags})
    return output


class ReviewSettingsView(ConsoleAPIView):
    class InputSerializer(serializers.Serializer):
        is_config_review_required = serializers.BooleanField(
            help_text="Changes to gates, configs, experiments, layers and segments need review."
        )
        is_metric_review_required = serializers.BooleanField(
            required=False, help_text="Kept and returned; this console has no metric reviews."
        )
        is_metric_review_required_on_verified_only = serializers.BooleanField(
            required=False, help_text="Kept and returned; this console has no metric reviews."
        )
        is_whn_analysis_only_review_required = serializers.BooleanField(
            required=False, help_text="Kept and returned (warehouse-native projects)."
        )
        is_whn_source_review_required = serializers.BooleanField(
            required=False, help_text="Kept and returned (warehouse-native projects)."
        )

    @extend_schema(
        summary="Get Reviews Settings",
        responses=responses({200: envelope("ReviewSettingsRead", ReviewSettingsSerializer)}),
    )
    def get(self, request):
        return self.respond("Settings read successfully.", review_settings_output(self.project))

    @extend_schema(
        summary="Update Reviews Settings",
        request=InputSerializer,
        responses=responses({200: envelope("ReviewSettingsUpdated", ReviewSettingsSerializer)}),
    )
    def post(self, request):
        data = self.validated(self.InputSerializer)
        project = project_review_settings_update(
            project=self.project,
            actor=self.actor,
            is_config_review_required=data["is_config_review_required"],
            other_flags={flag: data[flag] for flag in REVIEW_FLAGS if flag in data},
        )
        return self.respond("Settings updated successfully.", review_settings_output(project))


def environment_output(env: Environment) -> dict[str, Any]:
    return {
        "id": environment_id(env),
        "name": env.name,
        "isProduction": env.is_production,
        "requiresReview": env.requires_review,
        "requiresReleasePipeline": env.requires_release_pipeline,
    }


class EnvironmentListView(ConsoleAPIView):
    class InputSerializer(serializers.Serializer):
        class EnvironmentInputSerializer(serializers.Serializer):
            name = serializers.CharField(max_length=64)
            id = serializers.CharField(
                max_length=64,
                required=False,
                allow_null=True,
                help_text="The environment to update (its id as listed); without it, or with an "
                "id this console does not know, the environment of that name (or a new one).",
            )
            isProduction = serializers.BooleanField()
            requiresReview = serializers.BooleanField()
            requiresReleasePipeline = serializers.BooleanField(
                help_text="Kept and returned; this console has no release pipelines."
            )
            requiredReviewGroupID = serializers.CharField(
                required=False,
                allow_null=True,
                allow_blank=True,
                help_text="Accepted for compatibility; this console has no review groups, so "
                "any member may review.",
            )

        environments = EnvironmentInputSerializer(many=True)

    @extend_schema(
        summary="Get Environments",
        responses=responses({200: envelope("EnvironmentList", EnvironmentListSerializer)}),
    )
    def get(self, request):
        environments = [
            environment_output(env) for env in selectors.environment_list(project=self.project)
        ]
        return self.respond("Environments listed successfully.", {"environments": environments})

    @extend_schema(
        summary="Update Environments",
        description="The list sent replaces the project's environments, as Statsig's does: an "
        "entry with an `id` updates that environment, one without is created, and an "
        "environment left out is deleted. Renaming an environment is refused (this console's "
        "rules and keys name environments), and so is deleting one an API key is limited to. "
        "An entry whose `id` this console does not know is the environment of its name, which "
        "keeps that id (so a configuration written with Statsig's ids reads back unchanged).",
        request=InputSerializer,
        responses=responses({200: envelope("EnvironmentsUpdated", EnvironmentListSerializer)}),
    )
    def post(self, request):
        data = self.validated(self.InputSerializer)
        environments = environments_replace(
            project=self.project,
            actor=self.actor,
            environments=[
                {
                    "id": entry.get("id"),
                    "name": entry["name"],
                    "is_production": entry["isProduction"],
                    "requires_review": entry["requiresReview"],
                    "requires_release_pipeline": entry["requiresReleasePipeline"],
                }
                for entry in data["environments"]
            ],
        )
        return self.respond(
            "Environments updated successfully.",
            {"environments": [environment_output(env) for env in environments]},
        )


def audit_log_output(log: AuditLog, tags: list[str]) -> dict[str, Any]:
    created = log.created_at
    return {
        "id": str(log.pk),
        "name": log.entity_name,
        "entityType": log.entity_type,
        "entityID": log.entity_id,
        "changeLog": f"{log.actor_name} {log.action_type.replace('_', ' ')} {log.entity_name}".strip(),
        "actionType": statsig_action_type(log.action_type, log.changes),
        "date": created.strftime("%a %b %d %Y"),
        "time": created.strftime("%H:%M:%S GMT+0000 (Coordinated Universal Time)"),
        "timestamp": int(created.timestamp() * 1000),
        "updatedBy": log.actor_name,
        "updatedByUserID": str(log.actor_user_id) if log.actor_user_id else None,
        "modifierEmail": log.actor_email or None,
        "changes": log.changes,
        "reviewID": log.review.public_id if log.review_id else None,
        "tags": tags,
        "targetAppIDs": [],
    }


def _list_param(params, name: str) -> list[str]:
    """``name=a&name=b``, ``name[]=a`` or ``name=a,b``."""
    values = [*params.getlist(name), *params.getlist(f"{name}[]")]
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _choice_param(params, name: str, choices) -> str | None:
    value = params.get(name)
    if value is not None and value not in choices:
        raise ValidationError.for_field(name, f"'{name}' must be one of {', '.join(choices)}.")
    return value


def _id_param(params, name: str) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    if not value.isdigit():
        raise ValidationError.for_field(name, f"'{name}' must be the id of an audit log entry.")
    return int(value)


class AuditLogListView(ConsoleAPIView):
    @extend_schema(
        summary="List Audit Logs",
        description="Entries newest first. `actionType` and `actionTypes` take Statsig's names "
        "(an entry written for a change Statsig has no name for keeps this console's). "
        "`tags` keeps the entries of entities carrying any of the tags now. `latestID`: only "
        "entries written after that entry (Statsig does not document it; this console reads "
        "it so). `sortKey` `changeLog` sorts by action type.",
        parameters=[
            *PAGE_PARAMETERS,
            *(
                OpenApiParameter(name, str, OpenApiParameter.QUERY, required=False)
                for name in ("id", "entityType", "actionType", "startDate", "endDate", "latestID")
            ),
            OpenApiParameter(
                "actionTypes", {"type": "array", "items": {"type": "string"}}, required=False
            ),
            OpenApiParameter(
                "tags", {"type": "array", "items": {"type": "string"}}, required=False
            ),
            OpenApiParameter("sortKey", str, enum=list(AUDIT_SORT_KEYS), required=False),
            OpenApiParameter("sortOrder", str, enum=list(SORT_ORDERS), required=False),
        ],
        responses=responses(
            {200: envelope("AuditLogList", AuditLogSerializer, many=True, paginated=True)}
        ),
    )
    def get(self, request):
        params = request.query_params
        page = self.page()
        action_types = _list_param(params, "actionTypes")
        if params.get("actionType"):
            action_types.append(params["actionType"])
        sort_key = _choice_param(params, "sortKey", AUDIT_SORT_KEYS)
        sort_order = _choice_param(params, "sortOrder", SORT_ORDERS)
        after_id = _id_param(params, "latestID")
        tags_of = entity_tags(self.project)
        wanted_tags = {tag.lower() for tag in _list_param(params, "tags")}
        entities = None
        if wanted_tags:
            entities = [
                ref for ref, tags in tags_of.items() if wanted_tags & {t.lower() for t in tags}
            ]
        logs = selectors.audit_log_list(
            project=self.project,
            entity_id=params.get("id") or params.get("entityID"),
            entity_type=params.get("entityType"),
            action_condition=statsig_action_filter(action_types) if action_types else None,
            entities=entities,
            after_id=after_id,
            start_date=params.get("startDate"),
            end_date=params.get("endDate"),
            sort_key=sort_key,
            descending=sort_order != "asc",
        ).select_related("review")
        total = logs.count()
        items = [
            audit_log_output(log, tags_of.get((log.entity_type, log.entity_id), []))
            for log in logs[page.offset : page.offset + page.limit]
        ]
        return self.respond_page("Audit logs listed successfully.", items, page, total)
