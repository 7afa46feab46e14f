"""EvaluationUser.from_dict: the SDK's stringification of ids and its required-id rule."""

from __future__ import annotations

import pytest

from evaluation import EvaluationUser, InvalidUserError


def test_from_dict__numeric_ids__are_stringified_like_the_sdk() -> None:
    user = EvaluationUser.from_dict({"userID": 123, "customIDs": {"companyID": 4.0, "teamID": "t"}})

    assert user.user_id == "123"
    assert user.custom_ids == {"companyID": "4.0", "teamID": "t"}


def test_from_dict__other_attributes__are_kept_as_given() -> None:
    user = EvaluationUser.from_dict(
        {
            "userID": "u",
            "email": "a@example.com",
            "appVersion": 3,
            "custom": {"age": "30"},
            "privateAttributes": {"plan": "pro"},
            "statsigEnvironment": {"tier": "staging"},
        }
    )

    assert (user.email, user.app_version) == ("a@example.com", 3)
    assert user.custom == {"age": "30"}
    assert user.private_attributes == {"plan": "pro"}
    assert user.statsig_environment == {"tier": "staging"}


def test_from_dict__custom_id_only__is_valid() -> None:
    user = EvaluationUser.from_dict({"customIDs": {"stableID": "s-1"}})

    assert user.user_id is None
    assert user.custom_ids == {"stableID": "s-1"}


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ("not a user", "user"),
        ({}, "userID"),
        ({"userID": ""}, "userID"),
        ({"userID": 0}, "userID"),
        ({"userID": None, "customIDs": {}}, "userID"),
        ({"userID": True}, "userID"),
        ({"userID": ["u"]}, "userID"),
        ({"userID": "u", "customIDs": ["x"]}, "customIDs"),
        ({"userID": "u", "customIDs": {"companyID": None}}, "customIDs.companyID"),
        ({"userID": "u", "customIDs": {"companyID": {"a": 1}}}, "customIDs.companyID"),
        ({"userID": "u", "custom": "x"}, "custom"),
        ({"userID": "u", "privateAttributes": [1]}, "privateAttributes"),
        ({"userID": "u", "statsigEnvironment": "production"}, "statsigEnvironment"),
    ],
)
def test_from_dict__invalid_user__raises_with_the_field(data: object, field: str) -> None:
    with pytest.raises(InvalidUserError) as raised:
        EvaluationUser.from_dict(data)

    assert raised.value.field == field
    assert isinstance(raised.value, ValueError)
