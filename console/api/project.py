"""Project-level console endpoints: review settings, environments and the audit log."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers

from console import selectors
from console.api.base import ConsoleAPIView
from console.api.schema import PAGE_PARAMETERS, envelope, responses
from console.models import AuditLog
from console.services.projects import environment_create, project_review_settings_update


class ReviewSettingsSerializer(serializers.Serializer):
    is_config_review_required = serializers.BooleanField()
    is_metric_review_required = serializers.BooleanField()
    is_metric_review_required_on_verified_only = serializers.BooleanField()


class EnvironmentSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    isProduction = serializers.BooleanField(required=False)
    requiresReview = serializers.BooleanField()


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
    return {
        "is_config_review_required": project.requires_review,
        "is_metric_review_required": False,
        "is_metric_review_required_on_verified_only": False,
    }


class ReviewSettingsView(ConsoleAPIView):
    class InputSerializer(serializers.Serializer):
        is_config_review_required = serializers.BooleanField()
        is_metric_review_required = serializers.BooleanField(required=False)
        is_metric_review_required_on_verified_only = serializers.BooleanField(required=False)

    @extend_schema(
        responses=responses({200: envelope("ReviewSettingsRead", ReviewSettingsSerializer)})
    )
    def get(self, request):
        return self.respond("Settings read successfully.", review_settings_output(self.project))

    @extend_schema(
        request=InputSerializer,
        responses=responses({200: envelope("ReviewSettingsUpdated", ReviewSettingsSerializer)}),
    )
    def post(self, request):
        data = self.validated(self.InputSerializer)
        project = project_review_settings_update(
            project=self.project,
            actor=self.actor,
            is_config_review_required=data["is_config_review_required"],
        )
        return self.respond("Settings updated successfully.", review_settings_output(project))


class EnvironmentListView(ConsoleAPIView):
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=64)
        requiresReview = serializers.BooleanField(required=False, default=False)

    @extend_schema(
        responses=responses({200: envelope("EnvironmentList", EnvironmentListSerializer)})
    )
    def get(self, request):
        environments = [
            {
                "id": env.name,
                "name": env.name,
                "isProduction": env.name == "production",
                "requiresReview": env.requires_review,
            }
            for env in selectors.environment_list(project=self.project)
        ]
        return self.respond("Environments listed successfully.", {"environments": environments})

    @extend_schema(
        request=InputSerializer,
        responses=responses({201: envelope("EnvironmentCreated", EnvironmentSerializer)}),
    )
    def post(self, request):
        data = self.validated(self.InputSerializer)
        env = environment_create(
            project=self.project,
            actor=self.actor,
            name=data["name"],
            requires_review=data["requiresReview"],
        )
        return self.respond(
            "Environment created successfully.",
            {"id": env.name, "name": env.name, "requiresReview": env.requires_review},
            201,
        )


def audit_log_output(log: AuditLog) -> dict[str, Any]:
    created = log.created_at
    return {
        "id": str(log.pk),
        "name": log.entity_name,
        "entityType": log.entity_type,
        "entityID": log.entity_id,
        "changeLog": f"{log.actor_name} {log.action_type.replace('_', ' ')} {log.entity_name}".strip(),
        "actionType": log.action_type,
        "date": created.strftime("%a %b %d %Y"),
        "time": created.strftime("%H:%M:%S GMT+0000 (Coordinated Universal Time)"),
        "timestamp": int(created.timestamp() * 1000),
        "updatedBy": log.actor_name,
        "updatedByUserID": str(log.actor_user_id) if log.actor_user_id else None,
        "modifierEmail": log.actor_email or None,
        "changes": log.changes,
        "reviewID": log.review.public_id if log.review_id else None,
        "tags": [],
        "targetAppIDs": [],
    }


class AuditLogListView(ConsoleAPIView):
    @extend_schema(
        parameters=[
            *PAGE_PARAMETERS,
            *(
                OpenApiParameter(name, str, OpenApiParameter.QUERY, required=False)
                for name in ("id", "entityType", "actionType", "startDate", "endDate")
            ),
        ],
        responses=responses(
            {200: envelope("AuditLogList", AuditLogSerializer, many=True, paginated=True)}
        ),
    )
    def get(self, request):
        params = request.query_params
        page = self.page()
        action_types = params.getlist("actionTypes") or params.getlist("actionTypes[]")
        if params.get("actionType"):
            action_types = [*action_types, params["actionType"]]
        logs = selectors.audit_log_list(
            project=self.project,
            entity_id=params.get("id") or params.get("entityID"),
            entity_type=params.get("entityType"),
            action_types=action_types,
            start_date=params.get("startDate"),
            end_date=params.get("endDate"),
        ).select_related("review")
        total = logs.count()
        items = [audit_log_output(log) for log in logs[page.offset : page.offset + page.limit]]
        return self.respond_page("Audit logs listed successfully.", items, page, total)
