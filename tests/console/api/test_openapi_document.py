"""The OpenAPI document reads like Statsig's: valid OpenAPI, a summary and one of Statsig's tags on
every operation, ``{id}`` path parameters, and a request body naming every field a mutation
accepts. Unknown console paths and wrong methods answer Statsig's JSON error envelope."""

from __future__ import annotations

import pytest
from openapi_spec_validator import OpenAPIV30SpecValidator

from console.api.schema import statsig_path
from tests.console.api.endpoints import console_endpoints

STATSIG_TAGS = {
    "Audit Logs",
    "Dynamic Configs",
    "Environments",
    "Experiments",
    "Gates",
    "Holdouts",
    "Keys",
    "Layers",
    "Metrics",
    "Segments",
    "Settings",
    "Tags",
}
BODY_METHODS = {"post", "put", "patch"}


@pytest.fixture
def document(api, world):
    response = api.get("/console/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


def operations(document):
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def test_document__openapi_spec_validator__no_error(document):
    errors = [error.message for error in OpenAPIV30SpecValidator(document).iter_errors()]

    assert errors == []


def test_document__every_operation__summary_and_a_statsig_tag(document):
    for path, method, operation in operations(document):
        assert operation.get("summary"), f"{method.upper()} {path}"
        assert len(operation["tags"]) == 1, f"{method.upper()} {path}"
        assert operation["tags"][0] in STATSIG_TAGS, f"{method.upper()} {path}"
    assert {tag["name"] for tag in document["tags"]} <= STATSIG_TAGS


def test_document__summaries__statsig_words(document):
    paths = document["paths"]

    assert paths["/console/v1/gates/{id}"]["patch"]["summary"] == "Partially Update Gate"
    assert paths["/console/v1/gates/{id}/enable"]["put"]["summary"] == "Enable Gate"
    assert paths["/console/v1/audit_logs"]["get"]["summary"] == "List Audit Logs"
    assert paths["/console/v1/tags/{id}"]["patch"]["summary"] == "Update Tag"
    assert (
        paths["/console/v1/gates/{id}/reviews/{reviewID}/commit"]["put"]["summary"]
        == "Commit Gate Review"
    )


def test_document__path_parameters__statsig_names(document):
    for path, method, operation in operations(document):
        declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
        in_path = {part[1:-1] for part in path.split("/") if part.startswith("{")}
        assert declared == in_path, f"{method.upper()} {path}"
        assert in_path <= {"id", "ruleID", "reviewID"}, f"{method.upper()} {path}"
    assert "/console/v1/gates/{id}/rules/{ruleID}" in document["paths"]
    assert "/console/v1/dynamic_configs/{id}/reviews/{reviewID}" in document["paths"]


def test_document__request_bodies__every_field_a_view_accepts(document):
    """Each mutation of a view with an input serializer documents a body; the view's own
    serializer, when it is the one documented, with every field it accepts."""
    schemas = document["components"]["schemas"]
    for endpoint in console_endpoints():
        serializer = getattr(endpoint.view_class, "InputSerializer", None)
        if endpoint.method not in BODY_METHODS or serializer is None:
            continue
        route = "/" + endpoint.route
        for param in endpoint.params:
            route = route.replace(f"<str:{param}>", "{" + param + "}")
        operation = document["paths"][statsig_path(route)[0]][endpoint.method]
        assert "requestBody" in operation, str(endpoint)
        body = operation["requestBody"]["content"]["application/json"]["schema"]
        component = body.get("$ref", "").rsplit("/", 1)[-1]
        if component != endpoint.view_class.__name__.removesuffix("View") + "InputRequest":
            continue  # this method reads another serializer (a partial update's)
        documented = set(schemas[component].get("properties", {}))
        accepted = set(serializer().fields)
        assert accepted <= documented, (str(endpoint), sorted(accepted - documented))


def test_document__review_reason__optional_may_be_blank(document):
    reason = document["components"]["schemas"]["ExperimentReviewListInputRequest"]["properties"][
        "reason"
    ]

    assert reason.get("minLength", 0) == 0


# -- JSON errors on unknown paths and methods --------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/console/v1/nothing_here", "/console/v1/gates/a/b/c/d", "/console/v1/tags/x/y"],
)
def test_unknown_console_path__json_404_envelope(api, world, path):
    response = api.get(path, key=world.keys["console"])

    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["status"] == 404
    assert response.json()["message"]


def test_unknown_console_path__without_key__json_404(api, world):
    response = api.post("/console/v1/nothing_here", {"a": 1})

    assert response.status_code == 404
    assert response.json()["status"] == 404


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("put", "/console/v1/tags"),
        ("delete", "/console/v1/audit_logs"),
        ("patch", "/console/v1/environments"),
        ("get", "/console/v1/gates/any/enable"),
        ("post", "/console/v1/openapi.json"),
    ],
)
def test_wrong_method__json_405_envelope(api, world, method, path):
    body = None if method == "get" else {}
    response = api.request(method.upper(), path, body, key=world.keys["console"])

    assert response.status_code == 405
    assert response.json() == {
        "status": 405,
        "message": f"Method {method.upper()} is not allowed here.",
    }
