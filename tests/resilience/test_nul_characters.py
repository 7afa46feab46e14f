"""NUL characters are legal in JSON strings but PostgreSQL text cannot hold them: every public
endpoint answers such input without a server error (ingestion strips them, validation refuses
them where an id must be stored exactly)."""

import pytest

NUL = "\u0000"
CASES = [
    (
        "/v1/check_gate",
        {"user": {"userID": f"a{NUL}b", "custom": {"x": NUL}}, "gateName": f"g{NUL}"},
    ),
    ("/v1/get_config", {"user": {"userID": f"a{NUL}b"}, "configName": "c"}),
    (
        "/v1/log_event",
        {
            "events": [
                {"eventName": f"e{NUL}", "user": {"userID": f"u{NUL}"}, "metadata": {"k": NUL}}
            ]
        },
    ),
    (
        "/v1/log_custom_exposure",
        {"exposures": [{"gateName": f"g{NUL}", "passes": True, "user": {"userID": f"u{NUL}"}}]},
    ),
    ("/v1/delete_user_data", {"unit_type": "user_id", "ids": f"a{NUL}b"}),
    ("/capture/", {"event": f"e{NUL}", "distinct_id": f"d{NUL}", "properties": {"p": NUL}}),
    (
        "/batch/",
        {
            "batch": [
                {"event": f"e{NUL}", "distinct_id": f"d{NUL}", "properties": {"$set": {"p": NUL}}}
            ]
        },
    ),
    ("/decide/?v=3", {"distinct_id": f"d{NUL}", "person_properties": {"p": NUL}}),
]


@pytest.mark.parametrize(("path", "body"), CASES, ids=[path for path, _ in CASES])
def test_public_endpoint__nul_characters_in_strings__no_server_error(api, world, path, body):
    if path.startswith(("/capture", "/batch", "/decide")):
        body = {**body, "api_key": world.keys["client"]}
    response = api.post(path, body, key=world.keys["server"])
    assert response.status_code < 500, response.content[:300]
    assert response["Content-Type"].startswith(("application/json", "text/plain"))
