"""``POST /v1/initialize``: the endpoint client SDKs (``@statsig/js-client`` and its kin)
initialise from, with a client SDK key.

The request, as the js-client sends it: the key in the ``STATSIG-API-KEY`` header or the ``k``
query parameter; the body JSON, or, with ``se=1``, the JSON base64-encoded and reversed
("statsig encoding"), and gzip when ``gz=1`` or the body starts with gzip's magic bytes. The body
holds ``user``, ``hash`` (djb2, sha256 or none; sha256 when absent), ``sinceTime``,
``previousDerivedFields`` and ``statsigMetadata`` (whose ``stableID`` is the user's stable id).

A thin function on the data-plane toolkit: the body is read and checked here, the answer is
built by ``serving.initialize`` from the in-memory ruleset. No SQL after warm-up, no exposure
(client SDKs log their own).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from console import wire
from console.keycache import ResolvedKey
from console.models import ApiKeyKind
from evaluation import EvaluationUser, InvalidUserError
from events.bodies import is_gzip
from ruleset import load as ruleset_load
from serving import initialize
from serving.posthog import client_ip

MAX_BODY_BYTES = wire.MB
CLIENT_KEYS = wire.KeyPolicy(frozenset({ApiKeyKind.CLIENT}), "client SDK key (client-…)")
Refusal = wire.Refusal


def decode_client_body(raw: bytes, *, gzipped: bool, statsig_encoded: bool) -> dict[str, Any]:
    """The JSON object of a client SDK body (its ``Content-Encoding`` already undone): gunzipped
    when the query says ``gz=1`` (or the bytes are gzip), then un-"statsig-encoded" (base64 of
    the JSON, reversed) when it says ``se=1``."""
    if gzipped or is_gzip(raw):
        raw = wire.gunzip(raw, MAX_BODY_BYTES)
    if statsig_encoded:
        try:
            raw = base64.b64decode(raw.strip()[::-1], validate=True)
        except (binascii.Error, ValueError):
            raise Refusal(
                400, "The body is marked statsig-encoded (se=1) but is not reversed base64."
            ) from None
    if not raw.strip():
        return {}
    body = wire.loads(raw)
    if not isinstance(body, dict):
        raise Refusal(400, wire.NOT_AN_OBJECT)
    return body


def _scoped_user(
    raw: dict[str, Any], key: ResolvedKey, default_environment: str | None
) -> dict[str, Any]:
    """The user in an environment the key may evaluate in: a key limited to other environments
    than the default evaluates users who name none in its own first one."""
    environment = raw.get("statsigEnvironment")
    tier = environment.get("tier") if isinstance(environment, dict) else None
    if not key.environments:
        return raw
    if tier is None:
        if default_environment in key.environments:
            return raw
        return {**raw, "statsigEnvironment": {**(environment or {}), "tier": key.environments[0]}}
    if tier not in key.environments:
        raise Refusal(
            403,
            f"This key may not evaluate in environment '{tier}'.",
            field="user.statsigEnvironment.tier",
        )
    return raw


def _since_time(body: dict[str, Any]) -> int:
    raw = body.get("sinceTime")
    if raw is None:
        return 0
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise Refusal(400, "sinceTime must be epoch milliseconds.", field="sinceTime")
    try:
        return int(float(raw or 0))
    except (TypeError, ValueError, OverflowError):
        raise Refusal(400, "sinceTime must be epoch milliseconds.", field="sinceTime") from None


def _hash_algorithm(body: dict[str, Any]) -> str:
    algorithm = body.get("hash", initialize.HASH_SHA256)
    if algorithm not in initialize.HASH_ALGORITHMS:
        raise Refusal(
            400,
            f"hash must be one of {', '.join(initialize.HASH_ALGORITHMS)}.",
            field="hash",
        )
    return algorithm


def _user(body: dict[str, Any]) -> dict[str, Any]:
    raw = body.get("user", {})
    if not isinstance(raw, dict):
        raise Refusal(400, "user must be an object.", field="user")
    wire.require_storable(raw, "user")
    return raw


def _stable_id(body: dict[str, Any]) -> Any:
    metadata = body.get("statsigMetadata")
    stable_id = metadata.get("stableID") if isinstance(metadata, dict) else None
    wire.require_storable(stable_id, "statsigMetadata.stableID")
    return stable_id


def _evaluation_user(user: dict[str, Any]) -> EvaluationUser:
    try:
        return EvaluationUser.from_dict(user)
    except InvalidUserError as exc:
        message = str(exc).split(": ", 1)[-1]
        prop = "user" if exc.field == "user" else f"user.{exc.field}"
        raise Refusal(400, f"{prop}: {message}", field=prop) from None


def _previous_derived(body: dict[str, Any]) -> dict[str, Any] | None:
    previous = body.get("previousDerivedFields")
    return previous if isinstance(previous, dict) else None


def initialize_endpoint(request: wire.Request) -> wire.Response:
    key = request.key(CLIENT_KEYS, request.header(wire.KEY_HEADER) or request.query.get("k"))
    body = decode_client_body(
        request.body(MAX_BODY_BYTES),
        gzipped=request.query.get("gz") == "1",
        statsig_encoded=request.query.get("se") == "1",
    )
    hash_algorithm = _hash_algorithm(body)
    since_time = _since_time(body)
    loaded = ruleset_load.current(key.project_id)
    user_dict = _scoped_user(_user(body), key, loaded.default_environment)
    stable_id = _stable_id(body)
    # Behind a proxy or CDN, the browser's address is the first X-Forwarded-For hop (a client
    # that forges it only changes its own answer, as it could by sending user.ip).
    request_ip = client_ip(request)
    request_agent = request.header("User-Agent") or None
    evaluated = initialize.evaluation_user_dict(
        user_dict,
        stable_id=stable_id,
        request_ip=request_ip,
        request_agent=request_agent,
    )
    user = _evaluation_user(evaluated)
    derived = initialize.derived_fields(
        user_dict, request_ip=request_ip, request_user_agent=request_agent
    )
    if initialize.is_current(
        loaded, since_time=since_time, derived=derived, previous_derived=_previous_derived(body)
    ):
        return wire.json_response(initialize.no_updates(loaded))
    return wire.json_response(
        initialize.initialize_response(
            loaded=loaded,
            user=user,
            user_dict=user_dict,
            hash_algorithm=hash_algorithm,
            derived=derived,
        )
    )
