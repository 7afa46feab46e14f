"""Every console endpoint answers a valid request from its project's console key without a
server error, in Statsig's envelope."""

from __future__ import annotations

from tests.console.api.endpoints import console_endpoints, path_values, sample_body, seed_entities

# The order a lifecycle needs: deletes last, so later requests still find their entities.
ORDER = {"get": 0, "post": 1, "patch": 2, "put": 3, "delete": 4}


def test_every_endpoint__valid_request__answers_without_server_error(api, world):
    values = seed_entities(world)
    # Key rotation and deactivation retire the key this test uses: last.
    endpoints = sorted(
        console_endpoints(),
        key=lambda e: ("key_id" in e.params and e.method != "get", ORDER[e.method], e.route),
    )
    for endpoint in endpoints:
        path = endpoint.path(path_values(endpoint, values))
        body = sample_body(endpoint, values)
        response = api.request(endpoint.method.upper(), path, body, key=world.keys["console"])
        assert response.status_code < 500, (str(endpoint), response.content)
        payload = response.json()
        assert "message" in payload, str(endpoint)
        if response.status_code >= 400:
            assert set(payload) <= {"status", "message", "errors"}, str(endpoint)
        else:
            assert set(payload) <= {"message", "data", "pagination"}, str(endpoint)
