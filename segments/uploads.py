"""Uploads of ID files into ID-list segments, read in the background and resumable after a crash.

The browser's file is stored with the default file storage (``segment-uploads/<job>.txt``)
next to a small JSON state file (``<job>.json``: status, progress, counts, errors, heartbeat)
that the upload's progress panel polls. A run reads the file in batches and calls
``segments.services.segment_ids_add`` (``segment_ids_reset`` first when the members are
replaced): the same service, audit entries and reviews as every other change of the list.

    job_id = upload_create(project=..., actor=..., segment=..., upload=file, replace=False)
    upload_process(job_id)  # in the Celery task queued on commit
    upload_state(job_id)  # {"status": "running", "progress": 42, "added": 4200, ...}

A worker can die mid-file (a deploy, an out-of-memory kill), and the broker hands its message
back only after its visibility timeout, an hour. So each batch is resumable on its own: its
service call and a ``pending`` note in the state happen in one database transaction, the note
naming the audit entry (or review) the service wrote in it. Once the transaction commits, the
note is folded into the state: the byte offset reached, the counts, the reset done. A run that
finds a note left behind looks its audit entry up: a committed batch is counted once, an
uncommitted one is read again. No batch is lost, none is counted twice, and the reset of a
replacing upload never happens twice.

One run at a time works on a job: it holds a lock in the cache (shared between processes when
``REDIS_URL`` is set) and checks it before each state write. ``upload_reclaim_stalled`` (every
minute, from beat) breaks the lock of a job whose state has not been written for
``SEGMENT_UPLOAD_STALL_SECONDS`` so that a new run can take it over.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from console import selectors as console_selectors
from console.actors import Actor
from console.errors import DomainError
from console.models import AuditLog, Project
from console.services.reviews import ChangeOutcome
from segments import services
from segments.models import Segment

logger = logging.getLogger(__name__)

UPLOAD_DIR = "segment-uploads"
BATCH_SIZE = 50_000
HEADER_NAMES = {"id", "ids", "user_id", "userid", "unit_id", "unitid", "uid", "user"}
# Only a run that died without the sweeper noticing (no beat running) holds its job this long;
# shorter than the broker's visibility timeout, so that the redelivered message finds it free.
LOCK_SECONDS = 30 * 60
_READ_CHUNK = 64 * 1024


class UploadStatus:
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


_UNFINISHED = (UploadStatus.QUEUED, UploadStatus.RUNNING)


class UploadLockLost(Exception):
    """The run's lock expired or was broken and another run may own the job now."""


def _data_path(job_id: str) -> str:
    return f"{UPLOAD_DIR}/{job_id}.txt"


def _state_path(job_id: str) -> str:
    return f"{UPLOAD_DIR}/{job_id}.json"


def _state_copy_path(job_id: str) -> str:
    return f"{UPLOAD_DIR}/{job_id}.json.copy"


def _valid_job_id(job_id: str) -> bool:
    return bool(job_id) and len(job_id) <= 40 and all(c.isalnum() or c in "-_" for c in job_id)


def _read_json(path: str) -> dict[str, Any] | None:
    try:
        with default_storage.open(path, "rb") as handle:
            return json.loads(handle.read().decode())
    except (FileNotFoundError, OSError, ValueError):
        return None


def upload_state(job_id: str) -> dict[str, Any] | None:
    """The state of an upload, or None when there is no such job."""
    if not _valid_job_id(job_id):
        return None
    # While the state is being replaced (or after a run died doing it) the copy holds it whole.
    return _read_json(_state_path(job_id)) or _read_json(_state_copy_path(job_id))


def _replace_file(path: str, content: bytes) -> None:
    if default_storage.exists(path):
        default_storage.delete(path)
    default_storage.save(path, ContentFile(content))


def _write_state(job_id: str, state: dict[str, Any]) -> None:
    """Writes the state twice, its copy first: a storage can't replace a file in one step, and a
    run killed between deleting the old state and saving the new one must not lose the job."""
    state["updated_at"] = timezone.now().isoformat()
    content = json.dumps(state).encode()
    _replace_file(_state_copy_path(job_id), content)
    _replace_file(_state_path(job_id), content)


def upload_create(
    *, project: Project, actor: Actor, segment: Segment, upload, replace: bool = False
) -> str:
    """Stores the uploaded file with a queued state; returns the job id."""
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
            "reset_done": False,
            "file_name": getattr(upload, "name", "") or "",
            "bytes": upload.size,
            "bytes_read": 0,
            "progress": 0,
            "ids_read": 0,
            "added": 0,
            "removed": 0,
            "reviews": [],
            "pending": None,
            "error": "",
            "created_at": timezone.now().isoformat(),
        },
    )
    return job_id


# -- the per-job lock ----------------------------------------------------------------------


def upload_lock_key(job_id: str) -> str:
    return f"segment-upload:{job_id}:lock"


def _lock_acquire(job_id: str) -> str | None:
    token = secrets.token_hex(8)
    return token if cache.add(upload_lock_key(job_id), token, timeout=LOCK_SECONDS) else None


def _lock_keep(job_id: str, token: str) -> None:
    key = upload_lock_key(job_id)
    if cache.get(key) != token:
        raise UploadLockLost(job_id)
    cache.touch(key, timeout=LOCK_SECONDS)


def _lock_release(job_id: str, token: str) -> None:
    key = upload_lock_key(job_id)
    if cache.get(key) == token:
        cache.delete(key)


# -- reading the file ----------------------------------------------------------------------


def _parse_line(line: str) -> str:
    value = line.split(",", 1)[0].split("\t", 1)[0].strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1].strip()
    return value


def _lines(handle) -> Iterator[bytes]:
    """The lines from the handle's position on, ending in \\n, \\r\\n or a lone \\r (Excel for
    Mac) as Django's ``File`` iterates them; its own iterator always starts over at byte 0."""
    rest = b""
    while chunk := handle.read(_READ_CHUNK):
        lines = (rest + chunk).splitlines(keepends=True)
        # The last line may go on in the next chunk (a final \r may be half of a \r\n).
        rest = lines.pop()
        yield from lines
    if rest:
        yield rest


def _batches(handle, size: int, *, start: int) -> Iterator[tuple[list[str], int]]:
    """Ids of the file from byte ``start`` (a line boundary) in batches, each with the offset
    where it ends. Only the file's first line may carry a byte-order mark or a header."""
    handle.seek(start)
    batch: list[str] = []
    read = start
    first = start == 0
    for raw in _lines(handle):
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


# -- processing ----------------------------------------------------------------------------


def _actor(state: dict[str, Any], project: Project) -> Actor:
    user = get_user_model().objects.filter(pk=state.get("user_id")).first()
    role = console_selectors.member_role(user=user, project=project) if user is not None else None
    if role is None:
        raise PermissionError("The member who uploaded the file has left the project.")
    return Actor.for_user(user, role)


def _receipt(outcome: ChangeOutcome, *, project: Project, segment_id: str) -> int | None:
    """The audit entry the service wrote in the current transaction: it exists once that
    transaction has committed, and never otherwise (ids are not reused)."""
    entries = AuditLog.objects.filter(
        project=project, entity_type=services.ENTITY_TYPE, entity_id=segment_id
    )
    if outcome.review is not None:
        entries = entries.filter(review=outcome.review)
    else:
        # The service holds the segment's row lock until we commit, so no other change of the
        # list can write an entry in between: the newest one is ours.
        entries = entries.filter(
            action_type__in=(services.ChangeType.IDS_ADD, services.ChangeType.IDS_RESET)
        )
    return entries.order_by("-pk").values_list("pk", flat=True).first()


def _settle(state: dict[str, Any]) -> None:
    """Folds the committed batch noted in ``pending`` into the state."""
    pending = state["pending"]
    state["pending"] = None
    if pending["review"] is not None:
        state["reviews"].append(pending["review"])
    state["added"] += pending["added"]
    state["removed"] += pending["removed"]
    state["ids_read"] += pending["ids"]
    state["bytes_read"] = pending["end"]
    state["reset_done"] = state.get("reset_done", False) or pending["reset"]
    state["progress"] = min(99, int(pending["end"] * 100 / max(state["bytes"], 1)))


def _recover(state: dict[str, Any]) -> None:
    """Settles or drops the batch a dead run left pending, by whether it committed."""
    pending = state.get("pending")
    if not pending:
        return
    if pending["receipt"] is not None and AuditLog.objects.filter(pk=pending["receipt"]).exists():
        _settle(state)
    else:
        state["pending"] = None


def _apply_batch(
    job_id: str,
    token: str,
    state: dict[str, Any],
    *,
    project: Project,
    actor: Actor,
    ids: list[str],
    end: int,
) -> None:
    reset = state["replace"] and not state.get("reset_done", False)
    service = services.segment_ids_reset if reset else services.segment_ids_add
    with transaction.atomic():
        outcome = service(project=project, actor=actor, segment_id=state["segment_id"], ids=ids)
        result = outcome.result
        state["pending"] = {
            "end": end,
            "ids": len(ids),
            "reset": reset,
            "added": result.added if result is not None else 0,
            "removed": result.removed if result is not None else 0,
            "review": outcome.review.public_id if outcome.review is not None else None,
            "receipt": _receipt(outcome, project=project, segment_id=state["segment_id"]),
        }
        _lock_keep(job_id, token)
        _write_state(job_id, state)
    _settle(state)
    _lock_keep(job_id, token)
    _write_state(job_id, state)


def _run(job_id: str, token: str) -> None:
    state = upload_state(job_id)
    if state is None or state["status"] not in _UNFINISHED:
        return
    state["status"] = UploadStatus.RUNNING
    try:
        _recover(state)
        _lock_keep(job_id, token)
        _write_state(job_id, state)
        project = Project.objects.get(pk=state["project_id"])
        actor = _actor(state, project)
        with default_storage.open(_data_path(job_id), "rb") as handle:
            for ids, end in _batches(handle, BATCH_SIZE, start=state["bytes_read"]):
                if ids or (state["replace"] and not state.get("reset_done", False)):
                    _apply_batch(
                        job_id, token, state, project=project, actor=actor, ids=ids, end=end
                    )
        state["status"] = UploadStatus.DONE
        state["progress"] = 100
    except UploadLockLost:
        raise
    except DomainError as error:
        state["status"] = UploadStatus.FAILED
        state["error"] = error.message
    except Exception as error:
        logger.exception("segment upload failed job=%s", job_id)
        state["status"] = UploadStatus.FAILED
        state["error"] = str(error) if isinstance(error, PermissionError) else "Unexpected error."
    _lock_keep(job_id, token)
    # The state first: a crash in between leaves a finished job's file for the sweeper to
    # delete, where the other order would leave a running job without its file.
    _write_state(job_id, state)
    if default_storage.exists(_data_path(job_id)):
        default_storage.delete(_data_path(job_id))


def upload_process(job_id: str) -> None:
    """Adds the ids of an uploaded file to its segment, from where the last committed batch
    ended; does nothing while another run holds the job."""
    if not _valid_job_id(job_id):
        return
    token = _lock_acquire(job_id)
    if token is None:
        logger.info("segment upload skipped job=%s reason=locked", job_id)
        return
    try:
        _run(job_id, token)
    except UploadLockLost:
        logger.warning("segment upload stopped job=%s reason=lock_lost", job_id)
    finally:
        _lock_release(job_id, token)


def _heartbeat(state: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(state.get("updated_at") or state["created_at"])


def upload_reclaim_stalled() -> list[str]:
    """The queued or running jobs whose state has not been written for
    ``SEGMENT_UPLOAD_STALL_SECONDS`` (their run died, or their message was lost), with their
    locks broken so that a new run can take them; the caller queues them again. Files of
    finished jobs that outlived them (a crash right after the last state write) are deleted."""
    try:
        _dirs, names = default_storage.listdir(UPLOAD_DIR)
    except FileNotFoundError:
        return []
    cutoff = timezone.now() - timedelta(seconds=settings.SEGMENT_UPLOAD_STALL_SECONDS)
    stalled: list[str] = []
    job_ids = {
        name.removesuffix(".json").removesuffix(".json.copy")
        for name in names
        if name.endswith((".json", ".json.copy"))
    }
    for job_id in sorted(job_ids):
        state = upload_state(job_id)
        if state is None:
            continue
        if state["status"] not in _UNFINISHED:
            if f"{job_id}.txt" in names:
                default_storage.delete(_data_path(job_id))
        elif _heartbeat(state) < cutoff:
            cache.delete(upload_lock_key(job_id))
            logger.warning("segment upload stalled job=%s status=%s", job_id, state["status"])
            stalled.append(job_id)
    return stalled
