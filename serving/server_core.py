"""``GET /v2/download_config_specs/<server key>.json``: the ruleset in the v2 format of the
server-core SDKs (``@statsig/statsig-node-core``, ``statsig-python-core``), converted from the
loaded v1 document by ``serving.dcs_v2`` once per version.

``?sinceTime=<the version's time>`` answers ``{"has_updates": false, "time"}``; an
``If-None-Match`` naming the current ETag answers 304. The SDKs also send ``supports_proto``,
``checksum`` and ``accept_deltas``: we always answer the full JSON document, which they accept.
No SQL after warm-up.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from console.keycache import resolve_api_key
from console.models import ApiKeyKind
from ruleset import load as ruleset_load
from serving import dcs_v2
from serving.client_sdk import Refusal


def _since_time(raw: str | None) -> int:
    try:
        return int(float(raw or 0))
    except (TypeError, ValueError, OverflowError):
        raise Refusal(400, "sinceTime must be epoch milliseconds.", "sinceTime") from None


@csrf_exempt
def download_config_specs_v2(request: HttpRequest, sdk_key: str) -> HttpResponse:
    if request.method != "GET":
        return Refusal(405, f"Method {request.method} is not allowed here; use GET.").response()
    key = resolve_api_key(sdk_key.strip())
    if key is None or not key.is_active or key.kind != ApiKeyKind.SERVER:
        return Refusal(401, "This endpoint only accepts an active server secret key.").response()
    try:
        since = _since_time(request.GET.get("sinceTime"))
    except Refusal as refusal:
        return refusal.response()
    loaded = ruleset_load.current(key.project_id)
    environment = None
    if key.environments and loaded.default_environment not in key.environments:
        environment = key.environments[0]
    tag = dcs_v2.etag(time=loaded.time, default_environment=environment)
    if tag in {value.strip() for value in request.headers.get("If-None-Match", "").split(",")}:
        response = HttpResponse(status=304)
        response["ETag"] = tag
        return response
    if since >= loaded.time:
        return JsonResponse({"has_updates": False, "time": loaded.time})
    body = dcs_v2.cached_body(
        project_id=key.project_id,
        time=loaded.time,
        v1=loaded.payload,
        default_environment=environment,
    )
    response = HttpResponse(body, content_type="application/json")
    response["ETag"] = tag
    return response
