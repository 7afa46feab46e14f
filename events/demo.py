"""Demo data for the Events screen: two weeks of custom events, exposures of the project's gates
and experiments (or of example names when it has none yet), a few persons and a group, and some
dropped events. Written through ``ingest_batch``, like the ingestion endpoints."""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta

from console.actors import Actor
from console.models import Project
from events.entities import EXPERIMENT, GATE, entity_index
from events.models import DropReason, Event, EventSource, ExposureKind
from events.persons import GroupOp, PersonOp
from events.rows import event_row, exposure_row, now
from events.services import IngestBatch, ingest_batch

DEMO_DAYS = 14
DEMO_USERS = 40
EVENT_NAMES = ("page_view", "add_to_cart", "purchase", "signup")


def _entities(project: Project) -> tuple[list[str], dict[str, list[str]]]:
    gates: list[str] = []
    experiments: dict[str, list[str]] = {}
    index = entity_index(project.pk)
    if index is not None:
        for name, entity in index.entities.items():
            if entity.kind == GATE:
                gates.append(name)
            elif entity.kind == EXPERIMENT:
                groups = sorted(set(index.rule_groups.get(name, {}).values()))
                experiments[name] = groups or ["Control", "Test"]
    if not gates:
        gates = ["new_checkout"]
    if not experiments:
        experiments = {"checkout_button_color": ["Control", "Test"]}
    return sorted(gates)[:3], dict(sorted(experiments.items())[:2])


def seed_demo_data(*, project: Project, actor: Actor) -> None:
    """Idempotent: a project that already has events is left alone."""
    if Event.objects.filter(project_id=project.pk).exists():
        return
    rng = random.Random(project.pk)
    received = now()
    gates, experiments = _entities(project)
    statsig = IngestBatch(project_id=project.pk, source=EventSource.STATSIG_SDK)
    for day in range(DEMO_DAYS):
        for _ in range(rng.randint(20, 40)):
            user_id = f"demo-user-{rng.randrange(DEMO_USERS)}"
            when = received - timedelta(days=day, minutes=rng.randrange(24 * 60))
            name = rng.choices(EVENT_NAMES, weights=(8, 4, 2, 1))[0]
            user = {"userID": user_id, "statsigEnvironment": {"tier": "production"}}
            statsig.events.append(
                event_row(
                    project_id=project.pk,
                    name=name,
                    source=EventSource.STATSIG_SDK,
                    time=when,
                    received_at=received,
                    user_id=user_id,
                    value=round(rng.uniform(5, 80), 2) if name == "purchase" else None,
                    properties={"path": "/checkout"} if name != "signup" else {},
                    user=user,
                    environment="production",
                )
            )
            time_ms = int(when.timestamp() * 1000)
            gate = rng.choice(gates)
            exposure = {
                "kind": ExposureKind.GATE,
                "name": gate,
                "rule_id": "demo",
                "value": rng.random() < 0.5,
                "user": user,
                "time": time_ms,
                "source": EventSource.STATSIG_SDK,
            }
            statsig.exposures.append(exposure_row(project.pk, exposure, received_at=received))
            experiment, groups = rng.choice(list(experiments.items()))
            exposure = {
                "kind": ExposureKind.CONFIG,
                "name": experiment,
                "rule_id": "demo",
                "group_name": rng.choice(groups),
                "user": user,
                "time": time_ms,
                "source": EventSource.STATSIG_SDK,
            }
            statsig.exposures.append(exposure_row(project.pk, exposure, received_at=received))
    statsig.drops = Counter({DropReason.MISSING_UNIT_ID: 3, DropReason.SDK_DIAGNOSTICS: 5})
    ingest_batch(batch=statsig)

    posthog = IngestBatch(project_id=project.pk, source=EventSource.POSTHOG)
    for i in range(5):
        distinct_id = f"demo-user-{i}"
        posthog.events.append(
            event_row(
                project_id=project.pk,
                name="$pageview",
                source=EventSource.POSTHOG,
                time=received - timedelta(minutes=i),
                received_at=received,
                user_id=distinct_id,
                custom_ids={"company": "acme"},
                properties={"$current_url": "https://example.com/pricing", "$lib": "web"},
                feature_flags={gates[0]: True},
            )
        )
        posthog.person_ops.append(
            PersonOp(
                "identify",
                distinct_id,
                other_id=f"anon-{i}",
                set={"email": f"user{i}@example.com", "plan": "pro" if i % 2 else "free"},
            )
        )
    posthog.group_ops.append(GroupOp("company", "acme", set={"name": "Acme", "employees": 120}))
    posthog.drops = Counter({DropReason.MISSING_DISTINCT_ID: 2})
    ingest_batch(batch=posthog)
