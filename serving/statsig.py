"""Statsig's HTTP API (``/v1/check_gate``, ``get_config``, ``get_layer``) and the ruleset download
the server SDKs poll (``/v1/download_config_specs``).

These are the hot endpoints: plain Django views, the key resolved from process memory
(``console.keycache``), the ruleset from process memory (``ruleset.load``), the pure
evaluator, exposures handed to ``events.exposures.buffer_exposures``. After warm-up a
request issues no SQL. Errors are JSON ``{"status", "message", "errors": [{"property",
"message"}]}``, never HTML.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from console.jsonbody import JSON_PARSE_ERRORS
from console.keycache import ResolvedKey, resolve_api_key
from console.models import ApiKeyKind
from evaluation import (
    EvaluationUser,
    InvalidUserError,
    evaluate_config,
    evaluate_gate,
    evaluate_layer,
)
from ruleset import load as ruleset_load

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
MAX_GATE_NAMES = 100
MAX_NAME_LENGTH = 200
EVALUATING_KEYS = frozenset({ApiKeyKind.SERVER, ApiKeyKind.CLIENT})
SOURCE = "statsig_http"


class _Refusal(Exception):
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


def _key(
    request: HttpRequest, secret: str | None = None, *, server_only: bool = False
) -> ResolvedKey:
    secret = secret if secret is not None else request.headers.get("statsig-api-key", "")
    key = resolve_api_key(secret or "")
    if key is None or not key.is_active:
        raise _Refusal(
            401, "Invalid or missing API key: send an active key in the statsig-api-key header."
        )
    if server_only:
        if key.kind != ApiKeyKind.SERVER:
            raise _Refusal(401, "This endpoint only accepts an active server secret key.")
    elif key.kind not in EVALUATING_KEYS:
        raise _Refusal(401, "This endpoint accepts a server secret key or a client SDK key.")
    return key


def _json_body(request: HttpRequest) -> dict[str, Any]:
    raw = request.body
    if len(raw) > MAX_BODY_BYTES:
        raise _Refusal(413, f"Request body is too large: at most {MAX_BODY_BYTES} bytes.")
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except JSON_PARSE_ERRORS as exc:
        raise _Refusal(400, f"Malformed JSON body: {exc}.") from None
    if not isinstance(body, dict):
        raise _Refusal(400, "The body must be a JSON object.")
    return body


def _user(body: dict[str, Any], key: ResolvedKey, loaded: ruleset_load.LoadedRuleset):
    """The user as evaluated, its wire dict (environment filled in) and its tier."""
    raw = body.get("user")
    if raw is None:
        raise _Refusal(400, "user is required.", "user")
    if not isinstance(raw, dict):
        raise _Refusal(400, "user must be an object.", "user")
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
            raise _Refusal(
                403,
                f"This key may not evaluate in environment '{tier}'.",
                "user.statsigEnvironment.tier",
            )
    try:
        user = EvaluationUser.from_dict(raw)
    except InvalidUserError as exc:
        message = str(exc).split(": ", 1)[-1]
        prop = "user" if exc.field == "user" else f"user.{exc.field}"
        raise _Refusal(400, f"{prop}: {message}", prop) from None
    return user, raw, tier if tier is not None else loaded.default_environment


def _name(body: dict[str, Any], field: str) -> str:
    value = body.get(field)
    if value is None:
        raise _Refusal(400, f"{field} is required.", field)
    if not isinstance(value, str) or not value or len(value) > MAX_NAME_LENGTH:
        raise _Refusal(
            400, f"{field} must be a string of 1 to {MAX_NAME_LENGTH} characters.", field
        )
    return value


def _logging_disabled(body: dict[str, Any]) -> bool:
    metadata = body.get("statsigMetadata")
    return isinstance(metadata, dict) and bool(metadata.get("exposureLoggingDisabled"))


_buffer: Callable[[int, list[dict]], None] | None = None


def _record(project_id: int, exposures: list[dict[str, Any]]) -> None:
    global _buffer
    if _buffer is None:
        try:
            from events.exposures import buffer_exposures
        except ImportError:  # the events app is optional for evaluation

            def buffer_exposures(project_id: int, exposures: list[dict]) -> None:
                return None

        _buffer = buffer_exposures
    try:
        _buffer(project_id, exposures)
    except Exception:  # an exposure never fails the evaluation
        logger.exception("exposure buffering failed project=%s", project_id)


def _exposure(kind: str, name: str, result, user: dict, tier: str | None, **extra: Any) -> dict:
    exposure = {
        "kind": kind,
        "name": name,
        "rule_id": result.rule_id,
        "value": result.value if kind == "gate" else None,
        "group_name": result.group_name,
        "user": {k: v for k, v in user.items() if k != "privateAttributes"},
        "environment": tier,
        "secondary_exposures": list(result.secondary_exposures),
        "time": int(time.time() * 1000),
        "source": SOURCE,
    }
    exposure.update(extra)
    return exposure


def _evaluation_view(handler):
    """Common envelope: POST only, key, body, ruleset, user; errors as JSON."""

    @csrf_exempt
    def view(request: HttpRequest) -> HttpResponse:
        if request.method != "POST":
            return _Refusal(
                405, f"Method {request.method} is not allowed here; use POST."
            ).response()
        try:
            key = _key(request)
            body = _json_body(request)
            loaded = ruleset_load.current(key.project_id)
            user, user_dict, tier = _user(body, key, loaded)
            payload, exposures = handler(body, loaded, user, user_dict, tier)
        except _Refusal as refusal:
            return refusal.response()
        if exposures and not _logging_disabled(body):
            _record(key.project_id, exposures)
        return JsonResponse(payload, safe=False)

    view.__name__ = handler.__name__
    view.__doc__ = handler.__doc__
    return view


def _gate_answer(loaded, user, user_dict, tier, name: str):
    ruleset = loaded.ruleset
    result = evaluate_gate(ruleset, user, name)
    answer = {
        "name": name,
        "value": result.value,
        "rule_id": result.rule_id or None,
        "group_name": result.group_name,
    }
    exposure = _exposure("gate", name, result, user_dict, tier) if name in ruleset.gates else None
    return answer, exposure


@_evaluation_view
def check_gate(body, loaded, user, user_dict, tier):
    """``{user, gateName}`` -> one result; ``{user, gateNames: [...]}`` -> a list in that order."""
    names = body.get("gateNames")
    if names is not None:
        if not isinstance(names, list) or not 1 <= len(names) <= MAX_GATE_NAMES:
            raise _Refusal(
                400, f"gateNames must be a list of 1 to {MAX_GATE_NAMES} gate names.", "gateNames"
            )
        for index, name in enumerate(names):
            if not isinstance(name, str) or not name or len(name) > MAX_NAME_LENGTH:
                raise _Refusal(
                    400, "Each gate name must be a non-empty string.", f"gateNames[{index}]"
                )
        answers, exposures = [], []
        for name in names:
            answer, exposure = _gate_answer(loaded, user, user_dict, tier, name)
            answers.append(answer)
            if exposure is not None:
                exposures.append(exposure)
        return answers, exposures
    answer, exposure = _gate_answer(loaded, user, user_dict, tier, _name(body, "gateName"))
    return answer, [exposure] if exposure is not None else []


@_evaluation_view
def get_config(body, loaded, user, user_dict, tier):
    """Dynamic configs and experiments; an unknown name answers 200 with an empty value."""
    name = _name(body, "configName")
    ruleset = loaded.ruleset
    if name not in ruleset.configs:
        return {"name": name, "value": {}, "group": "", "rule_id": None, "group_name": None}, []
    result = evaluate_config(ruleset, user, name)
    answer = {
        "name": name,
        "value": result.json_value,
        "group": result.rule_id,
        "rule_id": result.rule_id,
        "group_name": result.group_name,
    }
    return answer, [_exposure("config", name, result, user_dict, tier)]


@_evaluation_view
def get_layer(body, loaded, user, user_dict, tier):
    """A layer's parameters for the user; an unknown layer is 404."""
    name = _name(body, "layerName")
    ruleset = loaded.ruleset
    if name not in ruleset.layers:
        raise _Refusal(404, "Layer not found", "layerName")
    result = evaluate_layer(ruleset, user, name)
    answer = {
        "name": name,
        "value": result.json_value,
        "ruleID": result.rule_id,
        "allocatedExperimentName": result.allocated_experiment,
    }
    exposure = _exposure(
        "layer", name, result, user_dict, tier, allocated_experiment=result.allocated_experiment
    )
    return answer, [exposure]


def _since_time(request: HttpRequest, body: dict[str, Any]) -> int:
    raw = request.GET.get("sinceTime", body.get("sinceTime", 0))
    try:
        return int(float(raw or 0))
    except (TypeError, ValueError):
        raise _Refusal(400, "sinceTime must be epoch milliseconds.", "sinceTime") from None


@csrf_exempt
def download_config_specs(request: HttpRequest, sdk_key: str | None = None) -> HttpResponse:
    """``GET /v1/download_config_specs/<server key>.json?sinceTime=N``, or GET/POST
    ``/v1/download_config_specs`` with the key in ``STATSIG-API-KEY``. Server keys only."""
    if request.method not in ("GET", "POST"):
        return _Refusal(405, f"Method {request.method} is not allowed here.").response()
    try:
        key = _key(request, sdk_key, server_only=True)
        body = _json_body(request) if request.method == "POST" else {}
        since = _since_time(request, body)
        loaded = ruleset_load.current(key.project_id)
    except _Refusal as refusal:
        return refusal.response()
    if since >= loaded.time:
        return JsonResponse({"has_updates": False, "time": loaded.time})
    environment = None
    if key.environments and loaded.default_environment not in key.environments:
        environment = key.environments[0]
    return HttpResponse(loaded.body(environment), content_type="application/json")
