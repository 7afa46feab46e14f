"""The public-endpoint toolkit of the data plane: framework-free requests and responses, key
policies, bodies (size limits, decompression), the error envelope of each protocol, CORS and the
WSGI dispatcher. Used by ``serving/``, ``events/ingest/`` and ``privacy/api/``; it lives in
``console`` because those three planes share it and ``serving`` already imports ``events``.

A data-plane function::

    from console import wire

    def check_gate(request: wire.Request) -> wire.Response:
        key = request.key(wire.SDK_KEYS)            # 401 in the route's protocol otherwise
        body = request.json_object(MAX_BODY_BYTES)  # 413 / 415 / 400 likewise
        ...
        return wire.json_response(answer)

registered in its package's ``routes.py`` (see docs/ARCHITECTURE.md).
"""

from console.wire.app import Application, Route, cors_headers, loggable_path
from console.wire.bodies import KB, MB, gunzip, loads, loads_lenient, size_label, too_large
from console.wire.errors import (
    BACKEND_OUTAGES,
    POSTHOG,
    RETRY_AFTER_SECONDS,
    STATSIG,
    STATSIG_EVENTS,
    Protocol,
    Refusal,
)
from console.wire.http import JSON, NOT_AN_OBJECT, Request, Response, dumps, json_response
from console.wire.keys import KEY_HEADER, SDK_KEYS, SERVER_KEYS, KeyPolicy, find_key
from console.wire.values import MAX_DEPTH, TooDeep, problem, repaired, require_storable

__all__ = [
    "BACKEND_OUTAGES",
    "JSON",
    "KB",
    "KEY_HEADER",
    "MAX_DEPTH",
    "MB",
    "NOT_AN_OBJECT",
    "POSTHOG",
    "RETRY_AFTER_SECONDS",
    "SDK_KEYS",
    "SERVER_KEYS",
    "STATSIG",
    "STATSIG_EVENTS",
    "Application",
    "KeyPolicy",
    "Protocol",
    "Refusal",
    "Request",
    "Response",
    "Route",
    "TooDeep",
    "cors_headers",
    "dumps",
    "find_key",
    "gunzip",
    "json_response",
    "loads",
    "loads_lenient",
    "loggable_path",
    "problem",
    "repaired",
    "require_storable",
    "size_label",
    "too_large",
]
