"""``POST /console/v1/segments``: validation of every field, one problem per property."""

from __future__ import annotations

import pytest

from segments.models import Segment
from tests.segments.conftest import create_segment

VALID = {"name": "Beta testers", "type": "id_list"}


def _errors(response) -> dict[str, str]:
    body = response.json()
    assert response.status_code == 400, body
    assert body["status"] == 400
    return {error["property"]: error["message"] for error in body["errors"]}


@pytest.mark.parametrize(
    ("change", "prop"),
    [
        ({"name": None}, "name"),
        ({"name": "ab"}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"type": "cohort"}, "type"),
        ({"type": None}, "type"),
        ({"id": "ab"}, "id"),
        ({"id": "x" * 101}, "id"),
        ({"id": "has space"}, "id"),
        ({"id": "<string>"}, "id"),
        ({"description": "d" * 1001}, "description"),
        ({"idType": "x" * 101}, "idType"),
        ({"tags": "beta"}, "tags"),
        ({"tags": ["x" * 101]}, "tags[0]"),
        ({"tags": [""]}, "tags[0]"),
        ({"rules": [{"name": "r", "conditions": []}]}, "rules"),
    ],
)
def test_create__bad_field__400_names_it_and_creates_nothing(capi, world, change, prop):
    body = {**VALID, **change}
    if change.get("name") is None and "name" in change:
        del body["name"]
    if change.get("type") is None and "type" in change:
        del body["type"]
    errors = _errors(capi.post("/segments", body))
    assert prop in errors
    assert not Segment.objects.filter(project=world.project).exists()


def test_create__several_bad_fields__all_named(capi):
    errors = _errors(
        capi.post("/segments", {"name": "ab", "type": "nope", "description": "d" * 1001})
    )
    assert set(errors) == {"name", "type", "description"}


def test_create__limits_inclusive__201(capi):
    data = create_segment(
        capi, name="n" * 100, type="id_list", id="i" * 100, description="d" * 1000
    )
    assert data["id"] == "i" * 100
    assert data["name"] == "n" * 100
    data = create_segment(capi, name="abc", type="analysis_list", id="a-b")
    assert data["id"] == "a-b"


def test_create__no_id__id_is_name_made_id_like(capi):
    data = create_segment(capi, name="  Enterprise Companies (EU)!  ", type="rule_based")
    assert data["id"] == "enterprise_companies_eu"
    assert data["name"] == "Enterprise Companies (EU)!"
    assert data["idType"] == "userID"
    assert data["isEnabled"] is True
    assert data["count"] == 0
    assert data["rules"] == []


def test_create__name_not_id_like__400_asks_for_id(capi):
    errors = _errors(capi.post("/segments", {"name": "!!!", "type": "id_list"}))
    assert "id" in errors


def test_create__duplicate_id__400_name_in_use(capi):
    create_segment(capi, **VALID)
    response = capi.post("/segments", VALID)
    assert _errors(response) == {"name": "Name is already in use"}
    assert response.json()["message"] == "Name is already in use"
    response = capi.post("/segments", {**VALID, "name": "Other", "id": "beta_testers"})
    assert _errors(response) == {"id": "Name is already in use"}


def test_create__same_id_other_project__201(capi, other_world, api):
    create_segment(capi, **VALID)
    response = api.post("/console/v1/segments", VALID, key=other_world.keys["console"])
    assert response.status_code == 201


def test_create__custom_id_type_and_tags__kept(capi):
    data = create_segment(
        capi, name="Big companies", type="id_list", idType="companyID", tags=["b2b", "b2b", "eu"]
    )
    assert data["idType"] == "companyID"
    assert data["tags"] == ["b2b", "eu"]


def test_create__rules_on_rule_based__validated_with_segment_vocabulary(capi):
    for kind in ("public", "passes_gate", "time"):
        errors = _errors(
            capi.post(
                "/segments",
                {
                    "name": "Rules",
                    "type": "rule_based",
                    "rules": [
                        {
                            "name": "r",
                            "passPercentage": 100,
                            "conditions": [{"type": kind, "targetValue": "x"}],
                        }
                    ],
                },
            )
        )
        assert "rules[0].conditions[0].type" in errors


def test_create__rule_bad_operator__400_with_path(capi):
    errors = _errors(
        capi.post(
            "/segments",
            {
                "name": "Rules",
                "type": "rule_based",
                "rules": [
                    {
                        "name": "r",
                        "passPercentage": 101,
                        "conditions": [{"type": "email", "operator": "gt", "targetValue": 1}],
                    }
                ],
            },
        )
    )
    assert set(errors) == {"rules[0].passPercentage", "rules[0].conditions[0].operator"}


def test_create__viewer_key_kinds__401(api, world):
    for kind in ("server", "client"):
        response = api.post("/console/v1/segments", VALID, key=world.keys[kind])
        assert response.status_code == 401
