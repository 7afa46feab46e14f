"""``POST /v1/get_id_lists`` and the id-list file (reference §4.4), as the SDK reads them."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from segments.listfile import id_list_hash
from segments.models import Segment
from serving.idlist_urls import project_for_token
from tests.segments.conftest import create_segment, id_list


def _manifest(api, world, key_kind: str = "server"):
    return api.post(
        "/v1/get_id_lists",
        {"statsigMetadata": {"sdkType": "py-server", "sdkVersion": "0.72.1"}},
        key=world.keys[key_kind],
    )


def _file(api, world, url: str, start: int | None = None, key_kind: str = "server"):
    headers = {"Range": f"bytes={start}-"} if start is not None else {}
    response = api.get(
        url.removeprefix("http://testserver"), key=world.keys[key_kind], headers=headers
    )
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body.decode("ascii")


def test_manifest__id_list_segments__statsig_shape(api, world, capi):
    id_list(capi, "Beta testers", ["u1", "u2"])
    id_list(capi, "Empty list")
    create_segment(capi, name="Employees", type="rule_based")
    response = _manifest(api, world)
    assert response.status_code == 200
    beta = Segment.objects.get(key="beta_testers")
    empty = Segment.objects.get(key="empty_list")
    body = response.json()
    # Each URL carries a token that opens that file of this project (SDKs without a key header)
    for name, segment in (("beta_testers", beta), ("empty_list", empty)):
        path, _, query = body[name]["url"].partition("?token=")
        assert path == f"http://testserver/v1/id_list_file/{segment.list_file_id}"
        token = unquote(query)
        assert project_for_token(token, file_id=segment.list_file_id) == world.project.id
        body[name]["url"] = path
    assert body == {
        "beta_testers": {
            "name": "beta_testers",
            "size": 20,
            "url": f"http://testserver/v1/id_list_file/{beta.list_file_id}",
            "creationTime": beta.list_file_created_ms,
            "fileID": beta.list_file_id,
        },
        "empty_list": {
            "name": "empty_list",
            "size": 0,
            "url": f"http://testserver/v1/id_list_file/{empty.list_file_id}",
            "creationTime": empty.list_file_created_ms,
            "fileID": empty.list_file_id,
        },
    }


@pytest.mark.parametrize("kind", ["client", "console"])
def test_manifest__not_a_server_key__401(api, world, kind):
    response = _manifest(api, world, kind)
    assert response.status_code == 401
    assert response.json()["status"] == 401


def test_manifest__no_key__401_and_get__405(api, world):
    assert api.post("/v1/get_id_lists", {}).status_code == 401
    assert api.get("/v1/get_id_lists", key=world.keys["server"]).status_code == 405


def test_manifest__other_projects_lists__absent(api, world, other_world):
    api.post(
        "/console/v1/segments",
        {"name": "Theirs", "type": "id_list"},
        key=other_world.keys["console"],
    )
    assert _manifest(api, world).json() == {}


def test_file__whole_and_from_offset__lines_and_content_length(api, world, capi):
    id_list(capi, "Beta testers", ["u1", "u2", "u3"])
    url = _manifest(api, world).json()["beta_testers"]["url"]
    lines = [f"+{id_list_hash(u)}\n" for u in ("u1", "u2", "u3")]
    # The whole file
    response, body = _file(api, world, url, start=0)
    assert response.status_code == 206
    assert body == "".join(lines)
    assert response["Content-Length"] == "30"
    assert response["Content-Range"] == "bytes 0-29/30"
    # From the SDK's read position, after a removal was appended
    capi.delete("/segments/beta_testers/id_list", {"ids": ["u2"]})
    assert _manifest(api, world).json()["beta_testers"]["size"] == 40
    response, body = _file(api, world, url, start=30)
    assert body == f"-{id_list_hash('u2')}\n"
    assert response["Content-Length"] == "10"
    assert response["Content-Range"] == "bytes 30-39/40"
    # From the middle of a chunk
    response, body = _file(api, world, url, start=10)
    assert body == "".join(lines[1:]) + f"-{id_list_hash('u2')}\n"
    assert response["Content-Length"] == str(len(body))
    # Without a Range header: the whole file, 200
    response, body = _file(api, world, url)
    assert response.status_code == 200
    assert response["Content-Length"] == "40"


def test_file__range_at_end__416(api, world, capi):
    id_list(capi, "Beta testers", ["u1"])
    url = _manifest(api, world).json()["beta_testers"]["url"]
    response, _ = _file(api, world, url, start=10)
    assert response.status_code == 416
    assert response["Content-Range"] == "bytes */10"


def test_file__empty_list__200_empty(api, world, capi):
    id_list(capi, "Empty list")
    url = _manifest(api, world).json()["empty_list"]["url"]
    response, body = _file(api, world, url, start=0)
    assert response.status_code == 200
    assert body == ""
    assert response["Content-Length"] == "0"


def test_file__after_reset__new_file_id_old_url_404(api, world, capi):
    id_list(capi, "Beta testers", ["u1", "u2"])
    old = _manifest(api, world).json()["beta_testers"]
    capi.post("/segments/beta_testers/id_list/reset", {"ids": ["u3"]})
    new = _manifest(api, world).json()["beta_testers"]
    assert new["fileID"] != old["fileID"]
    assert new["creationTime"] >= old["creationTime"]
    assert new["size"] == 10
    response, _ = _file(api, world, old["url"], start=0)
    assert response.status_code == 404
    _, body = _file(api, world, new["url"], start=0)
    assert body == f"+{id_list_hash('u3')}\n"


def test_file__other_projects_key__404_and_client_key__401(api, world, other_world, capi):
    id_list(capi, "Beta testers", ["u1"])
    url = _manifest(api, world).json()["beta_testers"]["url"]
    response = api.get(url.removeprefix("http://testserver"), key=other_world.keys["server"])
    assert response.status_code == 404
    response = api.get(url.removeprefix("http://testserver"), key=world.keys["client"])
    assert response.status_code == 401


def test_file__large_list__streamed_in_chunks(api, world, capi, monkeypatch):
    monkeypatch.setattr("segments.listfile.CHUNK_LINES", 100)
    ids = [f"user-{n}" for n in range(1050)]
    id_list(capi, "Big list", ids)
    url = _manifest(api, world).json()["big_list"]["url"]
    response, body = _file(api, world, url, start=5000)
    assert response["Content-Length"] == str(10500 - 5000)
    # Lines are written in id order within a request.
    assert body == "".join(f"+{id_list_hash(u)}\n" for u in sorted(ids))[5000:]


def test_hash__reference_vector():
    assert id_list_hash("statsig") == "Krhxyf0V"
    evaluation = pytest.importorskip("evaluation")
    assert evaluation.id_list_hash("some-user") == id_list_hash("some-user")


def test_file__signed_url_without_key__opens_that_file_only(api, world, other_world, capi):
    # Given the manifest's URL of a list (SDKs such as statsig-node send no key with it)
    id_list(capi, "Beta testers", ["u1", "u2"])
    entry = _manifest(api, world).json()["beta_testers"]
    path = entry["url"].removeprefix("http://testserver")

    # Then the URL alone reads the file, from a Range too
    response = api.get(path, headers={"Range": "bytes=10-"})
    assert response.status_code == 206
    assert response.content.decode() == sorted_lines(["u1", "u2"])[10:]

    # And the token opens no other file, and a forged or missing one nothing
    file_path, _, token = path.partition("?token=")
    other_file = f"/v1/id_list_file/{entry['fileID']}x?token={token}"
    for refused in (other_file, file_path, f"{file_path}?token=forged{token}"):
        response = api.get(refused)
        assert response.status_code == 401, refused
        assert "get_id_lists" in response.json()["message"]


def test_file__expired_token__401(api, world, capi, monkeypatch):
    id_list(capi, "Beta testers", ["u1"])
    path = _manifest(api, world).json()["beta_testers"]["url"].removeprefix("http://testserver")
    monkeypatch.setattr("serving.idlist_urls.TOKEN_MAX_AGE_SECONDS", -1)
    assert api.get(path).status_code == 401


def sorted_lines(ids: list[str]) -> str:
    return "".join(f"+{id_list_hash(u)}\n" for u in sorted(ids))
