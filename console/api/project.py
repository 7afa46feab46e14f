"""Project-level console endpoints: review settings, environments and the audit log."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from console import selectors
from console.api.base import ConsoleAPIView
from console.models import AuditLog
from console.services.projects import environment_create, project_review_settings_update


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

    def get(self, request):
        return self.respond("Settings read successfully.", review_settings_output(self.project))

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
