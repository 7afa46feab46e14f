"""``POST /v1/delete_user_data`` and ``POST /v1/get_delete_user_data_request_status``: every field,
every error, every key kind, and other projects' request ids."""

from __future__ import annotations

import json
import uuid

import pytest

from console.models import AuditLog, Role
from console.services.api_keys import api_key_deactivate
from privacy.models import DeletionRequest, DeletionStatus
from privacy.services import deletion_process_pending
from privacy.unit_types import register_unit_type_source

DELETE = "/v1/delete_user_data"
STATUS = "/v1/get_delete_user_data_request_status"

_CUSTOM_TYPES: dict[int, set[str]] = {}


@register_unit_type_source
def _test_unit_types(project_id: int):
    return _CUSTOM_TYPES.get(project_id, ())


@pytest.fixture
def company_id_type(world):
    """The project uses the custom unit type ``companyID``."""
    _CUSTOM_TYPES[world.project.pk] = {"companyID"}
    yield "companyID"
    _CUSTOM_TYPES.pop(world.project.pk, None)


def submit(api, world, body, **kwargs):
    return api.post(DELETE, body, key=world.keys["server"], **kwargs)


def error_of(response) -> tuple[int, str, list[dict[str, str]]]:
    body = response.json()
    return response.status_code, body["message"], body.get("errors", [])


# --- delete_user_data: accepted ----------------------------------------------------------------


def test_delete_user_data__statsig_example__stored_pending_with_due_date(api, world):
    # When
    response = submit(
        api, world, {"unit_type": "user_id", "ids": "1,2,3", "request_id": "test_request_1"}
    )
    # Then
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"request_id": "test_request_1"}
    request = DeletionRequest.objects.get(project=world.project, request_id="test_request_1")
    assert request.status == DeletionStatus.PENDING
    assert request.ids == ["1", "2", "3"]
    assert request.id_count == 3
    assert request.unit_type == "user_id"
    assert request.delimiter == ","
    assert (request.due_at - request.received_at).days == 30


def test_delete_user_data__no_request_id__generated_uuid(api, world):
    response = submit(api, world, {"unit_type": "user_id", "ids": "a"})
    assert response.status_code == 200
    request_id = response.json()["request_id"]
    assert str(uuid.UUID(request_id)) == request_id
    assert DeletionRequest.objects.filter(project=world.project, request_id=request_id).exists()


def test_delete_user_data__custom_delimiter__splits_on_it(api, world):
    response = submit(
        api,
        world,
        {"unit_type": "user_id", "ids": "a,1|b,2| c,3 ", "delimiter": "|", "request_id": "d"},
    )
    assert response.status_code == 200
    request = DeletionRequest.objects.get(request_id="d")
    assert request.ids == ["a,1", "b,2", "c,3"]
    assert request.delimiter == "|"


def test_delete_user_data__json_array__accepted_deduplicated(api, world):
    response = submit(
        api, world, {"unit_type": "userID", "ids": ["u1", "u2", "u1", 42], "request_id": "arr"}
    )
    assert response.status_code == 200
    request = DeletionRequest.objects.get(request_id="arr")
    assert request.ids == ["u1", "u2", "42"]
    assert request.id_count == 3
    assert request.unit_type == "user_id"  # userID is the same unit type


def test_delete_user_data__empty_entries_and_spaces__ignored(api, world):
    submit(api, world, {"unit_type": "user_id", "ids": " a, ,b,,", "request_id": "sp"})
    assert DeletionRequest.objects.get(request_id="sp").ids == ["a", "b"]


def test_delete_user_data__custom_unit_type_of_project__accepted_case_insensitive(
    api, world, company_id_type
):
    response = submit(api, world, {"unit_type": "companyid", "ids": "c1", "request_id": "co"})
    assert response.status_code == 200
    assert DeletionRequest.objects.get(request_id="co").unit_type == "companyID"


def test_delete_user_data__stable_id__accepted(api, world):
    response = submit(api, world, {"unit_type": "stableID", "ids": "s1", "request_id": "st"})
    assert response.status_code == 200


def test_delete_user_data__exactly_limits__accepted(api, world):
    ids = [f"{i:05d}" + "x" * 251 for i in range(10_000)]
    response = submit(api, world, {"unit_type": "user_id", "ids": ids, "request_id": "max"})
    assert response.status_code == 200
    assert DeletionRequest.objects.get(request_id="max").id_count == 10_000


def test_delete_user_data__accepted__audited_without_ids(api, world):
    submit(api, world, {"unit_type": "user_id", "ids": "secret-person-1", "request_id": "au"})
    entry = AuditLog.objects.get(
        project=world.project, action_type="user_data_deletion_request_create"
    )
    assert entry.entity_id == "au"
    assert entry.actor_name == "SERVER API"
    assert entry.changes["id_count"] == {"old": None, "new": 1}
    assert "secret-person-1" not in json.dumps(entry.changes)


# --- delete_user_data: refused, nothing stored ---------------------------------------------------


@pytest.mark.parametrize(
    ("body", "prop", "message_part"),
    [
        ({"unit_type": "user_id", "ids": ""}, "ids", "ids is empty"),
        ({"unit_type": "user_id", "ids": " , ,"}, "ids", "ids is empty"),
        ({"unit_type": "user_id", "ids": []}, "ids", "ids is empty"),
        ({"unit_type": "user_id"}, "ids", "ids is required"),
        ({"unit_type": "user_id", "ids": 5}, "ids", "delimited string"),
        ({"unit_type": "user_id", "ids": {"a": 1}}, "ids", "delimited string"),
        ({"unit_type": "user_id", "ids": ["a", None]}, "ids[1]", "must be a string"),
        ({"unit_type": "user_id", "ids": ["a", True]}, "ids[1]", "must be a string"),
        ({"unit_type": "user_id", "ids": "a," + "x" * 257}, "ids", "id number 2 is 257 characters"),
        ({"unit_type": "user_id", "ids": ["y" * 300]}, "ids", "at most 256 characters"),
        ({"ids": "a"}, "unit_type", "unit_type is required"),
        ({"unit_type": "", "ids": "a"}, "unit_type", "unit_type is required"),
        ({"unit_type": 3, "ids": "a"}, "unit_type", "must be a string"),
        ({"unit_type": "companyID", "ids": "a"}, "unit_type", "not a unit type of this project"),
        ({"unit_type": "user_id", "ids": "a", "delimiter": ""}, "delimiter", "non-empty"),
        ({"unit_type": "user_id", "ids": "a", "delimiter": 1}, "delimiter", "non-empty"),
        ({"unit_type": "user_id", "ids": "a", "delimiter": "#" * 9}, "delimiter", "at most 8"),
        ({"unit_type": "user_id", "ids": "a", "request_id": 7}, "request_id", "must be a string"),
        (
            {"unit_type": "user_id", "ids": "a", "request_id": "r" * 129},
            "request_id",
            "at most 128",
        ),
        ({"unit_type": "user_id", "ids": "a", "request_id": "a\nb"}, "request_id", "printable"),
    ],
)
def test_delete_user_data__invalid_field__400_naming_it_nothing_stored(
    api, world, body, prop, message_part
):
    # When
    response = submit(api, world, body)
    # Then
    status, message, errors = error_of(response)
    assert status == 400
    assert message_part in message
    assert errors == [{"property": prop, "message": message}]
    assert not DeletionRequest.objects.exists()
    assert not AuditLog.objects.filter(action_type__startswith="user_data_deletion").exists()


def test_delete_user_data__unknown_unit_type__lists_known_ones(api, world, company_id_type):
    _status, message, _ = error_of(submit(api, world, {"unit_type": "deviceID", "ids": "a"}))
    assert message == (
        "unit_type 'deviceID' is not a unit type of this project; use one of: user_id, stableID, "
        "companyID."
    )


def test_delete_user_data__too_many_ids__400_count_named(api, world):
    ids = ",".join(str(i) for i in range(10_001))
    status, message, errors = error_of(submit(api, world, {"unit_type": "user_id", "ids": ids}))
    assert status == 400
    assert message == (
        "ids has 10,001 ids; at most 10,000 are accepted in one request. Split them into several "
        "requests."
    )
    assert errors[0]["property"] == "ids"
    assert not DeletionRequest.objects.exists()


def test_delete_user_data__long_id__message_never_repeats_the_id(api, world):
    long_id = "personal-" + "z" * 300
    _status, message, _ = error_of(submit(api, world, {"unit_type": "user_id", "ids": long_id}))
    assert long_id not in message
    assert "zzz" not in message


def test_delete_user_data__request_id_reused__400_first_kept(api, world):
    # Given
    assert (
        submit(api, world, {"unit_type": "user_id", "ids": "a", "request_id": "r1"}).status_code
        == 200
    )
    # When
    response = submit(api, world, {"unit_type": "user_id", "ids": "b", "request_id": "r1"})
    # Then
    status, message, errors = error_of(response)
    assert status == 400
    assert message == (
        "request_id 'r1' was already used in this project; request ids must be unique."
    )
    assert errors == [{"property": "request_id", "message": message}]
    assert list(DeletionRequest.objects.values_list("ids", flat=True)) == [["a"]]


def test_delete_user_data__request_id_reused_after_completion__still_400(api, world):
    submit(api, world, {"unit_type": "user_id", "ids": "a", "request_id": "r1"})
    deletion_process_pending()
    response = submit(api, world, {"unit_type": "user_id", "ids": "b", "request_id": "r1"})
    assert response.status_code == 400


def test_delete_user_data__same_request_id_in_other_project__accepted(api, world, other_world):
    assert (
        submit(api, world, {"unit_type": "user_id", "ids": "a", "request_id": "same"}).status_code
        == 200
    )
    response = submit(api, other_world, {"unit_type": "user_id", "ids": "a", "request_id": "same"})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "Missing JSON body."),
        (b"{not json", "Malformed JSON body"),
        (b'["a"]', "The request body must be a JSON object."),
    ],
)
def test_delete_user_data__bad_body__400(api, world, raw, message):
    response = api.post(DELETE, raw=raw, key=world.keys["server"])
    assert response.status_code == 400
    assert response.json()["message"].startswith(message)


def test_delete_user_data__body_too_large__413(api, world):
    raw = b'{"unit_type":"user_id","ids":"' + b"a" * (7 * 1024 * 1024) + b'"}'
    response = api.post(DELETE, raw=raw, key=world.keys["server"])
    assert response.status_code == 413
    assert not DeletionRequest.objects.exists()


# --- keys ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [DELETE, STATUS])
@pytest.mark.parametrize(
    ("kind", "message"),
    [
        (
            "client",
            "This endpoint only accepts a server secret key (secret-…); client keys cannot delete "
            "user data or read deletion requests.",
        ),
        (
            "console",
            "This endpoint only accepts a server secret key (secret-…); console keys cannot delete "
            "user data or read deletion requests.",
        ),
    ],
)
def test_endpoints__client_or_console_key__401_clear_message(api, world, path, kind, message):
    response = api.post(
        path, {"unit_type": "user_id", "ids": "a", "request_id": "x"}, key=world.keys[kind]
    )
    assert response.status_code == 401
    assert response.json() == {"status": 401, "message": message}
    assert response["WWW-Authenticate"] == "STATSIG-API-KEY"
    assert not DeletionRequest.objects.exists()


@pytest.mark.parametrize("path", [DELETE, STATUS])
def test_endpoints__no_key__401(api, world, path):
    response = api.post(path, {"unit_type": "user_id", "ids": "a"})
    assert response.status_code == 401
    assert response.json() == {
        "status": 401,
        "message": "Missing API key: send a server secret key (secret-…) in the STATSIG-API-KEY "
        "header.",
    }


@pytest.mark.parametrize("path", [DELETE, STATUS])
def test_endpoints__unknown_key__401(api, world, path):
    response = api.post(path, {"unit_type": "user_id", "ids": "a"}, key="secret-nope")
    assert response.status_code == 401
    assert response.json()["message"] == (
        "Invalid or inactive API key: send an active server secret key (secret-…)."
    )


def test_delete_user_data__deactivated_server_key__401(api, world):
    from console.models import ApiKey

    key = ApiKey.objects.get(project=world.project, kind="server")
    api_key_deactivate(project=world.project, actor=world.actor(Role.ADMIN), key_ref=key.public_id)
    response = submit(api, world, {"unit_type": "user_id", "ids": "a"})
    assert response.status_code == 401
    assert not DeletionRequest.objects.exists()


def test_delete_user_data__lowercase_header__accepted(api, world):
    response = api.post(
        DELETE,
        {"unit_type": "user_id", "ids": "a"},
        headers={"statsig-api-key": world.keys["server"]},
    )
    assert response.status_code == 200


# --- no cancel, no edit: other methods ----------------------------------------------------------


@pytest.mark.parametrize("path", [DELETE, STATUS])
@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
def test_endpoints__other_methods__405_json(api, world, path, method):
    submit(api, world, {"unit_type": "user_id", "ids": "a", "request_id": "keep"})
    body = None if method == "GET" else {"request_id": "keep"}
    response = api.request(method, path, body, key=world.keys["server"])
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert response.json() == {
        "status": 405,
        "message": f"Method {method} is not allowed here; use POST. Deletion requests cannot be "
        "cancelled or edited.",
    }
    assert DeletionRequest.objects.get(request_id="keep").status == DeletionStatus.PENDING


# --- status ---------------------------------------------------------------------------------------


def status_of(api, world, request_id, **kwargs):
    return api.post(STATUS, {"request_id": request_id}, key=world.keys["server"], **kwargs)


def test_status__pending__plain_text(api, world):
    submit(api, world, {"unit_type": "user_id", "ids": "1,2,3", "request_id": "test_request_1"})
    response = status_of(api, world, "test_request_1")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content == b"PENDING"


def test_status__complete_after_job__plain_text_and_json(api, world):
    submit(api, world, {"unit_type": "user_id", "ids": "1,2,3", "request_id": "done"})
    deletion_process_pending()
    assert status_of(api, world, "done").content == b"COMPLETE"
    response = status_of(api, world, "done", headers={"Accept": "application/json"})
    request = DeletionRequest.objects.get(request_id="done")
    assert response.json() == {
        "request_id": "done",
        "status": "COMPLETE",
        "received_at": request.received_at.isoformat(),
        "completed_at": request.completed_at.isoformat(),
    }


def test_status__pending_json__completed_at_null(api, world):
    submit(api, world, {"unit_type": "user_id", "ids": "1", "request_id": "p"})
    body = status_of(api, world, "p", headers={"Accept": "application/json"}).json()
    assert body["status"] == "PENDING"
    assert body["completed_at"] is None
    assert body["received_at"] is not None


def test_status__unknown_id__unknown(api, world):
    assert status_of(api, world, "never-sent").content == b"UNKNOWN"
    body = status_of(api, world, "never-sent", headers={"Accept": "application/json"}).json()
    assert body == {
        "request_id": "never-sent",
        "status": "UNKNOWN",
        "received_at": None,
        "completed_at": None,
    }


def test_status__other_projects_request__unknown(api, world, other_world):
    # Given a request of another project
    submit(api, other_world, {"unit_type": "user_id", "ids": "a", "request_id": "theirs"})
    # Then this project's key cannot see it, theirs can
    assert status_of(api, world, "theirs").content == b"UNKNOWN"
    assert status_of(api, other_world, "theirs").content == b"PENDING"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "request_id is required."),
        ({"request_id": ""}, "request_id is required."),
        ({"request_id": 12}, "request_id must be a string."),
        ({"request_id": "r" * 129}, "request_id is 129 characters long; at most 128 allowed."),
    ],
)
def test_status__missing_or_bad_request_id__400_naming_it(api, world, body, message):
    response = api.post(STATUS, body, key=world.keys["server"])
    assert response.status_code == 400
    assert response.json() == {
        "status": 400,
        "message": message,
        "errors": [{"property": "request_id", "message": message}],
    }
