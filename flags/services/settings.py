"""Settings kept as sent: fields of Statsig's entity objects that nothing here evaluates
(an experiment's analysis options, a gate's ``isTemplate`` or ``monitoringMetrics``, ``team``,
``targetApps``, ...). A kind lists its settings in a table of ``Setting``s; they are stored by
wire name in the entity's ``settings`` column, checked here, returned by the console API, and the
API builds its request fields from the same table."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from console.errors import ValidationError
from console.validation import validate_bool

TEXT_MAX = 1000
LIST_MAX = 100


@dataclass(frozen=True, slots=True)
class Setting:
    """One setting: its value ``kind`` (text, flag, days, count, hour, choice, texts, links,
    metrics), whether ``null`` is a value, the ``choices`` of a choice, what the API documents,
    and what it reads as until it is sent (``default``; else the kind's empty value)."""

    kind: str
    help: str
    nullable: bool = False
    choices: tuple[str, ...] = ()
    default: Any = None


SettingsTable = Mapping[str, Setting]


def _integer(value: Any, name: str, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValidationError.for_field(name, f"{name} is an integer of at least {low}.")
    if high is not None and value > high:
        raise ValidationError.for_field(name, f"{name} is an integer from {low} to {high}.")
    return value


def _texts(value: Any, name: str) -> list[str]:
    if not isinstance(value, list) or len(value) > LIST_MAX:
        raise ValidationError.for_field(name, f"{name} is a list of up to {LIST_MAX} strings.")
    for index, item in enumerate(value):
        if not isinstance(item, str) or len(item) > TEXT_MAX:
            raise ValidationError.for_field(f"{name}[{index}]", "A string is expected.")
    return list(value)


def _links(value: Any, name: str) -> list[dict[str, str]]:
    if not isinstance(value, list) or len(value) > LIST_MAX:
        raise ValidationError.for_field(name, f"{name} is a list of up to {LIST_MAX} links.")
    links = []
    for index, item in enumerate(value):
        path = f"{name}[{index}]"
        if not isinstance(item, Mapping) or not isinstance(item.get("url"), str):
            raise ValidationError.for_field(f"{path}.url", "A link has a url.")
        unknown = set(item) - {"url", "title"}
        if unknown:
            raise ValidationError.for_field(
                f"{path}.{sorted(unknown)[0]}", "A link has a url and a title only."
            )
        links.append(
            {key: _text(item[key], f"{path}.{key}") for key in ("url", "title") if key in item}
        )
    return links


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str) or len(value) > TEXT_MAX:
        raise ValidationError.for_field(name, f"{name} is a string of up to {TEXT_MAX} characters.")
    return value


def _metrics(value: Any, name: str) -> list[dict[str, str]]:
    if not isinstance(value, list) or len(value) > LIST_MAX:
        raise ValidationError.for_field(name, f"{name} is a list of up to {LIST_MAX} metrics.")
    metrics = []
    for index, item in enumerate(value):
        path = f"{name}[{index}]"
        if not isinstance(item, Mapping) or set(item) - {"name", "type"}:
            raise ValidationError.for_field(path, "A metric is {name, type}.")
        metrics.append({key: _text(item.get(key), f"{path}.{key}") for key in ("name", "type")})
    return metrics


def validate_setting(table: SettingsTable, name: str, value: Any) -> Any:
    setting = table.get(name)
    if setting is None:
        raise ValidationError.for_field(name, f"{name} is not a setting kept here.")
    if value is None:
        if not setting.nullable:
            raise ValidationError.for_field(name, f"{name} may not be null.")
        return None
    if setting.kind == "text":
        return _text(value, name)
    if setting.kind == "flag":
        return validate_bool(value, name)
    if setting.kind in ("days", "count"):
        return _integer(value, name, 1)
    if setting.kind == "hour":
        return _integer(value, name, 0, 23)
    if setting.kind == "choice":
        if value not in setting.choices:
            raise ValidationError.for_field(name, f"{name} is one of {', '.join(setting.choices)}.")
        return value
    if setting.kind == "texts":
        return _texts(value, name)
    if setting.kind == "metrics":
        return _metrics(value, name)
    return _links(value, name)


def validate_settings(
    table: SettingsTable, current: Mapping[str, Any], given: Any
) -> dict[str, Any]:
    """The entity's settings with the ``given`` ones (a partial update) checked and set."""
    if not isinstance(given, Mapping):
        raise ValidationError.for_field("settings", "settings is an object.")
    checked = {name: validate_setting(table, name, value) for name, value in given.items()}
    return {**current, **checked}


def _unsent(setting: Setting) -> Any:
    if setting.default is not None:
        return setting.default
    return {"flag": False, "texts": [], "links": [], "metrics": []}.get(setting.kind)


def settings_output(table: SettingsTable, settings: Mapping[str, Any]) -> dict[str, Any]:
    """Every setting by its wire name: what was sent, or what it reads as until then."""
    return {
        name: settings[name] if name in settings else _unsent(setting)
        for name, setting in table.items()
    }


def settings_restorer(table: SettingsTable) -> Callable[[Any, Any], dict[str, Any]]:
    """How a restore brings back the settings of a version (``EntityKind.restored_values``):
    sending them would only add to today's, so it sends the settings as they are, with each
    sent then or since as it read then. One that read as null then and may not be set so keeps
    its value: no edit can unset it."""

    def restored(entity: Any, stored: Any) -> dict[str, Any]:
        then = settings_output(table, stored)
        sent = set(stored) | set(entity.settings)
        return {
            **entity.settings,
            **{
                name: value
                for name, value in then.items()
                if name in sent and (value is not None or table[name].nullable)
            },
        }

    return restored
