"""Reading a request body: the route's size limit (413, also after decompression, so a small
compressed bomb is refused like a large body) and decompression by ``Content-Encoding``: gzip,
deflate, br and zstd (Statsig's server-core SDKs send zstd ``log_event`` bodies); any other
encoding is a 415."""

from __future__ import annotations

import io
import json
import zlib
from typing import Any

import brotli
import orjson
import zstandard

from console.jsonbody import JSON_PARSE_ERRORS, discard_unread_body
from console.wire import values
from console.wire.errors import Refusal

KB = 1024
MB = 1024 * 1024
SUPPORTED_ENCODINGS = ("gzip", "deflate", "br", "zstd")
GZIP_MAGIC = b"\x1f\x8b"


def size_label(limit: int) -> str:
    if limit % MB == 0:
        return f"{limit // MB} MB"
    if limit % KB == 0:
        return f"{limit // KB} KB"
    return f"{limit:,} bytes"


def too_large(limit: int) -> Refusal:
    return Refusal(
        413,
        f"Request body is too large: the limit is {size_label(limit)}.",
        code="payload_too_large",
    )


def _malformed(encoding: str, exc: Exception) -> Refusal:
    return Refusal(
        400, f"Malformed request data: bad {encoding} data ({exc}).", code="invalid_payload"
    )


def read_stream(environ: dict[str, Any], limit: int) -> bytes:
    """The raw body as sent, refused unread (but drained) when its declared length is over
    ``limit``. A body without a length is read only when it is chunked."""
    stream = environ.get("wsgi.input")
    length = environ.get("CONTENT_LENGTH") or ""
    if length:
        try:
            declared = int(length)
        except ValueError:
            raise Refusal(400, "Content-Length is not a number.") from None
        if declared > limit:
            if stream is not None:
                discard_unread_body(stream)
            raise too_large(limit)
        raw = stream.read(declared) if declared > 0 and stream is not None else b""
    elif "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower() and stream is not None:
        raw = stream.read(limit + 1)
    else:
        return b""
    if len(raw) > limit:
        raise too_large(limit)
    return raw


def gunzip(raw: bytes, limit: int) -> bytes:
    """gzip or zlib data (the header tells which), at most ``limit`` bytes out."""
    try:
        inflater = zlib.decompressobj(zlib.MAX_WBITS | 32)
        out = inflater.decompress(raw, limit + 1)
    except zlib.error as exc:
        raise _malformed("gzip", exc) from None
    if len(out) > limit or inflater.unconsumed_tail:
        raise too_large(limit)
    return out


def _inflate(raw: bytes, limit: int) -> bytes:
    # HTTP's "deflate" is zlib-wrapped, but some clients send raw deflate: accept both.
    for wbits in (zlib.MAX_WBITS, -zlib.MAX_WBITS):
        try:
            inflater = zlib.decompressobj(wbits)
            out = inflater.decompress(raw, limit + 1)
        except zlib.error as exc:
            error = exc
            continue
        if len(out) > limit or inflater.unconsumed_tail:
            raise too_large(limit)
        return out
    raise _malformed("deflate", error)


def _unbrotli(raw: bytes, limit: int) -> bytes:
    try:
        decompressor = brotli.Decompressor()
        out = decompressor.process(raw, output_buffer_limit=limit + 1)
    except brotli.error as exc:
        raise _malformed("br", exc) from None
    if len(out) > limit:
        raise too_large(limit)
    return out


def _unzstd(raw: bytes, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    try:
        reader = zstandard.ZstdDecompressor().stream_reader(
            io.BytesIO(raw), read_across_frames=True
        )
        while size <= limit and (chunk := reader.read(limit + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
        out = b"".join(chunks)
    except zstandard.ZstdError as exc:
        raise _malformed("zstd", exc) from None
    if len(out) > limit:
        raise too_large(limit)
    return out


_DECODERS = {
    "gzip": gunzip,
    "x-gzip": gunzip,
    "deflate": _inflate,
    "br": _unbrotli,
    "zstd": _unzstd,
}


def decode(raw: bytes, content_encoding: str, limit: int) -> bytes:
    """Undoes ``Content-Encoding`` (a list is undone last first); 415 for an unknown one."""
    if not content_encoding or not raw:
        return raw
    codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
    for coding in reversed(codings):
        if coding == "identity":
            continue
        decoder = _DECODERS.get(coding)
        if decoder is None:
            raise Refusal(
                415,
                f"Content-Encoding '{coding[:40]}' is not supported: send gzip, deflate, br, "
                "zstd or no encoding.",
                code="unsupported_encoding",
            )
        raw = decoder(raw, limit)
    return raw


def _malformed_json(exc: Exception) -> Refusal:
    return Refusal(400, f"Malformed JSON body: {exc}.", code="invalid_payload")


def _python_loads(raw: bytes | str, orjson_error: Exception) -> Any:
    """What Python's parser makes of JSON that orjson refuses but a client may well send: lone
    surrogate escapes, NaN and Infinity, integers beyond 64 bits. Malformed JSON is refused in
    orjson's words."""
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise _malformed_json(orjson_error) from None


def loads(raw: bytes | str) -> Any:
    """JSON, or a 400 naming what is wrong with it: the field, when the JSON is well formed but
    holds what cannot be stored (a lone surrogate, NaN, a number beyond 64 bits)."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        error = exc
    except JSON_PARSE_ERRORS:
        raise Refusal(400, "Malformed JSON body.", code="invalid_payload") from None
    value = _python_loads(raw, error)
    found = values.problem(value, "body", thorough=True)
    if found is None:
        raise _malformed_json(error)
    field = found.path.removeprefix("body.") if found.path != "body" else "body"
    raise Refusal(400, f"{field}: {found.message}", field=field, code="invalid_payload")


def loads_lenient(raw: bytes | str) -> tuple[Any, bool]:
    """``(value, exact)``: JSON as orjson reads it (``exact``), else as Python's parser reads it,
    which may hold lone surrogates, NaN, Infinity or integers beyond 64 bits: the caller repairs
    each item it keeps (``values.repaired``), so one bad event never costs the batch."""
    try:
        return orjson.loads(raw), True
    except orjson.JSONDecodeError as exc:
        return _python_loads(raw, exc), False
    except JSON_PARSE_ERRORS:
        raise Refusal(400, "Malformed JSON body.", code="invalid_payload") from None
