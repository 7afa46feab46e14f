"""Every console API endpoint, discovered from the URL configuration, with a project's entities
to fill their path parameters and a valid body for each mutation. Used by the authorization
matrix and the smoke test so that a new endpoint is covered without editing a list."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

from console.api.base import ConsoleAPIView
from console.models import ApiKey, ApiKeyKind, Role
from flags.services import configs, experiments, gates, holdouts, layers, tags
from segments import services as segment_services
from tests.conftest import World

METHODS = ("get", "post", "put", "patch", "delete")
PREFIX = "console/v1/"
RULE = {
    "name": "Employees",
    "passPercentage": 100,
    "conditions": [
        {"type": "email", "operator": "str_contains_any", "targetValue": ["@example.com"]}
    ],
}


@dataclass(frozen=True)
class Endpoint:
    name: str
    route: str  # e.g. "console/v1/gates/<str:gate_id>"
    method: str
    view_class: type

    @property
    def params(self) -> list[str]:
        return [part.split(">")[0].split(":")[-1] for part in self.route.split("<")[1:]]

    def path(self, values: dict[str, str]) -> str:
        path = self.route
        for param in self.params:
            path = path.replace(f"<str:{param}>", values.get(param, f"unknown_{param}"))
        assert "<" not in path, path
        return f"/{path}"

    def __str__(self) -> str:
        return f"{self.method.upper()} /{self.route}"


def _walk(patterns, prefix: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern


def console_endpoints() -> list[Endpoint]:
    """Every (route, method) the console API serves with a console key."""
    found = []
    for route, pattern in _walk(get_resolver().url_patterns):
        view_class = getattr(pattern.callback, "view_class", None) or getattr(
            pattern.callback, "cls", None
        )
        if not route.startswith(PREFIX) or view_class is None:
            continue
        if not issubclass(view_class, ConsoleAPIView):
            continue
        for method in METHODS:
            if hasattr(view_class, method):
                found.append(Endpoint(pattern.name or route, route, method, view_class))
    return found


def seed_entities(world: World, *, prefix: str = "acme") -> dict[str, str]:
    """One entity of each kind (through the services) and the path values naming them."""
    actor = world.actor(Role.ADMIN)
    project = world.project
    gate = gates.gate_create(
        project=project, actor=actor, name=f"{prefix}_gate", rules=[RULE], review_required=True
    )
    config = configs.dynamic_config_create(
        project=project,
        actor=actor,
        name=f"{prefix}_config",
        default_value={"color": "blue"},
        rules=[{**RULE, "returnValue": {"color": "red"}}],
    )
    layer = layers.layer_create(
        project=project,
        actor=actor,
        name=f"{prefix}_layer",
        parameters=[{"name": "color", "type": "string", "defaultValue": "blue"}],
    )
    experiment = experiments.experiment_create(
        project=project, actor=actor, name=f"{prefix}_experiment"
    )
    holdout = holdouts.holdout_create(project=project, actor=actor, name=f"{prefix}_holdout")
    tag = tags.tag_create(project=project, actor=actor, name=f"{prefix}_tag")
    segment = segment_services.segment_create(
        project=project, actor=actor, name=f"{prefix}_segment", type="id_list"
    )
    # An open review on the gate (the project requires reviews only for this change).
    from console.actors import Actor

    key = ApiKey.objects.get(project=project, kind=ApiKeyKind.CONSOLE)
    outcome = gates.gate_disable(
        project=project,
        actor=Actor.for_console_key(key, respects_reviews=True),
        gate_id=gate.slug,
    )
    assert outcome.review is not None
    return {
        "gate_id": gate.slug,
        "config_id": config.slug,
        "experiment_id": experiment.slug,
        "layer_id": layer.slug,
        "holdout_id": holdout.slug,
        "rule_id": gate.rules[0]["id"],
        "review_id": outcome.review.public_id,
        "key_id": key.public_id,
        "segment_id": segment.key,
        "tag_id": tag.public_id,
        "config_rule_id": config.rules[0]["id"],
    }


def path_values(endpoint: Endpoint, values: dict[str, str]) -> dict[str, str]:
    """``entity_id`` of review routes names the entity of the route's prefix."""
    out = dict(values)
    if "entity_id" in endpoint.params:
        prefix = endpoint.route.removeprefix(PREFIX).split("/")[0]
        entity = {
            "gates": "gate_id",
            "dynamic_configs": "config_id",
            "experiments": "experiment_id",
            "layers": "layer_id",
            "segments": "segment_id",
        }.get(prefix)
        out["entity_id"] = values[entity] if entity else "unknown_entity"
    if endpoint.route.startswith(f"{PREFIX}dynamic_configs/"):
        out["rule_id"] = values.get("config_rule_id", values["rule_id"])
    return out


def sample_body(endpoint: Endpoint, values: dict[str, str]) -> Any:
    """A valid body for the mutation (None for GET)."""
    if endpoint.method == "get":
        return None
    key = (endpoint.name, endpoint.method)
    overrides = {"passingUserIDs": ["u1"], "failingUserIDs": []}
    bodies: dict[tuple[str, str], Any] = {
        ("capi-gates", "post"): {"name": "New gate"},
        ("capi-gate", "post"): {"isEnabled": True, "description": "d", "rules": [RULE]},
        ("capi-gate", "patch"): {"description": "patched"},
        ("capi-gate-rule-add", "post"): RULE,
        ("capi-gate-rules", "post"): {"rules": [RULE]},
        ("capi-gate-rules", "patch"): {"rules": [RULE]},
        ("capi-gate-rule", "patch"): {"passPercentage": 50},
        ("capi-gate-overrides", "post"): overrides,
        ("capi-gate-overrides", "patch"): overrides,
        ("capi-gate-overrides", "delete"): overrides,
        ("capi-configs", "post"): {"name": "New config"},
        ("capi-config", "post"): {"isEnabled": True, "description": "d", "rules": []},
        ("capi-config", "patch"): {"description": "patched"},
        ("capi-config-rules", "patch"): {"rules": [{**RULE, "returnValue": {"a": 1}}]},
        ("capi-config-rule-add", "post"): {**RULE, "returnValue": {"a": 1}},
        ("capi-config-rule", "patch"): {"passPercentage": 50},
        ("capi-experiments", "post"): {"name": "New experiment"},
        ("capi-experiment", "post"): {
            "description": "d",
            "idType": "userID",
            "hypothesis": "h",
            "groups": [
                {"name": "Control", "size": 50, "parameterValues": {}},
                {"name": "Test", "size": 50, "parameterValues": {}},
            ],
            "allocation": 100,
            "targetingGateID": None,
        },
        ("capi-experiment", "patch"): {"description": "patched"},
        ("capi-experiment-make_decision", "put"): {"id": "Control", "decisionReason": "r"},
        ("capi-experiment-abandon", "put"): {"decisionReason": "r"},
        ("capi-experiment-restart_as_new", "post"): {"name": "Restarted experiment"},
        ("capi-experiment-schedule_start", "post"): {"scheduledTime": 4102444800000},
        ("capi-experiment-enable_groups", "post"): {"group_names": ["Control"]},
        ("capi-experiment-disable_groups", "post"): {"group_names": ["Control"]},
        ("capi-experiment-overrides", "post"): {"overrides": [], "userIDOverrides": []},
        ("capi-experiment-overrides", "patch"): {"overrides": [], "userIDOverrides": []},
        ("capi-experiment-overrides", "delete"): {"overrides": [], "userIDOverrides": []},
        ("capi-layers", "post"): {"name": "New layer", "idType": "userID"},
        ("capi-layer", "post"): {"description": "d", "parameters": []},
        ("capi-layer", "patch"): {"description": "patched"},
        ("capi-holdouts", "post"): {"name": "New holdout"},
        ("capi-holdout", "post"): {
            "isEnabled": True,
            "description": "d",
            "passPercentage": 1,
            "gateIDs": [],
            "experimentIDs": [],
            "layerIDs": [],
            "isGlobal": False,
            "targetingGateID": None,
        },
        ("capi-holdout", "patch"): {"description": "patched"},
        ("capi-holdout-overrides", "post"): overrides,
        ("capi-holdout-overrides", "patch"): overrides,
        ("capi-holdout-overrides", "delete"): overrides,
        ("capi-layer-overrides", "post"): {"conditionalOverrides": [], "idOverrides": []},
        ("capi-layer-overrides", "patch"): {"conditionalOverrides": [], "idOverrides": []},
        ("capi-layer-overrides", "delete"): {"conditionalOverrides": [], "idOverrides": []},
        ("capi-tags", "post"): {"name": "New tag", "description": "d"},
        ("capi-tag", "patch"): {"description": "patched"},
        ("capi-keys", "post"): {"description": "k", "type": "SERVER"},
        ("capi-review-settings", "post"): {"is_config_review_required": False},
        ("capi-environments", "post"): {
            "environments": [
                {
                    "id": name,
                    "name": name,
                    "isProduction": name == "production",
                    "requiresReview": name == "production",
                    "requiresReleasePipeline": False,
                }
                for name in ("development", "staging", "production")
            ]
            + [
                {
                    "name": "qa",
                    "isProduction": False,
                    "requiresReview": False,
                    "requiresReleasePipeline": True,
                }
            ]
        },
        ("capi-segments", "post"): {"name": "New segment", "type": "id_list"},
        ("capi-segment-conditional", "post"): [RULE],
        ("capi-segment-id-list", "patch"): {"ids": ["u1"]},
        ("capi-segment-id-list", "delete"): {"ids": ["u1"]},
        ("capi-segment-id-list-reset", "post"): {"ids": ["u1"]},
    }
    if key in bodies:
        return bodies[key]
    if endpoint.name.endswith("-review-reject"):
        return {"reason": "no"}
    if endpoint.name.endswith("-review-list") and endpoint.method == "post":
        if endpoint.name.startswith("experiment"):
            return {"description": "please review", "type": "start"}
        if endpoint.name.startswith("layer"):
            return {"description": "please review", "change": {"delete": True}}
        if endpoint.name.startswith("segment"):
            return {"description": "please review", "change": {"is_archived": True}}
        return {"description": "please review", "change": {"is_enabled": False}}
    return {}
