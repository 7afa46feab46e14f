"""What the event store and the PostHog endpoints need to know about a project's gates, configs
and experiments, read from the in-memory compiled ruleset (never SQL after warm-up): the entities
by name with their kind, and which experiment group a rule id stands for.

The ruleset's payload is Statsig's ``download_config_specs`` document (``feature_gates`` and
``dynamic_configs`` arrays of specs with ``entity``, ``enabled``, ``isActive``, ``rules``); the
index built from it is kept per ruleset version.
"""

from __future__ import annotations

import logging
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ruleset import load as ruleset_load

logger = logging.getLogger(__name__)

GATE = "gate"
EXPERIMENT = "experiment"
CONFIG = "config"

# Spec ``entity`` values served as PostHog flags (segments and holdouts are building blocks).
_GATE_ENTITIES = {"feature_gate"}
_CONFIG_ENTITIES = {"dynamic_config": CONFIG, "experiment": EXPERIMENT, "autotune": EXPERIMENT}


@dataclass(frozen=True, slots=True)
class Entity:
    """One flag of the index. What the flag endpoints read of its spec for every request is read
    once, when the index of a ruleset version is built."""

    name: str
    kind: str  # GATE | EXPERIMENT | CONFIG
    spec: dict[str, Any]
    enabled: bool = field(init=False)
    is_active: bool = field(init=False)
    # A stable integer for PostHog's ``metadata.id`` / ``$feature_flag_id``.
    numeric_id: int = field(init=False)
    version: int = field(init=False)

    def __post_init__(self) -> None:
        spec = self.spec
        raw_id, raw_version = spec.get("id"), spec.get("version")
        if not isinstance(raw_id, int) or isinstance(raw_id, bool):
            raw_id = zlib.crc32(f"{self.kind}:{self.name}".encode()) & 0x7FFFFFFF
        if not isinstance(raw_version, int) or isinstance(raw_version, bool):
            raw_version = 1
        object.__setattr__(self, "enabled", bool(spec.get("enabled", True)))
        object.__setattr__(self, "is_active", bool(spec.get("isActive", True)))
        object.__setattr__(self, "numeric_id", raw_id)
        object.__setattr__(self, "version", raw_version)


@dataclass(slots=True)
class EntityIndex:
    time: int
    source: int = 0  # id() of the payload it was built from
    entities: dict[str, Entity] = field(default_factory=dict)
    rule_groups: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def from_payload(cls, time: int, payload: dict[str, Any]) -> EntityIndex:
        index = cls(time=time)
        for spec in payload.get("feature_gates") or []:
            if isinstance(spec, dict) and spec.get("entity", "feature_gate") in _GATE_ENTITIES:
                index._add(spec, GATE)
        for spec in payload.get("dynamic_configs") or []:
            if not isinstance(spec, dict):
                continue
            kind = _CONFIG_ENTITIES.get(spec.get("entity", "dynamic_config"))
            if kind is None:
                continue
            index._add(spec, kind)
            groups = {
                str(rule.get("id")): str(rule["groupName"])
                for rule in spec.get("rules") or []
                if isinstance(rule, dict) and rule.get("groupName")
            }
            index.rule_groups[str(spec.get("name"))] = groups
        return index

    def _add(self, spec: dict[str, Any], kind: str) -> None:
        name = spec.get("name")
        # A gate and a config may share a name; the gate answers (PostHog keys are unique).
        if isinstance(name, str) and name and name not in self.entities:
            self.entities[name] = Entity(name=name, kind=kind, spec=spec)


_indexes: dict[int, EntityIndex] = {}
_lock = threading.Lock()


def loaded_ruleset(project_id: int) -> ruleset_load.LoadedRuleset | None:
    """The process's ``LoadedRuleset`` (ruleset + payload + time), or None when unavailable."""
    try:
        return ruleset_load.current(project_id)
    except Exception as exc:  # no ruleset yet, or the database is down: answer "unknown"
        logger.warning("event store: ruleset unavailable project_id=%s error=%s", project_id, exc)
        return None


def entity_index(project_id: int, loaded: Any = None) -> EntityIndex | None:
    loaded = loaded if loaded is not None else loaded_ruleset(project_id)
    if loaded is None:
        return None
    index = _indexes.get(project_id)
    if index is not None and index.time == loaded.time and index.source == id(loaded.payload):
        return index
    index = EntityIndex.from_payload(loaded.time, loaded.payload or {})
    index.source = id(loaded.payload)
    with _lock:
        _indexes[project_id] = index
    return index


def group_name_lookup(project_id: int) -> Callable[[str, str, str], str]:
    """``lookup(kind, name, rule_id) -> group name or ""`` for config/experiment exposures."""
    holder: list[EntityIndex | None] = []

    def lookup(kind: str, name: str, rule_id: str) -> str:
        if not rule_id:
            return ""
        if not holder:
            holder.append(entity_index(project_id))
        index = holder[0]
        if index is None:
            return ""
        return index.rule_groups.get(name, {}).get(rule_id, "")

    return lookup


def entity_kind_lookup(project_id: int) -> Callable[[str], str | None]:
    """``lookup(name) -> "gate" | "experiment" | "config" | None``."""
    holder: list[EntityIndex | None] = []

    def lookup(name: str) -> str | None:
        if not holder:
            holder.append(entity_index(project_id))
        index = holder[0]
        if index is None:
            return None
        entity = index.entities.get(name)
        return entity.kind if entity else None

    return lookup
