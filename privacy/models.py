"""User-data deletion requests (GDPR/CCPA), processed in bulk by a periodic job.

A request stores the ids to erase only until every registered eraser has run for it; then the id
list is wiped and only the request id, unit type, id count and times remain, as proof.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import models
from django.utils import timezone

from console.models import Project

#: How long we have to erase the data (Statsig's SLA).
DELETION_SLA = timedelta(days=30)
#: A pending request with this little time left is processed at once and flagged in the console.
DUE_SOON = timedelta(days=7)

MAX_IDS_PER_REQUEST = 10_000
MAX_ID_LENGTH = 256
MAX_REQUEST_ID_LENGTH = 128
MAX_DELIMITER_LENGTH = 8


class DeletionStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    COMPLETE = "complete", "Complete"


class DeletionSource(models.TextChoices):
    API = "api", "HTTP API"
    CONSOLE = "console", "Console"
    COMMAND = "command", "Management command"


def default_due_at():
    return timezone.now() + DELETION_SLA


class DeletionRequest(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="deletion_requests")
    request_id = models.CharField(max_length=MAX_REQUEST_ID_LENGTH)
    # Canonical spelling: "user_id" for the user id, otherwise the project's custom id type.
    unit_type = models.CharField(max_length=100)
    # The ids to erase (deduplicated); emptied when the request completes.
    ids = models.JSONField(default=list, blank=True)
    id_count = models.PositiveIntegerField()
    delimiter = models.CharField(max_length=MAX_DELIMITER_LENGTH, default=",", blank=True)
    source = models.CharField(
        max_length=16, choices=DeletionSource.choices, default=DeletionSource.API
    )
    # Who asked: a member's name or "SERVER API"; never the ids.
    submitted_by = models.CharField(max_length=200, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField(default=default_due_at)
    status = models.CharField(
        max_length=16, choices=DeletionStatus.choices, default=DeletionStatus.PENDING
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    # {eraser name: {"chunks": n, "done": k, "rows": r, "finished": bool}}: no ids.
    progress = models.JSONField(default=dict, blank=True)
    # When a worker last started on it (for "processing…" in the console).
    started_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # Exception class and message with every id replaced: never the ids.
    last_error = models.TextField(blank=True)
    # Backoff after a failure: the periodic job leaves it alone until then.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # Set when it was processed because the due date was near (shown in the console).
    due_soon_flagged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "request_id"], name="deletionrequest_unique_request_id"
            ),
        ]
        indexes = [
            # The job: pending requests, oldest first.
            models.Index(fields=["status", "received_at"], name="deletionrequest_pending"),
            models.Index(fields=["project", "-received_at"], name="deletionrequest_project"),
        ]

    def __str__(self) -> str:
        return f"{self.request_id} ({self.status})"

    @property
    def is_pending(self) -> bool:
        return self.status == DeletionStatus.PENDING

    @property
    def is_due_soon(self) -> bool:
        return self.is_pending and self.due_at - timezone.now() <= DUE_SOON

    @property
    def is_overdue(self) -> bool:
        return self.is_pending and self.due_at <= timezone.now()

    @property
    def progress_percent(self) -> int:
        """Share of (eraser, chunk) steps done, 100 once complete."""
        if self.status == DeletionStatus.COMPLETE:
            return 100
        total = sum(int(step.get("chunks", 0)) for step in self.progress.values())
        done = sum(int(step.get("done", 0)) for step in self.progress.values())
        return int(done * 100 / total) if total else 0

    @property
    def rows_erased(self) -> int:
        return sum(int(step.get("rows", 0)) for step in self.progress.values())
