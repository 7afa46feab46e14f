"""Writes for user-data deletion: accepting a request, and the batch job that erases the data.

The job follows Sentry's deletions: requests are rows; a periodic task claims pending ones oldest
first, runs every registered eraser over them chunk by chunk (one set-based statement per chunk and
table, each chunk committed with the request's progress), and only when every eraser has finished
marks the request complete and wipes its id list in the same transaction. A worker that dies
mid-way leaves the request pending with its progress; the next run resumes from there (erasers are
idempotent, so redoing the interrupted chunk is harmless).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from celery import current_app
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from console.actors import Actor
from console.errors import ValidationError
from console.models import ActorType, ApiKey, Project, Role
from console.services.audit import audit_record
from console.validation import IdProblemKind, scan_ids, validate_text
from privacy.erasers import (
    CHUNK_SIZE,
    ERASED_MARKER,
    chunked,
    registered_erasers,
    replace_ids_in_json,
)
from privacy.locks import request_lock
from privacy.models import (
    DELETION_SLA,
    DUE_SOON,
    MAX_DELIMITER_LENGTH,
    MAX_ID_LENGTH,
    MAX_IDS_PER_REQUEST,
    MAX_REQUEST_ID_LENGTH,
    DeletionRequest,
    DeletionSource,
    DeletionStatus,
)
from privacy.unit_types import project_unit_types, resolve_unit_type

logger = logging.getLogger(__name__)

PROCESS_NOW_TASK = "privacy.tasks.process_deletions_now"

ENTITY_TYPE = "deletion_request"
SERVER_API_ACTOR_NAME = "SERVER API"
DEFAULT_DELIMITER = ","
#: Retry delays after a failure: 1 min, 2, 4, … capped (shorter when the due date is near).
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=6)
BACKOFF_MAX_DUE_SOON = timedelta(minutes=30)
#: How many requests held by other workers one claim skips before giving up.
CLAIM_ATTEMPTS = 100


def server_key_actor(api_key: ApiKey) -> Actor:
    """The actor for a request made with a server secret key."""
    return Actor(
        type=ActorType.API_KEY,
        name=SERVER_API_ACTOR_NAME,
        api_key=api_key,
        role=Role.ADMIN,
        respects_reviews=False,
    )


# ---------------------------------------------------------------------------------------------
# Submission


def _parse_request_id(value: Any) -> str:
    if value is None or value == "":
        return str(uuid.uuid4())
    request_id = validate_text(value, "request_id", max_length=MAX_REQUEST_ID_LENGTH)
    if not request_id.strip() or any(ord(ch) < 32 or ord(ch) == 127 for ch in request_id):
        raise ValidationError.for_field(
            "request_id", "request_id must be printable text (no control characters)."
        )
    return request_id


def _parse_delimiter(value: Any) -> str:
    if value is None:
        return DEFAULT_DELIMITER
    if not isinstance(value, str) or value == "":
        raise ValidationError.for_field("delimiter", "delimiter must be a non-empty string.")
    return validate_text(value, "delimiter", max_length=MAX_DELIMITER_LENGTH)


def parse_ids(raw: Any, delimiter: str) -> list[str]:
    """The distinct ids of a request, in the order sent; raises naming the problem.

    ``raw`` is one delimited string (``"1,2,3"``) or a JSON array of strings (numbers are taken
    as strings). Whitespace around each id and empty entries are ignored. Error messages never
    repeat an id.
    """
    if raw is None:
        raise ValidationError.for_field("ids", "ids is required: a delimited string of ids.")
    if isinstance(raw, str):
        values = raw.split(delimiter)
    elif isinstance(raw, list):
        values = raw
    else:
        raise ValidationError.for_field(
            "ids", "ids must be a delimited string (or a JSON array of strings)."
        )
    ids, problems = scan_ids(values, max_length=MAX_ID_LENGTH, numbers=(int,), drop_empty=True)
    for problem in problems:
        if problem.kind == IdProblemKind.NOT_A_STRING:
            path = f"ids[{problem.index}]"
            raise ValidationError.for_field(path, f"{path} must be a string.")
    if not ids and not problems:
        raise ValidationError.for_field("ids", "ids is empty: send at least one id to delete.")
    count = len(ids) + len(problems)
    if count > MAX_IDS_PER_REQUEST:
        raise ValidationError.for_field(
            "ids",
            f"ids has {count:,} ids; at most {MAX_IDS_PER_REQUEST:,} are accepted in one "
            "request. Split them into several requests.",
        )
    if problems:
        problem = problems[0]
        position = problem.index + 1
        if problem.kind == IdProblemKind.NUL:
            message = f"id number {position} contains a NUL character, which no id may hold."
        else:
            message = (
                f"id number {position} is {len(problem.value.strip())} characters long; ids are "
                f"at most {MAX_ID_LENGTH} characters."
            )
        raise ValidationError.for_field("ids", message)
    return ids


def _parse_unit_type(project: Project, value: Any) -> str:
    unit_type = validate_text(value, "unit_type", min_length=1)
    resolved = resolve_unit_type(project.pk, unit_type)
    if resolved is None:
        known = ", ".join(project_unit_types(project.pk))
        shown = unit_type if len(unit_type) <= 100 else unit_type[:100] + "…"
        raise ValidationError.for_field(
            "unit_type",
            f"unit_type '{shown}' is not a unit type of this project; use one of: {known}.",
        )
    return resolved


def deletion_request_submit(
    *,
    project: Project,
    actor: Actor,
    unit_type: Any,
    ids: Any,
    delimiter: Any = None,
    request_id: Any = None,
    source: str = DeletionSource.API,
) -> DeletionRequest:
    """Accept a deletion request, or raise ``ValidationError`` naming the field (nothing stored).

    A request, once accepted, cannot be cancelled or edited: there is no service for it.
    """
    request_id = _parse_request_id(request_id)
    delimiter = _parse_delimiter(delimiter)
    unit_type = _parse_unit_type(project, unit_type)
    id_list = parse_ids(ids, delimiter)
    duplicate = ValidationError.for_field(
        "request_id",
        f"request_id '{request_id}' was already used in this project; request ids must be unique.",
    )
    if DeletionRequest.objects.filter(project=project, request_id=request_id).exists():
        raise duplicate
    now = timezone.now()
    try:
        with transaction.atomic():
            request = DeletionRequest.objects.create(
                project=project,
                request_id=request_id,
                unit_type=unit_type,
                ids=id_list,
                id_count=len(id_list),
                delimiter=delimiter,
                source=source,
                submitted_by=actor.name[:200],
                received_at=now,
                due_at=now + DELETION_SLA,
            )
            audit_record(
                project=project,
                actor=actor,
                action_type="user_data_deletion_request_create",
                entity_type=ENTITY_TYPE,
                entity_id=request_id[:100],
                changes={
                    "unit_type": {"old": None, "new": unit_type},
                    "id_count": {"old": None, "new": len(id_list)},
                    "due_at": {"old": None, "new": request.due_at.isoformat()},
                },
            )
    except IntegrityError:  # the same request_id, submitted concurrently
        raise duplicate from None
    logger.info(
        "privacy.deletion.received project=%s request=%s unit_type=%s id_count=%d source=%s",
        project.pk,
        request.pk,
        unit_type,
        len(id_list),
        source,
    )
    return request


# ---------------------------------------------------------------------------------------------
# The batch job


@dataclass(frozen=True, slots=True)
class DeletionOutcome:
    pk: int
    project_id: int
    request_id: str
    unit_type: str
    id_count: int
    completed: bool
    due_soon: bool
    rows: int
    error: str = ""
    retry_at: datetime | None = None


def _safe_error(exc: BaseException, ids: Iterable[str]) -> str:
    """The exception as text with every id replaced, for ``last_error`` and logs."""
    id_set = set(ids)
    message, _ = replace_ids_in_json(f"{type(exc).__name__}: {exc}", id_set)
    message = str(message)
    for value in sorted(id_set, key=len, reverse=True):
        if len(value) >= 4 and value in message:
            message = message.replace(value, ERASED_MARKER)
    return message[:1000]


def _backoff(attempts: int, *, due_soon: bool) -> timedelta:
    delay = BACKOFF_BASE * (2 ** max(attempts - 1, 0))
    return min(delay, BACKOFF_MAX_DUE_SOON if due_soon else BACKOFF_MAX)


def _pending(*, now: datetime, project_id: int | None, only_due_soon: bool, respect_backoff: bool):
    queryset = DeletionRequest.objects.filter(status=DeletionStatus.PENDING)
    if project_id is not None:
        queryset = queryset.filter(project_id=project_id)
    if only_due_soon:
        queryset = queryset.filter(due_at__lte=now + DUE_SOON)
    if respect_backoff:
        queryset = queryset.filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    return queryset.order_by("received_at", "id")


def _claim_next(lock, *, exclude: set[int], **filters: Any) -> int | None:
    """Lock the oldest pending request no other worker holds; its pk, or None.

    One row at a time with ``FOR UPDATE SKIP LOCKED`` (PostgreSQL), so concurrent runs never wait
    for each other and each takes the next free request; the per-request lock (``privacy.locks``)
    then keeps it for the whole processing. Rows held that way are skipped too.
    """
    busy: set[int] = set()
    for _ in range(CLAIM_ATTEMPTS):
        queryset = _pending(now=timezone.now(), **filters).exclude(pk__in=exclude | busy)
        with transaction.atomic():
            if connection.features.has_select_for_update_skip_locked:
                queryset = queryset.select_for_update(skip_locked=True)
            pk = queryset.values_list("pk", flat=True).first()
            if pk is None:
                return None
            if not lock.try_acquire(pk):
                busy.add(pk)  # another worker is processing it
                continue
            # Still pending now that we hold it (another worker may have just completed it).
            if DeletionRequest.objects.filter(pk=pk, status=DeletionStatus.PENDING).exists():
                return pk
            lock.release(pk)
    return None


def deletion_process_pending(
    *,
    project_id: int | None = None,
    only_due_soon: bool = False,
    respect_backoff: bool = True,
    limit: int | None = None,
) -> list[DeletionOutcome]:
    """Erase the data of pending requests, oldest first; what happened to each one.

    Safe to run in several processes at once: each request is processed by one of them. A request
    that fails stays pending, is retried after a backoff, and does not stop the others.
    """
    lock = request_lock()
    outcomes: list[DeletionOutcome] = []
    seen: set[int] = set()
    while limit is None or len(outcomes) < limit:
        pk = _claim_next(
            lock,
            exclude=seen,
            project_id=project_id,
            only_due_soon=only_due_soon,
            respect_backoff=respect_backoff,
        )
        if pk is None:
            break
        seen.add(pk)
        try:
            outcomes.append(_process_claimed(pk))
        finally:
            lock.release(pk)
    if outcomes:
        logger.info(
            "privacy.deletion.batch processed=%d completed=%d failed=%d",
            len(outcomes),
            sum(o.completed for o in outcomes),
            sum(bool(o.error) for o in outcomes),
        )
    return outcomes


def _process_claimed(pk: int) -> DeletionOutcome:
    request = DeletionRequest.objects.get(pk=pk)
    now = timezone.now()
    due_soon = request.due_at - now <= DUE_SOON
    erasers = registered_erasers()
    chunks = list(chunked(request.ids, CHUNK_SIZE))
    progress: dict[str, dict[str, Any]] = {
        name: dict(step) for name, step in (request.progress or {}).items()
    }
    for eraser in erasers:
        progress.setdefault(
            eraser.name, {"chunks": len(chunks), "done": 0, "rows": 0, "finished": False}
        )
    started: dict[str, Any] = {"started_at": now, "progress": progress}
    if due_soon and request.due_soon_flagged_at is None:
        started["due_soon_flagged_at"] = now
    DeletionRequest.objects.filter(pk=pk).update(**started)
    logger.info(
        "privacy.deletion.started project=%s request=%s id_count=%d chunks=%d erasers=%d due_soon=%s",
        request.project_id,
        pk,
        request.id_count,
        len(chunks),
        len(erasers),
        due_soon,
    )

    def outcome(**kwargs: Any) -> DeletionOutcome:
        return DeletionOutcome(
            pk=pk,
            project_id=request.project_id,
            request_id=request.request_id,
            unit_type=request.unit_type,
            id_count=request.id_count,
            due_soon=due_soon,
            rows=sum(int(step.get("rows", 0)) for step in progress.values()),
            **kwargs,
        )

    current = ""
    try:
        for eraser in erasers:
            current = eraser.name
            step = progress[eraser.name]
            if step.get("finished"):
                continue
            step["chunks"] = len(chunks)
            for index in range(int(step.get("done", 0)), len(chunks)):
                with transaction.atomic():
                    rows = eraser(
                        project_id=request.project_id,
                        unit_type=request.unit_type,
                        ids=chunks[index],
                    )
                    step["done"] = index + 1
                    step["rows"] = int(step.get("rows", 0)) + rows
                    step["finished"] = step["done"] >= len(chunks)
                    DeletionRequest.objects.filter(pk=pk).update(progress=progress)
            if not step.get("finished"):
                step["finished"] = True
                DeletionRequest.objects.filter(pk=pk).update(progress=progress)
        current = ""
        completed = _complete(request, progress)
    except Exception as exc:
        attempts = request.attempts + 1
        error = _safe_error(exc, request.ids)
        if current:
            error = f"{current}: {error}"
        retry_at = timezone.now() + _backoff(attempts, due_soon=due_soon)
        DeletionRequest.objects.filter(pk=pk, status=DeletionStatus.PENDING).update(
            attempts=attempts, last_error=error, next_attempt_at=retry_at
        )
        logger.warning(
            "privacy.deletion.failed project=%s request=%s attempts=%d retry_at=%s error=%s",
            request.project_id,
            pk,
            attempts,
            retry_at.isoformat(),
            error,
        )
        return outcome(completed=False, error=error, retry_at=retry_at)
    return outcome(completed=completed)


def _complete(request: DeletionRequest, progress: dict[str, Any]) -> bool:
    """Mark complete and wipe the ids, once; False when another run completed it first."""
    now = timezone.now()
    with transaction.atomic():
        updated = DeletionRequest.objects.filter(
            pk=request.pk, status=DeletionStatus.PENDING
        ).update(
            status=DeletionStatus.COMPLETE,
            completed_at=now,
            ids=[],
            progress=progress,
            last_error="",
            next_attempt_at=None,
        )
        if not updated:
            return False
        rows = sum(int(step.get("rows", 0)) for step in progress.values())
        audit_record(
            project=request.project,
            actor=Actor.system("Privacy"),
            action_type="user_data_deletion_request_complete",
            entity_type=ENTITY_TYPE,
            entity_id=request.request_id[:100],
            changes={
                "status": {"old": DeletionStatus.PENDING, "new": DeletionStatus.COMPLETE},
                "rows_erased": {"old": None, "new": rows},
            },
        )
    logger.info(
        "privacy.deletion.completed project=%s request=%s id_count=%d rows=%d late=%s",
        request.project_id,
        request.pk,
        request.id_count,
        rows,
        now > request.due_at,
    )
    return True


def deletion_process_now_queue(*, project: Project, actor: Actor) -> None:
    """Queue the job for this project's pending requests once the current transaction commits."""
    project_id = project.pk
    logger.info("privacy.deletion.process_now project=%s actor=%s", project_id, actor.id)
    # By name: the task module imports this one (``PrivacyConfig.ready`` registers it).
    task = current_app.tasks[PROCESS_NOW_TASK]
    transaction.on_commit(lambda: task.delay(project_id))
