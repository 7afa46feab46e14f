"""``POST /v1/initialize``: the endpoint client SDKs (``@statsig/js-client`` and its kin)
initialise from, with a client SDK key.

The request, as the js-client sends it: the key in the ``STATSIG-API-KEY`` header or the ``k``
query parameter; the body JSON, or, with ``se=1``, the JSON base64-encoded and reversed
("statsig encoding"), and gzip when ``gz=1`` or the body starts with gzip's magic bytes. The body
holds ``user``, ``hash`` (djb2, sha256 or none; sha256 when absent), ``sinceTime``,
``previousDerivedFields`` and ``statsigMetadata`` (whose ``stableID`` is the user's stable id).

A thin view: the body is read and checked here, the answer is built by ``serving.initialize``
from the in-memory ruleset. No SQL after warm-up, no exposure (client SDKs log their own).
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from console.jsonbody import JSON_PARSE_ERRORS
from console.keycache import ResolvedKey, resolve_api_key
from console.models import ApiKeyKind
from evaluation import EvaluationUser, InvalidUserError
from events.bodies import BodyError, gunzip, is_gzip, read_raw
from ruleset import load as ruleset_load
from serving import initialize

MAX_BODY_BYTES = 1024 * 1024


class Refusal(Exception):
    """A 4xx answer: ``{"status", "message"[, "errors": [{"property", "message"}]]}``."""

    def __init__(self, status: int, message: str, prop: str | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.prop = prop

    def response(self) -> JsonResponse:
        body: dict[str, Any] = {"status": self.status, "message": self.message}
        if self.prop is not None:
            body["errors"] = [{"property": self.prop, "message": self.message}]
        return JsonResponse(body, status=self.status)


def client_key(secret: str | None) -> ResolvedKey:
    key = resolve_api_key((secret or "").strip())
    if key is None or not key.is_active:
        raise Refusal(
            401,
            "Invalid or missing API key: send an active client SDK key in the STATSIG-API-KEY "
            "header or the 'k' query parameter.",
        )
    if key.kind != ApiKeyKind.CLIENT:
        raise Refusal(401, "This endpoint only accepts a client SDK key (client-...).")
    return key


def decode_client_body(raw: bytes, *, gzipped: bool, statsig_encoded: bool) -> dict[str, Any]:
    """The JSON object of a client SDK body: gunzipped, then un-"statsig-encoded" (base64 of the
    JSON, reversed) when the query says so."""
    try:
        if gzipped or is_gzip(raw):
            raw = gunzip(raw, limit=MAX_BODY_BYTES)
    except BodyError as exc:
        raise Refusal(exc.status, exc.detail) from None
    if statsig_encoded:
        try:
            raw = base64.b64decode(raw.strip()[::-1], validate=True)
        except (binascii.Error, ValueError):
            raise Refusal(
                400, "The body is marked statsig-encoded (se=1) but is not reversed base64."
            ) from None
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except JSON_PARSE_ERRORS as exc:
        raise Refusal(400, f"Malformed JSON body: {exc}.") from None
    if not isinstance(body, dict):
        raise Refusal(400, "The body must be a JSON object.")
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
            "user.statsigEnvironment.tier",
        )
    return raw


def _since_time(body: dict[str, Any]) -> int:
    raw = body.get("sinceTime")
    if raw is None:
        return 0
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise Refusal(400, "sinceTime must be epoch milliseconds.", "sinceTime")
    try:
        return int(float(raw or 0))
    except (TypeError, ValueError, OverflowError):
        raise Refusal(400, "sinceTime must be epoch milliseconds.", "sinceTime") from None


def _hash_algorithm(body: dict[str, Any]) -> str:
    algorithm = body.get("hash", initialize.HASH_SHA256)
    if algorithm not in initialize.HASH_ALGORITHMS:
        raise Refusal(
            400,
            f"hash must be one of {', '.join(initialize.HASH_ALGORITHMS)}.",
            "hash",
        )
    return algorithm


def _user(body: dict[str, Any]) -> dict[str, Any]:
    raw = body.get("user", {})
    if not isinstance(raw, dict):
        raise Refusal(400, "user must be an object.", "user")
    return raw


def _evaluation_user(user: dict[str, Any]) -> EvaluationUser:
    try:
        return EvaluationUser.from_dict(user)
    except InvalidUserError as exc:
        message = str(exc).split(": ", 1)[-1]
        prop = "user" if exc.field == "user" else f"user.{exc.field}"
        raise Refusal(400, f"{prop}: {message}", prop) from None


def _previous_derived(body: dict[str, Any]) -> dict[str, Any] | None:
    previous = body.get("previousDerivedFields")
    return previous if isinstance(previous, dict) else None


@csrf_exempt
def initialize_view(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return Refusal(405, f"Method {request.method} is not allowed here; use POST.").response()
    try:
        key = client_key(request.headers.get("STATSIG-API-KEY") or request.GET.get("k"))
        try:
            raw = read_raw(request, limit=MAX_BODY_BYTES)
        except BodyError as exc:
            raise Refusal(exc.status, exc.detail) from None
        body = decode_client_body(
            raw,
            gzipped=request.GET.get("gz") == "1",
            statsig_encoded=request.GET.get("se") == "1",
        )
        hash_algorithm = _hash_algorithm(body)
        since_time = _since_time(body)
        loaded = ruleset_load.current(key.project_id)
        user_dict = _scoped_user(_user(body), key, loaded.default_environment)
        metadata = body.get("statsigMetadata")
        request_ip = request.META.get("REMOTE_ADDR") or None
        request_agent = request.headers.get("User-Agent") or None
        evaluated = initialize.evaluation_user_dict(
            user_dict,
            stable_id=metadata.get("stableID") if isinstance(metadata, dict) else None,
            request_ip=request_ip,
            request_agent=request_agent,
        )
        user = _evaluation_user(evaluated)
        derived = initialize.derived_fields(
            user_dict, request_ip=request_ip, request_user_agent=request_agent
        )
    except Refusal as refusal:
        return refusal.response()
    if initialize.is_current(
        loaded, since_time=since_time, derived=derived, previous_derived=_previous_derived(body)
    ):
        return JsonResponse(initialize.no_updates(loaded))
    return JsonResponse(
        initialize.initialize_response(
            loaded=loaded,
            user=user,
            user_dict=user_dict,
            hash_algorithm=hash_algorithm,
            derived=derived,
        )
    )
