"""The versions page of every kind and "Restore this version" through the Django client: the
version's settings come back through the kind's update (a version more, an audit entry, a review
when an edit would need one), viewers see no button and are refused."""

from __future__ import annotations

import pytest

from console.models import AuditLog, Review, Role
from console.services.reviews import review_forced
from flags.models import DynamicConfig, Experiment, Gate, Layer
from flags.services import configs, experiments, gates, layers
from segments import services as segment_services
from segments.models import Segment


def _page(world, area: str, entity_id: str, tail: str = "") -> str:
    return f"/p/{world.project.slug}/{area}/{entity_id}/versions/{tail}"


def _gate(world):
    admin = world.actor(Role.ADMIN)
    gate = gates.gate_create(project=world.project, actor=admin, name="Checkout", description="one")
    gates.gate_update(project=world.project, actor=admin, gate_id=gate.slug, description="two")
    return Gate, "gates", gate.slug, "description", "one"


def _config(world):
    admin = world.actor(Role.ADMIN)
    config = configs.dynamic_config_create(
        project=world.project, actor=admin, name="Banner", default_value={"color": "red"}
    )
    configs.dynamic_config_update(
        project=world.project, actor=admin, config_id=config.slug, default_value={"color": "blue"}
    )
    return DynamicConfig, "configs", config.slug, "default_value", {"color": "red"}


def _experiment(world):
    admin = world.actor(Role.ADMIN)
    experiment = experiments.experiment_create(
        project=world.project, actor=admin, name="Pricing", hypothesis="cheaper sells"
    )
    experiments.experiment_update(
        project=world.project, actor=admin, experiment_id=experiment.slug, hypothesis="no"
    )
    return Experiment, "experiments", experiment.slug, "hypothesis", "cheaper sells"


def _layer(world):
    admin = world.actor(Role.ADMIN)
    layer = layers.layer_create(project=world.project, actor=admin, name="Home", description="a")
    layers.layer_update(project=world.project, actor=admin, layer_id=layer.slug, description="b")
    return Layer, "layers", layer.slug, "description", "a"


def _segment(world):
    admin = world.actor(Role.ADMIN)
    segment = segment_services.segment_create(
        project=world.project, actor=admin, name="Staff", type="rule_based", description="first"
    )
    segment_services.segment_update(
        project=world.project, actor=admin, segment_id=segment.key, description="second"
    )
    return Segment, "segments", segment.key, "description", "first"


@pytest.mark.parametrize("make", [_gate, _config, _experiment, _layer, _segment])
def test_restore__first_version__its_value_back_as_a_new_audited_version(
    make, browser_client, world
):
    # Given an entity changed once after it was created
    model, area, entity_id, field, first_value = make(world)
    client = browser_client(world.users[Role.MEMBER])
    # When a member opens its versions
    body = client.get(_page(world, area, entity_id)).content.decode()
    # Then both versions are listed, the older one restorable
    assert 'data-version="2"' in body
    assert 'data-version="1"' in body
    assert body.count("Restore this version") == 1
    # When they restore version 1
    response = client.post(_page(world, area, entity_id, "1/restore/"))
    # Then the entity has its first value again, as a third version with its audit entry
    assert response.status_code == 302
    entity = model.objects.get(
        project=world.project, **{"key" if model is Segment else "slug": entity_id}
    )
    assert getattr(entity, field) == first_value
    assert entity.version == 3
    entry = AuditLog.objects.filter(entity_id=entity_id).order_by("-id").first()
    assert entry.actor_name == world.users[Role.MEMBER].username
    assert entry.changes[field]["new"] == first_value
    # And version 1, the same as now, is no longer offered for restore
    body = client.get(_page(world, area, entity_id)).content.decode()
    assert body.count("Same settings as now") == 1
    assert body.count("Restore this version") == 1


def test_restore__needs_review__filed_not_applied(browser_client, world):
    _model, _area, gate_id, _field, _value = _gate(world)
    client = browser_client(world.users[Role.MEMBER])
    with review_forced():
        response = client.post(_page(world, "gates", gate_id, "1/restore/"), follow=True)
    review = Review.objects.get(entity_id=gate_id)
    assert review.change_type == "gate_restore"
    assert review.change["fields"] == {"description": "one"}
    assert Gate.objects.get(slug=gate_id).description == "two"
    assert "This change needs review" in response.content.decode()


def test_restore__current_version__refused_with_message(browser_client, world):
    _model, _area, gate_id, _field, _value = _gate(world)
    client = browser_client(world.users[Role.MEMBER])
    response = client.post(_page(world, "gates", gate_id, "2/restore/"), follow=True)
    assert "Gate is already as it was at version 2." in response.content.decode()
    assert Gate.objects.get(slug=gate_id).version == 2


def test_versions__viewer__no_button_and_restore_refused(browser_client, world):
    _model, _area, gate_id, _field, _value = _gate(world)
    client = browser_client(world.users[Role.VIEWER])
    assert "Restore this version" not in client.get(_page(world, "gates", gate_id)).content.decode()
    assert client.post(_page(world, "gates", gate_id, "1/restore/")).status_code == 403
    assert Gate.objects.get(slug=gate_id).description == "two"


def test_versions__unknown_version_or_entity__not_found(browser_client, world):
    _model, _area, gate_id, _field, _value = _gate(world)
    client = browser_client(world.users[Role.MEMBER])
    missing = client.post(_page(world, "gates", gate_id, "9/restore/"), follow=True)
    assert "Gate version 9 not found." in missing.content.decode()
    assert client.get(_page(world, "gates", "nope")).status_code == 404
