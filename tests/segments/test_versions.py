"""A segment's history on the entity core: every applied change of its definition is a stored
version (``segments.selectors.segment_versions``), and a stored version can be brought back
through the same reviewed, audited path as any edit (``services.segment_version_restore``)."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps as django_apps

from console.errors import NotFound, PermissionDenied, ValidationError
from console.models import AuditLog, Review, ReviewStatus, Role
from console.services.projects import project_review_settings_update
from console.services.reviews import review_approve, review_commit
from flags.models import EntityVersion
from segments import services
from segments.models import Segment, SegmentMember
from segments.selectors import segment_versions
from tests.segments.conftest import STAFF_RULES

RULES = STAFF_RULES


@pytest.fixture
def employees(world):
    """A rule-based segment at version 3: created, renamed, given rules."""
    actor, project = world.actor(), world.project
    services.segment_create(project=project, actor=actor, name="Employees", type="rule_based")
    services.segment_update(
        project=project, actor=actor, segment_id="employees", name="Staff", isEnabled=False
    )
    services.segment_update_rules(project=project, actor=actor, segment_id="employees", rules=RULES)
    return world


def test_versions__every_applied_change__stored_newest_first(employees):
    history = segment_versions(project=employees.project, segment_id="employees")
    assert [v.version for v in history] == [3, 2, 1]
    assert [(v.name, v.is_enabled, len(v.rules)) for v in history] == [
        ("Staff", False, 1),
        ("Staff", False, 0),
        ("Employees", True, 0),
    ]
    # Who made each version, as the segment names its owners
    assert {v.last_modifier_name for v in history} == {employees.actor().name}
    assert all(v.pk is None for v in history)


def test_versions__change_that_changes_nothing__no_new_version(employees):
    project, actor = employees.project, employees.actor()
    services.segment_update(project=project, actor=actor, segment_id="employees", name="Staff")
    services.segment_archive(project=project, actor=actor, segment_id="employees")
    services.segment_archive(project=project, actor=actor, segment_id="employees")
    history = segment_versions(project=project, segment_id="employees")
    assert [v.version for v in history] == [4, 3, 2, 1]
    assert history[0].archived is True


def test_versions__unknown_segment__404(world):
    with pytest.raises(NotFound):
        segment_versions(project=world.project, segment_id="nope")


def test_versions__id_list_members__not_a_new_version(world):
    actor, project = world.actor(), world.project
    services.segment_create(project=project, actor=actor, name="Beta", type="id_list")
    services.segment_ids_add(project=project, actor=actor, segment_id="beta", ids=["u1"])
    assert [v.version for v in segment_versions(project=project, segment_id="beta")] == [1]


def test_restore__old_version__definition_back_as_a_new_audited_version(employees):
    project, actor = employees.project, employees.actor()
    outcome = services.segment_version_restore(
        project=project, actor=actor, segment_id="employees", version=1
    )
    segment = outcome.result
    assert (segment.name, segment.is_enabled, segment.rules) == ("Employees", True, [])
    assert segment.version == 4
    assert Segment.objects.get(key="employees").name == "Employees"
    entry = AuditLog.objects.get(action_type="segment_restore")
    assert entry.changes["name"] == {"old": "Staff", "new": "Employees"}
    assert entry.changes["isEnabled"] == {"old": False, "new": True}
    history = segment_versions(project=project, segment_id="employees")
    assert [v.version for v in history] == [4, 3, 2, 1]


def test_restore__review_required__filed_then_applied_on_commit(employees):
    project = employees.project
    project_review_settings_update(
        project=project, actor=employees.actor(), is_config_review_required=True
    )
    project.refresh_from_db()
    member = employees.actor(Role.MEMBER)
    # When a member (the browser follows review settings) restores version 2
    outcome = services.segment_version_restore(
        project=project, actor=member, segment_id="employees", version=2
    )
    # Then it is a pending review of a restore, and nothing changed yet
    assert outcome.submitted_for_review
    assert outcome.review.change_type == "segment_restore"
    assert outcome.review.change["fields"] == {"rules": []}
    assert len(Segment.objects.get(key="employees").rules) == 1
    # When another member approves and the author commits, the rules are gone
    review_approve(project=project, actor=employees.actor(), review_id=outcome.review.public_id)
    review_commit(project=project, actor=member, review_id=outcome.review.public_id)
    assert Segment.objects.get(key="employees").rules == []
    assert Review.objects.get(pk=outcome.review.pk).status == ReviewStatus.COMMITTED


def test_restore__unknown_version__404(employees):
    with pytest.raises(NotFound, match="version 9"):
        services.segment_version_restore(
            project=employees.project, actor=employees.actor(), segment_id="employees", version=9
        )


@pytest.mark.parametrize(("version", "message"), [(3, "already as it was"), ("2", "integer")])
def test_restore__nothing_to_restore_or_bad_version__400(employees, version, message):
    with pytest.raises(ValidationError, match=message) as raised:
        services.segment_version_restore(
            project=employees.project,
            actor=employees.actor(),
            segment_id="employees",
            version=version,
        )
    assert raised.value.errors[0].property == "version"


def test_restore__edited_since_the_user_looked__409(employees):
    from console.errors import Conflict

    with pytest.raises(Conflict):
        services.segment_version_restore(
            project=employees.project,
            actor=employees.actor(),
            segment_id="employees",
            version=1,
            expected_version=2,
        )


def test_restore__viewer__refused(employees):
    with pytest.raises(PermissionDenied):
        services.segment_version_restore(
            project=employees.project,
            actor=employees.actor(Role.VIEWER),
            segment_id="employees",
            version=1,
        )


def test_delete__versions_and_members_go_with_the_segment(world):
    actor, project = world.actor(), world.project
    services.segment_create(project=project, actor=actor, name="Beta", type="id_list")
    services.segment_ids_add(project=project, actor=actor, segment_id="beta", ids=["u1", "u2"])
    services.segment_delete(project=project, actor=actor, segment_id="beta")
    assert not Segment.objects.filter(key="beta").exists()
    assert not SegmentMember.objects.exists()
    assert not EntityVersion.objects.filter(entity_type="segment").exists()
    entry = AuditLog.objects.get(action_type="segment_delete")
    assert entry.changes == {"deleted": {"old": False, "new": True}, "count": {"old": 2, "new": 0}}


def test_migration__open_review_filed_before_the_core__still_commits(world):
    # Given an approved review stored the way segments stored it before the entity core
    # (the console API's field names, no action), which no service files any more
    actor, project = world.actor(), world.project
    services.segment_create(project=project, actor=actor, name="Employees", type="rule_based")
    review = Review.objects.create(
        project=project,
        public_id="before-the-core",
        entity_type="segment",
        entity_id="employees",
        entity_name="Employees",
        change_type="segment_update",
        change={"isEnabled": False, "teamID": "t1"},
        base_version=1,
        status=ReviewStatus.APPROVED,
        author_type=actor.type,
        author_name="someone else",
    )
    # When the data migration runs and the review is committed
    migration = importlib.import_module(
        "segments.migrations.0002_open_segment_reviews_as_field_changes"
    )
    migration.as_field_changes(django_apps, None)
    review.refresh_from_db()
    assert review.change == {
        "action": "segment_update",
        "fields": {"is_enabled": False, "team_id": "t1"},
        "expected_version": None,
    }
    review_commit(project=project, actor=actor, review_id="before-the-core")
    # Then the change is applied
    segment = Segment.objects.get(key="employees")
    assert (segment.is_enabled, segment.team_id, segment.version) == (False, "t1", 2)


def test_migration__existing_segment__history_starts_at_its_current_version(world):
    # Given a segment whose versions were never stored (it predates the entity core)
    actor, project = world.actor(), world.project
    services.segment_create(project=project, actor=actor, name="Employees", type="rule_based")
    services.segment_update(project=project, actor=actor, segment_id="employees", team="Ops")
    EntityVersion.objects.filter(entity_type="segment").delete()
    # When the data migration runs (twice: it is idempotent)
    migration = importlib.import_module("segments.migrations.0003_segment_current_versions")
    migration.store_current_versions(django_apps, None)
    migration.store_current_versions(django_apps, None)
    # Then the history holds the current version, which a later version can be restored to
    history = segment_versions(project=project, segment_id="employees")
    assert [(v.version, v.team, v.created_at is not None) for v in history] == [(2, "Ops", True)]
    services.segment_update(project=project, actor=actor, segment_id="employees", team="Sales")
    services.segment_version_restore(
        project=project, actor=actor, segment_id="employees", version=2
    )
    assert Segment.objects.get(key="employees").team == "Ops"
