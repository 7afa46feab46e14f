"""Segments on the entity core: the same id rule, review decision and change registry as every
kind of entity."""

from __future__ import annotations

import pytest

from console.services.reviews import change_kind, review_forced
from console.validation import id_from_name
from flags.services import kernel
from flags.services.gates import gate_create
from segments import services


@pytest.mark.parametrize(
    ("segment_name", "gate_name", "expected"),
    [
        ("_hidden_", "_hidden_", "_hidden_"),
        # Segment names may hold any character; the id drops what an id cannot hold
        ("Enterprise (EU)!", "Enterprise EU", "enterprise_eu"),
        ("  Beta   testers ", "Beta testers", "beta_testers"),
        ("a-b.c", "a-b.c", "a-b.c"),
    ],
)
def test_id_from_name__segment_and_gate__same_rule(world, segment_name, gate_name, expected):
    actor, project = world.actor(), world.project
    segment = services.segment_create(
        project=project, actor=actor, name=segment_name, type="id_list"
    )
    gate = gate_create(project=project, actor=actor, name=gate_name)
    assert segment.key == gate.slug == id_from_name(segment_name) == expected


def test_registry__segment_kind__every_definition_change_type_registered():
    kind = next(k for k in kernel.registered_kinds() if k.entity_type == "segment")
    assert kind is services.SEGMENTS
    registered = {change_type for change_type, _apply in kernel.change_types(kind)}
    assert registered == {
        "segment_update",
        "segment_conditional_update",
        "segment_archive",
        "segment_unarchive",
        "segment_restore",
        "segment_delete",
    }
    for change_type in registered | {"segment_id_list_add", "segment_id_list_reset"}:
        assert change_kind(change_type).entity_type == "segment"


def test_review_forced__segment_change__filed_not_applied(world):
    actor, project = world.actor(), world.project
    services.segment_create(project=project, actor=actor, name="Employees", type="rule_based")
    # Inside a review_forced block a segment change is filed like a gate's
    with review_forced("Rename after the reorg"):
        outcome = services.segment_update(
            project=project, actor=actor, segment_id="employees", name="Staff"
        )
    assert outcome.submitted_for_review
    assert outcome.review.description == "Rename after the reorg"
    assert services.SEGMENTS.model.objects.get(key="employees").name == "Employees"
