"""Where each condition type reads its value (reference statsig.md §3.3-3.4): user fields and
their fallbacks, IP country, user agent, environment, unit ids, buckets, id lists, apps, time."""

from __future__ import annotations

import time

import pytest

from evaluation import Reason, bucket_hash, evaluate_gate, id_list_hash
from tests.evaluation.specs import condition, field, gate, rule, ruleset, user

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1"
)


def passes(cond: dict, **user_data: object) -> bool:
    specs = ruleset(
        gates=(gate("g", rule("r", cond)),), app_id="app-web", default_environment="production"
    )
    result = evaluate_gate(specs, user(**user_data), "g")
    assert result.reason == Reason.RECOGNIZED, result
    return result.value


def rule_id(cond: dict, **user_data: object) -> str:
    specs = ruleset(gates=(gate("g", rule("r", cond)),))
    return evaluate_gate(specs, user(**user_data), "g").rule_id


# -- user_field ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["email", "Email", "EMAIL"])
def test_user_field__builtin_field_in_any_case__reads_the_attribute(name: str) -> None:
    assert passes(field(name, "any", ["a@example.com"]), email="a@example.com") is True


@pytest.mark.parametrize("name", ["userID", "user_id", "USERID"])
def test_user_field__user_id_spellings__read_the_user_id(name: str) -> None:
    assert passes(field(name, "any", ["u-7"]), userID="u-7") is True


def test_user_field__empty_builtin__falls_back_to_custom_then_private_attributes() -> None:
    cond = field("email", "any", ["c@example.com"])

    assert passes(cond, email="", custom={"email": "c@example.com"}) is True
    assert (
        passes(
            field("email", "any", ["p@example.com"]), privateAttributes={"email": "p@example.com"}
        )
        is True
    )


def test_user_field__custom_key__is_found_exactly_then_casefolded() -> None:
    assert passes(field("Plan", "any", ["pro"]), custom={"Plan": "pro"}) is True
    assert passes(field("Plan", "any", ["pro"]), custom={"plan": "pro"}) is True
    assert passes(field("plan", "any", ["pro"]), custom={"Plan": "pro"}) is False


def test_user_field__empty_custom_value__falls_back_to_private_attributes() -> None:
    assert (
        passes(
            field("plan", "any", ["pro"]), custom={"plan": ""}, privateAttributes={"plan": "pro"}
        )
        is True
    )


def test_user_field__missing_everywhere__fails_any_and_passes_none() -> None:
    assert passes(field("plan", "any", ["pro"])) is False
    assert passes(field("plan", "none", ["pro"])) is True


# -- ip_based ------------------------------------------------------------------------------


def test_ip_based__country_given__is_used_over_the_ip() -> None:
    assert (
        passes(condition("ip_based", "any", ["DE"], field="country"), country="de", ip="8.8.8.8")
        is True
    )


def test_ip_based__no_country__is_looked_up_from_the_ip() -> None:
    assert passes(condition("ip_based", "any", ["US"], field="country"), ip="8.8.8.8") is True
    assert (
        passes(condition("ip_based", "any", ["GB"], field="country"), custom={"ip": "81.2.69.160"})
        is True
    )


def test_ip_based__no_value_at_all__is_false_even_for_none() -> None:
    assert passes(condition("ip_based", "none", ["US"], field="country")) is False
    assert passes(condition("ip_based", "none", ["US"], field="country"), ip="10.0.0.1") is False


def test_ip_based__malformed_ip__is_an_error() -> None:
    assert rule_id(condition("ip_based", "any", ["US"], field="country"), ip="1.2.3.x") == "error"


# -- ua_based ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "operator", "target"),
    [
        ("os_name", "any", ["ios"]),
        ("os_version", "version_eq", "17.2.1"),
        ("browser_name", "any", ["Mobile Safari"]),
        ("browser_version", "version_gte", "17.2"),
    ],
)
def test_ua_based__fields__are_parsed_from_the_user_agent(
    name: str, operator: str, target: object
) -> None:
    assert passes(condition("ua_based", operator, target, field=name), userAgent=IPHONE) is True


def test_ua_based__ipados_token__gives_the_os_version() -> None:
    cond = condition("ua_based", "version_eq", "17.4.0", field="os_version")

    assert passes(cond, userAgent="MyApp/5.1 (iPadOS 17.4; Tablet)") is True


def test_ua_based__unparseable_agent__is_other_with_version_zero() -> None:
    assert (
        passes(condition("ua_based", "any", ["Other"], field="browser_name"), userAgent="???")
        is True
    )
    assert (
        passes(condition("ua_based", "version_eq", "0", field="browser_version"), userAgent="???")
        is True
    )


def test_ua_based__explicit_field__wins_over_the_user_agent() -> None:
    assert (
        passes(
            condition("ua_based", "any", ["Android"], field="os_name"),
            userAgent=IPHONE,
            custom={"os_name": "Android"},
        )
        is True
    )


# -- environment_field ---------------------------------------------------------------------


def test_environment_field__user_environment__wins_over_the_ruleset_default() -> None:
    cond = condition("environment_field", "any", ["staging"], field="tier")

    assert passes(cond, statsigEnvironment={"tier": "staging"}) is True
    assert passes(cond) is False


def test_environment_field__no_user_environment__uses_the_ruleset_default() -> None:
    assert passes(condition("environment_field", "any", ["production"], field="tier")) is True


def test_environment_field__capitalised_field_with_lowercase_key__is_an_error_like_the_sdk() -> (
    None
):
    cond = condition("environment_field", "any", ["staging"], field="Tier")

    assert rule_id(cond, statsigEnvironment={"tier": "staging"}) == "error"


# -- unit_id -------------------------------------------------------------------------------


def test_unit_id__custom_id_type__reads_exact_then_lowercase_key() -> None:
    cond = condition("unit_id", "any", ["acme"], idType="companyID")

    assert passes(cond, customIDs={"companyID": "acme"}) is True
    assert passes(cond, customIDs={"companyid": "acme"}) is True
    assert (
        passes(
            condition("unit_id", "any", ["acme"], idType="CompanyID"),
            customIDs={"companyID": "acme"},
        )
        is False
    )


def test_unit_id__user_id_type_in_any_case__reads_the_user_id() -> None:
    assert passes(condition("unit_id", "any", ["u-1"], idType="USERID"), userID="u-1") is True


def test_unit_id__no_custom_ids__is_missing() -> None:
    assert passes(condition("unit_id", "none", ["acme"], idType="companyID")) is True


# -- user_bucket ---------------------------------------------------------------------------


def test_user_bucket__reference_vector__is_bucket_423() -> None:
    salt = {"salt": "aaf3263b-2972-4ae9-ae21-58f62e596403"}

    assert (
        passes(condition("user_bucket", "any", [423], additionalValues=salt), userID="123") is True
    )
    assert passes(condition("user_bucket", "lt", 424, additionalValues=salt), userID="123") is True
    assert passes(condition("user_bucket", "lt", 423, additionalValues=salt), userID="123") is False


def test_user_bucket__custom_id_type__buckets_that_id() -> None:
    cond = condition(
        "user_bucket",
        "any",
        [bucket_hash("s.acme") % 1000],
        additionalValues={"salt": "s"},
        idType="companyID",
    )

    assert passes(cond, customIDs={"companyID": "acme"}) is True


# -- id lists ------------------------------------------------------------------------------


def test_in_segment_list__id_in_the_list__passes() -> None:
    cond = condition("unit_id", "in_segment_list", "beta", idType="userID")
    specs = ruleset(gates=(gate("g", rule("r", cond)),), id_lists={"beta": {id_list_hash("u-1")}})

    assert evaluate_gate(specs, user(userID="u-1"), "g").value is True
    assert evaluate_gate(specs, user(userID="u-2"), "g").value is False


def test_not_in_segment_list__unknown_list__passes() -> None:
    specs = ruleset(gates=(gate("g", rule("r", field("userID", "not_in_segment_list", "nope"))),))

    assert evaluate_gate(specs, user(), "g").value is True


def test_with_id_lists__other_lists__change_membership_without_recompiling() -> None:
    specs = ruleset(gates=(gate("g", rule("r", field("email", "in_segment_list", "vips"))),))

    swapped = specs.with_id_lists({"vips": {id_list_hash("a@example.com")}})

    assert swapped.gates is specs.gates
    assert evaluate_gate(swapped, user(email="a@example.com"), "g").value is True
    assert evaluate_gate(specs, user(email="a@example.com"), "g").value is False


# -- target_app and current_time -----------------------------------------------------------


def test_target_app__ruleset_app_id__is_the_value() -> None:
    assert passes(condition("target_app", "any", ["app-web"])) is True
    assert passes(condition("target_app", "any", ["app-ios"])) is False


def test_current_time__after_a_past_instant__passes() -> None:
    an_hour_ago = int(time.time() * 1000) - 3_600_000

    assert passes(condition("current_time", "after", an_hour_ago)) is True
    assert passes(condition("current_time", "before", an_hour_ago)) is False


def test_public__any_user__passes() -> None:
    assert passes(condition("public")) is True
