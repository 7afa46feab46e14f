"""``POST /v1/sdk_exception``: where Statsig SDKs report their own internal errors (the js-client's
error boundary, the server SDKs' ``sdk_exception`` calls). Recorded as a structured log line for
operators, never stored with user data; answered ``202 {"success": true}`` like Statsig does.

Client SDK logging itself needs no endpoint of its own: ``/v1/rgstr`` is ``log_event`` (the same
body, key in the ``k`` query for ``sendBeacon``, gzip by magic bytes for ``gz=1``).
"""

from __future__ import annotations

import json
import logging

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from console.jsonbody import JSON_PARSE_ERRORS
from events.bodies import BodyError, maybe_gunzip, read_raw
from events.keys import ingest_key

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 256 * 1024
# Reported fields kept in the log line, each cut to this many characters.
LOGGED_FIELDS = ("tag", "exception", "sdkType", "sdkVersion")
MAX_FIELD_CHARS = 200


def _answer(status: int, body: dict) -> JsonResponse:
    return JsonResponse(body, status=status)


def _error(status: int, message: str) -> JsonResponse:
    return _answer(status, {"success": False, "status": status, "message": message})


@csrf_exempt
def sdk_exception(request: HttpRequest) -> JsonResponse:
    if request.method != "POST":
        return _error(405, f"Method {request.method} is not allowed here; use POST.")
    key = ingest_key(request.headers.get("STATSIG-API-KEY") or request.GET.get("k"))
    if key is None:
        return _error(
            401,
            "Invalid or missing API key: send a server secret or client key in the "
            "STATSIG-API-KEY header.",
        )
    try:
        raw = read_raw(request, limit=MAX_BODY_BYTES)
        raw = maybe_gunzip(
            raw,
            content_encoding=request.headers.get("Content-Encoding", ""),
            limit=MAX_BODY_BYTES,
        )
        report = json.loads(raw)
    except BodyError as exc:
        return _error(exc.status, exc.detail)
    except JSON_PARSE_ERRORS:
        return _error(400, "The request body is not valid JSON.")
    if not isinstance(report, dict):
        return _error(400, "The request body must be a JSON object.")
    fields = {
        name: str(report.get(name) or request.headers.get(f"STATSIG-{name}") or "")[
            :MAX_FIELD_CHARS
        ]
        for name in LOGGED_FIELDS
    }
    logger.warning(
        "sdk exception project=%s sdk=%s/%s tag=%s exception=%s",
        key.project_id,
        fields["sdkType"],
        fields["sdkVersion"],
        fields["tag"],
        fields["exception"],
    )
    return _answer(202, {"success": True})
