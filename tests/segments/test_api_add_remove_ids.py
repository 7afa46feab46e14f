"""``PATCH /segments/{id}/add_ids`` and ``remove_ids`` (Statsig's ID-list endpoints of at most
1000 ids a request)."""

from __future__ import annotations

from segments.models import Segment, SegmentMember
from tests.segments.conftest import create_segment, id_list


def _members(key: str) -> list[str]:
    return sorted(SegmentMember.objects.filter(segment__key=key).values_list("unit_id", flat=True))


def test_add_ids_then_remove_ids__members_changed(capi):
    id_list(capi, "Beta testers")

    added = capi.patch("/segments/beta_testers/add_ids", {"ids": ["u1", "u2", "u3"]})
    removed = capi.patch("/segments/beta_testers/remove_ids", {"ids": ["u2", "stranger"]})

    assert added.status_code == 200, added.json()
    assert added.json()["message"] == "IDs successfully added to Segment ID List"
    assert added.json()["data"]["added"] == 3
    assert removed.status_code == 200, removed.json()
    assert removed.json()["message"] == "IDs successfully removed from Segment ID List"
    assert removed.json()["data"] == {
        "id": "beta_testers",
        "name": "Beta testers",
        "count": 2,
        "added": 0,
        "removed": 1,
    }
    assert _members("beta_testers") == ["u1", "u3"]


def test_add_ids__over_1000__400_naming_ids_and_nothing_added(capi):
    id_list(capi, "Beta testers")

    response = capi.patch("/segments/beta_testers/add_ids", {"ids": [f"u{i}" for i in range(1001)]})

    assert response.status_code == 400
    assert response.json()["errors"][0]["property"] == "ids"
    assert _members("beta_testers") == []


def test_add_ids__stale_version__409(capi):
    id_list(capi, "Beta testers")
    version = Segment.objects.get(key="beta_testers").version

    response = capi.patch("/segments/beta_testers/add_ids", {"ids": ["u1"], "version": version + 1})

    assert response.status_code == 409
    assert _members("beta_testers") == []


def test_remove_ids__rule_based_segment__400(capi):
    create_segment(capi, name="Rules", type="rule_based")

    response = capi.patch("/segments/rules/remove_ids", {"ids": ["u1"]})

    assert response.status_code == 400


def test_add_ids__unknown_segment__404(capi):
    assert capi.patch("/segments/nope/add_ids", {"ids": ["u1"]}).status_code == 404


def test_add_ids__other_project__404(api, capi, other_world):
    id_list(capi, "Beta testers")

    response = api.request(
        "PATCH",
        "/console/v1/segments/beta_testers/add_ids",
        {"ids": ["u1"]},
        key=other_world.keys["console"],
    )

    assert response.status_code == 404
    assert _members("beta_testers") == []
