"""The OpenAPI document describes every console endpoint with request and response schemas, and
schemathesis, sending generated requests through the Django WSGI app with a console key, finds
no server error and no response that violates the document."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from console.api.schema import statsig_path
from tests.console.api.endpoints import console_endpoints, seed_entities

EXAMPLES_PER_OPERATION = 4
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
MUTATIONS = {"POST", "PUT", "PATCH", "DELETE"}


@pytest.fixture
def wsgi_app():
    """The Django WSGI app, called in the test's transaction. Like Django's test client, keep
    the request signals from closing the test's database connection."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def openapi(api, world):
    response = api.get("/console/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


def test_document__every_console_endpoint_has_request_and_response_schemas(openapi):
    paths = openapi["paths"]
    for endpoint in console_endpoints():
        route = "/" + endpoint.route
        for param in endpoint.params:
            route = route.replace(f"<str:{param}>", "{" + param + "}")
        route, _ = statsig_path(route)
        operation = paths.get(route, {}).get(endpoint.method)
        assert operation is not None, f"{endpoint} is missing from the document"
        success = [code for code in operation["responses"] if code.startswith("2")]
        assert success, str(endpoint)
        for code in success:
            assert "application/json" in operation["responses"][code].get("content", {}), (
                str(endpoint),
                code,
            )
        assert "401" in operation["responses"], str(endpoint)
        assert operation["security"] == [{"StatsigApiKey": []}], str(endpoint)
        reviewable = "/reviews" not in endpoint.route  # acting on a review is never reviewed
        if (
            reviewable
            and endpoint.method.upper() in MUTATIONS
            and endpoint.route.startswith(
                (
                    "console/v1/gates",
                    "console/v1/dynamic_configs",
                    "console/v1/experiments",
                    "console/v1/layers",
                    "console/v1/holdouts",
                )
            )
        ):
            headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
            assert "x-respect-review-settings" in headers, str(endpoint)
            assert "202" in operation["responses"], str(endpoint)


def test_document__gate_output_carries_statsig_fields(openapi):
    gate = openapi["components"]["schemas"]["GateOutput"]["properties"]
    for field in (
        "id", "name", "description", "idType", "isEnabled", "status", "type", "rules", "tags",
        "creatorName", "creatorEmail", "createdTime", "lastModifierName", "lastModifiedTime",
        "reviewSettings", "activeReview", "version", "checksPerHour",
    ):  # fmt: skip
        assert field in gate, field


ENTITY_OF_PREFIX = {
    "tags": "tag_id",
    "holdouts": "holdout_id",
    "keys": "key_id",
    "gates": "gate_id",
    "dynamic_configs": "config_id",
    "experiments": "experiment_id",
    "layers": "layer_id",
    "segments": "segment_id",
}


def fuzz_operations(world, wsgi_app, wanted) -> list[str]:
    """Runs schemathesis on the operations whose path ``wanted`` accepts; returns failures."""
    values = seed_entities(world)
    schema = schemathesis.openapi.from_wsgi("/console/v1/openapi.json", wsgi_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    operations = [op for op in operations if wanted(op.path)]
    # Deletes last: the other operations keep finding the seeded entities.
    operations.sort(key=lambda op: (op.method.upper() == "DELETE", op.path, op.method))
    headers = {"STATSIG-API-KEY": world.keys["console"]}
    failures: list[str] = []

    def fuzz(operation) -> None:
        prefix = operation.path.removeprefix("/console/v1/").split("/")[0]
        rule = values["config_rule_id"] if prefix == "dynamic_configs" else values["rule_id"]
        path_values = {
            "id": values.get(ENTITY_OF_PREFIX.get(prefix, ""), ""),
            "ruleID": rule,
            "reviewID": values["review_id"],
        }

        @given(case=operation.as_strategy())
        @hypothesis_settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case):
            for name in case.path_parameters or {}:
                if path_values.get(name):
                    case.path_parameters[name] = path_values[name]
            case.call_and_validate(headers=headers, checks=CHECKS)

        run()

    for operation in operations:
        if "/keys/" in operation.path and operation.method.upper() != "GET":
            continue  # rotating or deactivating the key would end the run
        try:
            fuzz(operation)
        except Exception as exc:  # collect every operation's failure, then report them all
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}"[:3000])
    return failures


def test_schemathesis__flags_and_foundation_endpoints__no_5xx_no_schema_violation(
    api, world, settings, wsgi_app
):
    settings.CONSOLE_API_MUTATIONS_PER_WINDOW = 1_000_000
    failures = fuzz_operations(world, wsgi_app, lambda path: "/segments" not in path)
    assert not failures, "\n\n".join(failures)


def test_schemathesis__segments_endpoints__no_5xx_no_schema_violation(
    api, world, settings, wsgi_app
):
    settings.CONSOLE_API_MUTATIONS_PER_WINDOW = 1_000_000
    failures = fuzz_operations(world, wsgi_app, lambda path: "/segments" in path)
    assert not failures, "\n\n".join(failures)
