"""What the review screen shows of a segment: the segment as its changes name its fields (the
audit snapshot: ``name``, ``isEnabled``, ``rules`` ...) and its member count, beside a change that
sets some of them. Registered in ``SegmentsConfig.ready()``."""

from __future__ import annotations

from typing import Any

from console.models import Project
from console.web.review_states import register_review_state
from segments.models import Segment
from segments.services.common import ENTITY_TYPE, snapshot


def segment_state(project: Project, entity_id: str) -> dict[str, Any] | None:
    segment = Segment.objects.filter(project=project, key=entity_id).first()
    if segment is None:
        return None
    return {**snapshot(segment), "idCount": segment.id_count}


def register() -> None:
    register_review_state(ENTITY_TYPE, current=segment_state, url_name="segment-detail")
