"""Statsig's user-data deletion endpoints under ``/v1/``:

- ``POST /v1/delete_user_data`` ``{"unit_type", "ids", "delimiter"?, "request_id"?}`` →
  ``{"request_id": "..."}``;
- ``POST /v1/get_delete_user_data_request_status`` ``{"request_id"}`` → ``PENDING``, ``COMPLETE``
  or ``UNKNOWN`` as plain text (Statsig's document shows the bare word), or with
  ``Accept: application/json`` ``{"request_id", "status", "received_at", "completed_at"}``.

Only a project's active server secret key may call them (``STATSIG-API-KEY`` header). Errors use
the console's shape ``{"status", "message", "errors": [{"property", "message"}]}``. There is no
endpoint to cancel or edit a request, and every other method answers 405.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from console.errors import ValidationError
from console.jsonbody import JSON_PARSE_ERRORS, discard_unread_body
from console.keycache import ResolvedKey, resolve_api_key
from console.models import ApiKey, ApiKeyKind, Project
from console.validation import validate_text
from privacy.models import MAX_REQUEST_ID_LENGTH, DeletionSource
from privacy.selectors import deletion_request_get, deletion_request_wire_status
from privacy.services import deletion_request_submit, server_key_actor

API_KEY_HEADER = "STATSIG-API-KEY"
#: 10,000 ids of 256 characters with delimiters, and room for JSON escaping.
MAX_BODY_BYTES = 6 * 1024 * 1024

MISSING_KEY = "Missing API key: send a server secret key (secret-…) in the STATSIG-API-KEY header."
INVALID_KEY = "Invalid or inactive API key: send an active server secret key (secret-…)."
WRONG_KIND = (
    "This endpoint only accepts a server secret key (secret-…); {kind} keys cannot delete user "
    "data or read deletion requests."
)


def error(
    status: int, message: str, errors: list[dict[str, str]] | None = None, **headers: str
) -> JsonResponse:
    body: dict[str, Any] = {"status": status, "message": message}
    if errors:
        body["errors"] = errors
    response = JsonResponse(body, status=status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def _field_error(exc: ValidationError) -> JsonResponse:
    return error(400, exc.message, [e.as_dict() for e in exc.errors])


def _server_key(request: HttpRequest) -> ResolvedKey | JsonResponse:
    secret = (request.headers.get(API_KEY_HEADER) or "").strip()
    if not secret:
        return error(401, MISSING_KEY, WWW_Authenticate=API_KEY_HEADER)
    key = resolve_api_key(secret)
    if key is None or not key.is_active:
        return error(401, INVALID_KEY, WWW_Authenticate=API_KEY_HEADER)
    if key.kind != ApiKeyKind.SERVER:
        label = ApiKeyKind(key.kind).label.split()[0].lower()
        return error(401, WRONG_KIND.format(kind=label), WWW_Authenticate=API_KEY_HEADER)
    return key


def _json_body(request: HttpRequest) -> dict[str, Any] | JsonResponse:
    length = request.headers.get("Content-Length")
    if length and length.isdigit() and int(length) > MAX_BODY_BYTES:
        discard_unread_body(request)
        return error(413, f"Request body is too large (at most {MAX_BODY_BYTES:,} bytes).")
    raw = request.body
    if len(raw) > MAX_BODY_BYTES:
        return error(413, f"Request body is too large (at most {MAX_BODY_BYTES:,} bytes).")
    if not raw.strip():
        return error(400, "Missing JSON body.")
    try:
        body = json.loads(raw)
    except JSON_PARSE_ERRORS as exc:
        return error(400, f"Malformed JSON body: {exc}")
    if not isinstance(body, dict):
        return error(400, "The JSON body must be an object.")
    return body


def _post_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @csrf_exempt
    def wrapper(request: HttpRequest) -> HttpResponse:
        if request.method != "POST":
            return error(
                405,
                f"Method {request.method} is not allowed here; use POST. Deletion requests cannot "
                "be cancelled or edited.",
                Allow="POST",
            )
        key = _server_key(request)
        if isinstance(key, JsonResponse):
            return key
        body = _json_body(request)
        if isinstance(body, JsonResponse):
            return body
        return view(request, key, body)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


@_post_only
def delete_user_data(request: HttpRequest, key: ResolvedKey, body: dict[str, Any]) -> HttpResponse:
    project = Project.objects.get(pk=key.project_id)
    api_key = ApiKey.objects.get(pk=key.pk)
    try:
        deletion = deletion_request_submit(
            project=project,
            actor=server_key_actor(api_key),
            unit_type=body.get("unit_type"),
            ids=body.get("ids"),
            delimiter=body.get("delimiter"),
            request_id=body.get("request_id"),
            source=DeletionSource.API,
        )
    except ValidationError as exc:
        return _field_error(exc)
    return JsonResponse({"request_id": deletion.request_id}, status=200)


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "").lower()


@_post_only
def get_delete_user_data_request_status(
    request: HttpRequest, key: ResolvedKey, body: dict[str, Any]
) -> HttpResponse:
    try:
        request_id = validate_text(
            body.get("request_id"), "request_id", min_length=1, max_length=MAX_REQUEST_ID_LENGTH
        )
    except ValidationError as exc:
        return _field_error(exc)
    deletion = deletion_request_get(project_id=key.project_id, request_id=request_id)
    status = deletion_request_wire_status(deletion)
    if _wants_json(request):
        return JsonResponse(
            {
                "request_id": request_id,
                "status": status,
                "received_at": deletion.received_at.isoformat() if deletion else None,
                "completed_at": (
                    deletion.completed_at.isoformat()
                    if deletion and deletion.completed_at
                    else None
                ),
            }
        )
    return HttpResponse(status, content_type="text/plain; charset=utf-8")
