"""Layer, holdout and events screens: typed parameters validated by the service, the experiments
of a layer, holdout settings, the events counts, live tail and dropped counts, and roles."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from console.models import AuditLog, Role
from events.models import DropReason, EventSource
from events.rows import event_row, now
from events.services import IngestBatch, ingest_batch
from flags.models import Holdout, Layer
from flags.services import gates as gate_services
from flags.services import holdouts as holdout_services
from flags.services import layers as layer_services
from ruleset import store as ruleset_store
from tests.conftest import ROLES

PARAMETERS = [{"name": "color", "type": "string", "defaultValue": "blue"}]


def _layer(world) -> Layer:
    return layer_services.layer_create(
        project=world.project,
        actor=world.actor(Role.ADMIN),
        name="Checkout layer",
        parameters=PARAMETERS,
    )


def _holdout(world, **kwargs) -> Holdout:
    return holdout_services.holdout_create(
        project=world.project,
        actor=world.actor(Role.ADMIN),
        name="Global holdout",
        pass_percentage=2,
        **kwargs,
    )


@pytest.mark.parametrize("role", ROLES)
def test_layer_and_holdout_screens__each_role__render(world, as_role, role):
    layer = _layer(world)
    holdout = _holdout(world)
    client = as_role(role)
    base = f"/p/{world.project.slug}"
    for path in ("/layers/", f"/layers/{layer.slug}/", "/holdouts/", f"/holdouts/{holdout.slug}/"):
        assert client.get(base + path).status_code == 200, path
    expected = 403 if role == Role.VIEWER else 200
    assert client.get(base + "/layers/new/").status_code == expected
    assert client.get(base + "/holdouts/new/").status_code == expected


def test_layer_create__bad_parameter_type__error_next_to_parameters(world, as_role):
    response = as_role(Role.MEMBER).post(
        f"/p/{world.project.slug}/layers/new/",
        {
            "name": "Bad layer",
            "idType": "userID",
            "parameters": json.dumps([{"name": "n", "type": "number", "defaultValue": "x"}]),
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="id_parameters_error"' in page
    assert "defaultValue must be a number" in page


def test_layer_edit__parameter_added__saved_with_audit(world, as_role):
    layer = _layer(world)
    parameters = [*PARAMETERS, {"name": "steps", "type": "number", "defaultValue": 3}]
    response = as_role(Role.MEMBER).post(
        f"/p/{world.project.slug}/layers/{layer.slug}/",
        {
            "name": layer.name,
            "description": "",
            "tags": "",
            "parameters": json.dumps(parameters),
            "version": layer.version,
        },
    )
    assert response.status_code == 302
    layer.refresh_from_db()
    assert [p["name"] for p in layer.parameters] == ["color", "steps"]
    assert AuditLog.objects.filter(
        project=world.project, entity_id=layer.slug, action_type="layer_update"
    ).exists()


def test_layer_test_user__defaults_when_in_no_experiment(world, as_role):
    layer = _layer(world)
    ruleset_store.rebuild(world.project.pk)
    response = as_role(Role.VIEWER).post(
        f"/p/{world.project.slug}/layers/{layer.slug}/test/",
        {"test-userID": "u1"},
        headers={"HX-Request": "true"},
    )
    page = response.content.decode()
    assert "&quot;color&quot;: &quot;blue&quot;" in page


def test_holdout_create_and_edit__through_the_service(world, as_role):
    gate = gate_services.gate_create(
        project=world.project, actor=world.actor(Role.ADMIN), name="New checkout"
    )
    client = as_role(Role.MEMBER)
    response = client.post(
        f"/p/{world.project.slug}/holdouts/new/",
        {"name": "Q3 holdout", "idType": "userID", "passPercentage": "3", "tags": ""},
    )
    assert response.status_code == 302
    holdout = Holdout.objects.get(project=world.project, slug="q3_holdout")
    response = client.post(
        f"/p/{world.project.slug}/holdouts/{holdout.slug}/",
        {
            "name": holdout.name,
            "description": "",
            "tags": "",
            "passPercentage": "3",
            "gates": [gate.slug],
            "version": holdout.version,
        },
    )
    assert response.status_code == 302
    assert list(holdout.gates.values_list("slug", flat=True)) == [gate.slug]
    assert AuditLog.objects.filter(
        project=world.project, entity_id=holdout.slug, action_type="holdout_create"
    ).exists()


def test_holdout_create__percentage_over_10__error_next_to_the_field(world, as_role):
    response = as_role(Role.MEMBER).post(
        f"/p/{world.project.slug}/holdouts/new/",
        {"name": "Too big", "idType": "userID", "passPercentage": "12"},
    )
    assert response.status_code == 400
    assert 'id="id_passPercentage_error"' in response.content.decode()


# -- events -------------------------------------------------------------------------------------------


def _log_events(world) -> None:
    """Three purchases and two events dropped for want of a user id, stored the way the
    ingestion endpoints store them."""
    stamp = now()
    ingest_batch(
        batch=IngestBatch(
            project_id=world.project.pk,
            source=EventSource.STATSIG_SDK,
            events=[
                event_row(
                    project_id=world.project.pk,
                    name="purchase",
                    user_id=f"u{i}",
                    value="9.99",
                    properties={"sku": "A"},
                    source=EventSource.STATSIG_SDK,
                    time=stamp,
                    received_at=stamp,
                )
                for i in range(3)
            ],
            drops=Counter({DropReason.MISSING_UNIT_ID: 2}),
        )
    )


@pytest.mark.parametrize("role", ROLES)
def test_events_screen__each_role__counts_tail_and_dropped(world, as_role, role):
    _log_events(world)
    page = as_role(role).get(f"/p/{world.project.slug}/events/").content.decode()
    assert "<code>purchase</code>" in page
    assert "No user id or custom id" in page
    tail = as_role(role).get(
        f"/p/{world.project.slug}/events/tail/",
        {"name": "purchase"},
        headers={"HX-Request": "true"},
    )
    assert tail.status_code == 200
    assert tail.content.decode().count("data-event-id=") == 3


def test_events_screen__empty__says_how_to_send_one(world, as_role):
    page = as_role(Role.VIEWER).get(f"/p/{world.project.slug}/events/").content.decode()
    assert "/v1/log_event" in page
    assert "Nothing was dropped" in page


@pytest.mark.parametrize("area", ["experiments", "layers", "holdouts"])
def test_list__more_entities__no_more_queries(world, as_role, area, django_assert_max_num_queries):
    # Given a few entities of the area
    from flags.services import experiments as experiment_services
    from tests.flags.views.test_gates import _list_queries

    actor = world.actor(Role.ADMIN)
    create = {
        "experiments": lambda i: experiment_services.experiment_create(
            project=world.project, actor=actor, name=f"E {i:03}", tags=["t"]
        ),
        "layers": lambda i: layer_services.layer_create(
            project=world.project, actor=actor, name=f"L {i:03}", tags=["t"]
        ),
        "holdouts": lambda i: holdout_services.holdout_create(
            project=world.project, actor=actor, name=f"H {i:03}", tags=["t"]
        ),
    }[area]
    for i in range(2):
        create(i)
    url = f"/p/{world.project.slug}/{area}/"
    client = as_role(Role.VIEWER)
    few = _list_queries(client, url)
    # When there are more than a page of them
    for i in range(2, 55):
        create(i)
    # Then a page (filtered, second page) costs no more queries
    with django_assert_max_num_queries(few):
        response = client.get(url + "?tag=t&page=2&sort=name")
    assert response.status_code == 200
    assert "054" in response.content.decode()
