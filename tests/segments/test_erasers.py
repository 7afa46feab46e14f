"""The privacy eraser of segments: erased ids leave members, counts, id-list files and rules."""

from __future__ import annotations

import pytest

from privacy import erasers
from segments import services
from segments.erasers import ERASER_NAME, erase_segment_ids
from segments.listfile import id_list_hash
from segments.models import IdListFileChunk, Segment, SegmentMember
from segments.selectors import segment_versions


def _file_text(segment: Segment) -> str:
    return "".join(
        IdListFileChunk.objects.filter(segment=segment)
        .order_by("start")
        .values_list("data", flat=True)
    )


@pytest.fixture
def lists(world):
    actor = world.actor()
    project = world.project
    services.segment_create(project=project, actor=actor, name="Users list", type="id_list")
    services.segment_ids_add(
        project=project, actor=actor, segment_id="users_list", ids=["u1", "u2", "u3"]
    )
    services.segment_ids_remove(project=project, actor=actor, segment_id="users_list", ids=["u3"])
    services.segment_create(
        project=project, actor=actor, name="Companies", type="id_list", id_type="companyID"
    )
    services.segment_ids_add(project=project, actor=actor, segment_id="companies", ids=["u1"])
    services.segment_create(
        project=project,
        actor=actor,
        name="Rules",
        type="rule_based",
        rules=[
            {
                "name": "ids",
                "passPercentage": 100,
                "conditions": [
                    {"type": "user_id", "operator": "any", "targetValue": ["u1", "u9"]},
                    {
                        "type": "unit_id",
                        "customID": "companyID",
                        "operator": "any",
                        "targetValue": ["u1"],
                    },
                ],
            }
        ],
    )
    return world


def test_eraser__registered_with_privacy():
    assert erasers.get_eraser(ERASER_NAME) is not None


def test_eraser__user_ids__gone_from_members_file_and_rules(lists):
    project_id = lists.project.pk
    old_file = Segment.objects.get(key="users_list").list_file_id
    erased = erase_segment_ids(project_id=project_id, unit_type="user_id", ids=["u1", "u3"])
    users = Segment.objects.get(key="users_list")
    # Member u1, the u1 in the user_id condition, and that u1 in the version that stored it
    assert erased == 3
    assert list(SegmentMember.objects.filter(segment=users).values_list("unit_id", flat=True)) == [
        "u2"
    ]
    assert users.id_count == 1
    assert users.list_file_id != old_file
    assert _file_text(users) == f"+{id_list_hash('u2')}\n"
    assert id_list_hash("u3") not in _file_text(users)
    rules = Segment.objects.get(key="rules").rules
    assert rules[0]["conditions"][0]["targetValue"] == ["u9"]
    # Other unit types are untouched
    assert rules[0]["conditions"][1]["targetValue"] == ["u1"]
    assert SegmentMember.objects.filter(segment__key="companies").count() == 1
    # The scrubbed rules are a new version, and no stored version names the erased id
    history = segment_versions(project=lists.project, segment_id="rules")
    assert [version.version for version in history] == [2, 1]
    assert [v.rules[0]["conditions"][0]["targetValue"] for v in history] == [["u9"], ["u9"]]


def test_eraser__custom_unit_type__only_those_lists(lists):
    erase_segment_ids(project_id=lists.project.pk, unit_type="companyid", ids=["u1"])
    assert SegmentMember.objects.filter(segment__key="companies").count() == 0
    assert SegmentMember.objects.filter(segment__key="users_list").count() == 2
    rules = Segment.objects.get(key="rules").rules
    assert rules[0]["conditions"][1]["targetValue"] == []
    assert rules[0]["conditions"][0]["targetValue"] == ["u1", "u9"]


def test_eraser__again__idempotent(lists, other_world):
    erase_segment_ids(project_id=lists.project.pk, unit_type="user_id", ids=["u1"])
    file_id = Segment.objects.get(key="users_list").list_file_id
    assert erase_segment_ids(project_id=lists.project.pk, unit_type="user_id", ids=["u1"]) == 0
    assert Segment.objects.get(key="users_list").list_file_id == file_id
    assert (
        erase_segment_ids(project_id=other_world.project.pk, unit_type="user_id", ids=["u2"]) == 0
    )
    assert SegmentMember.objects.filter(segment__key="users_list").count() == 1
