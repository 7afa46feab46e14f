"""Statsig's user-data deletion endpoints under ``/v1/``:

- ``POST /v1/delete_user_data`` ``{"unit_type", "ids", "delimiter"?, "request_id"?}`` →
  ``{"request_id": "..."}``;
- ``POST /v1/get_delete_user_data_request_status`` ``{"request_id"}`` → ``PENDING``, ``COMPLETE``
  or ``UNKNOWN`` as plain text (Statsig's document shows the bare word), or with
  ``Accept: application/json`` ``{"request_id", "status", "received_at", "completed_at"}``.

Data-plane functions on ``console.wire``: only a project's active server secret key may call
them (``STATSIG-API-KEY`` header). Errors use the console's shape ``{"status", "message",
"errors": [{"property", "message"}]}``. There is no endpoint to cancel or edit a request, and
every other method answers 405.
"""

from __future__ import annotations

from typing import Any

from console import wire
from console.errors import ValidationError
from console.models import ApiKey, Project
from console.validation import validate_text
from privacy.models import MAX_REQUEST_ID_LENGTH, DeletionSource
from privacy.selectors import deletion_request_get, deletion_request_wire_status
from privacy.services import deletion_request_submit, server_key_actor

#: 10,000 ids of 256 characters with delimiters, and room for JSON escaping.
MAX_BODY_BYTES = 6 * wire.MB
DELETION_KEYS = wire.KeyPolicy(
    wire.SERVER_KEYS.kinds,
    wire.SERVER_KEYS.description,
    refused="cannot delete user data or read deletion requests",
)


def _field_error(exc: ValidationError) -> wire.Refusal:
    return wire.Refusal(400, exc.message, errors=[e.as_dict() for e in exc.errors])


def _body(request: wire.Request) -> dict[str, Any]:
    body = request.json_object(MAX_BODY_BYTES)
    if not body and not request.body(MAX_BODY_BYTES).strip():
        raise wire.Refusal(400, "Missing JSON body.")
    return body


def delete_user_data(request: wire.Request) -> wire.Response:
    key = request.key(DELETION_KEYS)
    body = _body(request)
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
        raise _field_error(exc) from None
    return wire.json_response({"request_id": deletion.request_id})


def _wants_json(request: wire.Request) -> bool:
    return "application/json" in request.header("Accept").lower()


def get_delete_user_data_request_status(request: wire.Request) -> wire.Response:
    key = request.key(DELETION_KEYS)
    body = _body(request)
    try:
        request_id = validate_text(
            body.get("request_id"), "request_id", min_length=1, max_length=MAX_REQUEST_ID_LENGTH
        )
    except ValidationError as exc:
        raise _field_error(exc) from None
    deletion = deletion_request_get(project_id=key.project_id, request_id=request_id)
    status = deletion_request_wire_status(deletion)
    if _wants_json(request):
        return wire.json_response(
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
    return wire.Response(status.encode(), content_type="text/plain; charset=utf-8")
