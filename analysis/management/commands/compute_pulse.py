"""``manage.py compute_pulse --experiment ID [--project SLUG]``: computes an experiment's Pulse
results now, synchronously, and prints what it stored."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from analysis.services import pulse_compute
from flags.models import Experiment


class Command(BaseCommand):
    help = "Compute an experiment's results (Pulse) now."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--experiment", required=True, help="the experiment id")
        parser.add_argument("--project", help="the project slug, when several have the id")

    def handle(self, *args, experiment: str, project: str | None, **options) -> None:
        candidates = Experiment.objects.filter(slug=experiment)
        if project:
            candidates = candidates.filter(project__slug=project)
        found = list(candidates[:2])
        if not found:
            raise CommandError(f"No experiment '{experiment}'.")
        if len(found) > 1:
            raise CommandError(f"Several projects have '{experiment}': give --project.")
        run = pulse_compute(experiment=found[0])
        units = sum(run.exposures.values())
        self.stdout.write(
            f"Computed {experiment} for {run.day}: {units} units in {len(run.exposures)} groups, "
            f"{run.excluded_units} excluded (seen in several groups), "
            f"{run.metric_results.count()} metric rows."
        )
