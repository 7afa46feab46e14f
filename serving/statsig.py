"""Statsig's HTTP API (``/v1/check_gate``, ``get_config``, ``get_layer``) and the ruleset download
the server SDKs poll (``/v1/download_config_specs``).

These are the hot endpoints: plain functions on the data-plane toolkit (``console.wire``), the
key resolved from process memory (``console.keycache``), the ruleset from process memory
(``ruleset.load``), the pure evaluator, exposures handed to
``events.exposures.buffer_request_exposures``.
After warm-up a request issues no SQL and no Redis round trip. Errors are JSON ``{"status",
"message", "errors": [{"property", "message"}]}``, never HTML.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson

from console import wire
from console.keycache import ResolvedKey
from evaluation import (
    EvaluationResult,
    EvaluationUser,
    InvalidUserError,
    Reason,
    UserEvaluation,
)
from events import exposures as exposure_buffer
from ruleset import load as ruleset_load
from serving import downloads

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = wire.MB
MAX_GATE_NAMES = 100
MAX_NAME_LENGTH = 200
SOURCE = "statsig_http"
Refusal = wire.Refusal


def _user(body: dict[str, Any], key: ResolvedKey, loaded: ruleset_load.LoadedRuleset):
    """The user as evaluated, its wire dict (environment filled in) and its tier."""
    raw = body.get("user")
    if raw is None:
        raise Refusal(400, "user is required.", field="user")
    if not isinstance(raw, dict):
        raise Refusal(400, "user must be an object.", field="user")
    environment = raw.get("statsigEnvironment")
    tier = environment.get("tier") if isinstance(environment, dict) else None
    if key.environments:
        if tier is None:
            default = loaded.default_environment
            if default not in key.environments:
                # A key limited to other environments evaluates in its own environment.
                tier = key.environments[0]
                raw = {**raw, "statsigEnvironment": {**(environment or {}), "tier": tier}}
        elif tier not in key.environments:
            raise Refusal(
                403,
                f"This key may not evaluate in environment '{tier}'.",
                field="user.statsigEnvironment.tier",
            )
    try:
        user = EvaluationUser.from_dict(raw)
    except InvalidUserError as exc:
        message = str(exc).split(": ", 1)[-1]
        prop = "user" if exc.field == "user" else f"user.{exc.field}"
        raise Refusal(400, f"{prop}: {message}", field=prop) from None
    # The user becomes an exposure row: refuse here what the store could not keep.
    wire.require_storable(raw, "user")
    return user, raw, tier if tier is not None else loaded.default_environment


def _name(body: dict[str, Any], field: str) -> str:
    value = body.get(field)
    if value is None:
        raise Refusal(400, f"{field} is required.", field=field)
    if not isinstance(value, str) or not value or len(value) > MAX_NAME_LENGTH:
        raise Refusal(
            400,
            f"{field} must be a string of 1 to {MAX_NAME_LENGTH} characters.",
            field=field,
        )
    if "\x00" in value:
        raise Refusal(400, f"{field} must not contain a NUL character (\\u0000).", field=field)
    return value


def _logging_disabled(body: dict[str, Any]) -> bool:
    metadata = body.get("statsigMetadata")
    return isinstance(metadata, dict) and bool(metadata.get("exposureLoggingDisabled"))


def _record(project_id: int, shared: dict, rows: list[tuple]) -> None:
    try:
        exposure_buffer.buffer_request_exposures(project_id, shared, rows)
    except Exception:  # an exposure never fails the evaluation
        logger.exception("exposure buffering failed project=%s", project_id)


def _shared(
    kind: str, user: dict, tier: str | None, allocated_experiment: str | None = None
) -> dict:
    """What a request's exposures have in common (``buffer_request_exposures``)."""
    shared = {
        "kind": kind,
        "user": user,
        "environment": tier,
        "time": _now_ms(),
        "source": SOURCE,
    }
    if allocated_experiment is not None:
        shared["allocated_experiment"] = allocated_experiment
    return shared


def _row(name: str, result: EvaluationResult, value: bool | None = None) -> tuple:
    """An exposure's own part, in ``events.exposure_lines.ROW_FIELDS`` order (``value``: a
    gate's)."""
    return (name, result.rule_id, value, result.group_name, result.secondary_exposures)


def _now_ms() -> int:
    return int(time.time() * 1000)


def _evaluation(handler):
    """The common part of the evaluation endpoints: key, body, ruleset, user."""

    def endpoint(request: wire.Request) -> wire.Response:
        key = request.key(wire.SDK_KEYS)
        body = request.json_object(MAX_BODY_BYTES)
        loaded = ruleset_load.current(key.project_id)
        user, user_dict, tier = _user(body, key, loaded)
        # The user as exposures store it (never its private attributes), made once per request.
        exposed = {k: v for k, v in user_dict.items() if k != "privateAttributes"}
        payload, shared, rows = handler(body, loaded, user, exposed, tier)
        if rows and not _logging_disabled(body):
            _record(key.project_id, shared, rows)
        return wire.json_response(payload)

    endpoint.__name__ = handler.__name__
    endpoint.__doc__ = handler.__doc__
    return endpoint


# The answer of a gate and a shared result (a standalone spec's, see UserEvaluation) is the same
# for every user who gets that result: it is encoded once and kept here by the result's identity,
# with the exposure row it leaves (the entry holds the result, so an identity is never reused
# while it is a key). A new ruleset's results make new keys; the old ones go when the table is
# full and starts again.
_SHARED_ANSWERS: dict[int, tuple[EvaluationResult, str, orjson.Fragment, tuple]] = {}
SHARED_ANSWERS_LIMIT = 100_000


def _gate_answer(name: str, result: EvaluationResult, spec) -> tuple[dict | orjson.Fragment, tuple]:
    """The answer for gate ``name`` and its exposure row."""
    shared = spec is not None and spec.standalone and result.reason is Reason.RECOGNIZED
    if shared:
        entry = _SHARED_ANSWERS.get(id(result))
        if entry is not None and entry[0] is result and entry[1] == name:
            return entry[2], entry[3]
    answer = {
        "name": name,
        "value": result.value,
        "rule_id": result.rule_id or None,
        "group_name": result.group_name,
    }
    row = _row(name, result, result.value)
    if not shared:
        return answer, row
    encoded = orjson.Fragment(wire.dumps(answer))
    if len(_SHARED_ANSWERS) >= SHARED_ANSWERS_LIMIT:
        _SHARED_ANSWERS.clear()
    _SHARED_ANSWERS[id(result)] = (result, name, encoded, row)
    return encoded, row


def _gate_answers(loaded, user, user_dict, tier, names: list[str]):
    """The answers for ``names`` in order, what their exposures share, and the exposure rows of
    the gates the ruleset has."""
    gates = loaded.ruleset.gates
    entries = [(gates, name, gates.get(name)) for name in names]
    results = UserEvaluation(loaded.ruleset, user).evaluate_specs(entries)
    answers, rows = [], []
    for (_gates, name, spec), result in zip(entries, results, strict=True):
        answer, row = _gate_answer(name, result, spec)
        answers.append(answer)
        if spec is not None:
            rows.append(row)
    return answers, _shared("gate", user_dict, tier), rows


@_evaluation
def check_gate(body, loaded, user, user_dict, tier):
    """``{user, gateName}`` -> one result; ``{user, gateNames: [...]}`` -> a list in that order."""
    names = body.get("gateNames")
    if names is not None:
        if not isinstance(names, list) or not 1 <= len(names) <= MAX_GATE_NAMES:
            raise Refusal(
                400,
                f"gateNames must be a list of 1 to {MAX_GATE_NAMES} gate names.",
                field="gateNames",
            )
        for index, name in enumerate(names):
            if (
                not isinstance(name, str)
                or not name
                or len(name) > MAX_NAME_LENGTH
                or "\x00" in name
            ):
                raise Refusal(
                    400,
                    f"Each gate name must be a non-empty string of at most {MAX_NAME_LENGTH} "
                    "characters, without NUL.",
                    field=f"gateNames[{index}]",
                )
        return _gate_answers(loaded, user, user_dict, tier, names)
    answers, shared, rows = _gate_answers(loaded, user, user_dict, tier, [_name(body, "gateName")])
    return answers[0], shared, rows


@_evaluation
def get_config(body, loaded, user, user_dict, tier):
    """Dynamic configs and experiments; an unknown name answers 200 with an empty value."""
    name = _name(body, "configName")
    ruleset = loaded.ruleset
    if name not in ruleset.configs:
        answer = {"name": name, "value": {}, "group": "", "rule_id": None, "group_name": None}
        return answer, None, []
    result = UserEvaluation(ruleset, user).config(name)
    answer = {
        "name": name,
        "value": result.json_value,
        "group": result.rule_id,
        "rule_id": result.rule_id,
        "group_name": result.group_name,
    }
    return answer, _shared("config", user_dict, tier), [_row(name, result)]


@_evaluation
def get_layer(body, loaded, user, user_dict, tier):
    """A layer's parameters for the user; an unknown layer is 404."""
    name = _name(body, "layerName")
    ruleset = loaded.ruleset
    if name not in ruleset.layers:
        raise Refusal(404, "Layer not found", field="layerName")
    result = UserEvaluation(ruleset, user).layer(name)
    answer = {
        "name": name,
        "value": result.json_value,
        "ruleID": result.rule_id,
        "allocatedExperimentName": result.allocated_experiment,
    }
    shared = _shared("layer", user_dict, tier, result.allocated_experiment)
    return answer, shared, [_row(name, result)]


def _since_time(request: wire.Request, body: dict[str, Any]) -> int:
    raw = request.query.get("sinceTime", body.get("sinceTime", 0))
    try:
        return int(float(raw or 0))
    except (TypeError, ValueError, OverflowError):
        raise Refusal(400, "sinceTime must be epoch milliseconds.", field="sinceTime") from None


def download_config_specs(request: wire.Request) -> wire.Response:
    """``GET /v1/download_config_specs/<server key>.json?sinceTime=N``, or GET/POST
    ``/v1/download_config_specs`` with the key in ``STATSIG-API-KEY``. Server keys only.

    The body is serialised and gzipped once per ruleset version (``serving.downloads``); an
    SDK that is up to date gets ``has_updates: false`` without any serialising, and one that
    sends the last ``ETag`` back in ``If-None-Match`` gets a 304."""
    key = request.key(wire.SERVER_KEYS, request.params.get("sdk_key"))
    body = request.json_object(MAX_BODY_BYTES) if request.method == "POST" else {}
    since = _since_time(request, body)
    loaded = ruleset_load.current(key.project_id)
    if since >= loaded.time:
        return wire.Response(downloads.no_updates(loaded.time))
    return downloads.respond(request, loaded, downloads.environment_for(key, loaded))
