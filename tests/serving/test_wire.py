"""The public-endpoint toolkit (``console.wire``) as SDKs and browsers meet it through the
production WSGI application: compressed bodies, CORS, JSON for unknown paths and methods,
Django's security headers, the HTTPS redirect, the Host check and outages."""

from __future__ import annotations

import gzip
import json
import zlib

import brotli
import pytest
import zstandard
from django.db import OperationalError

from console.routes import DATA_PLANE_ROUTES
from console.wire import Application
from events.models import Event
from tests.wire_client import WireClient

EVENTS = {"events": [{"eventName": "compressed", "user": {"userID": "u"}}]}
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("br", brotli.compress),
        ("zstd", zstandard.ZstdCompressor().compress),
    ],
)
def test_log_event__compressed_body__decoded_by_content_encoding(api, world, encoding, compress):
    # Given a log_event body compressed as the SDKs do (zstd: Statsig's server-core SDKs)
    raw = compress(json.dumps(EVENTS).encode())
    # When it is posted with its Content-Encoding
    response = api.post(
        "/v1/log_event", raw=raw, key=world.keys["server"], headers={"Content-Encoding": encoding}
    )
    # Then it is stored
    assert response.status_code == 202, response.content
    assert Event.objects.get().name == "compressed"


def test_log_event__zstd_bomb__413(api, world):
    raw = zstandard.ZstdCompressor().compress(b'{"pad": "' + b"x" * (21 * 1024 * 1024) + b'"}')
    response = api.post(
        "/v1/log_event", raw=raw, key=world.keys["server"], headers={"Content-Encoding": "zstd"}
    )
    assert response.status_code == 413
    assert response.json()["message"] == "Request body is too large: the limit is 20 MB."


@pytest.mark.parametrize(
    ("path", "envelope"),
    [
        ("/v1/log_event", {"success": False, "status": 415}),
        ("/v1/check_gate", {"status": 415}),
        ("/capture/", {"type": "validation_error", "code": "unsupported_encoding"}),
    ],
)
def test_body__unknown_content_encoding__415_in_the_protocols_shape(api, world, path, envelope):
    response = api.post(
        path, raw=b"xyz", key=world.keys["server"], headers={"Content-Encoding": "compress"}
    )
    assert response.status_code == 415
    body = response.json()
    assert body.items() >= envelope.items()
    message = body.get("message") or body.get("detail")
    assert message == (
        "Content-Encoding 'compress' is not supported: send gzip, deflate, br, zstd or no encoding."
    )


@pytest.mark.parametrize("path", ["/v1/no_such_endpoint", "/v2/download_config_specs/x"])
def test_unknown_data_plane_path__json_404_with_cors(api, world, path):
    response = api.post(path, {}, headers={"Origin": "https://app.example.com"})
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": 404, "message": f"No endpoint at {path}."}
    assert response["Access-Control-Allow-Origin"] == "https://app.example.com"
    for name, value in SECURITY_HEADERS.items():
        assert response[name] == value


def test_unknown_console_api_path__json_404_with_cors(api, world):
    response = api.get("/console/v1/no_such_thing", key=world.keys["console"])
    assert response.status_code == 404
    assert response.json() == {
        "status": 404,
        "message": "No endpoint at /console/v1/no_such_thing.",
    }
    assert response["Access-Control-Allow-Origin"] == "*"


def test_wrong_method__405_json_with_allow_and_cors(api, world):
    response = api.request("PUT", "/v1/check_gate", headers={"Origin": "https://a.example"})
    assert response.status_code == 405
    assert response.json() == {
        "status": 405,
        "message": "Method PUT is not allowed here; use POST.",
    }
    assert response["Allow"] == "POST"
    assert response["Access-Control-Allow-Origin"] == "https://a.example"


def test_check_gate__preflight__204_allowing_the_sdk_headers(api, world):
    response = api.request(
        "OPTIONS",
        "/v1/check_gate",
        headers={
            "Origin": "https://a.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,statsig-api-key",
        },
    )
    assert response.status_code == 204
    assert response.content == b""
    assert response["Access-Control-Allow-Methods"] == "POST, OPTIONS"
    assert response["Access-Control-Allow-Headers"] == "content-type,statsig-api-key"
    assert response["Access-Control-Allow-Origin"] == "https://a.example"


def test_server_only_endpoint__no_cors(api, world):
    response = api.post("/v1/get_id_lists", {}, key=world.keys["server"])
    assert response.status_code == 200
    assert not response.has_header("Access-Control-Allow-Origin")


def test_data_plane_answer__same_security_headers_as_django(api, world, capi):
    lean = api.post(
        "/v1/check_gate", {"user": {"userID": "u"}, "gateName": "g"}, key=world.keys["server"]
    )
    django = capi.get("gates")
    for name, value in SECURITY_HEADERS.items():
        assert lean[name] == value
        assert django[name] == value
    assert lean["Content-Length"] == str(len(lean.content))


def test_https_redirect_and_hsts__as_django_security_middleware(world, settings):
    # Given production security settings
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 3600
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = False
    client = WireClient()
    client.application = Application(DATA_PLANE_ROUTES, fallback=client.application.fallback)
    client._client.application = client.application
    body = json.dumps({"user": {"userID": "u"}, "gateName": "g"})
    headers = {"STATSIG-API-KEY": world.keys["server"]}

    # When an SDK calls over plain HTTP, it is sent to HTTPS; over HTTPS it gets HSTS
    plain = client.post(
        "/v1/check_gate?x=1", data=body, content_type="application/json", headers=headers
    )
    secure = client.post(
        "/v1/check_gate", data=body, content_type="application/json", headers=headers, secure=True
    )
    assert plain.status_code == 301
    assert plain["Location"] == "https://testserver/v1/check_gate?x=1"
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=3600; includeSubDomains"


def test_unknown_host__400_json(world):
    response = WireClient().post(
        "/v1/check_gate",
        data="{}",
        content_type="application/json",
        headers={"Host": "evil.example"},
    )
    assert response.status_code == 400
    assert response.json() == {"status": 400, "message": "Invalid Host header."}


def test_database_down_during_ingestion__503_with_retry_after(api, world, monkeypatch):
    def down(**kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr("events.ingest.statsig.ingest_parts", down)
    monkeypatch.setattr("events.ingest.posthog.ingest_batch", down)
    statsig = api.post("/v1/log_event", EVENTS, key=world.keys["server"])
    posthog = api.post("/batch/", {"api_key": world.keys["client"], "batch": []})
    assert statsig.status_code == posthog.status_code == 503
    assert statsig["Retry-After"] == posthog["Retry-After"] == "5"
    assert statsig.json()["success"] is False
    assert posthog.json()["code"] == "service_unavailable"
