"""The Privacy screen: admins submit (paste or upload) and queue the job; members see the list
(never the ids); viewers see nothing of it."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from console.models import Role
from privacy.models import DeletionRequest, DeletionSource, DeletionStatus
from privacy.services import deletion_process_pending
from tests.privacy.conftest import submit


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    """Templates use ``{% static %}``; tests do not run collectstatic for the manifest."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def url(world, name="privacy-list"):
    return reverse(name, args=[world.project.slug])


def test_list__admin__form_list_and_process_button_never_ids(world, browser_client):
    submit(world, "hidden-user-1,hidden-user-2", request_id="ticket-42")
    response = browser_client(world.users[Role.ADMIN]).get(url(world))
    html = response.content.decode()
    assert response.status_code == 200
    assert "ticket-42" in html
    assert "hidden-user" not in html
    assert "New deletion request" in html
    assert "Process now" in html
    assert '<td class="text-end">2</td>' in html  # the id count


def test_list__member__list_without_form_or_button(world, browser_client):
    submit(world, "hidden-user-1", request_id="ticket-42")
    response = browser_client(world.users[Role.MEMBER]).get(url(world))
    html = response.content.decode()
    assert response.status_code == 200
    assert "ticket-42" in html
    assert "New deletion request" not in html
    assert "Process now" not in html
    assert "hidden-user" not in html


@pytest.mark.parametrize("name", ["privacy-list", "privacy-table", "privacy-process-now"])
def test_screens__viewer__forbidden(world, browser_client, name):
    submit(world, "hidden-user-1", request_id="ticket-42")
    client = browser_client(world.users[Role.VIEWER])
    response = (
        client.post(url(world, name)) if name.endswith("now") else client.get(url(world, name))
    )
    assert response.status_code == 403
    assert b"ticket-42" not in response.content


def test_screens__other_project__404(world, other_world, browser_client):
    response = browser_client(world.users[Role.ADMIN]).get(url(other_world))
    assert response.status_code == 404


def test_submit__pasted_lines__accepted(world, browser_client):
    response = browser_client(world.users[Role.ADMIN]).post(
        url(world),
        {"unit_type": "user_id", "ids": "p1\r\np2, p3\n\n", "request_id": "", "confirm": "on"},
    )
    assert response.status_code == 302
    request = DeletionRequest.objects.get(project=world.project)
    assert request.ids == ["p1", "p2", "p3"]
    assert request.source == DeletionSource.CONSOLE
    assert request.submitted_by == world.users[Role.ADMIN].get_username()


def test_submit__uploaded_file_and_delimiter(world, browser_client):
    upload = SimpleUploadedFile("ids.txt", b"f,1;f,2;f,3", content_type="text/plain")
    response = browser_client(world.users[Role.ADMIN]).post(
        url(world),
        {
            "unit_type": "user_id",
            "ids_file": upload,
            "delimiter": ";",
            "request_id": "upl",
            "confirm": "on",
        },
    )
    assert response.status_code == 302
    assert DeletionRequest.objects.get(request_id="upl").ids == ["f,1", "f,2", "f,3"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"unit_type": "user_id", "ids": ""}, "ids is empty"),
        ({"unit_type": "deviceID", "ids": "a"}, "is not a unit type of this project"),
        ({"unit_type": "user_id", "ids": "a" * 257}, "at most 256 characters"),
    ],
)
def test_submit__invalid__400_with_the_message_nothing_stored(world, browser_client, data, message):
    response = browser_client(world.users[Role.ADMIN]).post(url(world), {**data, "confirm": "on"})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not DeletionRequest.objects.exists()


def test_submit__without_confirmation__refused(world, browser_client):
    response = browser_client(world.users[Role.ADMIN]).post(
        url(world), {"unit_type": "user_id", "ids": "a"}
    )
    assert response.status_code == 400
    assert not DeletionRequest.objects.exists()


def test_submit__reused_request_id__400(world, browser_client):
    submit(world, "a", request_id="dup")
    response = browser_client(world.users[Role.ADMIN]).post(
        url(world), {"unit_type": "user_id", "ids": "b", "request_id": "dup", "confirm": "on"}
    )
    assert response.status_code == 400
    assert "already used in this project" in response.content.decode()


def test_submit__member__forbidden(world, browser_client):
    response = browser_client(world.users[Role.MEMBER]).post(
        url(world), {"unit_type": "user_id", "ids": "a", "confirm": "on"}
    )
    assert response.status_code == 403
    assert not DeletionRequest.objects.exists()


def test_process_now__admin__queues_the_job_for_the_project(
    world, other_world, browser_client, django_capture_on_commit_callbacks
):
    mine = submit(world, "a")
    theirs = submit(other_world, "b")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = browser_client(world.users[Role.ADMIN]).post(url(world, "privacy-process-now"))
    assert response.status_code == 302
    assert len(callbacks) == 1
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.status == DeletionStatus.COMPLETE  # eager Celery in tests
    assert theirs.status == DeletionStatus.PENDING


def test_process_now__member__forbidden(world, browser_client):
    submit(world, "a")
    response = browser_client(world.users[Role.MEMBER]).post(url(world, "privacy-process-now"))
    assert response.status_code == 403


def test_table__running_batch__progress_and_polling(world, browser_client, recording_eraser):
    # Given a batch interrupted half-way (as seen while it runs)
    eraser = recording_eraser()
    ids = [f"x{i}" for i in range(1000)]
    submit(world, ids, request_id="running")

    def interrupt(chunk):
        if chunk[0] == "x500":
            raise KeyboardInterrupt

    eraser.before = interrupt
    with pytest.raises(KeyboardInterrupt):
        deletion_process_pending()
    # When the table is fetched
    response = browser_client(world.users[Role.MEMBER]).get(url(world, "privacy-table"))
    html = response.content.decode()
    # Then it shows the progress and polls
    assert response.status_code == 200
    assert 'hx-trigger="every 3s"' in html
    assert 'aria-valuenow="' in html
    assert "x500" not in html


def test_list__completed__rows_erased_and_no_polling(world, browser_client):
    submit(world, "a", request_id="finished")
    deletion_process_pending()
    html = browser_client(world.users[Role.MEMBER]).get(url(world)).content.decode()
    assert "Complete" in html
    assert "hx-trigger" not in html
