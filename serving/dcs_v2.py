"""The ``download_config_specs`` v2 document the server-core SDKs (``@statsig/statsig-node-core``,
``statsig-python-core``: Statsig's Rust core) parse, converted from our compiled v1 document.

What changes between the two (``statsig-rust`` ``specs_response/spec_types.rs``): specs are
objects keyed by name instead of lists; every rule lists its conditions by key, and the
conditions themselves live once in a top-level ``condition_map``; ``experiment_to_layer`` maps
each experiment to its layer (v1's ``layers`` the other way round); ``response_format`` is
``dcs-v2``. Spec, rule and condition fields keep their v1 names and values, so both SDK
generations evaluate the same rules.

``convert`` is pure: a v1 payload in, a v2 payload out. ``download`` keeps its serialised and
gzipped body (``serving.downloads``) per project and default environment until the version
changes.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Mapping
from typing import Any

from console import wire
from ruleset.load import LoadedRuleset
from serving import downloads

RESPONSE_FORMAT = "dcs-v2"
SPEC_TABLES = ("feature_gates", "dynamic_configs", "layer_configs")
# Top-level v1 fields the v2 document carries unchanged.
PASSED_THROUGH = (
    "app_id",
    "default_environment",
    "diagnostics",
    "hashed_sdk_keys_to_app_ids",
    "id_lists",
    "override_rules",
    "overrides",
    "sdk_configs",
    "sdk_flags",
    "sdk_keys_to_app_ids",
    "session_replay_info",
)
CONDITION_FIELDS = ("type", "targetValue", "operator", "field", "additionalValues", "idType")


def condition_key(condition: Mapping[str, Any]) -> str:
    """A stable key for a condition: equal conditions share one ``condition_map`` entry."""
    canonical = json.dumps(condition, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:20]


def _condition(raw: Mapping[str, Any]) -> dict[str, Any]:
    condition = {field: raw.get(field) for field in CONDITION_FIELDS}
    if condition["additionalValues"] is None:
        condition["additionalValues"] = {}
    return condition


def _rule(raw: Mapping[str, Any], condition_map: dict[str, dict[str, Any]]) -> dict[str, Any]:
    keys = []
    for raw_condition in raw.get("conditions", []):
        condition = _condition(raw_condition)
        key = condition_key(condition)
        condition_map.setdefault(key, condition)
        keys.append(key)
    return {**raw, "conditions": keys}


def _spec(raw: Mapping[str, Any], condition_map: dict[str, dict[str, Any]]) -> dict[str, Any]:
    spec = {key: value for key, value in raw.items() if key != "name"}
    spec["rules"] = [_rule(rule, condition_map) for rule in raw.get("rules", [])]
    return spec


def convert(v1: Mapping[str, Any]) -> dict[str, Any]:
    """The v2 document of a v1 ``download_config_specs`` payload (later duplicates win, as in
    the v1 SDKs)."""
    condition_map: dict[str, dict[str, Any]] = {}
    document: dict[str, Any] = {}
    for table in SPEC_TABLES:
        document[table] = {
            spec["name"]: _spec(spec, condition_map)
            for spec in v1.get(table, [])
            if isinstance(spec.get("name"), str)
        }
    document["condition_map"] = condition_map
    document["experiment_to_layer"] = {
        experiment: layer
        for layer, experiments in (v1.get("layers") or {}).items()
        for experiment in experiments
    }
    for key in PASSED_THROUGH:
        if key in v1:
            document[key] = v1[key]
    document.update(has_updates=True, time=v1["time"], response_format=RESPONSE_FORMAT)
    return document


_downloads: dict[tuple[int, str | None], downloads.Download] = {}
_lock = threading.Lock()


def download(loaded: LoadedRuleset, environment: str | None) -> downloads.Download:
    """The v2 document of the loaded version, for a key whose default environment is
    ``environment`` (None: the document's own)."""
    slot = (loaded.project_id, environment)
    made = _downloads.get(slot)
    if downloads.is_current(made, loaded):
        return made
    document = convert(loaded.payload)
    if environment is not None:
        document["default_environment"] = environment
    made = downloads.made_from(wire.dumps(document), loaded)
    with _lock:
        _downloads[slot] = made
    return made
