"""Experiments, layers, holdouts and dynamic configs: validation, the experiment lifecycle,
layer buckets that never overlap and stay put, reviews of lifecycle actions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from console.actors import Actor
from console.errors import ValidationError
from console.models import ApiKey, AuditLog, ReviewStatus, Role
from console.services.projects import project_review_settings_update
from console.services.reviews import review_approve, review_commit
from flags.models import DynamicConfig, Experiment, ExperimentStatus, Gate, Holdout
from flags.services.configs import dynamic_config_create, dynamic_config_update
from flags.services.experiments import (
    experiment_abandon,
    experiment_archive,
    experiment_create,
    experiment_delete,
    experiment_make_decision,
    experiment_reset,
    experiment_restart_as_new,
    experiment_schedule_start,
    experiment_start,
    experiment_unarchive,
    experiment_update,
    experiments_start_scheduled,
)
from flags.services.gates import gate_create
from flags.services.holdouts import holdout_create, holdout_update
from flags.services.layers import layer_create, layer_delete, layer_update

PARAMETERS = [
    {"name": "color", "type": "string", "defaultValue": "blue"},
    {"name": "count", "type": "number", "defaultValue": 1},
]


def _errors(excinfo) -> dict[str, str]:
    return {error.property: error.message for error in excinfo.value.errors}


def _layer(world, name="Checkout Layer", **kwargs):
    return layer_create(
        project=world.project,
        actor=world.actor(Role.MEMBER),
        name=name,
        parameters=PARAMETERS,
        **kwargs,
    )


def _experiment(world, name="Button", **kwargs):
    return experiment_create(
        project=world.project, actor=world.actor(Role.MEMBER), name=name, **kwargs
    )


# -- experiments ----------------------------------------------------------------------------------


def test_experiment_create__defaults__control_and_test_in_setup(world):
    experiment = _experiment(world)
    assert experiment.status == ExperimentStatus.SETUP
    assert [(g["name"], g["size"]) for g in experiment.groups] == [("Control", 50), ("Test", 50)]
    assert experiment.control_group_id == experiment.groups[0]["id"]
    assert len(experiment.buckets) == 1000
    assert AuditLog.objects.filter(action_type="experiment_create", entity_id="button").exists()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"groups": [{"name": "A", "size": 60}, {"name": "B", "size": 50}]}, "groups"),
        ({"groups": [{"name": "A", "size": 100}]}, "groups"),
        ({"groups": [{"name": "A", "size": 50}, {"name": "a", "size": 50}]}, "groups[1].name"),
        (
            {"groups": [{"name": "A", "size": 50.05}, {"name": "B", "size": 49.95}]},
            "groups[0].size",
        ),
        (
            {
                "groups": [
                    {"name": "A", "size": 50, "parameterValues": []},
                    {"name": "B", "size": 50},
                ]
            },
            "groups[0].parameterValues",
        ),
        ({"allocation": 101}, "allocation"),
        ({"targeting_gate_id": "ghost"}, "targetingGateID"),
        ({"layer_id": "ghost"}, "layerID"),
        ({"control_group_id": "Nobody"}, "controlGroupID"),
        ({"id_type": ""}, "idType"),
    ],
)
def test_experiment_create__invalid_field__400_naming_it(world, kwargs, field):
    with pytest.raises(ValidationError) as excinfo:
        _experiment(world, **kwargs)
    assert field in _errors(excinfo)


def test_experiment_lifecycle__start_decide__states_and_times(world):
    member = world.actor(Role.MEMBER)
    experiment = _experiment(world)

    # Deciding before the start is refused with Statsig's message
    with pytest.raises(ValidationError) as excinfo:
        experiment_make_decision(
            project=world.project,
            actor=member,
            experiment_id="button",
            group_id="Test",
            decision_reason="x",
        )
    assert excinfo.value.message == "Experiment has not yet started"

    experiment = experiment_start(
        project=world.project, actor=member, experiment_id="button"
    ).result
    assert experiment.status == ExperimentStatus.ACTIVE
    assert experiment.start_time is not None
    with pytest.raises(ValidationError):
        experiment_start(project=world.project, actor=member, experiment_id="button")

    experiment = experiment_make_decision(
        project=world.project,
        actor=member,
        experiment_id="button",
        group_id="Test",
        decision_reason="Won",
    ).result
    assert experiment.status == ExperimentStatus.DECISION_MADE
    assert experiment.launched_group_id == experiment.groups[1]["id"]
    assert experiment.decision_reason == "Won"
    assert experiment.decision_time is not None
    assert AuditLog.objects.filter(action_type="experiment_decision_make").exists()

    # A decided experiment only takes metadata changes
    with pytest.raises(ValidationError) as excinfo:
        experiment_update(
            project=world.project, actor=member, experiment_id="button", allocation=50
        )
    assert "allocation" in _errors(excinfo)
    experiment_update(project=world.project, actor=member, experiment_id="button", description="d")

    experiment = experiment_archive(
        project=world.project, actor=member, experiment_id="button"
    ).result
    assert experiment.status == ExperimentStatus.ARCHIVED
    assert experiment.buckets == []
    experiment = experiment_unarchive(
        project=world.project, actor=member, experiment_id="button"
    ).result
    assert experiment.status == ExperimentStatus.DECISION_MADE
    assert len(experiment.buckets) == 1000


def test_experiment_abandon_and_reset__buckets_released_then_new_salt(world):
    member = world.actor(Role.MEMBER)
    _layer(world)
    experiment = _experiment(world, layer_id="checkout_layer", allocation=40)
    experiment_start(project=world.project, actor=member, experiment_id="button")
    with pytest.raises(ValidationError) as excinfo:
        experiment_abandon(
            project=world.project, actor=member, experiment_id="button", decision_reason=""
        )
    assert "decisionReason" in _errors(excinfo)
    experiment = experiment_abandon(
        project=world.project, actor=member, experiment_id="button", decision_reason="Bug"
    ).result
    assert experiment.status == ExperimentStatus.ABANDONED
    assert experiment.buckets == []
    old_salt = experiment.salt
    experiment = experiment_reset(
        project=world.project, actor=member, experiment_id="button"
    ).result
    assert experiment.status == ExperimentStatus.ACTIVE
    assert experiment.salt != old_salt
    assert len(experiment.buckets) == 400


def test_layer_allocation__never_overlaps_or_exceeds_100(world):
    _layer(world)
    first = _experiment(world, name="First", layer_id="checkout_layer", allocation=60)
    with pytest.raises(ValidationError) as excinfo:
        _experiment(world, name="Second", layer_id="checkout_layer", allocation=50)
    assert "40%" in _errors(excinfo)["allocation"]
    second = _experiment(world, name="Second", layer_id="checkout_layer", allocation=40)
    assert len(first.buckets) == 600
    assert len(second.buckets) == 400
    assert not set(first.buckets) & set(second.buckets)
    assert set(first.buckets) | set(second.buckets) == set(range(1000))


def test_layer_allocation__running_experiment_grows_and_shrinks_in_place(world):
    member = world.actor(Role.MEMBER)
    _layer(world)
    experiment = _experiment(world, layer_id="checkout_layer", allocation=20)
    experiment_start(project=world.project, actor=member, experiment_id="button")
    before = set(Experiment.objects.get(slug="button").buckets)

    grown = experiment_update(
        project=world.project, actor=member, experiment_id="button", allocation=35.5
    ).result
    assert len(grown.buckets) == 355
    assert before <= set(grown.buckets)

    shrunk = experiment_update(
        project=world.project, actor=member, experiment_id="button", allocation=10
    ).result
    assert len(shrunk.buckets) == 100
    assert set(shrunk.buckets) <= set(grown.buckets)
    assert experiment.allocation_salt == shrunk.allocation_salt


def test_experiment_in_layer__parameters_checked_against_layer(world):
    _layer(world)
    with pytest.raises(ValidationError) as excinfo:
        _experiment(
            world,
            layer_id="checkout_layer",
            groups=[
                {"name": "A", "size": 50, "parameterValues": {"color": 3}},
                {"name": "B", "size": 50, "parameterValues": {"unknown": 1}},
            ],
        )
    assert "groups[0].parameterValues.color" in _errors(excinfo)
    with pytest.raises(ValidationError) as excinfo:
        _experiment(world, layer_id="checkout_layer", id_type="companyID")
    assert "layerID" in _errors(excinfo)


def test_experiment_running__groups_fixed_but_values_editable(world):
    member = world.actor(Role.MEMBER)
    experiment = _experiment(world)
    experiment_start(project=world.project, actor=member, experiment_id="button")
    groups = [dict(g) for g in experiment.groups]
    groups[1]["parameterValues"] = {"color": "green"}
    updated = experiment_update(
        project=world.project, actor=member, experiment_id="button", groups=groups
    ).result
    assert updated.groups[1]["parameterValues"] == {"color": "green"}
    groups[0]["size"], groups[1]["size"] = 40, 60
    with pytest.raises(ValidationError) as excinfo:
        experiment_update(
            project=world.project, actor=member, experiment_id="button", groups=groups
        )
    assert "groups" in _errors(excinfo)
    with pytest.raises(ValidationError) as excinfo:
        experiment_update(project=world.project, actor=member, experiment_id="button", id_type="x")
    assert "idType" in _errors(excinfo)


def test_experiment_restart_as_new__copy_runs_with_the_old_layer_space(world):
    member = world.actor(Role.MEMBER)
    _layer(world)
    _experiment(world, layer_id="checkout_layer", allocation=30)
    experiment_start(project=world.project, actor=member, experiment_id="button")
    old_buckets = Experiment.objects.get(slug="button").buckets

    new = experiment_restart_as_new(
        project=world.project, actor=member, experiment_id="button", name="Button Again"
    ).result

    old = Experiment.objects.get(slug="button")
    assert new.slug == "button_again"
    assert new.status == ExperimentStatus.ACTIVE
    assert new.buckets == old_buckets
    assert old.buckets == []
    assert old.status == ExperimentStatus.ABANDONED
    assert {g["id"] for g in new.groups}.isdisjoint({g["id"] for g in old.groups})
    assert new.salt != old.salt


def test_experiment_schedule_start__beat_job_starts_it_when_due(world):
    member = world.actor(Role.MEMBER)
    _experiment(world)
    soon = timezone.now() + timedelta(minutes=5)
    experiment_schedule_start(
        project=world.project,
        actor=member,
        experiment_id="button",
        scheduled_time=int(soon.timestamp() * 1000),
    )
    assert experiments_start_scheduled() == 0
    assert experiments_start_scheduled(now=soon + timedelta(seconds=1)) == 1
    experiment = Experiment.objects.get(slug="button")
    assert experiment.status == ExperimentStatus.ACTIVE
    assert experiment.scheduled_start_time is None
    entry = AuditLog.objects.get(action_type="experiment_start")
    assert entry.actor_type == "system"


def test_experiment_start__review_required__filed_then_committed(world, committed):
    project_review_settings_update(
        project=world.project, actor=world.actor(Role.ADMIN), is_config_review_required=True
    )
    _experiment(world)
    key = ApiKey.objects.get(project=world.project, kind="console")
    outcome = experiment_start(
        project=world.project,
        actor=Actor.for_console_key(key, respects_reviews=True),
        experiment_id="button",
    )
    assert outcome.submitted_for_review
    assert outcome.review.status == ReviewStatus.PENDING
    assert Experiment.objects.get(slug="button").status == ExperimentStatus.SETUP

    # Editing a setup experiment reaches nobody: no review
    member = world.actor(Role.MEMBER)
    assert not experiment_update(
        project=world.project, actor=member, experiment_id="button", allocation=50
    ).submitted_for_review

    # Approved by a person other than the holder of the key that filed it
    review_approve(project=world.project, actor=member, review_id=outcome.review.public_id)
    # The edit moved the version on: the review is stale and must be re-filed
    from console.errors import Conflict

    with pytest.raises(Conflict):
        review_commit(project=world.project, actor=member, review_id=outcome.review.public_id)


def test_experiment_delete__frees_layer_space(world):
    member = world.actor(Role.MEMBER)
    _layer(world)
    _experiment(world, layer_id="checkout_layer", allocation=100)
    with pytest.raises(ValidationError) as excinfo:
        layer_delete(project=world.project, actor=member, layer_id="checkout_layer")
    assert "experiment 'button'" in _errors(excinfo)["id"]
    experiment_delete(project=world.project, actor=member, experiment_id="button")
    _experiment(world, name="Other", layer_id="checkout_layer", allocation=100)


# -- layers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("parameters", "field"),
    [
        ([{"name": "x", "type": "string", "defaultValue": 1}], "parameters[0].defaultValue"),
        ([{"name": "x", "type": "date", "defaultValue": 1}], "parameters[0].type"),
        (
            [
                {"name": "x", "type": "boolean", "defaultValue": True},
                {"name": "x", "type": "boolean", "defaultValue": True},
            ],
            "parameters[1].name",
        ),
        ("x", "parameters"),
    ],
)
def test_layer_create__invalid_parameters__400_naming_them(world, parameters, field):
    with pytest.raises(ValidationError) as excinfo:
        layer_create(
            project=world.project, actor=world.actor(), name="Layer", parameters=parameters
        )
    assert field in _errors(excinfo)


def test_layer_update__parameter_used_by_experiment__refused(world):
    _layer(world)
    _experiment(
        world,
        layer_id="checkout_layer",
        groups=[
            {"name": "A", "size": 50, "parameterValues": {"color": "red"}},
            {"name": "B", "size": 50, "parameterValues": {"color": "green"}},
        ],
    )
    with pytest.raises(ValidationError) as excinfo:
        layer_update(
            project=world.project,
            actor=world.actor(),
            layer_id="checkout_layer",
            parameters=[PARAMETERS[1]],
        )
    assert "button" in _errors(excinfo)["parameters"]
    layer = layer_update(
        project=world.project,
        actor=world.actor(),
        layer_id="checkout_layer",
        parameters=[*PARAMETERS, {"name": "new", "type": "array", "defaultValue": []}],
    ).result
    assert layer.version == 2
    assert layer.default_values["new"] == []


# -- holdouts -----------------------------------------------------------------------------------


def test_holdout__validation_links_and_global(world):
    member = world.actor(Role.MEMBER)
    gate_create(project=world.project, actor=member, name="Company Gate", id_type="companyID")
    with pytest.raises(ValidationError) as excinfo:
        holdout_create(project=world.project, actor=member, name="Big", pass_percentage=11)
    assert "passPercentage" in _errors(excinfo)
    with pytest.raises(ValidationError) as excinfo:
        holdout_create(project=world.project, actor=member, name="Users", gate_ids=["company_gate"])
    assert "gateIDs" in _errors(excinfo)
    with pytest.raises(ValidationError) as excinfo:
        holdout_create(project=world.project, actor=member, name="Users", gate_ids=["ghost"])
    assert "ghost" in _errors(excinfo)["gateIDs"]

    holdout_create(
        project=world.project, actor=member, name="Everything", pass_percentage=2.5, is_global=True
    )
    gate = gate_create(project=world.project, actor=member, name="New Gate")
    experiment = _experiment(world)
    assert list(gate.holdouts.values_list("slug", flat=True)) == ["everything"]
    assert list(experiment.holdouts.values_list("slug", flat=True)) == ["everything"]

    holdout = holdout_update(
        project=world.project, actor=member, holdout_id="everything", pass_percentage=3, gate_ids=[]
    ).result
    assert holdout.version == 2
    assert not Holdout.objects.get(pk=holdout.pk).gates.exists()
    entry = AuditLog.objects.get(action_type="holdout_update")
    assert entry.changes["gate_ids"] == {"old": ["new_gate"], "new": []}
    assert Gate.objects.filter(slug="new_gate").exists()


# -- dynamic configs ------------------------------------------------------------------------------

SCHEMA = {"type": "object", "properties": {"discount": {"type": "number", "maximum": 50}}}


def test_dynamic_config__schema_checks_default_and_rule_values(world):
    member = world.actor(Role.MEMBER)
    with pytest.raises(ValidationError) as excinfo:
        dynamic_config_create(
            project=world.project,
            actor=member,
            name="Pricing",
            schema=SCHEMA,
            default_value={"discount": 80},
        )
    assert "defaultValue.discount" in _errors(excinfo)
    with pytest.raises(ValidationError) as excinfo:
        dynamic_config_create(
            project=world.project, actor=member, name="Pricing", schema={"type": 5}
        )
    assert "schema" in _errors(excinfo)
    config = dynamic_config_create(
        project=world.project,
        actor=member,
        name="Pricing",
        schema=SCHEMA,
        default_value={"discount": 5},
    )
    with pytest.raises(ValidationError) as excinfo:
        dynamic_config_update(
            project=world.project,
            actor=member,
            config_id="pricing",
            rules=[{"name": "EU", "returnValue": {"discount": "lots"}}],
        )
    assert "rules[0].returnValue.discount" in _errors(excinfo)
    with pytest.raises(ValidationError) as excinfo:
        dynamic_config_update(
            project=world.project, actor=member, config_id="pricing", default_value=[]
        )
    assert "defaultValue" in _errors(excinfo)
    config = dynamic_config_update(
        project=world.project,
        actor=member,
        config_id="pricing",
        rules=[{"name": "EU", "returnValue": {"discount": 10}}],
    ).result
    assert config.rules[0]["returnValue"] == {"discount": 10}
    assert config.version == 2
    assert DynamicConfig.objects.get().rules[0]["salt"]
    assert AuditLog.objects.filter(action_type="config_conditions_update").exists()

    # Configs and experiments share the ruleset's dynamic_configs: their ids may not collide
    with pytest.raises(ValidationError) as excinfo:
        _experiment(world, name="Pricing")
    assert _errors(excinfo) == {"name": "Name is already in use"}


def test_holdout_overrides__add_and_remove(world):
    from flags.services.holdouts import holdout_overrides_add, holdout_overrides_remove

    member = world.actor(Role.MEMBER)
    holdout_create(project=world.project, actor=member, name="Holdout", pass_percentage=5)
    holdout = holdout_overrides_add(
        project=world.project,
        actor=member,
        holdout_id="holdout",
        overrides={"passingUserIDs": ["u1", "u2"]},
    ).result
    assert holdout.overrides["passingUserIDs"] == ["u1", "u2"]
    holdout = holdout_overrides_remove(
        project=world.project,
        actor=member,
        holdout_id="holdout",
        overrides={"passingUserIDs": ["u1"]},
    ).result
    assert holdout.overrides["passingUserIDs"] == ["u2"]
    assert holdout.version == 3


def test_experiment_full_update__unchanged_locked_fields__accepted(world):
    member = world.actor(Role.MEMBER)
    _layer(world)
    experiment = _experiment(world, layer_id="checkout_layer", allocation=30)
    experiment_start(project=world.project, actor=member, experiment_id="button")
    updated = experiment_update(
        project=world.project,
        actor=member,
        experiment_id="button",
        layer_id="checkout_layer",
        id_type="userID",
        control_group_id=experiment.control_group_id,
        description="resent as is",
    ).result
    assert updated.description == "resent as is"
