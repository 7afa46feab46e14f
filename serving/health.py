"""``GET|POST /v1/ping``: the cheapest JSON answer behind the same API-key check as the SDK
endpoints (``statsig-api-key``, a server or client key, resolved from process memory by
``console.keycache``). Monitors use it to check that a key works; a POST body is parsed like the
evaluation endpoints parse theirs."""

from __future__ import annotations

from console import wire

MAX_BODY_BYTES = 64 * wire.KB
_OK = wire.dumps({"ok": True})


def ping(request: wire.Request) -> wire.Response:
    request.key(wire.SDK_KEYS)
    if request.method == "POST":
        body = request.body(MAX_BODY_BYTES)
        if body.strip():
            wire.loads(body)
    return wire.Response(_OK)
