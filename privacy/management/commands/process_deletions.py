"""``manage.py process_deletions``: run the deletion job now and print what it completed."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from console.models import Project
from privacy.services import deletion_process_pending


class Command(BaseCommand):
    help = (
        "Erase the data of pending user-data deletion requests now (the job Celery beat runs), "
        "oldest first, and print what was completed. Exits with status 1 if a request failed."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--project", help="Only this project (its slug).")
        parser.add_argument("--limit", type=int, help="Process at most this many requests.")
        parser.add_argument(
            "--respect-backoff",
            action="store_true",
            help="Leave requests that failed recently alone until their retry time "
            "(by default an operator's run retries them at once).",
        )

    def handle(self, *args, project: str | None = None, limit: int | None = None, **options):
        project_id = None
        if project:
            found = Project.objects.filter(slug=project).values_list("pk", flat=True).first()
            if found is None:
                raise CommandError(f"No project with slug '{project}'.")
            project_id = found
        outcomes = deletion_process_pending(
            project_id=project_id,
            respect_backoff=options["respect_backoff"],
            limit=limit,
        )
        if not outcomes:
            self.stdout.write("Nothing to process: no pending deletion requests.")
            return
        for outcome in outcomes:
            label = f"{outcome.request_id} (project {outcome.project_id}, {outcome.id_count} ids"
            label += f" of {outcome.unit_type})"
            if outcome.completed:
                flag = " [due soon]" if outcome.due_soon else ""
                self.stdout.write(
                    self.style.SUCCESS(f"Completed {label}: {outcome.rows} rows erased{flag}")
                )
            elif outcome.error:
                self.stdout.write(
                    self.style.ERROR(
                        f"Failed {label}: {outcome.error}; still pending, retry after "
                        f"{outcome.retry_at:%Y-%m-%d %H:%M:%S} UTC"
                    )
                )
            else:
                self.stdout.write(f"Already completed by another run: {label}")
        completed = sum(o.completed for o in outcomes)
        failed = sum(bool(o.error) for o in outcomes)
        self.stdout.write(f"{completed} completed, {failed} failed.")
        if failed:
            raise SystemExit(1)
