"""The client SDKs' ``/v1/initialize`` answer: every gate, dynamic config, experiment and layer of
the ruleset evaluated for one user, keyed by hashed name, in the shape Statsig's servers send
(reference §3.10; the official SDKs' ``getClientInitializeResponse`` build the same document).

Pure: the loaded ruleset, the user and what the request derived in, a dict out. Evaluation runs
through ``evaluation``; nothing here logs an exposure (client SDKs log their own when the
application reads a value). The per-version index of which specs to answer, and their hashed
names, is built once per ruleset version and shared by every request.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from evaluation import EvaluationUser, UserEvaluation
from evaluation.lookups import country_for_ip, parse_user_agent

if TYPE_CHECKING:  # the loader is Django's side; this module only reads what it loaded
    from ruleset.load import LoadedRuleset

HASH_DJB2 = "djb2"
HASH_SHA256 = "sha256"
HASH_NONE = "none"
HASH_ALGORITHMS = (HASH_DJB2, HASH_SHA256, HASH_NONE)
# Gates the client never sees: segments and holdouts only exist to be referenced by other specs.
HIDDEN_GATE_ENTITIES = frozenset({"segment", "holdout"})


def djb2(value: str) -> str:
    """The client SDKs' name hash: 32-bit DJB2 over UTF-16 code units, as an unsigned decimal."""
    data = value.encode("utf-16-le")
    digest = 0
    for index in range(0, len(data), 2):
        digest = ((digest << 5) - digest + (data[index] | data[index + 1] << 8)) & 0xFFFFFFFF
    return str(digest)


def hash_name(name: str, algorithm: str) -> str:
    if algorithm == HASH_NONE:
        return name
    if algorithm == HASH_DJB2:
        return djb2(name)
    return base64.b64encode(hashlib.sha256(name.encode()).digest()).decode()


@dataclass(frozen=True, slots=True)
class _Entry:
    name: str
    spec: Mapping[str, Any]


@dataclass(slots=True)
class _Index:
    """What one ruleset version answers: the visible specs in document order, the layer of each
    experiment, and hashed names memoised per algorithm."""

    time: int
    gates: tuple[_Entry, ...]
    configs: tuple[_Entry, ...]
    layers: tuple[_Entry, ...]
    layer_of_experiment: dict[str, str]
    layer_defaults: dict[str, Any]
    configs_by_name: dict[str, Mapping[str, Any]]
    _hashed: dict[tuple[str, str], str] = field(default_factory=dict)

    def hashed(self, name: str, algorithm: str) -> str:
        key = (name, algorithm)
        value = self._hashed.get(key)
        if value is None:
            value = self._hashed[key] = hash_name(name, algorithm)
        return value


def _entries(payload: Mapping[str, Any], table: str, names: Mapping[str, Any]) -> list[_Entry]:
    """The specs of ``table`` the evaluator kept (``names``), the last of duplicates winning."""
    by_name: dict[str, Mapping[str, Any]] = {}
    for spec in payload.get(table, []):
        name = spec.get("name")
        if isinstance(name, str) and name in names:
            by_name[name] = spec
    return [_Entry(name, spec) for name, spec in by_name.items()]


def _build_index(loaded: LoadedRuleset) -> _Index:
    payload, ruleset = loaded.payload, loaded.ruleset
    gates = [
        entry
        for entry in _entries(payload, "feature_gates", ruleset.gates)
        if entry.spec.get("entity") not in HIDDEN_GATE_ENTITIES
    ]
    configs = _entries(payload, "dynamic_configs", ruleset.configs)
    layers = _entries(payload, "layer_configs", ruleset.layers)
    layer_of_experiment = {
        experiment: layer
        for layer, experiments in (payload.get("layers") or {}).items()
        for experiment in experiments
    }
    return _Index(
        time=loaded.time,
        gates=tuple(gates),
        configs=tuple(configs),
        layers=tuple(layers),
        layer_of_experiment=layer_of_experiment,
        layer_defaults={entry.name: entry.spec.get("defaultValue") or {} for entry in layers},
        configs_by_name={entry.name: entry.spec for entry in configs},
    )


_indexes: dict[int, _Index] = {}
_index_lock = threading.Lock()


def _index(loaded: LoadedRuleset) -> _Index:
    index = _indexes.get(loaded.project_id)
    if index is None or index.time != loaded.time:
        with _index_lock:
            index = _indexes.get(loaded.project_id)
            if index is None or index.time != loaded.time:
                index = _indexes[loaded.project_id] = _build_index(loaded)
    return index


# -- the user and what the request tells about it ---------------------------------------------


def derived_fields(
    user: Mapping[str, Any], *, request_ip: str | None, request_user_agent: str | None
) -> dict[str, str]:
    """What the server adds to the user from the request: its IP address and user agent when the
    user brings none, the country of that IP, and the browser and OS read from that user agent.
    These are also what ``ua_based`` and ``ip_based`` conditions see."""
    derived: dict[str, str] = {}
    ip = user.get("ip") if isinstance(user.get("ip"), str) else request_ip
    if ip:
        derived["ip"] = ip
        country = user.get("country")
        if not isinstance(country, str):
            try:
                country = country_for_ip(ip)
            except Exception:  # not an IPv4 address: no country, as the SDKs answer
                country = None
        if country:
            derived["country"] = country
    agent = user.get("userAgent") if isinstance(user.get("userAgent"), str) else request_user_agent
    if agent:
        parsed = parse_user_agent(agent)
        for key, value in (
            ("browserName", parsed.browser_name),
            ("browserVersion", parsed.browser_version),
            ("osName", parsed.os_name),
            ("osVersion", parsed.os_version),
        ):
            if value:
                derived[key] = value
    return derived


def evaluation_user_dict(
    user: Mapping[str, Any], *, stable_id: Any, request_ip: str | None, request_agent: str | None
) -> dict[str, Any]:
    """The user as evaluated: the client's ``statsigMetadata.stableID`` as its ``stableID``
    custom id unless it names one, and the request's IP and user agent unless it brings them."""
    evaluated = dict(user)
    custom_ids = user.get("customIDs")
    if isinstance(stable_id, str) and stable_id:
        if custom_ids is None:
            evaluated["customIDs"] = {"stableID": stable_id}
        elif isinstance(custom_ids, Mapping) and "stableID" not in custom_ids:
            evaluated["customIDs"] = {**custom_ids, "stableID": stable_id}
    if evaluated.get("ip") is None and request_ip:
        evaluated["ip"] = request_ip
    if evaluated.get("userAgent") is None and request_agent:
        evaluated["userAgent"] = request_agent
    return evaluated


# -- the answer --------------------------------------------------------------------------------


def _exposures(exposures: list[dict[str, Any]], algorithm: str, index: _Index) -> list[dict]:
    return [
        {
            "gate": index.hashed(exposure["gate"], algorithm),
            "gateValue": exposure["gateValue"],
            "ruleID": exposure["ruleID"],
        }
        for exposure in exposures
    ]


def _is_device_based(id_type: Any) -> bool:
    return isinstance(id_type, str) and id_type.lower() == "stableid"


def _gate(entry: _Entry, result, hashed: str, algorithm: str, index: _Index) -> dict[str, Any]:
    return {
        "name": hashed,
        "value": result.value,
        "rule_id": result.rule_id,
        "secondary_exposures": _exposures(result.secondary_exposures, algorithm, index),
        "id_type": entry.spec.get("idType"),
    }


def _evaluated_config(
    entry: _Entry, result, hashed: str, algorithm: str, index: _Index
) -> dict[str, Any]:
    """What configs, experiments and layers share."""
    return {
        "name": hashed,
        "value": result.json_value,
        "rule_id": result.rule_id,
        "secondary_exposures": _exposures(result.secondary_exposures, algorithm, index),
        "group": result.rule_id,
        "passed": result.value,
        "is_device_based": _is_device_based(entry.spec.get("idType")),
    }


def _config(entry: _Entry, result, hashed: str, algorithm: str, index: _Index) -> dict[str, Any]:
    spec = entry.spec
    answer = _evaluated_config(entry, result, hashed, algorithm, index)
    answer["id_type"] = spec.get("idType")
    entity = spec.get("entity")
    if entity == "experiment":
        answer["is_user_in_experiment"] = result.is_experiment_group
        answer["is_experiment_active"] = spec.get("isActive", False) is True
        if result.group_name is not None:
            answer["group_name"] = result.group_name
        if spec.get("hasSharedParams", False):
            answer["is_in_layer"] = True
            answer["explicit_parameters"] = spec.get("explicitParameters", [])
            layer = index.layer_of_experiment.get(entry.name)
            if layer is not None and layer in index.layer_defaults:
                answer["value"] = {**index.layer_defaults[layer], **(result.json_value or {})}
    elif entity == "autotune" and result.group_name:
        answer["group_name"] = result.group_name
    return answer


def _layer(entry: _Entry, result, hashed: str, algorithm: str, index: _Index) -> dict[str, Any]:
    answer = _evaluated_config(entry, result, hashed, algorithm, index)
    answer["explicit_parameters"] = entry.spec.get("explicitParameters", [])
    experiment = result.allocated_experiment
    if experiment:
        experiment_spec = index.configs_by_name.get(experiment, {})
        answer["allocated_experiment_name"] = index.hashed(experiment, algorithm)
        answer["is_user_in_experiment"] = result.is_experiment_group
        answer["is_experiment_active"] = experiment_spec.get("isActive", False) is True
        answer["explicit_parameters"] = experiment_spec.get("explicitParameters", [])
        if result.group_name is not None:
            answer["group_name"] = result.group_name
    answer["undelegated_secondary_exposures"] = _exposures(
        result.undelegated_secondary_exposures or [], algorithm, index
    )
    return answer


def no_updates(loaded: LoadedRuleset) -> dict[str, Any]:
    return {"has_updates": False, "time": loaded.time}


def is_current(
    loaded: LoadedRuleset,
    *,
    since_time: int,
    derived: Mapping[str, Any],
    previous_derived: Mapping[str, Any] | None,
) -> bool:
    """The client's cached values are still right: it has this ruleset version, and (when it
    says what it was derived from) the request derives the same IP, country and user agent."""
    if since_time < loaded.time:
        return False
    return previous_derived is None or dict(previous_derived) == dict(derived)


def initialize_response(
    *,
    loaded: LoadedRuleset,
    user: EvaluationUser,
    user_dict: Mapping[str, Any],
    hash_algorithm: str,
    derived: Mapping[str, Any],
) -> dict[str, Any]:
    """``user`` is what the evaluator reads (``evaluation_user_dict``); ``user_dict`` the user the
    client sent, echoed back without its private attributes."""
    if hash_algorithm not in HASH_ALGORITHMS:
        raise ValueError(f"unknown hash algorithm {hash_algorithm!r}")
    index = _index(loaded)
    # One user, every spec: the shared results of UserEvaluation, only read here.
    evaluation = UserEvaluation(loaded.ruleset, user)
    sections: list[tuple[str, tuple[_Entry, ...], Any, Any]] = [
        ("feature_gates", index.gates, evaluation.gate, _gate),
        ("dynamic_configs", index.configs, evaluation.config, _config),
        ("layer_configs", index.layers, evaluation.layer, _layer),
    ]
    answer: dict[str, Any] = {}
    for key, entries, evaluate, shape in sections:
        values: dict[str, Any] = {}
        for entry in entries:
            hashed = index.hashed(entry.name, hash_algorithm)
            values[hashed] = shape(entry, evaluate(entry.name), hashed, hash_algorithm, index)
        answer[key] = values
    evaluated_keys: dict[str, Any] = {}
    if user.user_id is not None:
        evaluated_keys["userID"] = user.user_id
    if user.custom_ids:
        evaluated_keys["customIDs"] = dict(user.custom_ids)
    answer.update(
        sdkParams={},
        has_updates=True,
        time=loaded.time,
        hash_used=hash_algorithm,
        user={k: v for k, v in user_dict.items() if k != "privateAttributes"},
        evaluated_keys=evaluated_keys,
        derived_fields=dict(derived),
    )
    return answer
