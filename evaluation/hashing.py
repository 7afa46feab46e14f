"""The two hashes of Statsig evaluation: the bucketing hash and the id-list membership hash."""

from __future__ import annotations

from base64 import b64encode
from hashlib import sha256
from struct import Struct

FIRST_8_BYTES = Struct(">Q").unpack_from


def bucket_hash(value: str) -> int:
    """The first 8 bytes of SHA-256(value) as a big-endian unsigned integer: the basis of pass
    percentages (``% 10000``) and user buckets (``% 1000``)."""
    return FIRST_8_BYTES(sha256(value.encode()).digest())[0]


def id_list_hash(unit_id: str) -> str:
    """The 8-character key under which an id is stored in an id list: standard base64 of its
    SHA-256, truncated."""
    return b64encode(sha256(unit_id.encode()).digest())[:8].decode()
