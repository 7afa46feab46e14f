"""How a condition reads a value from the user: named fields, unit ids, environment fields.
Each reader is built once per condition, so the per-evaluation work is a few lookups."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from operator import attrgetter
from typing import Any

from evaluation.user import EvaluationUser

UserReader = Callable[[EvaluationUser], Any]
UnitReader = Callable[[EvaluationUser], str | None]
EnvironmentReader = Callable[[Mapping[str, Any] | None], Any]

# Field names (lowercased) that read a top-level user attribute instead of ``custom``.
_BUILTIN_FIELDS = {
    "userid": "user_id",
    "user_id": "user_id",
    "email": "email",
    "ip": "ip",
    "ipaddress": "ip",
    "ip_address": "ip",
    "useragent": "user_agent",
    "user_agent": "user_agent",
    "country": "country",
    "locale": "locale",
    "appversion": "app_version",
    "app_version": "app_version",
}


def user_field(field: str) -> UserReader:
    """The value of a named user field. A missing or empty built-in attribute falls back to
    ``custom`` (exact key, then casefolded) and then to ``privateAttributes`` (exact, then
    lowercased), which are the SDK's lookup rules."""
    folded = field.casefold()
    lowered = field.lower()

    def from_attribute_maps(user: EvaluationUser, value: Any) -> Any:
        custom = user.custom
        if custom is not None:
            if field in custom:
                value = custom[field]
            elif folded in custom:
                value = custom[folded]
        private = user.private_attributes
        if (value is None or value == "") and private is not None:
            if field in private:
                value = private[field]
            elif lowered in private:
                value = private[lowered]
        return value

    attribute = _BUILTIN_FIELDS.get(lowered)
    if attribute is None:
        return lambda user: from_attribute_maps(user, None)
    read_attribute = attrgetter(attribute)

    def read(user: EvaluationUser) -> Any:
        value = read_attribute(user)
        if value is None or value == "":
            return from_attribute_maps(user, value)
        return value

    return read


# A reader per id type, shared by every rule that hashes that id type: a request that evaluates
# many specs reads (and encodes) each unit id once (see UserEvaluation.evaluate_specs).
_UNIT_READERS: dict[str | None, UnitReader] = {}


def unit_id(id_type: Any) -> UnitReader:
    """The id a rule or condition hashes: ``userID`` (any case, or no id type) reads the user id,
    any other id type reads ``customIDs`` by exact name and then by its lowercase."""
    if not isinstance(id_type, str) and id_type is not None:

        def invalid(_user: EvaluationUser) -> str | None:
            # The SDK fails on such an id type when it reads it, so the evaluation is an error.
            raise TypeError(f"idType {id_type!r} is not a string")

        return invalid
    if id_type is None or id_type.lower() == "userid":
        id_type = None
    reader = _UNIT_READERS.get(id_type)
    if reader is None:
        reader = _UNIT_READERS[id_type] = _unit_reader(id_type)
    return reader


def _unit_reader(id_type: str | None) -> UnitReader:
    if id_type is None:
        return attrgetter("user_id")
    lowered = id_type.lower()

    def read(user: EvaluationUser) -> str | None:
        ids = user.custom_ids
        if ids is None:
            return None
        value = ids.get(id_type)
        return value if value is not None else ids.get(lowered)

    return read


def environment_field(field: str) -> EnvironmentReader:
    lowered = field.lower()

    def read(environment: Mapping[str, Any] | None) -> Any:
        if environment is None:
            return None
        if field in environment:
            return environment[field]
        if lowered in environment:
            # Copies an SDK slip: it finds the lowercased key, then reads the original one, so a
            # field spelt with capitals ("Tier") raises and the evaluation is an error.
            return environment[field]
        return None

    return read
