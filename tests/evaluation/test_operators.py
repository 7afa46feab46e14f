"""Each operator's coercions and edge cases, as the SDK (0.72.1) applies them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from evaluation.operators import InvalidTargetError, compile_operator

NOW = datetime(2024, 6, 15, 12, 0, 0)
NOW_S = int(NOW.timestamp())
NOW_MS = NOW_S * 1000
DAY_S = 86_400


def check(op: str, target: Any, value: Any, *, bucket: bool = False) -> bool:
    return compile_operator(op, target, bucket=bucket)(value)


# -- numbers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "target", "value", "expected"),
    [
        ("gt", 18, 19, True),
        ("gt", 18, 18, False),
        ("gte", 18, 18, True),
        ("lt", 18.5, 18, True),
        ("lte", "18", "18.0", True),
        ("gt", "30", "100", True),
        ("gt", 0, True, True),
        ("lt", -3, " -4 ", True),
    ],
)
def test_number_operator__numbers_and_numeric_strings__compare_as_floats(
    op: str, target: Any, value: Any, expected: bool
) -> None:
    assert check(op, target, value) is expected


def test_number_operator__missing_value__is_false() -> None:
    assert check("gt", 18, None) is False


def test_number_operator__missing_target__is_false() -> None:
    assert check("lt", None, 5) is False


def test_number_operator__non_numeric_value__raises() -> None:
    with pytest.raises(ValueError, match="could not convert"):
        check("gt", 18, "abc")


def test_number_operator__non_numeric_value_and_missing_target__still_raises() -> None:
    with pytest.raises(ValueError, match="could not convert"):
        check("gte", None, "12abc")


def test_number_operator__non_numeric_target__raises_for_every_value() -> None:
    with pytest.raises(InvalidTargetError):
        check("lte", "eighteen", None)


# -- versions ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "target", "value", "expected"),
    [
        ("version_gt", "1.2", "1.2.3", True),
        ("version_eq", "1.2.0", "1.2", True),
        ("version_gt", "1.9", "1.10", True),
        ("version_eq", "2.0.0", "2.0.0-beta", True),
        ("version_eq", "2.0.0-rc.1", "2.0.0", True),
        ("version_lt", "2.0", "1.x", True),
        ("version_gte", "3", 3.5, True),
        ("version_lte", "0", "-1.0", True),
        ("version_neq", "1.0", "1.0.1", True),
        ("version_gt", "1.2.3", "1.2.3.0", False),
    ],
)
def test_version_operator__parts_compared_as_integers__ignoring_suffixes(
    op: str, target: Any, value: Any, expected: bool
) -> None:
    assert check(op, target, value) is expected


def test_version_operator__unreadable_part_before_a_difference__is_false_even_for_neq() -> None:
    assert check("version_neq", "1.0", "1.x") is False


def test_version_operator__missing_value_or_target__is_false() -> None:
    assert check("version_gt", "1.0", None) is False
    assert check("version_lt", None, "1.0") is False


def test_version_operator__infinite_part__raises() -> None:
    with pytest.raises(OverflowError):
        check("version_gt", "1.0", "inf.1")


# -- membership ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "value", "expected"),
    [
        (["Alice@Example.com"], "alice@EXAMPLE.COM", True),
        ([1, 2], "2", True),
        (["2"], 2, True),
        ([1.0], "1", False),
        ([1.0], 1.0, True),
        (["true"], True, True),
        (["Straße"], "STRASSE", True),
        (["a"], None, False),
    ],
)
def test_any__case_insensitive_string_membership__matches_like_sdk(
    target: list[Any], value: Any, expected: bool
) -> None:
    assert check("any", target, value) is expected
    assert check("none", target, value) is not expected


def test_any__target_not_a_list__never_matches_and_none_always_does() -> None:
    assert check("any", "alice", "alice") is False
    assert check("none", "alice", "alice") is True


def test_any_case_sensitive__different_case__does_not_match() -> None:
    assert check("any_case_sensitive", ["Pro"], "pro") is False
    assert check("any_case_sensitive", ["Pro", 7], 7) is True
    assert check("none_case_sensitive", ["Pro"], "pro") is True


def test_any__user_bucket_condition__compares_integer_buckets() -> None:
    assert check("any", [1, "2", 3.0], 2, bucket=True) is True
    assert check("none", [1, "2", 3.0], 4, bucket=True) is True
    assert check("any", [1], "1", bucket=True) is False


def test_any__user_bucket_target_not_integers__raises() -> None:
    with pytest.raises(InvalidTargetError):
        check("any", ["low"], 2, bucket=True)


# -- strings -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        ("str_starts_with_any", "ADMIN@corp.io", True),
        ("str_starts_with_any", "x-admin", False),
        ("str_ends_with_any", "bob@EXAMPLE.com", True),
        ("str_contains_any", "the Admin panel", True),
        ("str_contains_none", "the Admin panel", False),
        ("str_contains_none", "guest", True),
        ("str_contains_any", None, False),
        ("str_contains_none", None, True),
    ],
)
def test_string_operator__casefolded_matching__matches_like_sdk(
    op: str, value: Any, expected: bool
) -> None:
    assert check(op, ["admin", "@example.COM", None], value) is expected


def test_string_operator__number_value__is_matched_as_its_string() -> None:
    assert check("str_starts_with_any", ["12"], 123) is True


def test_str_matches__pattern__is_searched_not_fully_matched() -> None:
    assert check("str_matches", r"\d{3}", "abc123def") is True
    assert check("str_matches", r"^\d{3}$", "abc123def") is False
    assert check("str_matches", "1.5", 1.5) is True


def test_str_matches__invalid_pattern__raises_only_for_a_value() -> None:
    assert check("str_matches", "[", None) is False
    with pytest.raises(InvalidTargetError):
        check("str_matches", "[", "x")


# -- equality ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "value", "expected"),
    [
        ("1", 1, False),
        (1, 1.0, True),
        (True, True, True),
        (None, None, True),
        ([1, 2], [1, 2], True),
    ],
)
def test_eq__raw_values__compare_without_coercion(target: Any, value: Any, expected: bool) -> None:
    assert check("eq", target, value) is expected
    assert check("neq", target, value) is not expected


# -- dates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "target", "value", "expected"),
    [
        ("before", NOW_MS, NOW_MS - 1000, True),
        ("before", NOW_S, NOW_MS - 1000, True),
        ("after", NOW_MS, NOW_S + DAY_S, True),
        ("after", NOW_MS, str(NOW_MS + DAY_S * 1000), True),
        ("on", NOW_MS, NOW_S + 60, True),
        ("on", NOW_S, (NOW + timedelta(days=1)).timestamp() * 1000, False),
        ("before", NOW_MS, None, False),
    ],
)
def test_date_operator__seconds_or_milliseconds__compare_as_local_datetimes(
    op: str, target: Any, value: Any, expected: bool
) -> None:
    assert check(op, target, value) is expected


def test_date_operator__iso_string__raises() -> None:
    with pytest.raises(ValueError, match="invalid literal"):
        check("before", NOW_MS, "2024-01-01T00:00:00Z")


def test_date_operator__missing_target__is_false_but_still_reads_the_value() -> None:
    assert check("after", None, NOW_MS) is False
    with pytest.raises(ValueError, match="invalid literal"):
        check("after", None, "yesterday")


def test_date_operator__unreadable_target__raises() -> None:
    with pytest.raises(InvalidTargetError):
        check("on", "2024-06-15", None)


# -- arrays --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "target", "value", "expected"),
    [
        ("array_contains_any", ["red", "blue"], ["blue"], True),
        ("array_contains_any", ["2"], [2], True),
        ("array_contains_any", [2], ["2"], True),
        ("array_contains_any", [0], [0], False),
        ("array_contains_any", ["0"], ["0"], True),
        ("array_contains_any", [1], [True], True),
        ("array_contains_none", ["red"], ["blue"], True),
        ("array_contains_all", ["red", 3], ["red", 3, "x"], True),
        ("array_contains_all", [0], [0], True),
        ("array_contains_all", ["red", "green"], ["red"], False),
        ("not_array_contains_all", ["red", "green"], ["red"], True),
    ],
)
def test_array_operator__targets_as_string_and_int__match_like_sdk(
    op: str, target: list[Any], value: list[Any], expected: bool
) -> None:
    assert check(op, target, value) is expected


@pytest.mark.parametrize(
    "op",
    ["array_contains_any", "array_contains_none", "array_contains_all", "not_array_contains_all"],
)
def test_array_operator__value_not_a_list__is_false(op: str) -> None:
    assert check(op, ["red"], "red") is False
    assert check(op, ["red"], None) is False


def test_array_operator__target_not_a_list__raises_for_a_list_value() -> None:
    assert check("array_contains_any", "red", "red") is False
    with pytest.raises(InvalidTargetError):
        check("array_contains_any", "red", ["red"])


# -- unknown -------------------------------------------------------------------------------


@pytest.mark.parametrize("op", ["ANY", "is_null", None, "contains"])
def test_unknown_operator__any_value__is_false(op: str | None) -> None:
    assert check(op, ["x"], "x") is False
