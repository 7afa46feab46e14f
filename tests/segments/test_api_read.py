"""Reading segments: the list (paginated, filtered), one segment, and tenancy."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.segments.conftest import create_segment


def _make_many(capi):
    create_segment(capi, name="Alpha list", type="id_list", tags=["beta", "eu"])
    create_segment(capi, name="Bravo rules", type="rule_based", tags=["eu"])
    create_segment(capi, name="Charlie analysis", type="analysis_list")
    create_segment(capi, name="Delta list", type="id_list", idType="companyID")
    create_segment(capi, name="Echo rules", type="rule_based", tags=["beta"])


def test_list__pages__statsig_pagination_block(capi):
    _make_many(capi)
    response = capi.get("/segments?limit=2&page=2")
    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "Segments listed successfully."
    assert [s["id"] for s in body["data"]] == ["charlie_analysis", "delta_list"]
    assert body["pagination"] == {
        "itemsPerPage": 2,
        "pageNumber": 2,
        "nextPage": "/console/v1/segments?page=3&limit=2",
        "previousPage": "/console/v1/segments?page=1&limit=2",
        "totalItems": 5,
        "all": "/console/v1/segments",
    }
    last = capi.get("/segments?limit=2&page=3").json()
    assert [s["id"] for s in last["data"]] == ["echo_rules"]
    assert last["pagination"]["nextPage"] is None


def test_list__filters__type_tags_id_type(capi):
    _make_many(capi)

    def ids(query: str) -> list[str]:
        response = capi.get(f"/segments?{query}")
        assert response.status_code == 200, response.json()
        return [s["id"] for s in response.json()["data"]]

    assert ids("type=rule_based") == ["bravo_rules", "echo_rules"]
    assert ids("tags=beta") == ["alpha_list", "echo_rules"]
    assert ids("tags=eu,beta&type=id_list") == ["alpha_list"]
    assert ids("idType=companyID") == ["delta_list"]
    filtered = capi.get("/segments?type=rule_based&limit=1").json()
    assert (
        filtered["pagination"]["nextPage"] == "/console/v1/segments?type=rule_based&page=2&limit=1"
    )


def _queries(capi, query: str) -> tuple[list[str], int]:
    with CaptureQueriesContext(connection) as captured:
        response = capi.get(f"/segments?{query}")
    assert response.status_code == 200, response.json()
    return [s["id"] for s in response.json()["data"]], len(captured)


def test_list__tag_filter_1_or_30_segments__same_queries(capi):
    # Given one tagged segment
    create_segment(capi, name="Tagged 00", type="rule_based", tags=["beta"])
    ids, queries_for_1 = _queries(capi, "tags=beta")
    assert ids == ["tagged_00"]
    # When there are 30, every other one tagged
    for n in range(1, 30):
        create_segment(capi, name=f"Tagged {n:02}", type="id_list", tags=["beta"] if n % 2 else [])
    ids, queries_for_30 = _queries(capi, "tags=beta")
    # Then the filter runs in the database: the same queries (the project, the count, the page
    # and its open reviews), whatever the number of segments
    assert len(ids) == 16
    assert queries_for_1 == queries_for_30 == 4


def test_list__bad_filter_or_page__400(capi):
    assert capi.get("/segments?type=cohort").status_code == 400
    assert capi.get("/segments?limit=0").status_code == 400
    assert capi.get("/segments?page=x").status_code == 400


def test_get__existing__segment_read(capi):
    created = create_segment(capi, name="Alpha list", type="id_list", description="d")
    response = capi.get("/segments/alpha_list")
    assert response.status_code == 200
    assert response.json() == {"message": "Segment read successfully.", "data": created}


def test_get__unknown__404_segment_not_found(capi):
    response = capi.get("/segments/nope")
    assert response.status_code == 404
    assert response.json() == {"status": 404, "message": "Segment not found."}


def test_tenancy__other_projects_segment__invisible(capi, api, other_world):
    create_segment(capi, name="Alpha list", type="id_list")
    key = other_world.keys["console"]
    assert api.get("/console/v1/segments/alpha_list", key=key).status_code == 404
    assert api.get("/console/v1/segments", key=key).json()["data"] == []
    assert (
        api.patch("/console/v1/segments/alpha_list/id_list", {"ids": ["a"]}, key=key).status_code
        == 404
    )
