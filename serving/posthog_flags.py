"""Our gates, experiments and dynamic configs as PostHog feature flags. Pure: the in-memory
ruleset and the user in, flag outcomes and the response shapes of every ``/decide`` and ``/flags``
version out (``docs/events.md`` has the mapping and the reference's §1.3 the shapes).

- A gate is a boolean flag: enabled when the gate passes.
- An experiment is a multivariate flag: the variant is the user's group name (absent when the
  user is not allocated) and the payload is the group's parameters.
- A dynamic config is a boolean flag, enabled when one of its rules passed; the payload is the
  config's value.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

import orjson

from console import wire
from evaluation import (
    EvaluationResult,
    EvaluationUser,
    InvalidUserError,
    Reason,
    SpecEntry,
    UserEvaluation,
)
from evaluation.result import RULE_ID_DISABLED
from events.entities import CONFIG, EXPERIMENT, GATE, Entity, EntityIndex

logger = logging.getLogger(__name__)

CONDITION_MATCH = "condition_match"
NO_CONDITION_MATCH = "no_condition_match"
OUT_OF_ROLLOUT_BOUND = "out_of_rollout_bound"
FLAG_DISABLED = "flag_disabled"

# Experiment rules that return the default value because the user is not in the experiment.
_NOT_ALLOCATED_RULES = {"layerAssignment"}

# Person properties that are Statsig user fields (the rest are custom fields).
USER_FIELDS = {
    "email": ("email", "$email"),
    "country": ("country", "$geoip_country_code"),
    "locale": ("locale", "$locale"),
    "appVersion": ("appVersion", "$app_version", "app_version"),
    "userAgent": ("userAgent", "$user_agent", "$raw_user_agent"),
    "ip": ("ip", "$ip"),
}


@dataclass(frozen=True, slots=True)
class FlagOutcome:
    key: str
    kind: str
    enabled: bool
    variant: str | None
    payload: Any  # JSON value, or None
    reason: str
    condition_index: int | None
    failed: bool
    id: int
    version: int
    # ``"<key>":<record>`` of the /flags object, encoded once, for an outcome shared by every
    # user who gets it.
    encoded_member: bytes | None = dataclasses.field(default=None, compare=False)

    @property
    def value(self) -> bool | str:
        return self.variant if self.variant is not None else self.enabled

    @property
    def payload_json(self) -> str | None:
        if self.payload is None:
            return None
        return json.dumps(self.payload, separators=(",", ":"), ensure_ascii=False)


def statsig_user(
    *,
    distinct_id: str,
    properties: Mapping[str, Any],
    groups: Mapping[str, Any],
    group_properties: Mapping[str, Any],
    device_id: str | None,
    ip: str | None,
) -> dict[str, Any]:
    """The Statsig user a PostHog flag request stands for: ``distinct_id`` → userID, person
    properties → user fields and custom fields, ``groups`` → customIDs, group properties →
    custom fields (person properties win), the client IP → ip."""
    custom: dict[str, Any] = {}
    for props in group_properties.values():
        if isinstance(props, Mapping):
            custom.update(props)
    custom.update(properties)
    user: dict[str, Any] = {"userID": distinct_id, "custom": custom}
    for field, keys in USER_FIELDS.items():
        for key in keys:
            value = properties.get(key)
            if value is not None and value != "":
                user[field] = value
                break
    custom_ids = {
        str(group_type): str(key)
        for group_type, key in groups.items()
        if isinstance(key, str | int | float) and not isinstance(key, bool) and str(key) != ""
    }
    if device_id and "stableID" not in custom_ids:
        custom_ids["stableID"] = device_id
    if custom_ids:
        user["customIDs"] = custom_ids
    if ip and "ip" not in user:
        user["ip"] = ip
    return user


def evaluation_user(user: dict[str, Any]) -> EvaluationUser:
    try:
        return EvaluationUser.from_dict(user)
    except InvalidUserError:
        # An empty distinct_id (PostHog accepts it): evaluate as the SDK would a user whose id
        # is "", so every percentage rollout buckets it the same way.
        custom_ids = user.get("customIDs")
        return EvaluationUser(
            user_id=str(user.get("userID") or ""),
            email=user.get("email"),
            ip=user.get("ip"),
            user_agent=user.get("userAgent"),
            country=user.get("country"),
            locale=user.get("locale"),
            app_version=user.get("appVersion"),
            custom=user.get("custom") if isinstance(user.get("custom"), Mapping) else None,
            custom_ids=custom_ids if isinstance(custom_ids, Mapping) else None,
        )


def evaluate_flags(
    ruleset: Any,
    index: EntityIndex,
    user: EvaluationUser,
    keys: Iterable[str] | None = None,
    *,
    project_id: int,
) -> tuple[list[FlagOutcome], bool]:
    """Every gate, experiment and dynamic config (or only ``keys``), in name order, and whether
    any of them failed."""
    plan = _plan(project_id, ruleset, index)
    if keys is None:
        flags, entries = plan.flags, plan.entries
    else:
        flags = [plan.by_name[key] for key in sorted(set(keys) & plan.by_name.keys())]
        entries = [flag.entry for flag in flags if flag.entry is not None]
    try:
        results = UserEvaluation(ruleset, user).evaluate_specs(entries)
    except Exception:
        # The evaluator turns a rule's failure into an error result; this is a failure of its
        # own, which fails every flag instead of the request.
        logger.exception("posthog flags: evaluation failed project=%s", project_id)
        return [flag.unsupported or _failed(flag.entity) for flag in flags], True
    failed = len(entries) < len(flags)  # some specs are not supported
    if failed:
        supported = iter(results)
        results = [None if flag.entry is None else next(supported) for flag in flags]
    outcomes = []
    for flag, result in zip(flags, results, strict=True):
        # The shared outcome of a result every user may get; else one made for this user.
        outcome = flag.shared.get(id(result))
        if outcome is None:
            outcome = flag.unsupported if result is None else _outcome_of(flag.entity, result)
            failed = failed or outcome.failed
        outcomes.append(outcome)
    return outcomes, failed


def _failed(entity: Entity) -> FlagOutcome:
    return FlagOutcome(
        key=entity.name,
        kind=entity.kind,
        enabled=False,
        variant=None,
        payload=None,
        reason=NO_CONDITION_MATCH,
        condition_index=None,
        failed=True,
        id=entity.numeric_id,
        version=entity.version,
    )


_FAILED_REASONS = frozenset((Reason.ERROR, Reason.UNSUPPORTED, Reason.UNRECOGNIZED))


class _Flag(NamedTuple):
    """What every request evaluating a flag needs, looked up once per ruleset: what the
    evaluator walks (``UserEvaluation.evaluate_specs``; None when it does not support the spec),
    the outcome for an unsupported spec, and, for a standalone spec, the outcome of each of its
    shared results (see UserEvaluation) with its /flags record already encoded, by the result's
    identity (the spec holds the results, so an identity is never reused while it is a key)."""

    entity: Entity
    entry: SpecEntry | None
    unsupported: FlagOutcome | None
    shared: dict[int, FlagOutcome]


@dataclass(frozen=True, slots=True)
class _Plan:
    ruleset: Any
    index: EntityIndex
    flags: list[_Flag]  # in name order
    entries: list[SpecEntry]  # of the supported flags, in the same order
    by_name: dict[str, _Flag]


# A project's plan, made again when its ruleset or entity index is replaced.
_PLANS: dict[int, _Plan] = {}


def _plan(project_id: int, ruleset: Any, index: EntityIndex) -> _Plan:
    plan = _PLANS.get(project_id)
    if plan is not None and plan.ruleset is ruleset and plan.index is index:
        return plan
    flags = [_flag(ruleset, index.entities[name]) for name in sorted(index.entities)]
    entries = [flag.entry for flag in flags if flag.entry is not None]
    plan = _Plan(ruleset, index, flags, entries, {flag.entity.name: flag for flag in flags})
    _PLANS[project_id] = plan
    return plan


def _flag(ruleset: Any, entity: Entity) -> _Flag:
    table = ruleset.gates if entity.kind == GATE else ruleset.configs
    spec = table.get(entity.name)
    if spec is None:
        return _Flag(entity, None, _failed(entity), {})
    shared: dict[int, FlagOutcome] = {}
    if spec.standalone:
        results = [spec.default]
        for rule in spec.rules:
            results += (rule.passed, rule.failed)
        for result in results:
            if result.reason not in _FAILED_REASONS:
                outcome = _outcome(entity, result)
                shared[id(result)] = replace(outcome, encoded_member=_member(outcome))
    return _Flag(entity, (table, entity.name, spec), None, shared)


def _outcome_of(entity: Entity, result: EvaluationResult) -> FlagOutcome:
    """The outcome of a result made for this user alone."""
    if result.reason in _FAILED_REASONS:
        return _failed(entity)
    return _outcome(entity, result)


def _outcome(entity: Entity, result: EvaluationResult) -> FlagOutcome:
    enabled, variant, payload = _value(entity, result)
    reason, index = _reason(entity, result, enabled)
    return FlagOutcome(
        key=entity.name,
        kind=entity.kind,
        enabled=enabled,
        variant=variant,
        payload=payload,
        reason=reason,
        condition_index=index,
        failed=False,
        id=entity.numeric_id,
        version=entity.version,
    )


def _value(entity: Entity, result: EvaluationResult) -> tuple[bool, str | None, Any]:
    if entity.kind == GATE:
        return bool(result.value), None, None
    if entity.kind == EXPERIMENT:
        group = (
            result.group_name if isinstance(result.group_name, str) and result.group_name else None
        )
        if group is None:
            return False, None, None
        return True, group, result.json_value
    # A dynamic config: on when a rule passed.
    passed = bool(result.value) and result.rule_index is not None
    return passed, None, (result.json_value if passed else None)


def _reason(entity: Entity, result: EvaluationResult, enabled: bool) -> tuple[str, int | None]:
    if result.rule_id == RULE_ID_DISABLED or not entity.enabled:
        return FLAG_DISABLED, None
    if enabled:
        return CONDITION_MATCH, result.rule_index
    if result.rule_index is None:
        return NO_CONDITION_MATCH, None
    if entity.kind == EXPERIMENT and result.rule_id not in _NOT_ALLOCATED_RULES:
        # Targeting, holdout or lifecycle rules: the user is not eligible.
        return NO_CONDITION_MATCH, None
    # A rule matched but its pass percentage (or the layer allocation) left the user out.
    return OUT_OF_ROLLOUT_BOUND, result.rule_index


def reason_description(code: str, index: int | None) -> str:
    if code == CONDITION_MATCH:
        return f"Matched condition set {(index or 0) + 1}"
    return {
        NO_CONDITION_MATCH: "No matching condition set",
        OUT_OF_ROLLOUT_BOUND: "Out of rollout bound",
        FLAG_DISABLED: "Feature flag is disabled",
    }.get(code, code)


# ---------------------------------------------------------------------------------------------
# Response shapes.


def flag_record(outcome: FlagOutcome) -> dict[str, Any]:
    """A ``/flags?v>=2`` record carrying both the typed ``value`` (SDK 7.91+) and
    ``enabled``/``variant`` (older SDKs)."""
    record: dict[str, Any] = {
        "key": outcome.key,
        "enabled": outcome.enabled,
        "variant": outcome.variant,
        "value": outcome.value,
        "reason": {
            "code": outcome.reason,
            "condition_index": outcome.condition_index,
            "description": reason_description(outcome.reason, outcome.condition_index),
        },
        "metadata": {
            "id": outcome.id,
            "version": outcome.version,
            "description": None,
            "payload": outcome.payload_json,
            "has_experiment": outcome.kind == EXPERIMENT,
        },
    }
    if outcome.failed:
        record["failed"] = True
    return record


def legacy_flags(outcomes: list[FlagOutcome]) -> tuple[dict[str, Any], dict[str, str]]:
    """``featureFlags`` (every flag, false included; one that failed to evaluate is false, as
    PostHog's contract says, and the answer carries ``errorsWhileComputingFlags: true``) and
    ``featureFlagPayloads`` (JSON strings of the enabled ones that have a payload)."""
    flags = {o.key: (False if o.failed else o.value) for o in outcomes}
    payloads = {
        o.key: o.payload_json
        for o in outcomes
        if not o.failed and o.enabled and o.payload is not None
    }
    return flags, payloads


def _member(outcome: FlagOutcome) -> bytes:
    return wire.dumps(outcome.key) + b":" + wire.dumps(flag_record(outcome))


def decide_body(version: int, outcomes: list[FlagOutcome], errors: bool) -> dict[str, Any]:
    """The flag part of ``/decide?v=<version>``, for ``wire.json_response`` (from v4 on, the
    records are one already-encoded fragment)."""
    if version >= 4:
        # A shared outcome's member was made and encoded once: the object is their join (keys
        # are entity names, so no two are equal).
        members = [o.encoded_member or _member(o) for o in outcomes]
        return {
            "flags": orjson.Fragment(b"{" + b",".join(members) + b"}"),
            "errorsWhileComputingFlags": errors,
        }
    flags, payloads = legacy_flags(outcomes)
    if version == 3:
        return {
            "featureFlags": flags,
            "featureFlagPayloads": payloads,
            "errorsWhileComputingFlags": errors,
        }
    enabled = {o.key: o.value for o in outcomes if o.enabled and not o.failed}
    if version == 2:
        return {"featureFlags": enabled}
    return {"featureFlags": sorted(enabled)}


def flags_body(version: int, outcomes: list[FlagOutcome], errors: bool) -> dict[str, Any]:
    """The flag part of ``/flags?v=<version>``: v1 is the legacy shape, v2 and later records."""
    if version <= 1:
        return decide_body(3, outcomes, errors)
    return decide_body(4, outcomes, errors)


CONFIG_BLOCK: dict[str, Any] = {
    "config": {"enable_collect_everything": True},
    "toolbarParams": {},
    "editorParams": {},
    "isAuthenticated": False,
    "supportedCompression": ["gzip", "gzip-js"],
    "sessionRecording": False,
    "siteApps": [],
    "capturePerformance": False,
    "autocapture_opt_out": False,
    "surveys": False,
    "heatmaps": False,
}

__all__ = [
    "CONFIG",
    "CONFIG_BLOCK",
    "EXPERIMENT",
    "GATE",
    "FlagOutcome",
    "decide_body",
    "evaluate_flags",
    "evaluation_user",
    "flag_record",
    "flags_body",
    "statsig_user",
]
