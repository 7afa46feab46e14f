"""Statsig event endpoints: ``POST /v1/log_event`` and ``POST /v1/log_custom_exposure``.

Plain functions on the data-plane toolkit rather than DRF serializers: a body holds up to
10,000 events that are read once (gzip, deflate, br or zstd), validated field by field in
``events.ingest.statsig_parsing`` and written with one bulk statement per table; a serializer per
event would cost more than the write. Answers: 202 ``{"success": true, "accepted": n,
"dropped": m, "dropped_reasons": {...}}`` once committed; errors as ``{"success": false,
"status": <code>, "message": "..."}`` (``wire.STATSIG_EVENTS``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any

from console import wire
from events.bodies import sniffed
from events.entities import group_name_lookup
from events.ingest.statsig_parsing import (
    PayloadError,
    client_skew,
    parse_custom_exposures,
    parse_log_event,
)
from events.ingest.storable import count_dropped, keep_to_key_environments, storable_payload
from events.models import EventSource
from events.rows import now
from events.services import IngestBatch, ingest_parts

MAX_BODY_BYTES = 20 * wire.MB

# (payload, request=, project_id=, source=, received_at=, clean=) -> the request's parts, in
# order.
Parser = Callable[..., Iterable[IngestBatch]]


def _ingest(
    request: wire.Request, parse: Parser, list_key: str, source: Callable[..., str]
) -> wire.Response:
    key = request.key(wire.SDK_KEYS, request.header("STATSIG-API-KEY") or request.query.get("k"))
    received_at = now()
    body = sniffed(request.body(MAX_BODY_BYTES), limit=MAX_BODY_BYTES)
    payload, exact = wire.loads_lenient(body)
    payload, dropped = storable_payload(payload, list_key, exact=exact)
    # orjson read it and no NUL escape is in it: every value is storable as sent.
    clean = not exact or b"\\u0000" in body
    events_source = source(request, payload)
    try:
        parts = parse(
            payload,
            request=request,
            project_id=key.project_id,
            source=events_source,
            received_at=received_at,
            clean=clean,
        )
    except PayloadError as exc:
        raise wire.Refusal(exc.status, exc.message) from None
    # What the body check dropped is counted as a part of its own.
    checked = IngestBatch(project_id=key.project_id, source=events_source)
    count_dropped(checked, dropped)
    result = ingest_parts(
        project_id=key.project_id,
        source=events_source,
        parts=_filed(itertools.chain([checked], parts), key),
    )
    answer = {
        "success": True,
        "accepted": result.accepted,
        "dropped": result.dropped,
        "dropped_reasons": result.dropped_reasons,
    }
    return wire.json_response(answer, status=202)


def _filed(parts: Iterable[IngestBatch], key) -> Iterator[IngestBatch]:
    for part in parts:
        keep_to_key_environments(part, key)
        yield part


def _source(request: wire.Request, payload: object) -> str:
    metadata = payload.get("statsigMetadata") if isinstance(payload, dict) else None
    if request.header("STATSIG-SDK-TYPE") or (
        isinstance(metadata, dict) and metadata.get("sdkType")
    ):
        return EventSource.STATSIG_SDK
    return EventSource.STATSIG_HTTP


def _custom_source(_request: wire.Request, _payload: object) -> str:
    return EventSource.CUSTOM


def _skew(request: wire.Request, received_at: datetime):
    return client_skew(request.header("STATSIG-CLIENT-TIME") or None, received_at=received_at)


def _parse_log_event(
    payload: Any, *, request, project_id, source, received_at, clean
) -> Iterator[IngestBatch]:
    return parse_log_event(
        payload,
        project_id=project_id,
        source=source,
        received_at=received_at,
        skew=_skew(request, received_at),
        group_name_for=group_name_lookup(project_id),
        clean=clean,
    )


def _parse_custom_exposures(
    payload: Any, *, request, project_id, source, received_at, clean
) -> list[IngestBatch]:
    # Exposure rows are always cleaned (``events.rows.exposure_row``): ``clean`` changes nothing.
    return [
        parse_custom_exposures(
            payload,
            project_id=project_id,
            received_at=received_at,
            skew=_skew(request, received_at),
            group_name_for=group_name_lookup(project_id),
        )
    ]


def log_event(request: wire.Request) -> wire.Response:
    return _ingest(request, _parse_log_event, "events", _source)


def log_custom_exposure(request: wire.Request) -> wire.Response:
    return _ingest(request, _parse_custom_exposures, "exposures", _custom_source)
