"""Demo data for segments, made through the services."""

from __future__ import annotations

from console.actors import Actor
from console.models import Project
from segments import services
from segments.models import Segment, SegmentType


def seed_demo_data(*, project: Project, actor: Actor) -> None:
    """A rule-based segment (employees by email domain) and an ID list (beta testers).
    Running it again changes nothing."""
    if not Segment.objects.filter(project=project, key="employees").exists():
        services.segment_create(
            project=project,
            actor=actor,
            name="Employees",
            type=SegmentType.RULE_BASED,
            description="Everyone with a company email address.",
            tags=["internal"],
            rules=[
                {
                    "name": "Company email",
                    "passPercentage": 100,
                    "conditions": [
                        {
                            "type": "email",
                            "operator": "str_ends_with_any",
                            "targetValue": ["@example.com"],
                        }
                    ],
                }
            ],
        )
    if not Segment.objects.filter(project=project, key="beta_testers").exists():
        services.segment_create(
            project=project,
            actor=actor,
            name="Beta testers",
            type=SegmentType.ID_LIST,
            description="Users who opted in to early features.",
            tags=["beta"],
        )
        services.segment_ids_add(
            project=project,
            actor=Actor.system("Demo data"),
            segment_id="beta_testers",
            ids=[f"user-{n}" for n in range(1, 51)],
        )
