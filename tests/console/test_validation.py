"""``console.validation``: the primitives flags, segments and privacy share, and the one rule
that makes an id from a name for every entity."""

from __future__ import annotations

import pytest

from console.errors import ValidationError
from console.validation import (
    FieldErrors,
    distinct_strings,
    id_from_name,
    new_entity_id,
    scan_ids,
    validate_text,
)


@pytest.mark.parametrize(
    ("name", "made"),
    [
        ("A Gate", "a_gate"),
        ("  Enterprise Companies (EU)!  ", "enterprise_companies_eu"),
        ("_hidden_", "_hidden_"),
        ("my-first-gate", "my-first-gate"),
        ("v1.2 rollout", "v1.2_rollout"),
        ("Tabs\tand\n\nlines", "tabs_and_lines"),
    ],
)
def test_id_from_name__names__statsig_ids(name, made):
    assert id_from_name(name) == made


def test_id_for_entity__segment_and_gate_of_one_name__same_id(capi):
    # Given a segment and a gate named alike through the console API
    segment = capi.post("segments", {"name": "_Hidden Beta_", "type": "rule_based"})
    gate = capi.post("gates", {"name": "_Hidden Beta_"})
    # Then both got the id the one rule makes
    assert segment.status_code == gate.status_code == 201
    assert segment.json()["data"]["id"] == gate.json()["data"]["id"] == "_hidden_beta_"


def test_new_entity_id__given_or_made_from_name():
    assert new_entity_id(None, name="Beta Users") == "beta_users"
    assert new_entity_id(" given.id ", name="Beta Users") == "given.id"
    with pytest.raises(ValidationError) as refused:
        new_entity_id("", name="!!!")
    assert refused.value.errors[0].property == "id"
    assert "give an id" in refused.value.errors[0].message
    with pytest.raises(ValidationError) as refused:
        new_entity_id("has space", name="Beta Users")
    assert refused.value.errors[0].message == "id may contain only letters, digits, _, - and ."


def test_validate_text__bounds__messages_name_the_field():
    assert validate_text(None, "team") == ""
    assert validate_text("  growth ", "team", strip=True) == "growth"
    problems = {
        "x" * 11: "team is 11 characters long; at most 10 allowed.",
        5: "team must be a string.",
    }
    for value, message in problems.items():
        with pytest.raises(ValidationError) as refused:
            validate_text(value, "team", max_length=10)
        assert refused.value.errors[0].as_dict() == {"property": "team", "message": message}
    for value in (None, "", "   "):
        with pytest.raises(ValidationError) as refused:
            validate_text(value, "name", min_length=3, strip=True)
        assert refused.value.message == "name is required."
    with pytest.raises(ValidationError) as refused:
        validate_text("ab", "name", min_length=3, max_length=100)
    assert refused.value.message == "name has 3 to 100 characters."


def test_field_errors__several_problems__raised_together_first_named():
    errors = FieldErrors()
    assert errors.check(validate_text, "ok", "team") == "ok"
    assert errors.check(validate_text, 1, "team") is None
    errors.add("type", "type must be one of: a, b.")
    with pytest.raises(ValidationError) as refused:
        errors.raise_if_any()
    assert refused.value.message == "team: team must be a string."
    assert [error.property for error in refused.value.errors] == ["team", "type"]


def test_scan_ids__mixed_entries__distinct_ids_and_each_problem_with_its_place():
    ids, problems = scan_ids(
        [" a ", "b", "a", "", "x" * 9, "n\x00l", None, 7], max_length=8, numbers=(int,)
    )
    assert ids == ["a", "b", "7"]
    assert [(p.index, p.reason) for p in problems] == [
        (3, "is empty"),
        (4, "is longer than 8 characters"),
        (5, "contains a NUL character"),
        (6, "is not a string"),
    ]
    kept, dropped = scan_ids(["a", " ", ""], max_length=8, drop_empty=True)
    assert (kept, dropped) == (["a"], [])


def test_distinct_strings__nul_character__400_naming_the_entry():
    with pytest.raises(ValidationError) as refused:
        distinct_strings(["ok", "bad\x00id"], "passingUserIDs")
    assert refused.value.errors[0].as_dict() == {
        "property": "passingUserIDs[1]",
        "message": "Each id is a non-empty string.",
    }
    assert distinct_strings([" a", " a", 3, 2.5], "ids") == [" a", "3", "2.5"]
