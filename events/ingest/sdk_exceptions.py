"""``POST /v1/sdk_exception``: where Statsig SDKs report their own internal errors (the js-client's
error boundary, the server SDKs' ``sdk_exception`` calls). Recorded as a structured log line for
operators, never stored with user data; answered ``202 {"success": true}`` like Statsig does.

Client SDK logging itself needs no function of its own: ``/v1/rgstr`` is ``log_event`` (the same
body, key in the ``k`` query for ``sendBeacon``, gzip by magic bytes for ``gz=1``).
"""

from __future__ import annotations

import logging

from console import wire
from events.bodies import sniffed

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 256 * wire.KB
# Reported fields kept in the log line, each cut to this many characters.
LOGGED_FIELDS = ("tag", "exception", "sdkType", "sdkVersion")
MAX_FIELD_CHARS = 200


def sdk_exception(request: wire.Request) -> wire.Response:
    key = request.key(wire.SDK_KEYS, request.header(wire.KEY_HEADER) or request.query.get("k"))
    report = wire.loads(sniffed(request.body(MAX_BODY_BYTES), limit=MAX_BODY_BYTES))
    if not isinstance(report, dict):
        raise wire.Refusal(400, wire.NOT_AN_OBJECT)
    fields = {
        name: str(report.get(name) or request.header(f"STATSIG-{name}") or "")[:MAX_FIELD_CHARS]
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
    return wire.json_response({"success": True}, status=202)
