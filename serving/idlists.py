"""The SDK side of ID lists (reference §4.4), authenticated with a server secret key (a file also
by the signed token its manifest URL carries, ``serving.idlist_urls``):

- ``POST /v1/get_id_lists`` → ``{"<list>": {"name", "size", "url", "creationTime", "fileID"}}``
  for every ID-list segment of the key's project;
- ``GET <url>`` → the file's ``+hash``/``-hash`` lines from ``Range: bytes=N-`` on, with
  ``Content-Length`` (the SDK advances by it).

One query for the manifest, two for a file read; no per-id work on these paths.
"""

from __future__ import annotations

import re

from console import wire
from segments import listfile, selectors
from serving import idlist_urls

FILE_PATH = "/v1/id_list_file/{file_id}"
_RANGE_RE = re.compile(r"^\s*bytes\s*=\s*(\d{1,18})\s*-\s*(\d{0,18})\s*$")
RANGE_NOT_SUPPORTED = "Range: only a single range 'bytes=N-' is supported, N at most 18 digits."
TEXT = "text/plain; charset=ascii"
_FILE_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def get_id_lists(request: wire.Request) -> wire.Response:
    key = request.key(wire.SERVER_KEYS)
    manifest = {
        state.name: {
            "name": state.name,
            "size": state.size,
            "url": idlist_urls.public_url(
                request,
                idlist_urls.signed(
                    FILE_PATH.format(file_id=state.file_id),
                    project_id=key.project_id,
                    file_id=state.file_id,
                ),
            ),
            "creationTime": state.created_ms,
            "fileID": state.file_id,
        }
        for state in selectors.id_list_states(project_id=key.project_id)
        if state.file_id
    }
    return wire.json_response(manifest)


def id_list_file(request: wire.Request) -> wire.Response:
    """Opened by a server key or, when no key is sent (statsig-node sends none), by the URL's
    signed token: either names the one project whose file this may be."""
    file_id = request.params["file_id"]
    if not _FILE_ID_RE.match(file_id):
        raise wire.Refusal(
            404,
            "ID list file not found: a file id is up to 64 letters and digits.",
            field="file_id",
        )
    if request.header(wire.KEY_HEADER):
        project_id = request.key(wire.SERVER_KEYS).project_id
    else:
        project_id = idlist_urls.project_for_request(request.query, file_id=file_id)
    header = request.header("Range")
    start = 0
    if header:
        match = _RANGE_RE.match(header)
        if match is None:
            raise wire.Refusal(416, RANGE_NOT_SUPPORTED, field="Range")
        start = int(match.group(1))
    state = selectors.id_list_state_by_file(project_id=project_id, file_id=file_id)
    if state is None:
        raise wire.Refusal(404, "ID list file not found: the list was reset or deleted.")
    file_slice = listfile.read_from(segment_pk=state.segment_pk, file_id=file_id, start=start)
    if file_slice is None:
        if start == 0:
            return wire.Response(b"", content_type=TEXT)
        raise wire.Refusal(
            416,
            f"Range starts at or after the end of the file ({state.size}).",
            headers={"Content-Range": f"bytes */{state.size}"},
        )
    headers = [
        ("Content-Length", str(file_slice.length)),
        ("Accept-Ranges", "bytes"),
        ("Cache-Control", "no-store"),
    ]
    if header:
        headers.append(
            ("Content-Range", f"bytes {file_slice.start}-{file_slice.end - 1}/{file_slice.end}")
        )
    return wire.Response(
        (chunk.encode("ascii") for chunk in file_slice.chunks),
        status=206 if header else 200,
        content_type=TEXT,
        headers=headers,
    )
