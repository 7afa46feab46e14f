"""Condition operators, compiled once per condition into a test of the user's value.

Each test reproduces the coercions of the official Python SDK (0.72.1) exactly, including the
cases where the SDK raises (a non-numeric string given to ``gt``, an ISO date given to
``before``): the test raises too, and the evaluator turns that into the ``error`` result.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

Test = Callable[[Any], bool]

SUPPORTED_OPERATORS = frozenset(
    (
        "gt",
        "gte",
        "lt",
        "lte",
        "version_gt",
        "version_gte",
        "version_lt",
        "version_lte",
        "version_eq",
        "version_neq",
        "any",
        "none",
        "any_case_sensitive",
        "none_case_sensitive",
        "str_starts_with_any",
        "str_ends_with_any",
        "str_contains_any",
        "str_contains_none",
        "str_matches",
        "eq",
        "neq",
        "before",
        "after",
        "on",
        "in_segment_list",
        "not_in_segment_list",
        "array_contains_any",
        "array_contains_none",
        "array_contains_all",
        "not_array_contains_all",
    )
)
SEGMENT_LIST_OPERATORS = frozenset(("in_segment_list", "not_in_segment_list"))

_NUMBER_COMPARISONS = {"gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le}
# The signs of (user version - target version) each version operator accepts.
_VERSION_SIGNS = {
    "version_gt": frozenset((1,)),
    "version_gte": frozenset((0, 1)),
    "version_lt": frozenset((-1,)),
    "version_lte": frozenset((-1, 0)),
    "version_eq": frozenset((0,)),
    "version_neq": frozenset((-1, 1)),
}
_DATE_COMPARISONS: dict[str, Callable[[datetime, datetime], bool]] = {
    "before": operator.lt,
    "after": operator.gt,
    "on": lambda a, b: a.date() == b.date(),
}


class InvalidTargetError(ValueError):
    """A condition's targetValue cannot be used by its operator."""


def never(_value: Any) -> bool:
    return False


def always(_value: Any) -> bool:
    return True


def raising(message: str) -> Test:
    def test(_value: Any) -> bool:
        raise InvalidTargetError(message)

    return test


def _raising_unless_none(message: str, when_none: bool) -> Test:
    """The SDK looks at the user's value before it uses a broken target."""

    def test(value: Any) -> bool:
        if value is None:
            return when_none
        raise InvalidTargetError(message)

    return test


def compile_operator(op: Any, target: Any, *, bucket: bool = False) -> Test:
    """The test for ``op`` against ``target``. ``bucket`` marks a ``user_bucket`` condition, for
    which ``any`` / ``none`` compare integer buckets. Unknown operators never match."""
    if op in _NUMBER_COMPARISONS:
        return _number(_NUMBER_COMPARISONS[op], target)
    if op in _VERSION_SIGNS:
        return _version(_VERSION_SIGNS[op], target)
    if op in ("any", "none"):
        test = _bucket_in(target) if bucket else _in_casefolded(target)
        return test if op == "any" else _negated(test)
    if op in ("any_case_sensitive", "none_case_sensitive"):
        test = _in_exact(target)
        return test if op == "any_case_sensitive" else _negated(test)
    if op in ("str_starts_with_any", "str_ends_with_any", "str_contains_any", "str_contains_none"):
        return _substring(op, target)
    if op == "str_matches":
        return _matches(target)
    if op == "eq":
        return lambda value: value == target
    if op == "neq":
        return lambda value: value != target
    if op in _DATE_COMPARISONS:
        return _date(_DATE_COMPARISONS[op], target)
    if op in ("array_contains_any", "array_contains_none"):
        test = _array_any(target)
        return test if op == "array_contains_any" else _negated_for_lists(test)
    if op in ("array_contains_all", "not_array_contains_all"):
        test = _array_all(target)
        return test if op == "array_contains_all" else _negated_for_lists(test)
    return never


def _negated(test: Test) -> Test:
    return lambda value: not test(value)


def _negated_for_lists(test: Test) -> Test:
    # The array operators are false for a value that is not a list, negated or not.
    return lambda value: isinstance(value, list) and not test(value)


def _number(compare: Callable[[float, float], bool], target: Any) -> Test:
    if target is None:

        def test(value: Any) -> bool:
            # The SDK converts the value before it notices the missing target.
            if value is not None:
                float(value)
            return False

        return test
    try:
        bound = float(target)
    except (TypeError, ValueError):
        return raising(f"targetValue {target!r} is not a number")

    def test(value: Any) -> bool:
        return value is not None and compare(float(value), bound)

    return test


def _version_prefix(text: str) -> str:
    # Everything from the first "-" is dropped, unless the string starts with it.
    dash = text.find("-")
    return text[:dash] if dash > 0 else text


def _version_part(part: str) -> int | type[Exception]:
    try:
        return int(float(part))
    except (ValueError, OverflowError) as exc:
        return type(exc)


def _version(signs: frozenset[int], target: Any) -> Test:
    if target is None:
        return never
    target_parts = [_version_part(part) for part in _version_prefix(str(target)).split(".")]

    def test(value: Any) -> bool:
        if value is None:
            return False
        parts = _version_prefix(str(value)).split(".")
        for index in range(max(len(parts), len(target_parts))):
            # Parts are read pairwise and lazily, the user's first; an unreadable part makes the
            # comparison false, an overflowing one (``inf``) raises, as in the SDK.
            try:
                mine = int(float(parts[index])) if index < len(parts) else 0
            except ValueError:
                return False
            theirs = target_parts[index] if index < len(target_parts) else 0
            if theirs is ValueError:
                return False
            if theirs is OverflowError:
                raise OverflowError("version part too large")
            if mine != theirs:
                return (1 if mine > theirs else -1) in signs
        return 0 in signs

    return test


def _bucket_in(target: Any) -> Test:
    try:
        buckets = frozenset(int(bucket) for bucket in target)
    except (TypeError, ValueError):
        # The SDK cannot load such a ruleset at all; evaluating it is an error here.
        return raising(f"user_bucket targetValue {target!r} is not a list of integers")
    return lambda value: isinstance(value, int) and value in buckets


def _in_casefolded(target: Any) -> Test:
    if not isinstance(target, list):
        return never
    values = frozenset(str(item).casefold() for item in target)
    return lambda value: value is not None and str(value).casefold() in values


def _in_exact(target: Any) -> Test:
    if not isinstance(target, list):
        return never
    values = frozenset(str(item) for item in target)
    return lambda value: value is not None and str(value) in values


def _substring(op: str, target: Any) -> Test:
    negate = op == "str_contains_none"
    if target is None:
        return always if negate else never
    try:
        needles = tuple(str(item).casefold() for item in target if item is not None)
    except TypeError:
        return _raising_unless_none(f"targetValue {target!r} is not a list", negate)
    if op == "str_starts_with_any":
        return lambda value: value is not None and str(value).casefold().startswith(needles)
    if op == "str_ends_with_any":
        return lambda value: value is not None and str(value).casefold().endswith(needles)

    def contains_any(value: Any) -> bool:
        if value is None:
            return False
        text = str(value).casefold()
        return any(needle in text for needle in needles)

    return _negated(contains_any) if negate else contains_any


def _matches(target: Any) -> Test:
    if target is None:
        return never
    try:
        pattern = re.compile(str(target))
    except re.error:
        return _raising_unless_none(f"targetValue {target!r} is not a regular expression", False)
    return lambda value: value is not None and pattern.search(str(value)) is not None


def to_datetime(value: Any) -> datetime:
    """An epoch in seconds, or in milliseconds when it has 11 or more characters, as a naive
    datetime in the server's local timezone. This deliberately copies the SDK
    (``datetime.fromtimestamp``), timezone dependence included, so that we answer as it does."""
    epoch = int(value)
    if len(str(value)) >= 11:
        epoch //= 1000
    return datetime.fromtimestamp(epoch)


def _date(compare: Callable[[datetime, datetime], bool], target: Any) -> Test:
    if target is None:

        def test(value: Any) -> bool:
            # The SDK converts the value before it notices the missing target.
            if value is not None:
                to_datetime(value)
            return False

        return test
    try:
        bound = to_datetime(target)
    except (TypeError, ValueError, OverflowError, OSError):
        return raising(f"targetValue {target!r} is not an epoch time")
    return lambda value: value is not None and compare(to_datetime(value), bound)


def _safe_int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def _array_targets(target: Any) -> tuple[tuple[str, int | None], ...] | None:
    """Each distinct target as the SDK tests it: as its string and as that string's int."""
    if not isinstance(target, list):
        return None
    return tuple((text, _safe_int(text)) for text in dict.fromkeys(str(item) for item in target))


def _array_any(target: Any) -> Test:
    pairs = _array_targets(target)
    if pairs is None:
        return _raising_for_lists(target)

    def test(value: Any) -> bool:
        if not isinstance(value, list):
            return False
        # A parsed 0 is skipped (a truthiness test in the SDK); its string form still counts.
        return any((number and number in value) or text in value for text, number in pairs)

    return test


def _array_all(target: Any) -> Test:
    pairs = _array_targets(target)
    if pairs is None:
        return _raising_for_lists(target)

    def test(value: Any) -> bool:
        if not isinstance(value, list):
            return False
        return all(number in value or text in value for text, number in pairs)

    return test


def _raising_for_lists(target: Any) -> Test:
    def test(value: Any) -> bool:
        if not isinstance(value, list):
            return False
        raise InvalidTargetError(f"targetValue {target!r} is not a list")

    return test
