"""JSON values from the wire that must be storable: the rules every public endpoint applies to
what it keeps (a user that becomes an exposure, an event that becomes a row).

A value is storable when its strings hold no NUL character and no lone UTF-16 surrogate (half of
a character, which browsers produce when they cut an emoji in half; PostgreSQL and UTF-8 refuse
both), its numbers are finite and fit in 64 bits, and it is nested at most ``MAX_DEPTH`` levels
deep. Evaluation endpoints refuse a user that is not (``problem``: the path of the first fault,
for a 400 naming the field); ingestion endpoints repair an event (``repaired``: NUL removed, a
lone surrogate becomes U+FFFD, NaN and Infinity become null, a number beyond 64 bits becomes its
decimal string) and drop the event only when it is nested too deep.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import orjson

from console.wire.errors import Refusal

MAX_DEPTH = 250
_LARGEST_INTEGER = 2**63
_NUL = "\x00"
_ENCODED_NUL = b"\\u0000"
MAX_PATH_CHARS = 200


class Problem(NamedTuple):
    path: str
    message: str


class TooDeep(ValueError):
    """A value nested more than ``MAX_DEPTH`` levels deep: no repair keeps its meaning."""


def _text_problem(text: str) -> str | None:
    if _NUL in text:
        return "must not contain a NUL character (\\u0000)."
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "must not contain a lone UTF-16 surrogate (half of a character)."
    return None


def _number_problem(value: Any) -> str | None:
    if isinstance(value, float) and not math.isfinite(value):
        return "must be a finite number (NaN and Infinity cannot be stored)."
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= _LARGEST_INTEGER:
        return "must be a number that fits in 64 bits."
    return None


def _key_label(key: str) -> str:
    return key.encode("utf-8", "backslashreplace").decode("utf-8").replace(_NUL, "\\u0000")


def _walk(value: Any, path: str, depth: int) -> Problem | None:
    if isinstance(value, str):
        message = _text_problem(value)
        return Problem(path, message) if message else None
    if isinstance(value, dict | list):
        if depth >= MAX_DEPTH:
            return Problem(path, f"must not be nested more than {MAX_DEPTH} levels deep.")
        if isinstance(value, list):
            for index, item in enumerate(value):
                found = _walk(item, f"{path}[{index}]", depth + 1)
                if found:
                    return found
            return None
        for key, item in value.items():
            child = f"{path}.{_key_label(str(key))}"
            message = _text_problem(key) if isinstance(key, str) else None
            if message:
                return Problem(child, "the key " + message)
            found = _walk(item, child, depth + 1)
            if found:
                return found
        return None
    message = _number_problem(value)
    return Problem(path, message) if message else None


def _plainly_storable(value: Any) -> bool:
    """One C-level encode settles nearly every value: it refuses lone surrogates, numbers beyond
    64 bits and very deep nesting; counting brackets bounds the depth; NUL shows as an escape.
    (NaN only comes from the lenient parser, whose values are repaired, never checked here.)"""
    try:
        encoded = orjson.dumps(value)
    except (TypeError, orjson.JSONEncodeError):
        return False
    return _ENCODED_NUL not in encoded and encoded.count(b"{") + encoded.count(b"[") <= MAX_DEPTH


def problem(value: Any, path: str, *, thorough: bool = False) -> Problem | None:
    """The first part of ``value`` that cannot be stored (its path from ``path``, e.g.
    ``user.custom.tags[2]``) and what is wrong with it, or None. ``thorough`` walks the value
    even when one encode would pass it (a value from the lenient parser may hold NaN)."""
    if isinstance(value, str):
        message = _text_problem(value)
        return Problem(path[:MAX_PATH_CHARS], message) if message else None
    if not thorough and _plainly_storable(value):
        return None
    found = _walk(value, path, 0)
    return Problem(found.path[:MAX_PATH_CHARS], found.message) if found else None


def require_storable(value: Any, path: str, *, code: str | None = None) -> None:
    """A 400 naming the first part of ``value`` (found at ``path``) that cannot be stored
    (``code``: the protocol's error code, for PostHog)."""
    found = problem(value, path)
    if found is not None:
        raise Refusal(400, f"{found.path}: {found.message}", field=found.path, code=code)


def _repaired_text(text: str) -> str:
    if _NUL in text:
        text = text.replace(_NUL, "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # Pairs written as two escapes join; a lone half becomes U+FFFD.
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text


def _repair(value: Any, depth: int) -> Any:
    if isinstance(value, str):
        return _repaired_text(value)
    if isinstance(value, dict | list):
        if depth >= MAX_DEPTH:
            raise TooDeep(f"nested more than {MAX_DEPTH} levels deep")
        if isinstance(value, list):
            return [_repair(item, depth + 1) for item in value]
        return {
            (_repaired_text(key) if isinstance(key, str) else key): _repair(item, depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= _LARGEST_INTEGER:
        return str(value)
    return value


def repaired(value: Any) -> Any:
    """``value`` made storable (see the module's rules); ``TooDeep`` when it is nested too deep."""
    if isinstance(value, str):
        return _repaired_text(value)
    return _repair(value, 0)
