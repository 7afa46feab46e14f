"""PostHog flag endpoints: ``/decide/``, ``/flags/`` and the local-evaluation definitions.

Errors use PostHog's Django shape ``{"type", "code", "detail", "attr"}`` (``wire.POSTHOG``);
successes are exactly HTTP 200 (the Python SDK treats anything else as a failure). After
warm-up an answer costs no SQL: the ruleset is in memory and a person's stored properties come
from the process's cache (``events.persons.cached_person_properties``).
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid

from console import wire
from events.bodies import decode_posthog_body
from events.entities import entity_index, loaded_ruleset
from events.ingest.posthog_parsing import token_of
from events.keys import NO_API_KEY, token_key
from events.persons import cached_person_properties
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


EMPTY_DEFINITIONS = wire.dumps({"flags": [], "group_type_mapping": {}, "cohorts": {}})
EMPTY_DEFINITIONS_ETAG = '"' + hashlib.sha256(b"no-local-definitions").hexdigest()[:32] + '"'


def flag_definitions(request: wire.Request) -> wire.Response:
    token = request.query.get("token") or request.query.get("api_key")
    token_key(token, missing_code="no_api_key", missing_detail=NO_API_KEY)
    headers = [("ETag", EMPTY_DEFINITIONS_ETAG)]
    if request.header("If-None-Match") == EMPTY_DEFINITIONS_ETAG:
        return wire.Response(b"", status=304, content_type=None, headers=headers)
    return wire.Response(EMPTY_DEFINITIONS, headers=headers)


# ---------------------------------------------------------------------------------------------
# /decide and /flags: our entities evaluated from the in-memory ruleset.

FLAG_BODY_LIMIT = 2 * wire.MB
MISSING_DISTINCT_ID = "Decide requires a distinct_id."


def _version(request: wire.Request, default: int) -> int:
    try:
        return int(request.query.get("v", default))
    except (TypeError, ValueError):
        return default


def _truthy(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


def client_ip(request: wire.Request) -> str | None:
    forwarded = (
        request.header("X-Forwarded-For")
        or request.header("HTTP-X-Forwarded-For")  # the docs' literal header name
    )
    first = forwarded.split(",")[0].strip()
    return first or request.remote_addr


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


def _key_environment(key, loaded) -> str | None:
    """A key limited to environments evaluates in them, as on ``/v1/check_gate``: its first one
    when the document's default environment is not among them."""
    if key.environments and loaded.default_environment not in key.environments:
        return key.environments[0]
    return None


def _flag_response(request: wire.Request, *, route: str) -> wire.Response:
    if route == "decide":
        version, with_config = _version(request, 1), True
    else:
        version = _version(request, 2)
        with_config = "v" not in request.query or _truthy(request.query.get("config"))
    shape = decide_body if route == "decide" else flags_body

    def respond(outcomes: list, errors: bool) -> wire.Response:
        body: dict = dict(CONFIG_BLOCK) if with_config else {}
        body.update(shape(version, outcomes, errors))
        body["requestId"] = str(uuid.uuid4())
        body["evaluatedAt"] = int(time.time() * 1000)
        return wire.json_response(body)

    if request.method == "HEAD":
        return wire.Response(b"")
    if request.method == "GET" and not request.query.get("data"):
        return respond([], False)
    try:
        body = decode_posthog_body(request, limit=FLAG_BODY_LIMIT)
    except wire.Refusal as exc:
        if exc.status != 400:
            raise
        raise wire.Refusal(400, exc.message, code="malformed_data", field=exc.field) from None
    if isinstance(body, list):
        body = body[0] if body and isinstance(body[0], dict) else {}
    if not isinstance(body, dict):
        raise wire.Refusal(400, "Malformed request data: not an object.", code="malformed_data")
    token = token_of(body) or request.query.get("token") or request.query.get("api_key")
    key = token_key(token, missing_code="no_api_key", missing_detail=NO_API_KEY)
    distinct_id = _distinct_id(body)
    if distinct_id is None:
        raise wire.Refusal(400, MISSING_DISTINCT_ID, code="missing_distinct_id")
    if _truthy(body.get("disable_flags")):
        return respond([], False)
    loaded = loaded_ruleset(key.project_id)
    index = entity_index(key.project_id, loaded) if loaded is not None else None
    if index is None:
        return respond([], True)
    overrides = _dict_of(body, "person_properties", "$properties")
    groups = _dict_of(body, "groups", "$groups")
    group_properties = _dict_of(body, "group_properties", "$group_properties")
    # The same rules for the user as every evaluation endpoint: refuse what could not be stored.
    for field, value in (
        ("distinct_id", distinct_id),
        ("person_properties", overrides),
        ("groups", groups),
        ("group_properties", group_properties),
    ):
        wire.require_storable(value, field, code="malformed_data")
    stored, properties_failed = {}, False
    if not _truthy(request.query.get("only_use_override_person_properties")):
        try:
            stored = cached_person_properties(project_id=key.project_id, distinct_id=distinct_id)
        except wire.BACKEND_OUTAGES:
            # The database is down: flags still come from the in-memory ruleset, with the
            # request's own properties, and the answer says some may be off.
            properties_failed = True
    device_id = body.get("device_id") or body.get("$device_id") or overrides.get("$device_id")
    wire.require_storable(device_id, "device_id", code="malformed_data")
    user = statsig_user(
        distinct_id=distinct_id,
        properties={**stored, **overrides},
        groups=groups,
        group_properties=group_properties,
        device_id=str(device_id) if isinstance(device_id, str | int) and device_id else None,
        ip=None if _truthy(body.get("geoip_disable")) else client_ip(request),
    )
    environment = _key_environment(key, loaded)
    if environment is not None:
        user["statsigEnvironment"] = {"tier": environment}
    keys = body.get("flag_keys_to_evaluate") or body.get("flag_keys")
    keys = [str(k) for k in keys] if isinstance(keys, list) else None
    outcomes, failed = evaluate_flags(
        loaded.ruleset, index, evaluation_user(user), keys, project_id=key.project_id
    )
    return respond(outcomes, properties_failed or failed)


def decide(request: wire.Request) -> wire.Response:
    return _flag_response(request, route="decide")


def feature_flags(request: wire.Request) -> wire.Response:
    return _flag_response(request, route="flags")
