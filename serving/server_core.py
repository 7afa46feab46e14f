"""``GET /v2/download_config_specs/<server key>.json``: the ruleset in the v2 format of the
server-core SDKs (``@statsig/statsig-node-core``, ``statsig-python-core``), converted from the
loaded v1 document by ``serving.dcs_v2`` once per version and sent like the v1 download
(``serving.downloads``: gzip when accepted, ETag and 304 on ``If-None-Match``).

``?sinceTime=<the version's time>`` answers ``{"has_updates": false, "time"}``. The SDKs also
send ``supports_proto``, ``checksum`` and ``accept_deltas``: we always answer the full JSON
document, which they accept. No SQL after warm-up.
"""

from __future__ import annotations

from console import wire
from ruleset import load as ruleset_load
from serving import dcs_v2, downloads


def _since_time(raw: str | None) -> int:
    try:
        return int(float(raw or 0))
    except (TypeError, ValueError, OverflowError):
        raise wire.Refusal(
            400, "sinceTime must be epoch milliseconds.", field="sinceTime"
        ) from None


def download_config_specs_v2(request: wire.Request) -> wire.Response:
    key = request.key(wire.SERVER_KEYS, request.params["sdk_key"])
    since = _since_time(request.query.get("sinceTime"))
    loaded = ruleset_load.current(key.project_id)
    if since >= loaded.time:
        return wire.Response(downloads.no_updates(loaded.time))
    return downloads.send(request, dcs_v2.download(loaded, downloads.environment_for(key, loaded)))
