"""``POST /segments/{id}/conditional``: a bare array of rules, the segment vocabulary,
references to other segments (existing, targetable, acyclic) and stable rule ids."""

from __future__ import annotations

from console.models import AuditLog
from segments.models import Segment
from tests.segments.conftest import create_segment


def _rule(name: str, *conditions: dict, pass_percentage: float = 100, **extra) -> dict:
    return {
        "name": name,
        "passPercentage": pass_percentage,
        "conditions": list(conditions),
        **extra,
    }


EMAIL = {"type": "email", "operator": "str_ends_with_any", "targetValue": ["@example.com"]}


def test_conditional__bare_array__rules_replaced(capi, world):
    create_segment(capi, name="Employees", type="rule_based")
    response = capi.post(
        "/segments/employees/conditional",
        [
            _rule("Staff", EMAIL, pass_percentage=12.34),
            _rule(
                "Companies",
                {
                    "type": "unit_id",
                    "customID": "companyID",
                    "operator": "any",
                    "targetValue": ["c1"],
                },
            ),
        ],
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["message"] == "Rules successfully updated"
    rules = body["data"]["rules"]
    assert [r["name"] for r in rules] == ["Staff", "Companies"]
    assert rules[0]["passPercentage"] == 12.34
    assert rules[0]["conditions"] == [
        {
            "type": "email",
            "operator": "str_ends_with_any",
            "targetValue": ["@example.com"],
            "field": None,
            "customID": None,
        }
    ]
    assert rules[1]["conditions"][0]["customID"] == "companyID"
    assert all(len(r["id"]) == 22 and r["baseID"] == r["id"] for r in rules)
    assert body["data"]["version"] == 2
    assert AuditLog.objects.filter(
        project=world.project, action_type="segment_conditional_update"
    ).exists()


def test_conditional__same_rule_again__keeps_id_and_salt(capi, world):
    create_segment(capi, name="Employees", type="rule_based")
    first = capi.post("/segments/employees/conditional", [_rule("Staff", EMAIL)]).json()
    salt = Segment.objects.get(key="employees").rules[0]["salt"]
    again = capi.post(
        "/segments/employees/conditional", [_rule("Staff", EMAIL, pass_percentage=50)]
    ).json()
    assert again["data"]["rules"][0]["id"] == first["data"]["rules"][0]["id"]
    assert Segment.objects.get(key="employees").rules[0]["salt"] == salt


def test_conditional__not_rule_based__400_type_message(capi):
    create_segment(capi, name="Beta list", type="id_list")
    response = capi.post("/segments/beta_list/conditional", [_rule("x", EMAIL)])
    assert response.status_code == 400
    assert response.json()["message"] == (
        "Segment must be of type 'rule_based' to be modified on this endpoint."
    )


def test_conditional__object_body__400(capi):
    create_segment(capi, name="Employees", type="rule_based")
    response = capi.post("/segments/employees/conditional", {"name": "x"})
    assert response.status_code == 400


def test_conditional__unknown_segment__404(capi):
    assert capi.post("/segments/nope/conditional", []).status_code == 404


def test_conditional__segment_references__checked(capi):
    create_segment(capi, name="Analysis only", type="analysis_list")
    create_segment(capi, name="Beta list", type="id_list")
    create_segment(capi, name="Employees", type="rule_based")

    def post(target: str):
        return capi.post(
            "/segments/employees/conditional",
            [_rule("r", {"type": "passes_segment", "targetValue": target})],
        )

    response = post("missing")
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "property": "rules[0].conditions[0].targetValue",
            "message": "Segment 'missing' does not exist.",
        }
    ]
    assert "analysis list" in post("analysis_only").json()["errors"][0]["message"]
    assert "itself" in post("employees").json()["errors"][0]["message"]
    assert post("beta_list").status_code == 200


def test_conditional__reference_cycle__400(capi):
    create_segment(capi, name="Seg A", type="rule_based")
    create_segment(capi, name="Seg B", type="rule_based")
    create_segment(capi, name="Seg C", type="rule_based")
    ok = [
        ("seg_a", "passes_segment", "seg_b"),
        ("seg_b", "fails_segment", "seg_c"),
    ]
    for source, kind, target in ok:
        response = capi.post(
            f"/segments/{source}/conditional",
            [_rule("r", {"type": kind, "targetValue": target})],
        )
        assert response.status_code == 200, response.json()
    response = capi.post(
        "/segments/seg_c/conditional",
        [_rule("r", {"type": "passes_segment", "targetValue": "seg_a"})],
    )
    assert response.status_code == 400
    message = "Segment references would form a cycle: seg_c → seg_a → seg_b → seg_c."
    assert response.json()["message"] == message
    assert response.json()["errors"] == [{"property": "rules", "message": message}]
    assert Segment.objects.get(key="seg_c").rules == []


def test_conditional__unknown_environment__400(capi):
    create_segment(capi, name="Employees", type="rule_based")
    response = capi.post(
        "/segments/employees/conditional", [_rule("r", EMAIL, environments=["moon"])]
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["property"] == "rules[0].environments[0]"
