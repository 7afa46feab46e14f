"""Deleting and archiving segments; deletion is refused while anything targets the segment."""

from __future__ import annotations

from console.models import AuditLog
from segments.models import IdListFileChunk, Segment, SegmentMember
from tests.segments.conftest import create_segment, id_list


def _target(capi, source: str, target: str, kind: str = "passes_segment"):
    response = capi.post(
        f"/segments/{source}/conditional",
        [
            {
                "name": "r",
                "passPercentage": 100,
                "conditions": [{"type": kind, "targetValue": target}],
            }
        ],
    )
    assert response.status_code == 200, response.json()


def test_delete__id_list__members_file_and_segment_gone(capi, world):
    id_list(capi, "Beta testers", ["u1", "u2"])
    segment_pk = Segment.objects.get(key="beta_testers").pk
    response = capi.delete("/segments/beta_testers")
    assert response.status_code == 200
    assert response.json() == {"message": "Segment deleted successfully."}
    assert not Segment.objects.filter(pk=segment_pk).exists()
    assert not SegmentMember.objects.filter(segment_id=segment_pk).exists()
    assert not IdListFileChunk.objects.filter(segment_id=segment_pk).exists()
    assert AuditLog.objects.filter(project=world.project, action_type="segment_delete").exists()
    assert capi.get("/segments/beta_testers").status_code == 404


def test_delete__unknown__404(capi):
    assert capi.delete("/segments/nope").status_code == 404


def test_delete__targeted_by_segments__400_names_referrers(capi):
    id_list(capi, "Beta testers")
    create_segment(capi, name="Rules one", type="rule_based")
    create_segment(capi, name="Rules two", type="rule_based")
    _target(capi, "rules_one", "beta_testers")
    _target(capi, "rules_two", "beta_testers", kind="fails_segment")
    response = capi.delete("/segments/beta_testers")
    assert response.status_code == 400
    assert response.json() == {
        "status": 400,
        "message": (
            "Segment 'beta_testers' is used by segment 'rules_one', segment 'rules_two'. "
            "Remove it from them before deleting it."
        ),
        "errors": [
            {"property": "id", "message": "Used by segment 'rules_one'."},
            {"property": "id", "message": "Used by segment 'rules_two'."},
        ],
    }
    assert Segment.objects.filter(key="beta_testers").exists()
    # Once the references are gone the segment can go.
    capi.post("/segments/rules_one/conditional", [])
    capi.post("/segments/rules_two/conditional", [])
    assert capi.delete("/segments/beta_testers").status_code == 200


def test_delete__targeted_by_gate__400_names_gate(capi):
    id_list(capi, "Beta testers")
    gate = capi.post(
        "/gates",
        {
            "name": "New checkout",
            "rules": [
                {
                    "name": "beta",
                    "passPercentage": 100,
                    "conditions": [{"type": "passes_segment", "targetValue": "beta_testers"}],
                }
            ],
        },
    )
    assert gate.status_code == 201, gate.json()
    response = capi.delete("/segments/beta_testers")
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"property": "id", "message": "Used by gate 'new_checkout'."}
    ]


def test_delete__targeted_by_experiment_override__400_names_experiment(capi):
    id_list(capi, "Beta testers")
    experiment = capi.post(
        "/experiments",
        {
            "name": "Checkout test",
            "groups": [
                {"name": "Control", "size": 50, "parameterValues": {}},
                {"name": "Test", "size": 50, "parameterValues": {}},
            ],
        },
    )
    assert experiment.status_code == 201, experiment.json()
    overrides = capi.post(
        "/experiments/checkout_test/overrides",
        {
            "overrides": [{"type": "segment", "id": "beta_testers", "groupID": "Test"}],
            "userIDOverrides": [],
        },
    )
    assert overrides.status_code == 200, overrides.json()
    response = capi.delete("/segments/beta_testers")
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"property": "id", "message": "Used by experiment 'checkout_test'."}
    ]
    assert capi.get("/segments/beta_testers").status_code == 200


def test_archive__segment__archived_and_still_listed(capi, world):
    create_segment(capi, name="Employees", type="rule_based")
    response = capi.put("/segments/employees/archive")
    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "Segment archived successfully."
    assert body["data"]["isArchived"] is True
    assert body["data"]["version"] == 2
    assert [s["id"] for s in capi.get("/segments").json()["data"]] == ["employees"]
    assert AuditLog.objects.filter(project=world.project, action_type="segment_archive").exists()
    # Archiving again changes nothing.
    assert capi.put("/segments/employees/archive").json()["data"]["version"] == 2


def test_archive__unknown__404(capi):
    assert capi.put("/segments/nope/archive").status_code == 404
