"""A hand-written table of bad input for every SDK endpoint: malformed JSON, wrong types, huge
strings, deep nesting, invalid UTF-8, wrong content types and oversized bodies. Each answer is a
4xx with a JSON message, never a 5xx (an endpoint that ignores its body, like ``get_id_lists``,
may answer 200)."""

from __future__ import annotations

import json

import pytest

from tests.resilience.conftest import Response

# (path, how the key travels: "header" (statsig-api-key) or "body" (PostHog token))
ENDPOINTS = [
    ("/v1/check_gate", "header"),
    ("/v1/get_config", "header"),
    ("/v1/get_layer", "header"),
    ("/v1/log_event", "header"),
    ("/v1/log_custom_exposure", "header"),
    ("/v1/download_config_specs", "header"),
    ("/v1/get_id_lists", "header"),
    ("/v1/delete_user_data", "header"),
    ("/decide/?v=3", "body"),
    ("/flags/?v=2", "body"),
    ("/capture/", "body"),
    ("/batch/", "body"),
]
HUGE = "x" * 3_000_000
DEEP = 100_000

# (case, body bytes, content type); bodies that carry JSON objects get the PostHog token added.
CASES = [
    ("malformed json", b'{"user": {"userID": "a"', "application/json"),
    ("trailing garbage", b'{"user": {}} trailing', "application/json"),
    ("json array", b"[1, 2, 3]", "application/json"),
    ("json string", b'"just a string"', "application/json"),
    ("json null", b"null", "application/json"),
    (
        "wrong types",
        json.dumps(
            {
                "user": 5,
                "gateName": 7,
                "configName": [],
                "layerName": {},
                "events": "no",
                "batch": 3,
                "exposures": 1,
                "distinct_id": {"a": 1},
                "unit_type": 9,
                "ids": "x",
            }
        ).encode(),
        "application/json",
    ),
    (
        "huge strings",
        json.dumps(
            {
                "user": {"userID": HUGE[:200_000]},
                "gateName": HUGE[:100_000],
                "distinct_id": HUGE[:200_000],
                "event": HUGE[:100_000],
            }
        ).encode(),
        "application/json",
    ),
    pytest.param(
        "deep nesting", b'{"user": ' + b"[" * DEEP + b"]" * DEEP + b"}", "application/json",
    ),
    pytest.param(
        "deep objects", b'{"user": ' + b'{"a": ' * DEEP + b"1" + b"}" * DEEP + b"}",
        "application/json",
    ),
    ("invalid utf-8", b'{"user": {"userID": "\xff\xfe\xfd"}, "event": "\xc3\x28"}', "application/json"),
    ("xml content type", b"<user><userID>a</userID></user>", "application/xml"),
    ("form content type", b"user=a&gateName=b", "application/x-www-form-urlencoded"),
    ("text content type", b"hello", "text/plain"),
    ("binary", bytes(range(256)) * 64, "application/octet-stream"),
    ("oversized body", b'{"pad": "' + HUGE.encode() + b'"}', "application/json"),
]  # fmt: skip


def _with_token(body: bytes, token: str) -> bytes:
    """The same bad body, with the PostHog token where it can go (so the body itself is judged)."""
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        return body
    if isinstance(parsed, dict):
        parsed = {**parsed, "api_key": token, "token": token}
        return json.dumps(parsed).encode()
    return body


def _assert_clean_refusal(response: Response, what: str) -> None:
    assert response.status < 500, (what, response.status, response.body[:300])
    if response.status < 400:
        return
    assert response.headers.get("Content-Type", "").startswith("application/json"), (
        what,
        response.headers.get("Content-Type"),
        response.body[:300],
    )
    body = response.json()
    assert isinstance(body, dict), (what, body)
    message = body.get("message") or body.get("detail") or body.get("error")
    assert message, (what, body)
    assert "Traceback" not in json.dumps(body)


# Named by the case alone: an id holding a 3 MB body would land in PYTEST_CURRENT_TEST, and no
# subprocess (the live server) could be started with that environment.
CASE_IDS = [case.values[0] if hasattr(case, "values") else case[0] for case in CASES]


@pytest.mark.parametrize(("case", "body", "content_type"), CASES, ids=CASE_IDS)
def test_sdk_endpoints__bad_input__4xx_json(proxied_server, case, body, content_type):
    live = proxied_server
    failures = []
    for path, key_in in ENDPOINTS:
        # Given a valid key and a bad body
        headers = {"Content-Type": content_type}
        payload = body
        if key_in == "header":
            headers["statsig-api-key"] = live.keys["server"]
        else:
            payload = _with_token(body, live.keys["client"])
        # When it is posted
        response = live.request("POST", path, payload, headers)
        # Then the answer is never a 5xx, and a refusal is a 4xx with a JSON message
        try:
            _assert_clean_refusal(response, f"{case} {path}")
        except (AssertionError, ValueError):
            failures.append(f"{path}: {response.status} {response.body[:80]!r}")
    assert not failures, "\n".join(failures)
