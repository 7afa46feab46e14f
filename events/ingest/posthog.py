"""PostHog capture endpoints: ``/capture/``, ``/batch/``, ``/e/``, ``/i/v0/e/``, ``/track/``.

Errors use PostHog's Django shape ``{"type", "code", "detail", "attr"}``; successes are exactly
HTTP 200 (the Python SDK treats anything else as a failure).
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from events.bodies import MB, BodyError, decode_posthog_body
from events.entities import entity_kind_lookup
from events.ingest.posthog_parsing import CaptureError, parse_capture, split_payload
from events.keys import ingest_key
from events.rows import now
from events.services import ingest_batch

logger = logging.getLogger(__name__)

BATCH_BODY_LIMIT = 20 * MB
EVENT_BODY_LIMIT = 2 * MB
INVALID_API_KEY = (
    "Project API key invalid. You can find your project API key in PostHog project settings."
)
MISSING_API_KEY = (
    "API key not provided. You can find your project API key in PostHog project settings."
)
NO_API_KEY = (
    "No project API key provided. You can find your project API key in PostHog project settings."
)


def with_cors(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    origin = request.headers.get("Origin")
    response["Access-Control-Allow-Origin"] = origin or "*"
    if origin:
        response["Access-Control-Allow-Credentials"] = "true"
        response["Vary"] = "Origin"
    response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
    response["Access-Control-Allow-Headers"] = request.headers.get(
        "Access-Control-Request-Headers", "Content-Type"
    )
    return response


def posthog_error(
    request: HttpRequest, status: int, type_: str, code: str, detail: str, attr: str | None = None
) -> HttpResponse:
    return with_cors(
        request,
        JsonResponse({"type": type_, "code": code, "detail": detail, "attr": attr}, status=status),
    )


def body_error(request: HttpRequest, exc: BodyError) -> HttpResponse:
    if exc.status == 413:
        return posthog_error(request, 413, "validation_error", "payload_too_large", exc.detail)
    return posthog_error(request, exc.status, "validation_error", exc.code, exc.detail)


def _check_project_id(request: HttpRequest, project_id: object, key_project: int) -> bool:
    """A ``project_id`` in the body or query must be the key's project (PostHog: integer)."""
    if project_id is None:
        project_id = request.GET.get("project_id")
    if project_id in (None, ""):
        return True
    try:
        return int(str(project_id)) == key_project
    except ValueError:
        return False


@csrf_exempt
def capture(request: HttpRequest, route: str = "capture") -> HttpResponse:
    if request.method == "OPTIONS":
        return with_cors(request, JsonResponse({"status": 1}))
    if request.method not in {"POST", "GET"}:
        return posthog_error(
            request, 405, "invalid_request", "method_not_allowed", "Use POST to send events."
        )
    limit = BATCH_BODY_LIMIT if route == "batch" else EVENT_BODY_LIMIT
    received_at = now()
    try:
        payload = decode_posthog_body(request, limit=limit)
        token, events, sent_at, project_id = split_payload(payload)
    except BodyError as exc:
        return body_error(request, exc)
    except CaptureError as exc:
        return posthog_error(
            request,
            exc.status,
            "authentication_error" if exc.status == 401 else "validation_error",
            exc.code,
            exc.detail,
            exc.attr,
        )
    token = token or request.GET.get("token") or request.GET.get("api_key")
    if not token:
        return posthog_error(
            request, 401, "authentication_error", "missing_api_key", MISSING_API_KEY
        )
    key = ingest_key(token)
    if key is None:
        return posthog_error(
            request, 401, "authentication_error", "invalid_api_key", INVALID_API_KEY
        )
    if not _check_project_id(request, project_id, key.project_id):
        return posthog_error(
            request, 400, "validation_error", "invalid_project", "Invalid Project ID.", "project_id"
        )
    batch = parse_capture(
        events,
        project_id=key.project_id,
        received_at=received_at,
        batch_sent_at=sent_at or request.GET.get("_"),
        entity_kind=entity_kind_lookup(key.project_id),
    )
    ingest_batch(batch=batch)
    return with_cors(request, JsonResponse({"status": 1}))
