"""Reading ingestion request bodies: size limits, gzip (by header or magic bytes), base64 and
form-encoded ``data=`` bodies, JSON. Shared by the Statsig and PostHog endpoints, which turn a
``BodyError`` into their own error shape."""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from typing import Any
from urllib.parse import parse_qs, unquote_plus

from django.http import HttpRequest
from django.http.request import RawPostDataException

from console.jsonbody import JSON_PARSE_ERRORS, discard_unread_body

MB = 1024 * 1024
GZIP_MAGIC = b"\x1f\x8b"


class BodyError(Exception):
    def __init__(self, status: int, code: str, detail: str):
        self.status = status
        self.code = code
        self.detail = detail
        super().__init__(detail)


def too_large(limit: int) -> BodyError:
    return BodyError(
        413, "payload_too_large", f"Request body is too large: the limit is {limit // MB} MB."
    )


def read_raw(request: HttpRequest, *, limit: int) -> bytes:
    """The raw body, refused before reading when its declared length is over ``limit``."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        discard_unread_body(request)
        raise too_large(limit)
    try:
        raw = request.body
    except RawPostDataException:  # the form parser got there first
        raw = b""
    if len(raw) > limit:
        raise too_large(limit)
    return raw


def gunzip(raw: bytes, *, limit: int) -> bytes:
    """Decompresses gzip (or zlib) data, refusing output over ``limit`` (decompression bombs)."""
    try:
        inflater = zlib.decompressobj(zlib.MAX_WBITS | 32)  # gzip or zlib header
        out = inflater.decompress(raw, limit + 1)
        if len(out) > limit or inflater.unconsumed_tail:
            raise too_large(limit)
        return out
    except zlib.error as exc:
        raise BodyError(
            400, "invalid_payload", f"Malformed request data: bad gzip data ({exc})."
        ) from exc


def is_gzip(raw: bytes) -> bool:
    return raw[:2] == GZIP_MAGIC


def maybe_gunzip(raw: bytes, *, content_encoding: str, limit: int) -> bytes:
    if "gzip" in content_encoding.lower() or is_gzip(raw):
        return gunzip(raw, limit=limit)
    return raw


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
    except (binascii.Error, ValueError) as exc:
        raise BodyError(400, "invalid_payload", "Malformed request data: bad base64 data.") from exc


def loads(raw: bytes | str) -> Any:
    try:
        return json.loads(raw)
    except JSON_PARSE_ERRORS as exc:
        raise BodyError(400, "invalid_payload", f"Malformed request data: {exc}") from exc


def decode_posthog_body(request: HttpRequest, *, limit: int) -> Any:
    """PostHog's body conventions (``posthog/utils.py`` ``load_data_from_request`` and Rust
    ``handler/decoding.rs``): JSON, gzip (``?compression=gzip|gzip-js``, ``Content-Encoding`` or
    magic bytes), base64 (``?compression=base64`` or as a fallback), form ``data=`` (JSON or
    base64, optionally gzip), ``?data=`` on GET."""
    compression = request.GET.get("compression", "")
    content_type = (request.content_type or "").lower()
    if request.method == "GET":
        data = request.GET.get("data", "")
        if not data:
            raise BodyError(
                400,
                "no_data",
                "No data found. Make sure to use a POST request when sending the payload in the "
                "body of the request.",
            )
        return _decode_payload(data.encode("latin-1", "replace"), compression, "", limit)
    raw = read_raw(request, limit=limit)
    if content_type == "application/x-www-form-urlencoded" and not is_gzip(raw):
        form = parse_qs(raw.decode("latin-1"), keep_blank_values=True)
        compression = compression or (form.get("compression") or [""])[0]
        data = (form.get("data") or [""])[0]
        if not data:
            raise BodyError(
                400,
                "no_data",
                "No data found. Make sure to use a POST request when sending the payload in the "
                "body of the request.",
            )
        return _decode_payload(data.encode("latin-1"), compression, "", limit)
    if not raw:
        raise BodyError(
            400,
            "no_data",
            "No data found. Make sure to use a POST request when sending the payload in the body "
            "of the request.",
        )
    return _decode_payload(raw, compression, request.headers.get("Content-Encoding", ""), limit)


def _decode_payload(raw: bytes, compression: str, content_encoding: str, limit: int) -> Any:
    compression = compression.lower()
    if compression == "lz64":
        raise BodyError(400, "invalid_payload", "Unsupported compression type: lz64.")
    if compression not in {"", "gzip", "gzip-js", "base64"}:
        raise BodyError(400, "invalid_payload", f"Unsupported compression type: {compression}.")
    if compression == "base64":
        raw = b64decode_loose(raw)
    if compression in {"gzip", "gzip-js"} or "gzip" in content_encoding.lower() or is_gzip(raw):
        return loads(gunzip(raw, limit=limit))
    try:
        return json.loads(raw)
    except JSON_PARSE_ERRORS:
        pass
    # Neither JSON nor declared: try base64 (possibly of gzip), as PostHog does.
    try:
        decoded = b64decode_loose(raw)
    except BodyError:
        raise BodyError(400, "invalid_payload", "Malformed request data: not JSON.") from None
    if is_gzip(decoded):
        decoded = gunzip(decoded, limit=limit)
    return loads(decoded)
