"""``manage.py deletion_status``: pending deletion requests and the oldest one's age."""

from __future__ import annotations

import json
from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from privacy.selectors import deletion_pending_summary


def _age(delta: timedelta) -> str:
    days, seconds = delta.days, delta.seconds
    if days:
        return f"{days}d {seconds // 3600}h"
    if seconds >= 3600:
        return f"{seconds // 3600}h {seconds % 3600 // 60}m"
    return f"{seconds // 60}m"


class Command(BaseCommand):
    help = "Print pending user-data deletion requests and the age of the oldest one (never ids)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--json", action="store_true", help="Print JSON instead of text.")

    def handle(self, *args, **options) -> None:
        summary = deletion_pending_summary()
        now = timezone.now()
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "pending": summary.pending,
                        "due_soon": summary.due_soon,
                        "overdue": summary.overdue,
                        "failing": summary.failing,
                        "oldest_received_at": (
                            summary.oldest_received_at.isoformat()
                            if summary.oldest_received_at
                            else None
                        ),
                        "oldest_age_seconds": (
                            int(summary.oldest_age.total_seconds()) if summary.oldest_age else None
                        ),
                        "requests": [
                            {
                                "project": r.project.slug,
                                "request_id": r.request_id,
                                "unit_type": r.unit_type,
                                "id_count": r.id_count,
                                "received_at": r.received_at.isoformat(),
                                "due_at": r.due_at.isoformat(),
                                "attempts": r.attempts,
                                "due_soon": r.is_due_soon,
                                "last_error": r.last_error,
                            }
                            for r in summary.requests
                        ],
                    },
                    indent=2,
                )
            )
            return
        if not summary.pending:
            self.stdout.write("No pending deletion requests.")
            return
        self.stdout.write(
            f"{summary.pending} pending deletion request(s); oldest received "
            f"{_age(summary.oldest_age)} ago ({summary.oldest_received_at:%Y-%m-%d %H:%M} UTC)."
        )
        if summary.due_soon or summary.overdue or summary.failing:
            self.stdout.write(
                self.style.WARNING(
                    f"{summary.due_soon} due within 7 days, {summary.overdue} overdue, "
                    f"{summary.failing} failing."
                )
            )
        for r in summary.requests:
            left = r.due_at - now
            due = "OVERDUE" if left.total_seconds() <= 0 else f"due in {_age(left)}"
            flag = " [due soon]" if r.is_due_soon else ""
            error = f" last error: {r.last_error}" if r.last_error else ""
            self.stdout.write(
                f"  {r.project.slug}  {r.request_id}  {r.id_count} ids of {r.unit_type}  "
                f"received {r.received_at:%Y-%m-%d %H:%M}  {due}{flag}  "
                f"attempts {r.attempts}{error}"
            )
