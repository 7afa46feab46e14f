"""PostHog's body conventions on top of the toolkit's body reading (``console.wire``: size
limits and ``Content-Encoding``): gzip by magic bytes or ``?compression=``, base64, form-encoded
``data=`` bodies and ``?data=`` on GET. Errors are ``wire.Refusal`` with PostHog's codes."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, unquote_plus

from console import wire

MB = wire.MB
GZIP_MAGIC = b"\x1f\x8b"
NO_DATA = (
    "No data found. Make sure to use a POST request when sending the payload in the body of the "
    "request."
)


def is_gzip(raw: bytes) -> bool:
    return raw[:2] == GZIP_MAGIC


def sniffed(raw: bytes, *, limit: int) -> bytes:
    """Some clients gzip without saying so: the magic bytes tell."""
    return wire.gunzip(raw, limit) if is_gzip(raw) else raw


def _invalid(detail: str) -> wire.Refusal:
    return wire.Refusal(400, detail, code="invalid_payload")


def b64decode_loose(data: bytes | str) -> bytes:
    """Standard or URL-safe base64, URL-encoded or not, padding optional."""
    text = data.decode("latin-1") if isinstance(data, bytes) else data
    text = text.strip()
    if "%" in text:
        text = unquote_plus(text)
    text = text.replace("-", "+").replace("_", "/").replace(" ", "+").replace("\n", "")
    text += "=" * (-len(text) % 4)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise _invalid("Malformed request data: bad base64 data.") from None


Loads = Callable[[bytes], tuple[Any, bool]]


def _strict(raw: bytes) -> tuple[Any, bool]:
    return wire.loads(raw), True


def decode_posthog_body(request: wire.Request, *, limit: int) -> Any:
    """The body by PostHog's conventions (``decode_posthog_events``), refused with a 400 naming
    the field when it holds what cannot be stored (a lone surrogate, NaN, ...)."""
    return _decode_request(request, limit, _strict)[0]


def decode_posthog_events(request: wire.Request, *, limit: int) -> tuple[Any, bool]:
    """``(body, exact)``: the body read leniently (``wire.loads_lenient``), so that a capture
    request whose one event holds a lone surrogate or NaN keeps its other events; when not
    ``exact``, each event is repaired before it is kept."""
    return _decode_request(request, limit, wire.loads_lenient)


def _decode_request(request: wire.Request, limit: int, loads: Loads) -> tuple[Any, bool]:
    """PostHog's body conventions (``posthog/utils.py`` ``load_data_from_request`` and Rust
    ``handler/decoding.rs``): JSON, gzip (``?compression=gzip|gzip-js``, ``Content-Encoding`` or
    magic bytes), base64 (``?compression=base64`` or as a fallback), form ``data=`` (JSON or
    base64, optionally gzip), ``?data=`` on GET."""
    compression = request.query.get("compression", "")
    if request.method == "GET":
        data = request.query.get("data", "")
        if not data:
            raise wire.Refusal(400, NO_DATA, code="no_data")
        return _decode_payload(data.encode("latin-1", "replace"), compression, limit, loads)
    raw = request.body(limit)
    if request.content_type == "application/x-www-form-urlencoded" and not is_gzip(raw):
        form = parse_qs(raw.decode("latin-1"), keep_blank_values=True)
        compression = compression or (form.get("compression") or [""])[0]
        data = (form.get("data") or [""])[0]
        if not data:
            raise wire.Refusal(400, NO_DATA, code="no_data")
        return _decode_payload(data.encode("latin-1"), compression, limit, loads)
    if not raw:
        raise wire.Refusal(400, NO_DATA, code="no_data")
    return _decode_payload(raw, compression, limit, loads)


def _decode_payload(raw: bytes, compression: str, limit: int, loads: Loads) -> tuple[Any, bool]:
    compression = compression.lower()
    if compression not in {"", "gzip", "gzip-js", "base64"}:
        raise _invalid(f"Unsupported compression type: {compression[:40]}.")
    if compression == "base64":
        raw = b64decode_loose(raw)
    if compression in {"gzip", "gzip-js"} or is_gzip(raw):
        return _loads(wire.gunzip(raw, limit), loads)
    try:
        return loads(raw)
    except wire.Refusal as exc:
        if exc.field is not None:  # JSON, but holding what cannot be stored: say where
            raise
    # Neither JSON nor declared: try base64 (possibly of gzip), as PostHog does.
    try:
        decoded = b64decode_loose(raw)
    except wire.Refusal:
        raise _invalid("Malformed request data: not JSON.") from None
    return _loads(sniffed(decoded, limit=limit), loads)


def _loads(raw: bytes, loads: Loads) -> tuple[Any, bool]:
    try:
        return loads(raw)
    except wire.Refusal as exc:
        if exc.field is not None:
            raise
        raise _invalid(f"Malformed request data: {exc.message}") from None
