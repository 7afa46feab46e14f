"""Demo entities for ``manage.py seed_demo``, created through the services."""

from __future__ import annotations

from console.actors import Actor
from console.models import Project
from flags.services.configs import dynamic_config_create
from flags.services.experiments import experiment_create, experiment_start
from flags.services.gates import gate_create
from flags.services.holdouts import holdout_create
from flags.services.layers import layer_create


def seed_demo_data(*, project: Project, actor: Actor) -> None:
    gate_create(
        project=project,
        actor=actor,
        name="Internal Users",
        description="Employees, by email domain.",
        tags=["core"],
        rules=[
            {
                "name": "Company email",
                "passPercentage": 100,
                "conditions": [
                    {
                        "type": "email",
                        "operator": "str_ends_with_any",
                        "targetValue": ["@example.com"],
                    }
                ],
            }
        ],
    )
    gate_create(
        project=project,
        actor=actor,
        name="New Checkout",
        description="The redesigned checkout: employees first, then 20% of everyone.",
        type="TEMPORARY",
        rules=[
            {
                "name": "Employees",
                "passPercentage": 100,
                "conditions": [{"type": "passes_gate", "targetValue": "internal_users"}],
            },
            {
                "name": "Development",
                "passPercentage": 100,
                "conditions": [],
                "environments": ["development"],
            },
            {"name": "Rollout", "passPercentage": 20, "conditions": [{"type": "public"}]},
        ],
        overrides={"passingUserIDs": ["demo-user-1"], "failingUserIDs": ["demo-user-2"]},
    )
    gate_create(
        project=project,
        actor=actor,
        name="Mobile Only Banner",
        description="iOS and Android users on recent app versions.",
        rules=[
            {
                "name": "Mobile",
                "passPercentage": 100,
                "conditions": [
                    {"type": "os_name", "operator": "any", "targetValue": ["iOS", "Android"]},
                    {"type": "app_version", "operator": "version_gte", "targetValue": "2.4.0"},
                ],
            }
        ],
    )
    gate_create(
        project=project,
        actor=actor,
        name="Payments Kill Switch",
        description="Turn off the new payment provider everywhere.",
        is_enabled=False,
    )
    dynamic_config_create(
        project=project,
        actor=actor,
        name="Pricing Banner",
        description="The banner above the pricing table.",
        default_value={"text": "Simple pricing", "color": "#222222", "discount": 0},
        schema={
            "type": "object",
            "properties": {
                "text": {"type": "string"},
                "color": {"type": "string"},
                "discount": {"type": "number", "minimum": 0, "maximum": 50},
            },
            "required": ["text"],
        },
        rules=[
            {
                "name": "Europe",
                "passPercentage": 100,
                "conditions": [
                    {"type": "country", "operator": "any", "targetValue": ["DE", "FR", "NL"]}
                ],
                "returnValue": {"text": "Preise ohne Überraschungen", "discount": 10},
            }
        ],
    )
    layer_create(
        project=project,
        actor=actor,
        name="Checkout Layer",
        description="Experiments on the checkout page share its traffic.",
        parameters=[
            {"name": "button_color", "type": "string", "defaultValue": "blue"},
            {"name": "steps", "type": "number", "defaultValue": 3},
            {"name": "show_trust_badges", "type": "boolean", "defaultValue": False},
        ],
    )
    experiment = experiment_create(
        project=project,
        actor=actor,
        name="Checkout Button Color",
        hypothesis="A green button raises checkout completion.",
        layer_id="checkout_layer",
        allocation=50,
        groups=[
            {"name": "Control", "size": 50, "parameterValues": {"button_color": "blue"}},
            {"name": "Green", "size": 50, "parameterValues": {"button_color": "green"}},
        ],
    )
    experiment_start(project=project, actor=actor, experiment_id=experiment.slug)
    holdout_create(
        project=project,
        actor=actor,
        name="Global Holdout",
        description="2% of users see no new features, to measure their total impact.",
        pass_percentage=2,
        gate_ids=["new_checkout"],
        layer_ids=["checkout_layer"],
    )
