"""Tags (renames and deletes reach the entities) and layer overrides (compiled into the layer and
the experiment they name)."""

from __future__ import annotations

import pytest

from console.errors import NotFound, ValidationError
from console.models import AuditLog, Role
from flags.models import Gate
from flags.selectors import tag_get, tag_list
from flags.services.experiments import experiment_create, experiment_start
from flags.services.gates import gate_create, gate_delete
from flags.services.layers import layer_create, layer_overrides_add, layer_overrides_remove
from flags.services.tags import tag_create, tag_delete, tag_update
from ruleset.compiler import compile_project


def test_tags__rename_and_delete__entities_follow(world):
    member = world.actor(Role.MEMBER)
    tag = tag_create(project=world.project, actor=member, name="checkout", description="Checkout")
    gate_create(project=world.project, actor=member, name="Gate", tags=["checkout", "core"])
    with pytest.raises(ValidationError) as excinfo:
        tag_create(project=world.project, actor=member, name="Checkout")
    assert excinfo.value.errors[0].property == "name"

    tag_update(project=world.project, actor=member, tag_id=tag.public_id, name="payments")
    assert Gate.objects.get().tags == ["payments", "core"]
    assert [t.name for t in tag_list(project=world.project)] == ["payments"]
    tag_delete(project=world.project, actor=member, tag_id=tag.public_id)
    assert Gate.objects.get().tags == ["core"]
    with pytest.raises(NotFound):
        tag_get(project=world.project, tag_id=tag.public_id)
    actions = list(AuditLog.objects.filter(entity_type="tag").values_list("action_type", flat=True))
    assert sorted(actions) == ["tag_create", "tag_delete", "tag_edit"]


def test_layer_overrides__compiled_into_layer_and_experiment(world):
    member = world.actor(Role.MEMBER)
    gate_create(project=world.project, actor=member, name="Beta")
    layer = layer_create(
        project=world.project,
        actor=member,
        name="Layer",
        parameters=[{"name": "color", "type": "string", "defaultValue": "blue"}],
    )
    experiment = experiment_create(
        project=world.project,
        actor=member,
        name="Colors",
        layer_id="layer",
        allocation=10,
        groups=[
            {"name": "Blue", "size": 50, "parameterValues": {"color": "blue"}},
            {"name": "Red", "size": 50, "parameterValues": {"color": "red"}},
        ],
    )
    experiment_start(project=world.project, actor=member, experiment_id="colors")
    with pytest.raises(ValidationError) as excinfo:
        layer_overrides_add(
            project=world.project,
            actor=member,
            layer_id="layer",
            overrides={"idOverrides": [{"groupName": "Green", "ids": ["u1"]}]},
        )
    assert excinfo.value.errors[0].property == "idOverrides[0].groupName"

    layer = layer_overrides_add(
        project=world.project,
        actor=member,
        layer_id="layer",
        overrides={
            "idOverrides": [{"groupName": "Red", "ids": ["u1", "u2"], "experimentName": "colors"}],
            "conditionalOverrides": [
                {"type": "gate", "name": "beta", "experimentName": "colors", "groupName": "Red"}
            ],
        },
    ).result
    red = experiment.groups[1]
    assert layer.overrides["idOverrides"][0]["groupID"] == red["id"]

    payload = compile_project(world.project, time=1)
    experiment_rules = payload["dynamic_configs"][0]["rules"]
    assert [r["id"] for r in experiment_rules[:2]] == [
        f"layer:{red['id']}:userID:id_override",
        f"layer:{red['id']}:gate:beta:override",
    ]
    assert experiment_rules[0]["returnValue"] == {"color": "red"}
    layer_rules = payload["layer_configs"][0]["rules"]
    assert [r.get("configDelegate") for r in layer_rules] == ["colors", "colors", "colors"]

    # The gate cannot go while the layer's overrides use it
    with pytest.raises(ValidationError) as excinfo:
        gate_delete(project=world.project, actor=member, gate_id="beta")
    assert "layer 'layer'" in excinfo.value.errors[0].message

    layer = layer_overrides_remove(
        project=world.project,
        actor=member,
        layer_id="layer",
        overrides={
            "idOverrides": [{"groupName": "Red", "ids": ["u1"], "experimentName": "colors"}]
        },
    ).result
    assert layer.overrides["idOverrides"][0]["ids"] == ["u2"]
    assert len(layer.overrides["conditionalOverrides"]) == 1
