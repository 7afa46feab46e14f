"""Rules read back as they were sent (issue 18): conditions that take no operator keep the
operator and targetValue spelling sent (the LaunchDarkly migration script's ``passes_segment``
form among them), ``public`` reads ``targetValue: []``, environments keep their order, and the
JSON5 texts of values are kept verbatim."""

from __future__ import annotations

import pytest

from flags.models import Gate


def gate_body(*conditions, environments=None):
    rule = {"name": "rule", "passPercentage": 100, "conditions": list(conditions)}
    if environments is not None:
        rule["environments"] = environments
    return {"name": "checkout", "idType": "userID", "rules": [rule]}


def conditions_of(capi, gate_id="checkout"):
    return capi.get(f"gates/{gate_id}").json()["data"]["rules"][0]["conditions"]


@pytest.mark.parametrize(
    ("sent", "read"),
    [
        (
            {"type": "public"},
            {"type": "public", "operator": "", "targetValue": []},
        ),
        (
            {"type": "public", "operator": "", "targetValue": []},
            {"type": "public", "operator": "", "targetValue": []},
        ),
        (
            {"type": "public", "operator": "any", "targetValue": None},
            {"type": "public", "operator": "any", "targetValue": []},
        ),
    ],
)
def test_public_condition__read_back_as_sent(capi, sent, read):
    created = capi.post("gates", gate_body(sent))

    assert created.status_code == 201, created.json()
    assert conditions_of(capi) == [{**read, "field": None, "customID": None}]


@pytest.mark.parametrize(
    ("sent", "canonical"),
    [
        ({"type": "custom_field", "field": "age", "operator": "gt", "targetValue": ["31"]}, 31),
        ({"type": "app_version", "operator": "version_gt", "targetValue": ["1.1.1"]}, "1.1.1"),
        ({"type": "user_id", "operator": "any", "targetValue": "u1"}, ["u1"]),
    ],
)
def test_operator_condition__value_read_back_as_sent_and_evaluated_canonical(capi, sent, canonical):
    created = capi.post("gates", gate_body(sent))

    assert created.status_code == 201, created.json()
    read = conditions_of(capi)[0]
    assert (read["operator"], read["targetValue"]) == (sent["operator"], sent["targetValue"])
    stored = Gate.objects.get(slug="checkout").rules[0]["conditions"][0]
    assert stored["targetValue"] == canonical


def test_passes_gate_as_list__read_back_as_list_and_referenced(capi):
    capi.post("gates", {"name": "base", "idType": "userID"})

    created = capi.post(
        "gates", gate_body({"type": "passes_gate", "operator": "", "targetValue": ["base"]})
    )

    assert created.status_code == 201, created.json()
    assert conditions_of(capi)[0]["targetValue"] == ["base"]
    refused = capi.delete("gates/base")
    assert refused.status_code == 400
    assert "gate 'checkout'" in refused.json()["message"]


def test_passes_segment_migration_script_form__accepted_read_back_and_referenced(capi):
    segment = capi.post("segments", {"name": "beta", "type": "id_list", "idType": "userID"})
    assert segment.status_code == 201, segment.json()
    condition = {
        "type": "passes_segment",
        "operator": "passes_segment",
        "targetValue": ["segment:beta"],
    }

    created = capi.post("gates", gate_body(condition))

    assert created.status_code == 201, created.json()
    assert conditions_of(capi) == [{**condition, "field": None, "customID": None}]
    refused = capi.delete("segments/beta")
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["message"] == "Used by gate 'checkout'."


def test_passes_segment_unknown_segment__400_naming_target(capi):
    response = capi.post(
        "gates",
        gate_body(
            {"type": "passes_segment", "operator": "passes_segment", "targetValue": ["segment:x"]}
        ),
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["property"] == "rules[0].conditions[0].targetValue"


def test_operator_for_public__other_operator__400_naming_it(capi):
    response = capi.post("gates", gate_body({"type": "public", "operator": "eq"}))

    assert response.status_code == 400
    assert response.json()["errors"][0]["property"] == "rules[0].conditions[0].operator"


def test_environments__order_kept_through_a_rule_patch(capi):
    capi.post("gates", gate_body({"type": "public"}, environments=["staging", "development"]))
    rule = capi.get("gates/checkout").json()["data"]["rules"][0]
    assert rule["environments"] == ["staging", "development"]

    patched = capi.patch(f"gates/checkout/rules/{rule['id']}", {"passPercentage": 50})

    assert patched.status_code == 200, patched.json()
    assert capi.get("gates/checkout").json()["data"]["rules"][0]["environments"] == [
        "staging",
        "development",
    ]


JSON5_DEFAULT = "{\n  // the colour everyone sees\n  color: 'blue',\n  size: 3,\n}"
JSON5_RULE = "{color: 'red', /* for the beta */ size: 4,}"


def test_config_json5__values_parsed_and_texts_kept_verbatim(capi):
    body = {
        "name": "theme",
        "idType": "userID",
        "defaultValueJson5": JSON5_DEFAULT,
        "rules": [
            {
                "name": "beta",
                "passPercentage": 100,
                "conditions": [{"type": "public"}],
                "returnValue": None,
                "returnValueJson5": JSON5_RULE,
            }
        ],
    }

    created = capi.post("dynamic_configs", body)

    assert created.status_code == 201, created.json()
    data = capi.get("dynamic_configs/theme").json()["data"]
    assert (data["defaultValue"], data["defaultValueJson5"]) == (
        {"color": "blue", "size": 3},
        JSON5_DEFAULT,
    )
    rule = data["rules"][0]
    assert (rule["returnValue"], rule["returnValueJson5"]) == (
        {"color": "red", "size": 4},
        JSON5_RULE,
    )


def test_config_json5__default_value_changed_alone__text_follows_it(capi):
    capi.post("dynamic_configs", {"name": "theme", "defaultValueJson5": JSON5_DEFAULT})

    patched = capi.patch("dynamic_configs/theme", {"defaultValue": {"color": "green"}})

    assert patched.status_code == 200, patched.json()
    data = patched.json()["data"]
    assert data["defaultValue"] == {"color": "green"}
    assert '"color": "green"' in data["defaultValueJson5"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"defaultValueJson5": "{color: "}, "defaultValueJson5"),
        ({"defaultValueJson5": "[1, 2]"}, "defaultValueJson5"),
        ({"defaultValueJson5": "{a: " + "[" * 20_000 + "]" * 20_000 + "}"}, "defaultValueJson5"),
        (
            {"defaultValue": {"color": "red"}, "defaultValueJson5": "{color: 'blue'}"},
            "defaultValueJson5",
        ),
    ],
)
def test_config_json5__bad_or_disagreeing__400_naming_it(capi, body, field):
    response = capi.post("dynamic_configs", {"name": "theme", **body})

    assert response.status_code == 400
    assert response.json()["errors"][0]["property"] == field
