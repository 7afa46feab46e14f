"""Statsig event endpoints: ``POST /v1/log_event`` and ``POST /v1/log_custom_exposure``.

Plain Django views rather than DRF serializers: a body holds up to 10,000 events that are read
once, validated field by field in ``events.ingest.statsig_parsing`` and written with one bulk statement per
table; a serializer per event would cost more than the write. Answers: 202 ``{"success": true,
"accepted": n, "dropped": m, "dropped_reasons": {...}}`` once committed; errors as
``{"success": false, "status": <code>, "message": "..."}``.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from events.bodies import BodyError, loads, maybe_gunzip, read_raw
from events.entities import group_name_lookup
from events.ingest.statsig_parsing import (
    PayloadError,
    client_skew,
    parse_custom_exposures,
    parse_log_event,
)
from events.keys import ingest_key
from events.models import EventSource
from events.rows import now
from events.services import IngestBatch, ingest_batch

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 20 * 1024 * 1024
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Allow-Headers": "*",
    "Access-Control-Max-Age": "86400",
}


def _json(body: dict, status: int) -> JsonResponse:
    response = JsonResponse(body, status=status)
    for header, value in CORS_HEADERS.items():
        response[header] = value
    return response


def error(status: int, message: str) -> JsonResponse:
    return _json({"success": False, "status": status, "message": message}, status)


def _accepted(batch: IngestBatch) -> JsonResponse:
    result = ingest_batch(batch=batch)
    return _json(
        {
            "success": True,
            "accepted": result.accepted,
            "dropped": result.dropped,
            "dropped_reasons": result.dropped_reasons,
        },
        202,
    )


def _statsig_endpoint(parse):
    @csrf_exempt
    def view(request: HttpRequest) -> JsonResponse:
        if request.method == "OPTIONS":
            return _json({}, 200)
        if request.method != "POST":
            return error(405, f"Method {request.method} is not allowed here; use POST.")
        key = ingest_key(request.headers.get("STATSIG-API-KEY") or request.GET.get("k"))
        if key is None:
            return error(
                401,
                "Invalid or missing API key: send a server secret or client key in the "
                "STATSIG-API-KEY header.",
            )
        received_at = now()
        try:
            raw = read_raw(request, limit=MAX_BODY_BYTES)
            raw = maybe_gunzip(
                raw,
                content_encoding=request.headers.get("Content-Encoding", ""),
                limit=MAX_BODY_BYTES,
            )
            payload = loads(raw)
            batch = parse(
                payload,
                request=request,
                project_id=key.project_id,
                received_at=received_at,
            )
        except BodyError as exc:
            if exc.status == 413:
                return error(413, "Request body is too large: the limit is 20 MB.")
            return error(exc.status, "The request body is not valid JSON.")
        except PayloadError as exc:
            return error(exc.status, exc.message)
        return _accepted(batch)

    return view


def _source(request: HttpRequest, payload: object) -> str:
    metadata = payload.get("statsigMetadata") if isinstance(payload, dict) else None
    if request.headers.get("STATSIG-SDK-TYPE") or (
        isinstance(metadata, dict) and metadata.get("sdkType")
    ):
        return EventSource.STATSIG_SDK
    return EventSource.STATSIG_HTTP


def _parse_log_event(payload, *, request, project_id, received_at) -> IngestBatch:
    return parse_log_event(
        payload,
        project_id=project_id,
        source=_source(request, payload),
        received_at=received_at,
        skew=client_skew(request.headers.get("STATSIG-CLIENT-TIME"), received_at=received_at),
        group_name_for=group_name_lookup(project_id),
    )


def _parse_custom_exposures(payload, *, request, project_id, received_at) -> IngestBatch:
    return parse_custom_exposures(
        payload,
        project_id=project_id,
        received_at=received_at,
        skew=client_skew(request.headers.get("STATSIG-CLIENT-TIME"), received_at=received_at),
        group_name_for=group_name_lookup(project_id),
    )


log_event = _statsig_endpoint(_parse_log_event)
log_custom_exposure = _statsig_endpoint(_parse_custom_exposures)
