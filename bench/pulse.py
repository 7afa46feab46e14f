"""Experiment results (Pulse) at volume: one experiment with 1,000,000 exposed units and
10,000,000 events, loaded with COPY, then the job (``analysis.services.pulse_compute``) timed.

Reported: the rows loaded and how long loading took, the job's wall time, the peak resident
memory of the process that runs only the job (a child process, so loading does not count), the
PostgreSQL temporary bytes the job spilled, and the results' exposures.

    DATABASE_URL=postgres://... python bench/pulse.py [--units 1000000] [--events 10000000]

Targets (issue 15): the job in at most 60 s and 500 MB. PostgreSQL only. Works in a throwaway
project, removed at the end (``--keep`` leaves it). Units 0..N-1 alternate between Control and
Test; every 1,000th unit is also exposed to the other group (excluded); every unit's first
exposure is within the last 14 days; events fall in the last 21 days (some before exposure:
the CUPED window and the excluded ones), 30% purchases with a value, 70% visits; Test
purchases 3% more often.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")

CHUNK = 200_000
EXPOSURE_DAYS = 14
EVENT_DAYS = 21
PROJECT_NAME = "Bench Pulse"
EXPERIMENT = "bench_pulse_checkout"
METRICS = [
    {"name": "bench purchases", "type": "event_count", "metricEvents": [{"name": "purchase"}]},
    {"name": "bench purchases", "type": "event_user", "metricEvents": [{"name": "purchase"}]},
    {
        "name": "bench revenue",
        "type": "sum",
        "metricEvents": [{"name": "purchase", "type": "value"}],
    },
    {
        "name": "bench basket",
        "type": "mean",
        "metricEvents": [{"name": "purchase", "type": "value"}],
    },
    {
        "name": "bench purchases per visit",
        "type": "ratio",
        "metricEvents": [{"name": "purchase"}, {"name": "visit"}],
    },
]


def _ts(seconds_ago: np.ndarray, now: float) -> list[str]:
    return [datetime.fromtimestamp(now - s, UTC).isoformat(sep=" ") for s in seconds_ago.tolist()]


def _copy(cursor, table: str, columns: list[str], lines) -> int:
    quoted = ", ".join(f'"{column}"' for column in columns)
    sql = f"COPY {table} ({quoted}) FROM STDIN"
    count = 0
    with cursor.cursor.copy(sql) as copy:
        for block, rows in lines:
            copy.write(block)
            count += rows
    return count


def load(*, project_id: int, units: int, events: int, seed: int) -> dict:
    from django.db import connection, transaction

    from events.models import Event, Exposure

    rng = np.random.default_rng(seed)
    now = time.time()
    first_exposure_ago = rng.uniform(0, EXPOSURE_DAYS * 86400, units)

    def exposure_blocks():
        for start in range(0, units, CHUNK):
            ids = np.arange(start, min(units, start + CHUNK))
            groups = np.where(ids % 2 == 0, "Control", "Test")
            times = _ts(first_exposure_ago[ids], now)
            lines = []
            for unit, group, at in zip(ids.tolist(), groups.tolist(), times, strict=True):
                lines.append(_exposure_line(project_id, unit, group, at))
                if unit % 1000 == 999:
                    other = "Test" if group == "Control" else "Control"
                    lines.append(_exposure_line(project_id, unit, other, at))
            yield "".join(lines), len(lines)

    def event_blocks():
        done = 0
        while done < events:
            size = min(CHUNK, events - done)
            unit = rng.integers(0, units, size)
            is_purchase = rng.random(size) < np.where(unit % 2 == 1, 0.3 * 1.03, 0.3)
            price = np.round(rng.gamma(2.0, 10.0, size), 2)
            ago = rng.uniform(0, EVENT_DAYS * 86400, size)
            times = _ts(ago, now)
            lines = []
            for u, purchase, p, at in zip(
                unit.tolist(), is_purchase.tolist(), price.tolist(), times, strict=True
            ):
                name, value = ("purchase", p) if purchase else ("visit", None)
                lines.append(_event_line(project_id, u, name, value, at))
            done += size
            yield "".join(lines), size

    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        exposures = _copy(cursor, Exposure._meta.db_table, EXPOSURE_COPY_COLUMNS, exposure_blocks())
    exposures_seconds = time.perf_counter() - started
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        loaded = _copy(cursor, Event._meta.db_table, EVENT_COPY_COLUMNS, event_blocks())
    events_seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Exposure._meta.db_table}")
        cursor.execute(f"ANALYZE {Event._meta.db_table}")
    return {
        "exposure_rows": exposures,
        "exposure_copy_seconds": round(exposures_seconds, 1),
        "event_rows": loaded,
        "event_copy_seconds": round(events_seconds, 1),
    }


EXPOSURE_COPY_COLUMNS = [
    "uuid", "project_id", "kind", "name", "rule_id", "group_name", "parameter_name",
    "allocated_experiment", "user_id", "stable_id", "custom_ids", "user",
    "secondary_exposures", "environment", "source", "time", "received_at",
]  # fmt: skip
EVENT_COPY_COLUMNS = [
    "uuid", "project_id", "name", "user_id", "stable_id", "custom_ids", "value",
    "numeric_value", "properties", "user", "feature_flags", "secondary_exposures",
    "environment", "source", "time", "received_at",
]  # fmt: skip


def _exposure_line(project_id: int, unit: int, group: str, at: str) -> str:
    return (
        f"{uuid.uuid4()}\t{project_id}\tconfig\t{EXPERIMENT}\t\t{group}\t\t\tu{unit}\t\t{{}}\t{{}}"
        f"\t[]\tproduction\tstatsig_sdk\t{at}\t{at}\n"
    )


def _event_line(project_id: int, unit: int, name: str, value: float | None, at: str) -> str:
    text, number = (r"\N", r"\N") if value is None else (str(value), str(value))
    return (
        f"{uuid.uuid4()}\t{project_id}\t{name}\tu{unit}\t\t{{}}\t{text}\t{number}\t{{}}\t{{}}"
        f"\t{{}}\t[]\tproduction\tstatsig_http\t{at}\t{at}\n"
    )


def setup(*, units: int, events: int, seed: int) -> dict:
    from django.contrib.auth import get_user_model

    from analysis.services import metric_create
    from console.actors import Actor
    from console.models import Project
    from console.services.projects import project_create
    from flags.services.experiments import experiment_create

    teardown()
    owner, _ = get_user_model().objects.get_or_create(
        username="bench-pulse", defaults={"email": "bench-pulse@example.com"}
    )
    project, _keys = project_create(name=PROJECT_NAME, owner=owner)
    actor = Actor.for_user(owner, "admin")
    for metric in METRICS:
        metric_create(project=project, actor=actor, data=metric)
    experiment_create(
        project=project,
        actor=actor,
        name=EXPERIMENT,
        primary_metrics=[{"name": m["name"], "type": m["type"]} for m in METRICS],
    )
    loaded = load(project_id=project.pk, units=units, events=events, seed=seed)
    assert Project.objects.filter(pk=project.pk).exists()
    return loaded


def teardown() -> None:
    from django.db import connection

    from console.models import Project
    from events.models import Event, Exposure

    for project in Project.objects.filter(name=PROJECT_NAME):
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {Event._meta.db_table} WHERE project_id = %s", [project.pk]
            )
            cursor.execute(
                f"DELETE FROM {Exposure._meta.db_table} WHERE project_id = %s", [project.pk]
            )
        project.delete()


def _peak_rss_mb(pid: int | str = "self") -> float | None:
    """VmHWM (peak resident set) of a process, from /proc: unlike ``ru_maxrss`` it starts afresh
    at exec, so the loading done by the parent process does not count."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return None


def job() -> None:
    """Runs in a child process: only the job, then its numbers as JSON on stdout."""
    from django.db import connection

    from analysis.selectors import pulse_query, pulse_results
    from analysis.services import pulse_compute
    from flags.models import Experiment

    experiment = Experiment.objects.get(project__name=PROJECT_NAME, slug=EXPERIMENT)
    with connection.cursor() as cursor:
        cursor.execute("SELECT temp_bytes FROM pg_stat_database WHERE datname = current_database()")
        temp_before = cursor.fetchone()[0]
        cursor.execute("SELECT pg_backend_pid()")
        backend_pid = cursor.fetchone()[0]
    rss_before = _peak_rss_mb()
    backend_before = _peak_rss_mb(backend_pid)
    started = time.perf_counter()
    pulse_compute(experiment=experiment)
    seconds = time.perf_counter() - started
    results = pulse_results(experiment=experiment, query=pulse_query(experiment=experiment))
    with connection.cursor() as cursor:
        cursor.execute("SELECT temp_bytes FROM pg_stat_database WHERE datname = current_database()")
        temp_after = cursor.fetchone()[0]
    count = next(m for m in results["metrics"] if m["type"] == "event_count")
    plain = pulse_results(
        experiment=experiment, query=pulse_query(experiment=experiment, cuped=False)
    )

    def width(data: dict, metric_type: str) -> float:
        [comparison] = next(m for m in data["metrics"] if m["type"] == metric_type)["comparisons"]
        return round(comparison["ciHigh"] - comparison["ciLow"], 5)

    print(
        json.dumps(
            {
                "job_seconds": round(seconds, 2),
                "peak_rss_mb": _peak_rss_mb(),
                "rss_before_job_mb": rss_before,
                # The PostgreSQL backend that ran the job (same machine); its resident set
                # includes the shared buffers it touched.
                "postgres_backend_peak_rss_mb": _peak_rss_mb(backend_pid),
                "postgres_backend_rss_before_job_mb": backend_before,
                "postgres_temp_mb": round((temp_after - temp_before) / 2**20, 1),
                "exposures": results["exposures"],
                "srm_p": results["srm"]["pValue"],
                "purchases_lift": count["comparisons"][0]["relativeDelta"],
                "purchases_ci": [
                    count["comparisons"][0]["ciLow"],
                    count["comparisons"][0]["ciHigh"],
                ],
                # The 95% interval's width without and with CUPED (mean and ratio metrics).
                "interval_width_plain_cuped": {
                    metric_type: [width(plain, metric_type), width(results, metric_type)]
                    for metric_type in ("mean", "ratio")
                },
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--keep", action="store_true", help="leave the bench project")
    parser.add_argument("--reuse", action="store_true", help="time the job on loaded data")
    parser.add_argument("--job", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    import django

    django.setup()
    if args.job:
        job()
        return
    report: dict = {"units": args.units, "events": args.events}
    if not args.reuse:
        report.update(setup(units=args.units, events=args.events, seed=args.seed))
    child = subprocess.run(
        [sys.executable, __file__, "--job"], capture_output=True, text=True, check=True
    )
    report.update(json.loads(child.stdout.strip().splitlines()[-1]))
    print(json.dumps(report, indent=2))
    if not args.keep:
        teardown()


if __name__ == "__main__":
    main()
