"""Segment screens: rule-based rules through the rule editor's field, ID lists uploaded as files
(processed by the background task through the service, with progress), pasted IDs, membership
lookup, roles, delete naming referrers, and a list with a fixed number of queries."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from console.models import AuditLog, Role
from flags.services import gates as gate_services
from segments import services, uploads
from segments.models import Segment, SegmentType
from tests.conftest import ROLES


def _url(world, tail: str = "") -> str:
    return f"/p/{world.project.slug}/segments/{tail}"


def _segment(world, name: str = "Beta testers", type: str = SegmentType.ID_LIST, **kwargs):
    return services.segment_create(
        project=world.project, actor=world.actor(Role.ADMIN), name=name, type=type, **kwargs
    )


@pytest.mark.parametrize("role", ROLES)
def test_segment_screens__each_role__render(world, as_role, role):
    id_list = _segment(world)
    rules = _segment(
        world,
        name="Employees",
        type=SegmentType.RULE_BASED,
        rules=[
            {
                "name": "Company",
                "conditions": [
                    {"type": "email", "operator": "str_ends_with_any", "targetValue": ["@x.io"]}
                ],
            }
        ],
    )
    client = as_role(role)
    assert client.get(_url(world)).status_code == 200
    list_page = client.get(_url(world, f"{id_list.key}/")).content.decode()
    rules_page = client.get(_url(world, f"{rules.key}/")).content.decode()
    assert ("Upload file" in list_page) == (role != Role.VIEWER)
    assert ("Save rules" in rules_page) == (role != Role.VIEWER)
    assert "Is this ID a member?" in list_page
    assert client.get(_url(world, "new/")).status_code == (403 if role == Role.VIEWER else 200)


def test_segment_create__rule_based__then_rules_saved_through_the_service(world, as_role):
    client = as_role(Role.MEMBER)
    response = client.post(
        _url(world, "new/"), {"name": "Employees", "type": "rule_based", "idType": "userID"}
    )
    assert response.status_code == 302
    rules = [
        {
            "name": "Company",
            "conditions": [
                {"type": "email", "operator": "str_ends_with_any", "targetValue": ["@x.io"]}
            ],
        }
    ]
    response = client.post(_url(world, "employees/rules/"), {"rules": json.dumps(rules)})
    assert response.status_code == 302
    segment = Segment.objects.get(project=world.project, key="employees")
    assert segment.rules[0]["name"] == "Company"
    assert AuditLog.objects.filter(
        project=world.project, entity_id="employees", action_type="segment_conditional_update"
    ).exists()


def test_segment_rules__gate_condition__refused_next_to_the_rules(world, as_role):
    segment = _segment(world, name="Employees", type=SegmentType.RULE_BASED)
    rules = [{"name": "Bad", "conditions": [{"type": "passes_gate", "targetValue": "x"}]}]
    response = as_role(Role.MEMBER).post(
        _url(world, f"{segment.key}/rules/"), {"rules": json.dumps(rules)}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="id_rules_error"' in page
    assert "rules[0].conditions[0].type" in page


def test_segment_upload__csv_file__added_in_the_background_with_progress(
    world, as_role, settings, tmp_path
):
    # Given an ID list and a CSV file of 1,200 ids with a header and a duplicate
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    segment = _segment(world)
    lines = ["user_id,plan", *(f"u{i},pro" for i in range(1200)), "u5,pro"]
    upload = SimpleUploadedFile("ids.csv", "\n".join(lines).encode(), content_type="text/csv")
    client = as_role(Role.MEMBER)
    # When it is uploaded (the task runs when the request commits)
    response = client.post(_url(world, f"{segment.key}/upload/"), {"file": upload})
    # Then every id is a member, the count is shown, and the progress panel reports it
    assert response.status_code == 302
    assert "?upload=" in response["Location"]
    segment.refresh_from_db()
    assert segment.id_count == 1200
    page = client.get(response["Location"]).content.decode()
    assert "Upload finished" in page
    assert 'data-id-count id="segment-id-count">1200<' in page
    job_id = response["Location"].split("upload=")[1].split("#")[0]
    status = client.get(_url(world, f"{segment.key}/upload/{job_id}/"))
    assert status.status_code == 200
    assert 'data-upload-status="done"' in status.content.decode()
    # And each poll brings the member count on the page up to date (an out-of-band swap)
    assert 'id="segment-id-count" hx-swap-oob="true">1200</span>' in status.content.decode()
    assert AuditLog.objects.filter(
        project=world.project, entity_id=segment.key, action_type="segment_id_list_add"
    ).exists()
    # and the uploaded file is gone
    assert not list((tmp_path / "segment-uploads").glob("*.txt"))


def test_segment_upload__replace_read_in_batches__members_replaced_once(
    world, as_role, settings, tmp_path, monkeypatch
):
    # Given an ID list with two members, and a file (byte-order mark, header) read two ids a batch
    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setattr(uploads, "BATCH_SIZE", 2)
    segment = _segment(world)
    services.segment_ids_add(
        project=world.project,
        actor=world.actor(Role.ADMIN),
        segment_id=segment.key,
        ids=["old-1", "old-2"],
    )
    upload = SimpleUploadedFile("ids.txt", "\ufeffid\nu1\nu2\nu3\nu4\nu5\n".encode())
    client = as_role(Role.MEMBER)
    # When it replaces the members
    response = client.post(_url(world, f"{segment.key}/upload/"), {"file": upload, "replace": "on"})
    # Then the list holds the file's ids: one reset, then the other batches added
    job_id = response["Location"].split("upload=")[1].split("#")[0]
    status = client.get(_url(world, f"{segment.key}/upload/{job_id}/")).content.decode()
    assert 'data-upload-status="done"' in status
    assert "<span data-upload-added>5</span> added, 2 removed." in status
    segment.refresh_from_db()
    assert segment.id_count == 5
    entries = AuditLog.objects.filter(project=world.project, entity_id=segment.key)
    assert entries.filter(action_type="segment_id_list_reset").count() == 1
    assert entries.filter(action_type="segment_id_list_add").count() == 1 + 2
    # and its state carries a heartbeat for the sweeper of stalled uploads
    assert uploads.upload_state(job_id)["updated_at"]


def test_segment_upload__viewer__refused(world, as_role):
    segment = _segment(world)
    upload = SimpleUploadedFile("ids.txt", b"a\nb\n")
    response = as_role(Role.VIEWER).post(_url(world, f"{segment.key}/upload/"), {"file": upload})
    assert response.status_code == 403


def test_segment_ids__paste_add_remove_and_lookup(world, as_role):
    segment = _segment(world)
    client = as_role(Role.MEMBER)
    client.post(_url(world, f"{segment.key}/ids/add/"), {"ids": "ada, bob\ncyd"})
    segment.refresh_from_db()
    assert segment.id_count == 3
    client.post(_url(world, f"{segment.key}/ids/remove/"), {"ids": "bob"})
    segment.refresh_from_db()
    assert segment.id_count == 2
    found = client.get(
        _url(world, f"{segment.key}/lookup/"), {"id": "ada"}, headers={"HX-Request": "true"}
    ).content.decode()
    missing = client.get(
        _url(world, f"{segment.key}/lookup/"), {"id": "bob"}, headers={"HX-Request": "true"}
    ).content.decode()
    assert 'data-lookup-result="member"' in found
    assert 'data-lookup-result="not-member"' in missing


def test_segment_ids__empty_paste__error_next_to_the_field(world, as_role):
    segment = _segment(world)
    response = as_role(Role.MEMBER).post(_url(world, f"{segment.key}/ids/add/"), {"ids": " , "})
    assert response.status_code == 400
    assert 'id="id_ids_error"' in response.content.decode()


def test_segment_delete__targeted_by_a_gate__confirmation_names_it(world, as_role):
    segment = _segment(world)
    gate_services.gate_create(
        project=world.project,
        actor=world.actor(Role.ADMIN),
        name="Beta feature",
        rules=[
            {"name": "Beta", "conditions": [{"type": "passes_segment", "targetValue": segment.key}]}
        ],
    )
    client = as_role(Role.MEMBER)
    confirm = client.get(_url(world, f"{segment.key}/delete/")).content.decode()
    assert "beta_feature" in confirm
    assert client.post(_url(world, f"{segment.key}/delete/")).status_code == 400
    assert Segment.objects.filter(pk=segment.pk).exists()


def test_segment_archive_and_delete(world, as_role):
    segment = _segment(world)
    client = as_role(Role.MEMBER)
    client.post(_url(world, f"{segment.key}/archive/"))
    segment.refresh_from_db()
    assert segment.archived
    assert client.post(_url(world, f"{segment.key}/delete/")).status_code == 302
    assert not Segment.objects.filter(pk=segment.pk).exists()


def test_segment_list__queries_do_not_grow(world, as_role, django_assert_max_num_queries):
    from tests.flags.views.test_gates import _list_queries

    for i in range(50):
        _segment(world, name=f"Seg {i:03}", tags=["t"])
    client = as_role(Role.VIEWER)
    with_50 = _list_queries(client, _url(world))
    for i in range(50, 500):
        _segment(world, name=f"Seg {i:03}", tags=["t"])
    with django_assert_max_num_queries(with_50):
        response = client.get(_url(world) + "?tag=t&page=3&sort=name")
    assert "Seg 100" in response.content.decode()
