"""PostHog flag endpoints: ``/decide/``, ``/flags/`` and the local-evaluation definitions.

Errors use PostHog's Django shape ``{"type", "code", "detail", "attr"}``; successes are exactly
HTTP 200 (the Python SDK treats anything else as a failure).
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from console.middleware import BACKEND_OUTAGES
from events.bodies import MB, BodyError, decode_posthog_body
from events.entities import entity_index, loaded_ruleset
from events.ingest.posthog import (
    INVALID_API_KEY,
    NO_API_KEY,
    body_error,
    posthog_error,
    with_cors,
)
from events.ingest.posthog_parsing import token_of
from events.keys import ingest_key
from events.persons import person_properties
from serving.posthog_flags import (
    CONFIG_BLOCK,
    decide_body,
    evaluate_flags,
    evaluation_user,
    flags_body,
    statsig_user,
)

# ---------------------------------------------------------------------------------------------
# Local evaluation: we never hand out definitions (our entities are Statsig rulesets, not
# PostHog flag filters). An empty definition set makes the SDK evaluate every flag remotely.


EMPTY_DEFINITIONS = {"flags": [], "group_type_mapping": {}, "cohorts": {}}
EMPTY_DEFINITIONS_ETAG = '"' + hashlib.sha256(b"no-local-definitions").hexdigest()[:32] + '"'


@csrf_exempt
def flag_definitions(request: HttpRequest) -> HttpResponse:
    if request.method == "OPTIONS":
        return with_cors(request, HttpResponse(status=204))
    token = request.GET.get("token") or request.GET.get("api_key")
    if not token:
        return posthog_error(request, 401, "authentication_error", "no_api_key", NO_API_KEY)
    if ingest_key(token) is None:
        return posthog_error(
            request, 401, "authentication_error", "invalid_api_key", INVALID_API_KEY
        )
    if request.headers.get("If-None-Match") == EMPTY_DEFINITIONS_ETAG:
        response = HttpResponse(status=304)
    else:
        response = JsonResponse(EMPTY_DEFINITIONS)
    response["ETag"] = EMPTY_DEFINITIONS_ETAG
    return with_cors(request, response)


# ---------------------------------------------------------------------------------------------
# /decide and /flags: our entities evaluated from the in-memory ruleset. At most one query: the
# person's stored properties.

FLAG_BODY_LIMIT = 2 * MB
MISSING_DISTINCT_ID = "Decide requires a distinct_id."


def _version(request: HttpRequest, default: int) -> int:
    try:
        return int(request.GET.get("v", default))
    except (TypeError, ValueError):
        return default


def _truthy(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


def client_ip(request: HttpRequest) -> str | None:
    forwarded = (
        request.headers.get("X-Forwarded-For")
        or request.META.get("HTTP_HTTP_X_FORWARDED_FOR")  # the docs' literal header name
        or ""
    )
    first = forwarded.split(",")[0].strip()
    return first or request.META.get("REMOTE_ADDR") or None


def _distinct_id(body: dict) -> str | None:
    for key in ("distinct_id", "$distinct_id"):
        value = body.get(key)
        if value is None or isinstance(value, bool):
            continue
        if isinstance(value, str | int | float):
            return str(value)[:200]
        return json.dumps(value, separators=(",", ":"))[:200]
    return None


def _dict_of(body: dict, *keys: str) -> dict:
    for key in keys:
        value = body.get(key)
        if isinstance(value, dict):
            return value
    return {}


def _flag_response(request: HttpRequest, *, route: str) -> HttpResponse:
    if route == "decide":
        version, with_config = _version(request, 1), True
    else:
        version = _version(request, 2)
        with_config = "v" not in request.GET or _truthy(request.GET.get("config"))
    shape = decide_body if route == "decide" else flags_body

    def respond(outcomes: list, errors: bool) -> HttpResponse:
        body: dict = dict(CONFIG_BLOCK) if with_config else {}
        body.update(shape(version, outcomes, errors))
        body["requestId"] = str(uuid.uuid4())
        body["evaluatedAt"] = int(time.time() * 1000)
        return with_cors(request, JsonResponse(body))

    if request.method == "OPTIONS":
        return with_cors(request, HttpResponse(status=204))
    if request.method == "HEAD":
        return with_cors(request, HttpResponse(status=200))
    if request.method == "GET" and not request.GET.get("data"):
        return respond([], False)
    if request.method not in {"GET", "POST"}:
        return posthog_error(
            request, 405, "invalid_request", "method_not_allowed", "Use POST to evaluate flags."
        )
    try:
        body = decode_posthog_body(request, limit=FLAG_BODY_LIMIT)
    except BodyError as exc:
        if exc.status == 413:
            return body_error(request, exc)
        return posthog_error(request, 400, "validation_error", "malformed_data", exc.detail)
    if isinstance(body, list):
        body = body[0] if body and isinstance(body[0], dict) else {}
    if not isinstance(body, dict):
        return posthog_error(
            request,
            400,
            "validation_error",
            "malformed_data",
            "Malformed request data: not an object.",
        )
    token = token_of(body) or request.GET.get("token") or request.GET.get("api_key")
    if not token:
        return posthog_error(request, 401, "authentication_error", "no_api_key", NO_API_KEY)
    key = ingest_key(token)
    if key is None:
        return posthog_error(
            request, 401, "authentication_error", "invalid_api_key", INVALID_API_KEY
        )
    distinct_id = _distinct_id(body)
    if distinct_id is None:
        return posthog_error(
            request, 400, "validation_error", "missing_distinct_id", MISSING_DISTINCT_ID
        )
    if _truthy(body.get("disable_flags")):
        return respond([], False)
    loaded = loaded_ruleset(key.project_id)
    index = entity_index(key.project_id, loaded) if loaded is not None else None
    if index is None:
        return respond([], True)
    overrides = _dict_of(body, "person_properties", "$properties")
    stored, properties_failed = {}, False
    if not _truthy(request.GET.get("only_use_override_person_properties")):
        try:
            stored = person_properties(project_id=key.project_id, distinct_id=distinct_id)
        except BACKEND_OUTAGES:
            # The database is down: flags still come from the in-memory ruleset, with the
            # request's own properties, and the answer says some may be off.
            properties_failed = True
    device_id = body.get("device_id") or body.get("$device_id") or overrides.get("$device_id")
    user = statsig_user(
        distinct_id=distinct_id,
        properties={**stored, **overrides},
        groups=_dict_of(body, "groups", "$groups"),
        group_properties=_dict_of(body, "group_properties", "$group_properties"),
        device_id=str(device_id) if isinstance(device_id, str | int) and device_id else None,
        ip=None if _truthy(body.get("geoip_disable")) else client_ip(request),
    )
    keys = body.get("flag_keys_to_evaluate") or body.get("flag_keys")
    keys = [str(k) for k in keys] if isinstance(keys, list) else None
    outcomes = evaluate_flags(loaded.ruleset, index, evaluation_user(user), keys)
    return respond(outcomes, properties_failed or any(o.failed for o in outcomes))


@csrf_exempt
def decide(request: HttpRequest) -> HttpResponse:
    return _flag_response(request, route="decide")


@csrf_exempt
def feature_flags(request: HttpRequest) -> HttpResponse:
    return _flag_response(request, route="flags")
