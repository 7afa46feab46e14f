"""The ``download_config_specs`` bodies, made once per ruleset version: the JSON (serialised
once by ``ruleset.load``), its gzip and an ETag, kept per project and default environment until
the version changes. A request only picks the bytes, so a 500-entity document costs what a
small answer costs."""

from __future__ import annotations

import gzip
import hashlib
import threading
from dataclasses import dataclass

from console import wire
from console.keycache import ResolvedKey
from ruleset.load import LoadedRuleset

GZIP_LEVEL = 6


@dataclass(frozen=True, slots=True)
class Download:
    time: int
    payload_id: int  # id() of the payload it was made from: a reloaded version is a new one
    body: bytes
    gzipped: bytes
    etag: str

    @property
    def gzip_etag(self) -> str:
        return self.etag[:-1] + '-gz"'


_downloads: dict[tuple[int, str | None], Download] = {}
_no_updates: dict[int, bytes] = {}
_lock = threading.Lock()


def made_from(body: bytes, loaded: LoadedRuleset) -> Download:
    """A download of ``body``, a serialised document of the version ``loaded``."""
    return Download(
        time=loaded.time,
        payload_id=id(loaded.payload),
        body=body,
        gzipped=gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0),
        etag='"' + hashlib.sha256(body).hexdigest()[:32] + '"',
    )


def is_current(made: Download | None, loaded: LoadedRuleset) -> bool:
    return made is not None and made.time == loaded.time and made.payload_id == id(loaded.payload)


def download(loaded: LoadedRuleset, environment: str | None) -> Download:
    slot = (loaded.project_id, environment)
    made = _downloads.get(slot)
    if is_current(made, loaded):
        return made
    made = made_from(loaded.body(environment), loaded)
    with _lock:
        _downloads[slot] = made
    return made


def no_updates(time: int) -> bytes:
    """``{"has_updates": false, "time": <time>}``, made once per version."""
    body = _no_updates.get(time)
    if body is None:
        body = wire.dumps({"has_updates": False, "time": time})
        if len(_no_updates) > 1024:
            _no_updates.clear()
        _no_updates[time] = body
    return body


def environment_for(key: ResolvedKey, loaded: LoadedRuleset) -> str | None:
    """The default environment a key's download names: its own first one when it is limited
    to environments the document's default is not among; else the document's (None)."""
    if key.environments and loaded.default_environment not in key.environments:
        return key.environments[0]
    return None


def _accepts_gzip(request: wire.Request) -> bool:
    return "gzip" in request.header("Accept-Encoding").lower()


def respond(request: wire.Request, loaded: LoadedRuleset, environment: str | None):
    return send(request, download(loaded, environment))


def send(request: wire.Request, made: Download) -> wire.Response:
    """The download, gzipped when accepted; 304 when ``If-None-Match`` names its ETag."""
    wants_gzip = _accepts_gzip(request)
    etag = made.gzip_etag if wants_gzip else made.etag
    headers = [("ETag", etag), ("Vary", "Accept-Encoding"), ("Cache-Control", "no-cache")]
    sent = request.header("If-None-Match")
    if sent and (made.etag in sent or made.gzip_etag in sent):
        return wire.Response(b"", status=304, content_type=None, headers=headers)
    if wants_gzip:
        headers.append(("Content-Encoding", "gzip"))
        return wire.Response(made.gzipped, headers=headers)
    return wire.Response(made.body, headers=headers)
