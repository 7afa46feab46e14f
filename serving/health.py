"""``GET|POST /v1/ping``: the cheapest JSON answer that still goes through every middleware and
the same API-key authentication as the SDK endpoints (``statsig-api-key``, a server or client
key, resolved from process memory by ``console.keycache``). ``bench/http_floor.py`` measures it
as the floor of the stack; monitors can use it to check that a key works.
"""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from console.jsonbody import JSON_PARSE_ERRORS
from console.keycache import resolve_api_key
from console.models import ApiKeyKind

MAX_BODY_BYTES = 64 * 1024
PING_KEY_KINDS = frozenset({ApiKeyKind.SERVER, ApiKeyKind.CLIENT})


def _refusal(status: int, message: str) -> JsonResponse:
    return JsonResponse({"status": status, "message": message}, status=status)


@csrf_exempt
def ping(request: HttpRequest) -> HttpResponse:
    if request.method not in ("GET", "POST"):
        return _refusal(405, f"Method {request.method} is not allowed here; use GET or POST.")
    key = resolve_api_key(request.headers.get("statsig-api-key", ""))
    if key is None or not key.is_active or key.kind not in PING_KEY_KINDS:
        return _refusal(
            401, "Invalid or missing API key: send an active key in the statsig-api-key header."
        )
    if request.method == "POST":
        # Parse the body like the evaluation endpoints do, so the floor pays the same cost.
        raw = request.body
        if len(raw) > MAX_BODY_BYTES:
            return _refusal(413, f"Request body is too large: at most {MAX_BODY_BYTES} bytes.")
        if raw.strip():
            try:
                json.loads(raw)
            except JSON_PARSE_ERRORS:
                return _refusal(400, "Malformed JSON body.")
    return JsonResponse({"ok": True})
