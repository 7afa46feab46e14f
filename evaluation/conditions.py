"""Conditions of a ruleset, compiled once into callables of the evaluation in progress."""

from __future__ import annotations

import time
from collections.abc import Callable, Container, Mapping
from typing import Any, Protocol

from evaluation import fields
from evaluation.hashing import bucket_hash, id_list_hash
from evaluation.lookups import UA_FIELD_INDEX, country_for_ip, user_agent_field
from evaluation.operators import SEGMENT_LIST_OPERATORS, compile_operator
from evaluation.user import EvaluationUser

SUPPORTED_TYPES = frozenset(
    (
        "public",
        "fail_gate",
        "pass_gate",
        "ip_based",
        "ua_based",
        "user_field",
        "environment_field",
        "current_time",
        "user_bucket",
        "unit_id",
        "multi_pass_gate",
        "multi_fail_gate",
        "target_app",
    )
)


class Run(Protocol):
    """The evaluation in progress, as conditions see it."""

    user: EvaluationUser
    environment: Mapping[str, Any] | None
    id_lists: Mapping[str, Container[str]]

    def gate_in_place(self, name: Any) -> bool:
        """Evaluates a gate into the current result (its exposures join ours) and records the
        exposure; returns the gate's value."""
        ...

    def gate_apart(self, name: Any) -> bool:
        """Evaluates a gate on its own and records only its exposure; returns its value."""
        ...


Condition = Callable[[Run], bool]
Reader = Callable[[Run], Any]


def compile_condition(raw: Mapping[str, Any], *, app_id: Any) -> Condition:
    """``raw`` is a condition of a supported spec: ``{type, operator, targetValue, field, idType,
    additionalValues}``."""
    kind = raw.get("type", "")
    if not isinstance(kind, str):
        return _failing(f"condition type {kind!r} is not a string")
    kind = kind.lower()
    target = raw.get("targetValue")
    if kind == "public":
        return _public
    if kind in ("pass_gate", "fail_gate"):
        return _gate(target, passes=kind == "pass_gate")
    if kind in ("multi_pass_gate", "multi_fail_gate"):
        return _any_gate(target, passes=kind == "multi_pass_gate")

    by_user = _user_reader(kind, raw)
    if by_user is None:
        read = _reader(kind, raw, app_id)
    else:

        def read(run: Run) -> Any:
            return by_user(run.user)

    op = raw.get("operator")
    if op in SEGMENT_LIST_OPERATORS:
        return _segment_list(read, target, negate=op == "not_in_segment_list")
    test = compile_operator(op, target, bucket=kind == "user_bucket")
    if kind == "ip_based":
        # Unlike other types, a missing value is false whatever the operator (even "none").
        return lambda run: (value := read(run)) is not None and test(value)
    if by_user is not None:
        # One call fewer per evaluation than going through ``read``.
        return lambda run: test(by_user(run.user))
    return lambda run: test(read(run))


def _public(_run: Run) -> bool:
    return True


def _never(_run: Run) -> bool:
    return False


def _failing(message: str) -> Condition:
    def condition(_run: Run) -> bool:
        raise TypeError(message)

    return condition


def _gate(name: Any, *, passes: bool) -> Condition:
    if passes:
        return lambda run: run.gate_in_place(name)
    return lambda run: not run.gate_in_place(name)


def _any_gate(names: Any, *, passes: bool) -> Condition:
    """True when any of the gates passes (fails): the gates after the first such one are not
    evaluated and leave no exposure, as in the SDK."""
    if names is None:
        return _never
    try:
        if len(names) == 0:
            return _never
        gates = tuple(names)
    except TypeError:
        return _failing(f"targetValue {names!r} is not a list of gates")
    if passes:
        return lambda run: any(run.gate_apart(name) for name in gates)
    return lambda run: any(not run.gate_apart(name) for name in gates)


def _segment_list(read: Reader, list_name: Any, *, negate: bool) -> Condition:
    def condition(run: Run) -> bool:
        value = read(run)
        ids = run.id_lists.get(list_name)
        if ids is None:
            return negate
        # The SDK hashes str(value), so a missing value is looked up as "None".
        return (id_list_hash(str(value)) in ids) is not negate

    return condition


def _user_reader(kind: str, raw: Mapping[str, Any]) -> fields.UserReader | None:
    """How a condition that reads only the user reads it; None for the other kinds (and for a
    field that is not a string, which ``_reader`` fails on)."""
    if kind in ("user_field", "ip_based", "ua_based"):
        field = raw.get("field", "")
        if not isinstance(field, str):
            return None
        if kind == "user_field":
            return fields.user_field(field)
        if kind == "ip_based":
            return _ip_reader(field)
        return _user_agent_reader(field)
    if kind == "user_bucket":
        return _bucket_reader(raw)
    if kind == "unit_id":
        return fields.unit_id(raw.get("idType", "userID"))
    return None


def _reader(kind: str, raw: Mapping[str, Any], app_id: Any) -> Reader:
    """How a condition that reads more than the user reads it."""
    if kind in ("user_field", "ip_based", "ua_based", "environment_field"):
        field = raw.get("field", "")
        if not isinstance(field, str):
            return _failing(f"condition field {field!r} is not a string")
        from_environment = fields.environment_field(field)
        return lambda run: from_environment(run.environment)
    if kind == "current_time":
        return lambda _run: round(time.time() * 1000)
    if kind == "target_app":
        return lambda _run: app_id
    # A condition without a type reads nothing; its operator sees None.
    return lambda _run: None


def _ip_reader(field: str) -> fields.UserReader:
    by_name = fields.user_field(field)
    # Only the exact spelling "country" derives the value from the IP address.
    ip = fields.user_field("ip") if field == "country" else None

    def read(user: EvaluationUser) -> Any:
        value = by_name(user)
        if value is None and ip is not None:
            address = ip(user)
            if address is not None:
                return country_for_ip(address)
        return value

    return read


def _user_agent_reader(field: str) -> fields.UserReader:
    by_name = fields.user_field(field)
    user_agent = fields.user_field("userAgent")
    index = UA_FIELD_INDEX.get(field.lower())

    def read(user: EvaluationUser) -> Any:
        value = by_name(user)
        if value is None and index is not None:
            return user_agent_field(user_agent(user), index)
        return value

    return read


def _bucket_reader(raw: Mapping[str, Any]) -> fields.UserReader:
    additional = raw.get("additionalValues", {"salt": None})
    if not isinstance(additional, Mapping):
        return _failing(f"additionalValues {additional!r} is not an object")
    salt = additional.get("salt")
    prefix = ("" if salt is None else str(salt)) + "."
    unit = fields.unit_id(raw.get("idType", "userID"))
    return lambda user: bucket_hash(prefix + (unit(user) or "")) % 1000
