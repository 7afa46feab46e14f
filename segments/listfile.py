"""The SDK id-list file of a segment (reference §4.4): an append-only log of ``+<hash>`` and
``-<hash>`` lines, ``hash = base64(sha256(id))[:8]``, stored as consecutive byte ranges
(``IdListFileChunk``) so that ``Range: bytes=N-`` is one indexed query.

Every line is exactly ``LINE_BYTES`` ASCII bytes. Writers hold the segment row lock (the services
do) and save the segment's ``list_file_*`` fields themselves.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from segments.models import IdListFileChunk, Segment

LINE_BYTES = 10
# Lines per stored chunk: ~500 KB, so serving a ten-million-line file streams bounded memory.
CHUNK_LINES = 50_000


def id_list_hash(unit_id: str) -> str:
    """The SDK's id-list hash: the first 8 characters of base64(sha256(id))."""
    return base64.b64encode(hashlib.sha256(unit_id.encode("utf-8")).digest())[:8].decode("ascii")


def now_ms() -> int:
    return int(time.time() * 1000)


def start_new_file(segment: Segment) -> None:
    """A new, empty file id: SDKs drop what they read and download the new file from byte 0.
    The previous file's chunks are deleted."""
    if segment.pk and segment.list_file_id:
        IdListFileChunk.objects.filter(segment=segment).delete()
    segment.list_file_id = secrets.token_hex(16)
    segment.list_file_size = 0
    segment.list_file_created_ms = now_ms()


def append_lines(segment: Segment, *, op: str, unit_ids: Iterable[str]) -> int:
    """Appends ``<op><hash>`` for each id; returns the number of lines written."""
    if op not in ("+", "-"):
        raise ValueError("op is '+' or '-'")
    written = 0
    rows: list[IdListFileChunk] = []
    batch: list[str] = []

    def flush() -> None:
        nonlocal batch
        if not batch:
            return
        data = "".join(batch)
        start = segment.list_file_size
        rows.append(
            IdListFileChunk(
                segment=segment,
                file_id=segment.list_file_id,
                start=start,
                end=start + len(data),
                data=data,
            )
        )
        segment.list_file_size = start + len(data)
        batch = []
        if len(rows) >= 20:
            IdListFileChunk.objects.bulk_create(rows)
            rows.clear()

    for unit_id in unit_ids:
        batch.append(f"{op}{id_list_hash(unit_id)}\n")
        written += 1
        if len(batch) >= CHUNK_LINES:
            flush()
    flush()
    if rows:
        IdListFileChunk.objects.bulk_create(rows)
    return written


@dataclass(frozen=True, slots=True)
class FileSlice:
    """The bytes of one file from ``start`` to its end at the time of reading."""

    start: int
    end: int
    chunks: Iterator[str]

    @property
    def length(self) -> int:
        return self.end - self.start


def read_from(*, segment_pk: int, file_id: str, start: int) -> FileSlice | None:
    """The file from byte ``start`` to its current end, streamed chunk by chunk, or None when the
    file does not exist (reset since) or ``start`` is at or past its end."""
    end = (
        IdListFileChunk.objects.filter(segment_id=segment_pk, file_id=file_id)
        .order_by("-start")
        .values_list("end", flat=True)
        .first()
    )
    if end is None or start >= end or start < 0:
        return None
    rows = (
        IdListFileChunk.objects.filter(
            segment_id=segment_pk, file_id=file_id, end__gt=start, start__lt=end
        )
        .order_by("start")
        .values_list("start", "data")
    )

    def chunks() -> Iterator[str]:
        for chunk_start, data in rows.iterator(chunk_size=20):
            yield data[start - chunk_start :] if chunk_start < start else data

    return FileSlice(start=start, end=end, chunks=chunks())


def iter_chunks(*, segment_pk: int, file_id: str, start: int = 0) -> Iterator[tuple[int, str]]:
    """``(end, data)`` of every chunk of the file starting at or after the chunk boundary
    ``start``, in order. The in-memory membership reads whole chunks and remembers the last end."""
    rows = (
        IdListFileChunk.objects.filter(segment_id=segment_pk, file_id=file_id, start__gte=start)
        .order_by("start")
        .values_list("end", "data")
    )
    yield from rows.iterator(chunk_size=20)
