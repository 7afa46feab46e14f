"""Reads for deletion requests. None of them loads the id lists."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from console.models import Project
from privacy.models import DUE_SOON, DeletionRequest, DeletionStatus
from privacy.unit_types import project_unit_types


class WireStatus:
    """What ``get_delete_user_data_request_status`` answers."""

    PENDING = "PENDING"
    COMPLETE = "COMPLETE"
    UNKNOWN = "UNKNOWN"


def _without_ids(queryset: QuerySet[DeletionRequest]) -> QuerySet[DeletionRequest]:
    return queryset.defer("ids")


def deletion_request_list(*, project: Project) -> QuerySet[DeletionRequest]:
    return _without_ids(DeletionRequest.objects.filter(project=project)).order_by(
        "-received_at", "-id"
    )


def deletion_request_get(*, project_id: int, request_id: str) -> DeletionRequest | None:
    """The project's request with this id; None for unknown ids and other projects' requests."""
    if not isinstance(request_id, str) or not request_id:
        return None
    return _without_ids(
        DeletionRequest.objects.filter(project_id=project_id, request_id=request_id)
    ).first()


def deletion_request_wire_status(request: DeletionRequest | None) -> str:
    if request is None:
        return WireStatus.UNKNOWN
    if request.status == DeletionStatus.COMPLETE:
        return WireStatus.COMPLETE
    return WireStatus.PENDING


def deletion_unit_types(*, project: Project) -> list[str]:
    return project_unit_types(project.pk)


@dataclass(frozen=True, slots=True)
class PendingSummary:
    pending: int
    due_soon: int
    overdue: int
    failing: int
    oldest_received_at: datetime | None
    requests: list[DeletionRequest]

    @property
    def oldest_age(self) -> timedelta | None:
        if self.oldest_received_at is None:
            return None
        return timezone.now() - self.oldest_received_at


def deletion_pending_summary(*, project_id: int | None = None) -> PendingSummary:
    """Every pending request (all projects unless one is given), oldest first."""
    queryset = _without_ids(
        DeletionRequest.objects.filter(status=DeletionStatus.PENDING).select_related("project")
    ).order_by("received_at", "id")
    if project_id is not None:
        queryset = queryset.filter(project_id=project_id)
    requests = list(queryset)
    now = timezone.now()
    return PendingSummary(
        pending=len(requests),
        due_soon=sum(1 for r in requests if r.due_at - now <= DUE_SOON),
        overdue=sum(1 for r in requests if r.due_at <= now),
        failing=sum(1 for r in requests if r.last_error),
        oldest_received_at=requests[0].received_at if requests else None,
        requests=requests,
    )
