"""Uploads of ID files into ID-list segments, processed in the background.

The browser's file is stored with the default file storage (``segment-uploads/<job>.txt``)
next to a small JSON state file (``<job>.json``: status, progress, counts, errors) that the
upload's progress panel polls. The Celery task reads the file in batches and calls
``segments.services.segment_ids_add`` (``segment_ids_reset`` first when the members are
replaced): the same service, audit entries and reviews as every other change of the list.

    job_id = queue_upload(project=..., actor=..., segment=..., upload=file, replace=False)
    upload_state(job_id)  # {"status": "running", "progress": 42, "added": 4200, ...}
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Iterator
from typing import Any

from celery import shared_task
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from console.actors import Actor
from console.models import Project
from segments.models import Segment

logger = logging.getLogger(__name__)

UPLOAD_DIR = "segment-uploads"
BATCH_SIZE = 50_000
HEADER_NAMES = {"id", "ids", "user_id", "userid", "unit_id", "unitid", "uid", "user"}


class UploadStatus:
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


def _data_path(job_id: str) -> str:
    return f"{UPLOAD_DIR}/{job_id}.txt"


def _state_path(job_id: str) -> str:
    return f"{UPLOAD_DIR}/{job_id}.json"


def _valid_job_id(job_id: str) -> bool:
    return bool(job_id) and len(job_id) <= 40 and all(c.isalnum() or c in "-_" for c in job_id)


def upload_state(job_id: str) -> dict[str, Any] | None:
    """The state of an upload, or None when there is no such job."""
    if not _valid_job_id(job_id):
        return None
    try:
        with default_storage.open(_state_path(job_id), "rb") as handle:
            return json.loads(handle.read().decode())
    except (FileNotFoundError, OSError, ValueError):
        return None


def _write_state(job_id: str, state: dict[str, Any]) -> None:
    path = _state_path(job_id)
    if default_storage.exists(path):
        default_storage.delete(path)
    default_storage.save(path, ContentFile(json.dumps(state).encode()))


def queue_upload(
    *, project: Project, actor: Actor, segment: Segment, upload, replace: bool = False
) -> str:
    """Stores the uploaded file and queues its processing once the request's transaction
    commits; returns the job id."""
    job_id = secrets.token_urlsafe(12)
    default_storage.save(_data_path(job_id), upload)
    _write_state(
        job_id,
        {
            "status": UploadStatus.QUEUED,
            "project_id": project.pk,
            "segment_id": segment.key,
            "user_id": actor.user.pk if actor.user is not None else None,
            "replace": bool(replace),
            "file_name": getattr(upload, "name", "") or "",
            "bytes": upload.size,
            "bytes_read": 0,
            "progress": 0,
            "ids_read": 0,
            "added": 0,
            "removed": 0,
            "reviews": [],
            "error": "",
            "created_at": timezone.now().isoformat(),
        },
    )
    transaction.on_commit(lambda: process_segment_upload.delay(job_id))
    return job_id


def _parse_line(line: str) -> str:
    value = line.split(",", 1)[0].split("\t", 1)[0].strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1].strip()
    return value


def _batches(handle, size: int) -> Iterator[tuple[list[str], int]]:
    """Ids of the file in batches, with the bytes read so far."""
    batch: list[str] = []
    read = 0
    first = True
    for raw in handle:
        read += len(raw)
        line = raw.decode("utf-8-sig" if first else "utf-8", errors="replace")
        value = _parse_line(line)
        if first:
            first = False
            if value.lower() in HEADER_NAMES:
                continue
        if value:
            batch.append(value)
        if len(batch) >= size:
            yield batch, read
            batch = []
    yield batch, read


def _actor(state: dict[str, Any], project: Project) -> Actor:
    from django.contrib.auth import get_user_model

    from console import selectors

    user = get_user_model().objects.filter(pk=state.get("user_id")).first()
    role = selectors.member_role(user=user, project=project) if user is not None else None
    if role is None:
        raise PermissionError("The member who uploaded the file has left the project.")
    return Actor.for_user(user, role)


@shared_task(name="segments.tasks_ui.process_segment_upload", ignore_result=True)
def process_segment_upload(job_id: str) -> None:
    """Adds the ids of an uploaded file to its segment in batches, through the service."""
    from console.errors import DomainError
    from segments import services

    state = upload_state(job_id)
    if state is None or state["status"] not in (UploadStatus.QUEUED, UploadStatus.RUNNING):
        return
    state["status"] = UploadStatus.RUNNING
    _write_state(job_id, state)
    try:
        project = Project.objects.get(pk=state["project_id"])
        actor = _actor(state, project)
        replace = state["replace"]
        with default_storage.open(_data_path(job_id), "rb") as handle:
            for batch, read in _batches(handle, BATCH_SIZE):
                if batch or replace:
                    service = services.segment_ids_reset if replace else services.segment_ids_add
                    outcome = service(
                        project=project, actor=actor, segment_id=state["segment_id"], ids=batch
                    )
                    replace = False
                    if outcome.review is not None:
                        state["reviews"].append(outcome.review.public_id)
                    elif outcome.result is not None:
                        state["added"] += outcome.result.added
                        state["removed"] += outcome.result.removed
                state["ids_read"] += len(batch)
                state["bytes_read"] = read
                state["progress"] = min(99, int(read * 100 / max(state["bytes"], 1)))
                _write_state(job_id, state)
        state["status"] = UploadStatus.DONE
        state["progress"] = 100
    except DomainError as error:
        state["status"] = UploadStatus.FAILED
        state["error"] = error.message
    except Exception as error:
        logger.exception("segment upload failed job=%s", job_id)
        state["status"] = UploadStatus.FAILED
        state["error"] = str(error) if isinstance(error, PermissionError) else "Unexpected error."
    finally:
        if default_storage.exists(_data_path(job_id)):
            default_storage.delete(_data_path(job_id))
    _write_state(job_id, state)
