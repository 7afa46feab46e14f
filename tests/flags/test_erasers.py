"""The flags eraser: erased ids leave overrides and ID conditions, and every entity it changes gets
a new version with its snapshot, as any change does (so a review of the old version is stale)."""

from __future__ import annotations

import pytest

from console.errors import Conflict
from console.models import Role
from console.services.projects import project_review_settings_update
from console.services.reviews import review_approve, review_commit
from flags.erasers import erase_entity_ids
from flags.models import EntityVersion, Gate, Holdout
from flags.selectors import gate_versions
from flags.services.gates import gate_create, gate_overrides_add
from flags.services.holdouts import holdout_create


def _user_rule(ids: list[str]) -> dict:
    return {
        "name": "Named users",
        "passPercentage": 100,
        "conditions": [{"type": "user_id", "operator": "any", "targetValue": ids}],
    }


def test_erase__gate_overrides_and_rules__new_version_with_its_snapshot(world):
    # Given a gate naming two users in its overrides and its rules, and an untouched holdout
    admin = world.actor(Role.ADMIN)
    gate = gate_create(
        project=world.project, actor=admin, name="Beta", rules=[_user_rule(["gone", "kept"])]
    )
    gate_overrides_add(
        project=world.project,
        actor=admin,
        gate_id=gate.slug,
        overrides={"passingUserIDs": ["gone", "kept"]},
    )
    holdout = holdout_create(project=world.project, actor=admin, name="Holdout")
    before = Gate.objects.get(pk=gate.pk).version

    # When the user "gone" is erased
    touched = erase_entity_ids(project_id=world.project.pk, unit_type="user_id", ids=["gone"])

    # Then the gate no longer names them, as a new version whose snapshot is the gate as it is
    gate = Gate.objects.get(pk=gate.pk)
    assert gate.overrides["passingUserIDs"] == ["kept"]
    assert gate.rules[0]["conditions"][0]["targetValue"] == ["kept"]
    assert gate.version == before + 1
    newest = gate_versions(project=world.project, gate_id=gate.slug)[0]
    assert (newest.version, newest.overrides, newest.rules) == (
        gate.version,
        gate.overrides,
        gate.rules,
    )
    # And no stored version names them any more
    assert not [
        row.version
        for row in EntityVersion.objects.filter(project=world.project, entity_id=gate.slug)
        if "gone" in str(row.snapshot)
    ]
    # And an entity it did not change keeps its version
    assert Holdout.objects.get(pk=holdout.pk).version == holdout.version
    assert touched >= 2


def test_erase__review_filed_before__stale_and_not_committed(world):
    # Given a project that reviews changes, and an approved review of the gate's overrides
    admin, member = world.actor(Role.ADMIN), world.actor(Role.MEMBER)
    gate = gate_create(project=world.project, actor=admin, name="Beta")
    gate_overrides_add(
        project=world.project, actor=admin, gate_id=gate.slug, overrides={"passingUserIDs": ["a"]}
    )
    project_review_settings_update(
        project=world.project, actor=admin, is_config_review_required=True
    )
    review = gate_overrides_add(
        project=world.project,
        actor=member,
        gate_id=gate.slug,
        overrides={"passingUserIDs": ["gone"]},
    ).review
    review_approve(project=world.project, actor=admin, review_id=review.public_id)

    # When a user the gate names is erased
    erase_entity_ids(project_id=world.project.pk, unit_type="user_id", ids=["a"])

    # Then the review is stale: committing it would apply a change made to the old version
    with pytest.raises(Conflict):
        review_commit(project=world.project, actor=admin, review_id=review.public_id)
