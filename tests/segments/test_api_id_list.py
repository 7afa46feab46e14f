"""ID lists over the console API: add, remove, reset, read; batches are all or nothing."""

from __future__ import annotations

import pytest

from console.models import AuditLog
from segments.listfile import id_list_hash
from segments.models import IdListFileChunk, Segment, SegmentMember
from tests.segments.conftest import create_segment, id_list


def _members(key: str) -> list[str]:
    return sorted(SegmentMember.objects.filter(segment__key=key).values_list("unit_id", flat=True))


def _file(key: str) -> str:
    segment = Segment.objects.get(key=key)
    return "".join(
        IdListFileChunk.objects.filter(segment=segment, file_id=segment.list_file_id)
        .order_by("start")
        .values_list("data", flat=True)
    )


def test_add__new_and_repeated_ids__counted_once_and_appended(capi, world):
    id_list(capi, "Beta testers")
    response = capi.patch("/segments/beta_testers/id_list", {"ids": [" u1 ", "u2", "u2"]})
    assert response.status_code == 200
    assert response.json() == {
        "message": "IDs successfully added to Segment ID List",
        "data": {
            "id": "beta_testers",
            "name": "Beta testers",
            "count": 2,
            "added": 2,
            "removed": 0,
        },
    }
    again = capi.patch("/segments/beta_testers/id_list", {"ids": ["u2", "u3"]}).json()
    assert again["data"]["count"] == 3
    assert again["data"]["added"] == 1
    assert _members("beta_testers") == ["u1", "u2", "u3"]
    assert _file("beta_testers") == "".join(
        f"+{id_list_hash(unit_id)}\n" for unit_id in ("u1", "u2", "u3")
    )
    audit = AuditLog.objects.filter(
        project=world.project, action_type="segment_id_list_add"
    ).first()
    assert audit.changes == {"count": {"old": 2, "new": 3}, "added": 1, "removed": 0}
    assert "u3" not in str(audit.changes)


def test_remove__members_and_strangers__only_members_removed(capi):
    id_list(capi, "Beta testers", ["u1", "u2", "u3"])
    response = capi.delete("/segments/beta_testers/id_list", {"ids": ["u2", "nobody"]})
    assert response.status_code == 200
    assert response.json() == {
        "message": "IDs successfully removed from Segment ID List",
        "data": {
            "id": "beta_testers",
            "name": "Beta testers",
            "count": 2,
            "added": 0,
            "removed": 1,
        },
    }
    assert _members("beta_testers") == ["u1", "u3"]
    assert _file("beta_testers").endswith(f"-{id_list_hash('u2')}\n")


def test_reset__replaces_members_and_starts_new_file(capi):
    id_list(capi, "Beta testers", ["u1", "u2"])
    before = Segment.objects.get(key="beta_testers")
    response = capi.post("/segments/beta_testers/id_list/reset", {"ids": ["u9", "u2"]})
    assert response.status_code == 200
    assert response.json() == {
        "message": "Segment Reset reset successfully.",
        "data": {
            "id": "beta_testers",
            "name": "Beta testers",
            "count": 2,
            "added": 2,
            "removed": 2,
        },
    }
    after = Segment.objects.get(key="beta_testers")
    assert after.list_file_id != before.list_file_id
    assert after.list_file_created_ms >= before.list_file_created_ms
    assert _members("beta_testers") == ["u2", "u9"]
    assert _file("beta_testers") == f"+{id_list_hash('u2')}\n+{id_list_hash('u9')}\n"
    assert not IdListFileChunk.objects.filter(file_id=before.list_file_id).exists()
    empty = capi.post("/segments/beta_testers/id_list/reset", {"ids": []})
    assert empty.json()["data"]["count"] == 0


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("", "'' is empty."),
        ("   ", "'   ' is empty."),
        ("x" * 257, f"'{'x' * 40}…' is longer than 256 characters."),
        (7, "7 is not a string."),
        (None, "None is not a string."),
        (["nested"], "['nested'] is not a string."),
    ],
)
def test_add__mixed_batch__400_names_bad_entry_and_adds_nothing(capi, bad, message):
    id_list(capi, "Beta testers", ["u1"])
    response = capi.patch("/segments/beta_testers/id_list", {"ids": ["u2", bad, "u3"]})
    assert response.status_code == 400
    body = response.json()
    assert body["errors"] == [{"property": "ids[1]", "message": message}]
    assert body["message"].startswith("1 of 3 ids are invalid")
    assert _members("beta_testers") == ["u1"]
    assert Segment.objects.get(key="beta_testers").id_count == 1


def test_add__many_bad_entries__each_named_up_to_fifty(capi):
    id_list(capi, "Beta testers")
    ids = ["ok"] + [""] * 60
    body = capi.patch("/segments/beta_testers/id_list", {"ids": ids}).json()
    assert len(body["errors"]) == 50
    assert body["errors"][0]["property"] == "ids[1]"
    assert body["message"].startswith("60 of 61 ids are invalid")
    assert _members("beta_testers") == []


@pytest.mark.parametrize("path", ["/id_list", "/id_list/reset"])
def test_mixed_batch__remove_and_reset__nothing_applied(capi, path):
    id_list(capi, "Beta testers", ["u1", "u2"])
    method = capi.delete if path == "/id_list" else capi.post
    response = method(f"/segments/beta_testers{path}", {"ids": ["u1", 5]})
    assert response.status_code == 400
    assert _members("beta_testers") == ["u1", "u2"]


@pytest.mark.parametrize("body", [{}, {"ids": "u1"}, {"ids": []}, ["u1"]])
def test_add__bad_body__400(capi, body):
    id_list(capi, "Beta testers")
    response = capi.patch("/segments/beta_testers/id_list", body)
    assert response.status_code == 400


def test_id_list_endpoints__rule_based__400_type_message(capi):
    create_segment(capi, name="Employees", type="rule_based")
    for response in (
        capi.patch("/segments/employees/id_list", {"ids": ["u1"]}),
        capi.delete("/segments/employees/id_list", {"ids": ["u1"]}),
        capi.post("/segments/employees/id_list/reset", {"ids": ["u1"]}),
        capi.get("/segments/employees/id_list"),
        capi.get("/segments/employees/idlist_metadata"),
    ):
        assert response.status_code == 400
        assert response.json()["message"] == (
            "Segment must be of type 'id_list' to be modified on this endpoint."
        )


def test_get_id_list__pages_ids_in_order(capi):
    id_list(capi, "Beta testers", [f"u{n:02d}" for n in range(25)])
    response = capi.get("/segments/beta_testers/id_list?limit=10&page=3")
    assert response.status_code == 200
    assert response.json() == {
        "message": "Segments listed successfully.",
        "data": {"name": "Beta testers", "count": 25, "ids": ["u20", "u21", "u22", "u23", "u24"]},
        "pagination": {
            "itemsPerPage": 10,
            "pageNumber": 3,
            "nextPage": None,
            "previousPage": "/console/v1/segments/beta_testers/id_list?page=2&limit=10",
            "totalItems": 25,
            "all": "/console/v1/segments/beta_testers/id_list",
        },
    }


def test_get_id_list__after__keyset_pages(capi):
    id_list(capi, "Beta testers", [f"u{n:02d}" for n in range(25)])
    first = capi.get("/segments/beta_testers/id_list?limit=10&after=u09").json()
    assert first["data"]["ids"] == [f"u{n}" for n in range(10, 20)]
    assert first["pagination"] == {
        "itemsPerPage": 10,
        "pageNumber": 1,
        "nextPage": "/console/v1/segments/beta_testers/id_list?after=u19&limit=10",
        "previousPage": None,
        "totalItems": 25,
        "all": "/console/v1/segments/beta_testers/id_list",
    }
    last = capi.get(first["pagination"]["nextPage"].removeprefix("/console/v1")).json()
    assert last["data"]["ids"] == [f"u{n}" for n in range(20, 25)]
    assert last["pagination"]["nextPage"] is None


def test_idlist_metadata__version_and_file(capi):
    id_list(capi, "Beta testers", ["u1"])
    capi.patch("/segments/beta_testers/id_list", {"ids": ["u2"]})
    capi.patch("/segments/beta_testers/id_list", {"ids": ["u2"]})  # no change
    segment = Segment.objects.get(key="beta_testers")
    response = capi.get("/segments/beta_testers/idlist_metadata")
    assert response.json() == {
        "message": "Segment ID list metadata read successfully.",
        "data": {
            "currentVersion": 2,
            "isUpdating": False,
            "count": 2,
            "fileID": segment.list_file_id,
            "fileSize": 20,
            "creationTime": segment.list_file_created_ms,
        },
    }


def test_count__segment_output_follows_changes(capi):
    id_list(capi, "Beta testers", ["a", "b", "c"])
    capi.delete("/segments/beta_testers/id_list", {"ids": ["a"]})
    assert capi.get("/segments/beta_testers").json()["data"]["count"] == 2
    assert capi.get("/segments").json()["data"][0]["count"] == 2


def test_add__over_segment_limit__400_and_rolled_back(capi, monkeypatch):
    monkeypatch.setattr("segments.services.id_lists.MAX_IDS_PER_SEGMENT", 3)
    id_list(capi, "Beta testers", ["a", "b"])
    response = capi.patch("/segments/beta_testers/id_list", {"ids": ["c", "d"]})
    assert response.status_code == 400
    assert _members("beta_testers") == ["a", "b"]
    assert _file("beta_testers").count("\n") == 2


def test_add__large_batch__chunked_and_counted(capi):
    id_list(capi, "Big list")
    ids = [f"user-{n}" for n in range(25_000)]
    response = capi.patch("/segments/big_list/id_list", {"ids": ids})
    assert response.status_code == 200
    assert response.json()["data"]["count"] == 25_000
    assert SegmentMember.objects.filter(segment__key="big_list").count() == 25_000
    segment = Segment.objects.get(key="big_list")
    assert segment.list_file_size == 25_000 * 10
