"""The SDK side of ID lists (reference §4.4), authenticated with a server secret key:

- ``POST /v1/get_id_lists`` → ``{"<list>": {"name", "size", "url", "creationTime", "fileID"}}``
  for every ID-list segment of the key's project;
- ``GET <url>`` → the file's ``+hash``/``-hash`` lines from ``Range: bytes=N-`` on, with
  ``Content-Length`` (the SDK advances by it).

One query for the manifest, two for a file read; no per-id work on these paths.
"""

from __future__ import annotations

import re

from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from console.keycache import ResolvedKey, resolve_api_key
from console.models import ApiKeyKind
from segments import listfile, selectors
from serving import idlist_urls

_RANGE_RE = re.compile(r"^\s*bytes\s*=\s*(\d+)\s*-\s*(\d*)\s*$")


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"status": status, "message": message}, status=status)


def _server_key(request: HttpRequest) -> ResolvedKey | None:
    secret = request.headers.get("STATSIG-API-KEY", "").strip()
    key = resolve_api_key(secret)
    if key is None or not key.is_active or key.kind != ApiKeyKind.SERVER:
        return None
    return key


UNAUTHORIZED = "This endpoint only accepts an active server secret key (secret-...)."
UNAUTHORIZED_FILE = (
    "Send an active server secret key, or use the URL from get_id_lists: its token is missing, "
    "expired or made for another file."
)


@csrf_exempt
@require_POST
def get_id_lists(request: HttpRequest) -> HttpResponse:
    key = _server_key(request)
    if key is None:
        return _error(401, UNAUTHORIZED)
    manifest = {
        state.name: {
            "name": state.name,
            "size": state.size,
            "url": request.build_absolute_uri(
                idlist_urls.signed_file_path(project_id=key.project_id, file_id=state.file_id)
            ),
            "creationTime": state.created_ms,
            "fileID": state.file_id,
        }
        for state in selectors.id_list_states(project_id=key.project_id)
        if state.file_id
    }
    return JsonResponse(manifest)


@require_GET
def id_list_file(request: HttpRequest, file_id: str) -> HttpResponse:
    """Opened by a server key, or, when no key is sent, by the signed token of the manifest's
    URL (SDKs that send no key header): either names the one project whose file this may be."""
    if request.headers.get("STATSIG-API-KEY"):
        key = _server_key(request)
        project_id = key.project_id if key is not None else None
    else:
        token = request.GET.get(idlist_urls.TOKEN_PARAMETER)
        project_id = idlist_urls.project_for_token(token, file_id=file_id)
    if project_id is None:
        return _error(401, UNAUTHORIZED_FILE)
    state = selectors.id_list_state_by_file(project_id=project_id, file_id=file_id)
    if state is None:
        return _error(404, "ID list file not found: the list was reset or deleted.")
    header = request.headers.get("Range")
    start = 0
    if header:
        match = _RANGE_RE.match(header)
        if match is None:
            return _error(416, "Only a single range 'bytes=N-' is supported.")
        start = int(match.group(1))
    file_slice = listfile.read_from(segment_pk=state.segment_pk, file_id=file_id, start=start)
    if file_slice is None:
        if start == 0:
            response = HttpResponse(b"", content_type="text/plain; charset=ascii")
            response["Content-Length"] = "0"
            return response
        response = _error(416, f"Range starts at or after the end of the file ({state.size}).")
        response["Content-Range"] = f"bytes */{state.size}"
        return response
    response = StreamingHttpResponse(
        (chunk.encode("ascii") for chunk in file_slice.chunks),
        status=206 if header else 200,
        content_type="text/plain; charset=ascii",
    )
    response["Content-Length"] = str(file_slice.length)
    response["Accept-Ranges"] = "bytes"
    if header:
        response["Content-Range"] = (
            f"bytes {file_slice.start}-{file_slice.end - 1}/{file_slice.end}"
        )
    response["Cache-Control"] = "no-store"
    return response
