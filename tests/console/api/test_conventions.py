"""The console API's shared conventions, exercised on the foundation endpoints."""

import pytest

from console.models import ApiKey, AuditLog


def test_missing_key__any_endpoint__401_with_statsig_message(api, world):
    response = api.get("/console/v1/audit_logs")
    assert response.status_code == 401
    assert response.json() == {
        "status": 401,
        "message": "This endpoint only accepts an active CONSOLE key, but an invalid key was sent. Key: (none)",
    }


@pytest.mark.parametrize("kind", ["server", "client"])
def test_wrong_kind_key__console_endpoint__401_masks_secret(api, world, kind):
    secret = world.keys[kind]
    response = api.get("/console/v1/settings/reviews", key=secret)
    body = response.json()
    assert response.status_code == 401
    assert body["message"].startswith("This endpoint only accepts an active CONSOLE key")
    assert secret not in body["message"]
    assert body["message"].endswith("*" * 12)


def test_header_name__any_case__accepted(api, world):
    response = api.get(
        "/console/v1/environments", headers={"statsig-api-key": world.keys["console"]}
    )
    assert response.status_code == 200


def test_malformed_json__mutation__400_not_500(api, world):
    response = api.post(
        "/console/v1/settings/reviews", raw=b'{"is_config', key=world.keys["console"]
    )
    assert response.status_code == 400
    assert response.json()["message"].startswith("Malformed JSON body")


def test_non_json_body__mutation__415(api, world):
    response = api.post(
        "/console/v1/settings/reviews",
        raw=b"is_config_review_required=true",
        content_type="application/x-www-form-urlencoded",
        key=world.keys["console"],
    )
    assert response.status_code == 415
    assert response.json()["status"] == 415


def test_wrong_method__405_json(api, world):
    response = api.delete("/console/v1/settings/reviews", key=world.keys["console"])
    assert response.status_code == 405
    assert response.json() == {"status": 405, "message": "Method DELETE is not allowed here."}


def test_oversized_body__413(api, world, settings):
    settings.CONSOLE_API_MAX_BODY_BYTES = 100
    response = api.post(
        "/console/v1/keys",
        {"description": "x" * 200, "type": "SERVER"},
        key=world.keys["console"],
    )
    assert response.status_code == 413
    assert ApiKey.objects.filter(project=world.project).count() == 3


def test_bad_field__400_names_property(api, world):
    response = api.post(
        "/console/v1/settings/reviews",
        {"is_config_review_required": "maybe"},
        key=world.keys["console"],
    )
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == 400
    assert body["errors"] == [
        {"property": "is_config_review_required", "message": "Must be a valid boolean."}
    ]


def test_mutations__over_project_limit__429_with_retry_after(api, world, settings):
    settings.CONSOLE_API_MUTATIONS_PER_WINDOW = 3
    settings.CONSOLE_API_MUTATION_WINDOW_SECONDS = 60
    body = {"is_config_review_required": False}
    statuses = [
        api.post("/console/v1/settings/reviews", body, key=world.keys["console"]).status_code
        for _ in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    limited = api.post("/console/v1/settings/reviews", body, key=world.keys["console"])
    assert 1 <= int(limited["Retry-After"]) <= 60
    # Reads are not limited.
    assert api.get("/console/v1/settings/reviews", key=world.keys["console"]).status_code == 200


def test_review_settings__update__applied_and_audited(api, world):
    response = api.post(
        "/console/v1/settings/reviews",
        {"is_config_review_required": True},
        key=world.keys["console"],
    )
    assert response.status_code == 200
    assert response.json()["message"] == "Settings updated successfully."
    assert response.json()["data"]["is_config_review_required"] is True
    entry = AuditLog.objects.get(
        project=world.project, action_type="project_review_settings_update"
    )
    assert entry.actor_name == "CONSOLE API"
    assert entry.changes == {"is_config_review_required": {"old": False, "new": True}}


def test_audit_logs__filters_and_pagination(api, world):
    key = world.keys["console"]
    for description in ("a", "b", "c"):
        api.post("/console/v1/keys", {"description": description, "type": "CLIENT"}, key=key)
    response = api.get("/console/v1/audit_logs?actionType=sdk_key_create&limit=2&page=1", key=key)
    body = response.json()
    assert response.status_code == 200
    assert body["message"] == "Audit logs listed successfully."
    # project_create made three default keys; the API made three more.
    assert body["pagination"] == {
        "itemsPerPage": 2,
        "pageNumber": 1,
        "nextPage": "/console/v1/audit_logs?actionType=sdk_key_create&page=2&limit=2",
        "previousPage": None,
        "totalItems": 6,
        "all": "/console/v1/audit_logs?actionType=sdk_key_create",
    }
    first = body["data"][0]
    assert first["actionType"] == "sdk_key_create"
    assert first["updatedBy"] == "CONSOLE API"
    assert first["changes"]["description"] == {"old": None, "new": "c"}
    assert set(first) >= {"id", "name", "changeLog", "date", "time", "updatedBy", "changes", "tags"}


def test_audit_logs__bad_date__400_names_field(api, world):
    response = api.get("/console/v1/audit_logs?startDate=yesterday", key=world.keys["console"])
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"property": "startDate", "message": "'startDate' must be a date as YYYY-MM-DD."}
    ]


def test_pagination__bad_limit__400(api, world):
    response = api.get("/console/v1/audit_logs?limit=0", key=world.keys["console"])
    assert response.status_code == 400
    assert response.json()["errors"][0]["property"] == "limit"


def test_other_project__console_key__sees_only_its_own_audit(api, world, other_world):
    response = api.get("/console/v1/audit_logs?limit=1000", key=other_world.keys["console"])
    names = {row["name"] for row in response.json()["data"]}
    assert world.project.name not in names
    assert all(world.project.slug not in str(row) for row in response.json()["data"])


def test_openapi__document__served(api, world):
    response = api.get("/console/v1/openapi.json", key=world.keys["console"])
    assert response.status_code == 200
    assert "/console/v1/keys" in response.json()["paths"]


def test_audit_logs__date_range__inclusive_days(api, world):
    from datetime import UTC, datetime

    today = datetime.now(UTC).date().isoformat()
    key = world.keys["console"]
    inside = api.get(f"/console/v1/audit_logs?startDate={today}&endDate={today}", key=key).json()
    before = api.get("/console/v1/audit_logs?endDate=2000-01-01", key=key).json()
    assert inside["pagination"]["totalItems"] > 0
    assert before["pagination"]["totalItems"] == 0


def test_list_field_error__400__property_uses_index_brackets(api, world):
    response = api.post(
        "/console/v1/keys",
        {"description": "x", "type": "CLIENT", "environments": ["ok", ["nested"]]},
        key=world.keys["console"],
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["property"] == "environments[1]"


@pytest.mark.parametrize("role", ["viewer", "member", "admin"])
def test_browser_session__console_api__401_needs_console_key(world, browser_client, role):
    client = browser_client(world.users[role])
    response = client.get("/console/v1/audit_logs")
    assert response.status_code == 401
    assert response.json()["message"].startswith("This endpoint only accepts an active CONSOLE key")
    posted = client.post(
        "/console/v1/settings/reviews",
        data='{"is_config_review_required": true}',
        content_type="application/json",
    )
    assert posted.status_code == 401
    world.project.refresh_from_db()
    assert world.project.requires_review is False
