"""PostHog capture endpoints: ``/capture/``, ``/batch/``, ``/e/``, ``/i/v0/e/``, ``/track/``.

Errors use PostHog's Django shape ``{"type", "code", "detail", "attr"}`` (``wire.POSTHOG``);
successes are exactly HTTP 200 (the Python SDK treats anything else as a failure).
"""

from __future__ import annotations

import logging

import orjson

from console import wire
from events.bodies import decode_posthog_events
from events.entities import entity_kind_lookup
from events.ingest.posthog_parsing import CaptureError, parse_capture, split_payload
from events.ingest.storable import count_dropped, storable_events
from events.keys import MISSING_API_KEY, token_key
from events.rows import now
from events.services import ingest_batch

logger = logging.getLogger(__name__)

BATCH_BODY_LIMIT = 20 * wire.MB
EVENT_BODY_LIMIT = 2 * wire.MB
_OK = wire.dumps({"status": 1})


def _project_matches(request: wire.Request, project_id: object, key_project: int) -> bool:
    """A ``project_id`` in the body or query must be the key's project (PostHog: integer)."""
    if project_id is None:
        project_id = request.query.get("project_id")
    if project_id in (None, ""):
        return True
    try:
        return int(str(project_id)) == key_project
    except ValueError:
        return False


def _capture(request: wire.Request, limit: int) -> wire.Response:
    received_at = now()
    payload, exact = decode_posthog_events(request, limit=limit)
    try:
        token, events, sent_at, project_id = split_payload(payload)
    except CaptureError as exc:
        raise wire.Refusal(exc.status, exc.detail, code=exc.code, field=exc.attr) from None
    token = token or request.query.get("token") or request.query.get("api_key")
    key = token_key(token, missing_code="missing_api_key", missing_detail=MISSING_API_KEY)
    if not _project_matches(request, project_id, key.project_id):
        raise wire.Refusal(400, "Invalid Project ID.", code="invalid_project", field="project_id")
    events, dropped = storable_events(events, exact=exact)
    if not exact:
        sent_at = _repaired_or_none(sent_at)
    batch = parse_capture(
        events,
        project_id=key.project_id,
        received_at=received_at,
        batch_sent_at=sent_at or request.query.get("_"),
        entity_kind=entity_kind_lookup(key.project_id),
        # orjson read them and they hold no NUL: every value is storable as sent.
        clean=not exact or b"\\u0000" in orjson.dumps(events),
    )
    count_dropped(batch, dropped)
    ingest_batch(batch=batch)
    return wire.Response(_OK)


def _repaired_or_none(value: object) -> object:
    try:
        return wire.repaired(value)
    except wire.TooDeep:
        return None


def capture(request: wire.Request) -> wire.Response:
    """One event, or a few (``/capture/``, ``/e/``, ``/i/v0/e/``, ``/track/``): 2 MB at most."""
    return _capture(request, EVENT_BODY_LIMIT)


def batch(request: wire.Request) -> wire.Response:
    """``/batch/``: up to 20 MB of events."""
    return _capture(request, BATCH_BODY_LIMIT)
