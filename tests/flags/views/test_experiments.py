"""Experiment screens: groups validated by the service (sizes summing to 100), layer placement
with the bucket map, the lifecycle buttons through the service (and through reviews), roles."""

from __future__ import annotations

import json

import pytest

from console.models import AuditLog, Review, Role
from console.services.projects import project_review_settings_update
from flags.models import Experiment, ExperimentStatus
from flags.services import experiments as experiment_services
from flags.services import layers as layer_services
from ruleset import store as ruleset_store
from tests.conftest import ROLES

GROUPS = [
    {"name": "Control", "size": 50, "parameterValues": {"color": "blue"}},
    {"name": "Green", "size": 50, "parameterValues": {"color": "green"}},
]


def _url(world, tail: str = "") -> str:
    return f"/p/{world.project.slug}/experiments/{tail}"


def _experiment(world, **kwargs) -> Experiment:
    kwargs.setdefault("name", "Button color")
    kwargs.setdefault("groups", GROUPS)
    return experiment_services.experiment_create(
        project=world.project, actor=world.actor(Role.ADMIN), **kwargs
    )


def _layer(world):
    return layer_services.layer_create(
        project=world.project,
        actor=world.actor(Role.ADMIN),
        name="Checkout layer",
        parameters=[{"name": "color", "type": "string", "defaultValue": "blue"}],
    )


@pytest.mark.parametrize("role", ROLES)
def test_experiment_screens__each_role__render(world, as_role, role):
    experiment = _experiment(world)
    client = as_role(role)
    detail = client.get(_url(world, f"{experiment.slug}/"))
    assert client.get(_url(world)).status_code == 200
    assert detail.status_code == 200
    page = detail.content.decode()
    assert "bucket-map" in page
    assert ("Start experiment" in page) == (role != Role.VIEWER)
    assert client.get(_url(world, "new/")).status_code == (403 if role == Role.VIEWER else 200)


def test_experiment_create__in_a_layer__stored_with_groups_and_audit(world, as_role):
    layer = _layer(world)
    response = as_role(Role.MEMBER).post(
        _url(world, "new/"),
        {
            "name": "Button color",
            "idType": "userID",
            "groups": json.dumps(GROUPS),
            "allocation": "40",
            "layer": layer.slug,
            "targetingGate": "",
        },
    )
    assert response.status_code == 302
    experiment = Experiment.objects.get(project=world.project, slug="button_color")
    assert [g["name"] for g in experiment.groups] == ["Control", "Green"]
    assert experiment.layer == layer
    assert len(experiment.buckets) == 400
    assert AuditLog.objects.filter(
        project=world.project, entity_id=experiment.slug, action_type="experiment_create"
    ).exists()
    # the layer's page draws the experiment's share of its buckets
    layer_page = as_role(Role.VIEWER).get(f"/p/{world.project.slug}/layers/{layer.slug}/")
    assert "Button color</a>: 40.0%" in layer_page.content.decode()


def test_experiment_create__sizes_not_100__error_next_to_the_groups(world, as_role):
    groups = [{**GROUPS[0], "size": 50}, {**GROUPS[1], "size": 40}]
    response = as_role(Role.MEMBER).post(
        _url(world, "new/"),
        {
            "name": "Bad sizes",
            "idType": "userID",
            "groups": json.dumps(groups),
            "allocation": "100",
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="id_groups_error"' in page
    assert "Group sizes must add up to 100 (they add up to 90)." in page
    assert not Experiment.objects.filter(project=world.project).exists()


def test_experiment_lifecycle__start_decide_reset(world, as_role):
    experiment = _experiment(world)
    client = as_role(Role.MEMBER)
    # start
    assert client.post(_url(world, f"{experiment.slug}/start/")).status_code == 302
    experiment.refresh_from_db()
    assert experiment.status == ExperimentStatus.ACTIVE
    # a decision needs a reason: the page says so and nothing changes
    green = experiment.groups[1]["id"]
    response = client.post(
        _url(world, f"{experiment.slug}/decide/"), {"decision-group": green, "decision-reason": ""}
    )
    assert "A decision reason is required." in client.get(response["Location"]).content.decode()
    experiment.refresh_from_db()
    assert experiment.status == ExperimentStatus.ACTIVE
    # decide
    client.post(
        _url(world, f"{experiment.slug}/decide/"),
        {"decision-group": green, "decision-reason": "Green converts better"},
    )
    experiment.refresh_from_db()
    assert (experiment.status, experiment.launched_group_id) == (
        ExperimentStatus.DECISION_MADE,
        green,
    )
    page = client.get(_url(world, f"{experiment.slug}/")).content.decode()
    assert "Shipped “Green”" in page
    # reset
    client.post(_url(world, f"{experiment.slug}/reset/"))
    experiment.refresh_from_db()
    assert experiment.status == ExperimentStatus.ACTIVE
    actions = set(
        AuditLog.objects.filter(project=world.project, entity_id=experiment.slug).values_list(
            "action_type", flat=True
        )
    )
    assert {"experiment_start", "experiment_decision_make", "experiment_reset"} <= actions


def test_experiment_start__review_required__files_a_review_and_says_so(world, as_role):
    project_review_settings_update(
        project=world.project, actor=world.actor(Role.ADMIN), is_config_review_required=True
    )
    experiment = _experiment(world)
    client = as_role(Role.MEMBER)
    response = client.post(_url(world, f"{experiment.slug}/start/"))
    experiment.refresh_from_db()
    assert experiment.status == ExperimentStatus.SETUP
    review = Review.objects.get(project=world.project, entity_id=experiment.slug)
    assert review.change_type == "experiment_start"
    page = client.get(response["Location"]).content.decode()
    assert "needs review" in page
    assert review.public_id in page


def test_experiment_abandon__viewer_refused(world, as_role):
    experiment = _experiment(world)
    experiment_services.experiment_start(
        project=world.project, actor=world.actor(Role.ADMIN), experiment_id=experiment.slug
    )
    response = as_role(Role.VIEWER).post(
        _url(world, f"{experiment.slug}/abandon/"), {"reason": "no"}
    )
    assert response.status_code == 403
    experiment.refresh_from_db()
    assert experiment.status == ExperimentStatus.ACTIVE


def test_experiment_edit__running__only_changed_fields_sent(world, as_role):
    # Given a running experiment in a layer
    layer = _layer(world)
    experiment = _experiment(world, layer_id=layer.slug, allocation=50)
    experiment_services.experiment_start(
        project=world.project, actor=world.actor(Role.ADMIN), experiment_id=experiment.slug
    )
    experiment.refresh_from_db()
    # When the member renames it (the form also posts the unchanged groups and allocation)
    response = as_role(Role.MEMBER).post(
        _url(world, f"{experiment.slug}/"),
        {
            "name": "Button colour",
            "description": "",
            "hypothesis": "",
            "tags": "",
            "groups": json.dumps(experiment.groups),
            "allocation": "50",
            "targetingGate": "",
            "version": experiment.version,
        },
    )
    # Then it is renamed
    assert response.status_code == 302
    experiment.refresh_from_db()
    assert experiment.name == "Button colour"


def test_experiment_test_user__assigned_group_shown(world, as_role):
    experiment = _experiment(world)
    experiment_services.experiment_start(
        project=world.project, actor=world.actor(Role.ADMIN), experiment_id=experiment.slug
    )
    ruleset_store.rebuild(world.project.pk)
    response = as_role(Role.VIEWER).post(
        _url(world, f"{experiment.slug}/test/"),
        {"test-userID": "user-1"},
        headers={"HX-Request": "true"},
    )
    page = response.content.decode()
    assert "In group “" in page
    assert "&quot;color&quot;" in page


def test_experiment_screens__decision_deferred__render_and_offer_ship_or_abandon(world, as_role):
    # Given an experiment concluded through the console API with its decision deferred
    experiment = _experiment(world)
    admin = world.actor(Role.ADMIN)
    experiment_services.experiment_start(
        project=world.project, actor=admin, experiment_id=experiment.slug
    )
    experiment_services.experiment_defer_decision(
        project=world.project, actor=admin, experiment_id=experiment.slug, stop_reason="Later"
    )

    # When its page and the list are opened
    client = as_role(Role.ADMIN)
    detail = client.get(_url(world, f"{experiment.slug}/"))

    # Then both render, and the page offers what the lifecycle allows from there
    assert client.get(_url(world)).status_code == 200
    assert detail.status_code == 200
    page = detail.content.decode()
    assert "Abandon" in page
    assert "Start experiment" not in page
