"""``GET /console/v1/audit_logs`` as Statsig documents it: Statsig's ``actionType`` names, the
``tags``, ``sortKey``/``sortOrder`` and ``latestID`` filters, and the entry shape of its example.
The stored entries keep the names they were written with."""

from __future__ import annotations

import pytest

from console.models import AuditLog

RULE = {
    "name": "Employees",
    "passPercentage": 100,
    "conditions": [{"type": "email", "operator": "str_contains_any", "targetValue": ["@a.com"]}],
}


def actions(capi, query: str = "") -> list[tuple[str, str]]:
    response = capi.get(f"audit_logs?limit=100{query}")
    assert response.status_code == 200, response.json()
    return [(log["actionType"], log["name"]) for log in response.json()["data"]]


@pytest.fixture
def history(capi):
    """A gate, a dynamic config, an experiment and an ID-list segment, changed through the API."""
    assert capi.post("gates", {"name": "checkout_gate", "tags": ["growth"]}).status_code == 201
    capi.patch("gates/checkout_gate", {"isEnabled": False})
    capi.patch("gates/checkout_gate", {"description": "new words"})
    capi.patch("gates/checkout_gate", {"rules": [RULE]})
    capi.put("gates/checkout_gate/enable")
    assert capi.post("dynamic_configs", {"name": "banner_config"}).status_code == 201
    capi.patch("dynamic_configs/banner_config", {"defaultValue": {"color": "red"}})
    assert capi.post("experiments", {"name": "pricing_test"}).status_code == 201
    capi.patch("experiments/pricing_test", {"hypothesis": "cheaper sells"})
    capi.post("segments", {"name": "beta_users", "type": "id_list"})
    capi.post("segments/beta_users/id_list/reset", {"ids": ["u1"]})


def test_action_types__statsig_names_for_our_changes(capi, history):
    # When the audit log is listed
    listed = actions(capi)

    # Then each change reads with Statsig's actionType
    assert listed[:11] == [
        ("ID_list_update", "beta_users"),
        ("segment_create", "beta_users"),
        ("hypothesis_edit", "pricing_test"),
        ("experiment_create", "pricing_test"),
        ("config_default_value_update", "banner_config"),
        ("dynamic_config_create", "banner_config"),
        ("config_state_toggle", "checkout_gate"),
        ("config_conditions_update", "checkout_gate"),
        ("config_description_update", "checkout_gate"),
        ("config_state_toggle", "checkout_gate"),
        ("gate_create", "checkout_gate"),
    ]
    # The project's default keys, made when the project was
    assert "sdk_key_create" in {action for action, _ in listed[11:]}


def test_action_types__stored_history_keeps_its_names(capi, history, world):
    stored = set(
        AuditLog.objects.filter(project=world.project).values_list("action_type", flat=True)
    )

    assert {"gate_enable", "config_create", "segment_id_list_reset", "key_create"} <= stored
    assert "config_state_toggle" not in stored


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("&actionType=config_state_toggle", ["config_state_toggle", "config_state_toggle"]),
        ("&actionType=gate_create", ["gate_create"]),
        ("&actionType=ID_list_update", ["ID_list_update"]),
        (
            "&actionTypes=config_description_update&actionTypes=dynamic_config_create",
            ["dynamic_config_create", "config_description_update"],
        ),
        ("&actionTypes[]=hypothesis_edit", ["hypothesis_edit"]),
        ("&actionType=gate_update", []),
        ("&actionType=segment_create", ["segment_create"]),
    ],
)
def test_action_type_filter__statsig_names__matching_entries_only(capi, history, query, expected):
    assert [action for action, _ in actions(capi, query)] == expected


def test_action_type_filter__every_entry__found_by_the_name_it_is_shown_with(capi, history):
    for log in capi.get("audit_logs?limit=100").json()["data"]:
        found = capi.get(f"audit_logs?limit=100&actionType={log['actionType']}").json()["data"]
        assert log["id"] in {entry["id"] for entry in found}, log["actionType"]
        assert {entry["actionType"] for entry in found} == {log["actionType"]}


def test_action_type_filter__with_paging__total_counts_matches(capi, history):
    response = capi.get("audit_logs?actionType=config_state_toggle&limit=1")

    assert response.json()["pagination"]["totalItems"] == 2
    assert len(response.json()["data"]) == 1


def test_tags_filter__entries_of_entities_carrying_the_tag(capi, history):
    response = capi.get("audit_logs?tags=growth")

    logs = response.json()["data"]
    assert {log["name"] for log in logs} == {"checkout_gate"}
    assert len(logs) == 5
    assert all(log["tags"] == ["growth"] for log in logs)
    assert actions(capi, "&tags[]=nothing") == []
    assert len(capi.get("audit_logs?tags=GROWTH,other").json()["data"]) == 5


def test_tags_filter__segment_tags__its_entries(capi):
    capi.post("segments", {"name": "beta_users", "type": "id_list", "tags": ["beta"]})
    capi.post("segments/beta_users/id_list/reset", {"ids": ["u1"]})

    logs = capi.get("audit_logs?tags=beta").json()["data"]

    assert [(log["actionType"], log["tags"]) for log in logs] == [
        ("ID_list_update", ["beta"]),
        ("segment_create", ["beta"]),
    ]


def test_sort__name_ascending__ordered_by_entity_name(capi, history):
    names = [name for _, name in actions(capi, "&sortKey=name&sortOrder=asc")]

    assert names == sorted(names)
    descending = [name for _, name in actions(capi, "&sortKey=name&sortOrder=desc")]
    assert descending == sorted(names, reverse=True)


def test_sort__date_ascending__oldest_first(capi, history):
    listed = actions(capi, "&sortKey=date&sortOrder=asc")

    assert listed == list(reversed(actions(capi)))


@pytest.mark.parametrize(
    ("query", "field"),
    [("sortKey=color", "sortKey"), ("sortOrder=up", "sortOrder"), ("latestID=abc", "latestID")],
)
def test_bad_filter__400_naming_it(capi, query, field):
    response = capi.get(f"audit_logs?{query}")

    assert response.status_code == 400
    assert response.json()["errors"][0]["property"] == field


def test_latest_id__only_entries_written_after_it(capi, history):
    newest = capi.get("audit_logs?limit=1").json()["data"][0]
    capi.patch("gates/checkout_gate", {"description": "later words"})

    response = capi.get(f"audit_logs?latestID={newest['id']}")

    assert [(log["actionType"], log["name"]) for log in response.json()["data"]] == [
        ("config_description_update", "checkout_gate")
    ]


def test_statsig_example__page_2_of_3__entry_shape(capi, history):
    # Statsig's example lists page 2 with limit 3
    response = capi.get("audit_logs?page=2&limit=3")

    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "Audit logs listed successfully."
    assert body["pagination"]["itemsPerPage"] == 3
    assert body["pagination"]["pageNumber"] == 2
    entry = body["data"][0]
    for field in (
        "id", "name", "changeLog", "actionType", "date", "time", "updatedBy",
        "updatedByUserID", "modifierEmail", "changes", "tags", "targetAppIDs",
    ):  # fmt: skip
        assert field in entry, field
    assert entry["time"].endswith("GMT+0000 (Coordinated Universal Time)")
