"""In-memory membership of each project's ID lists, for evaluation without SQL.

``id_lists_for_project(project_id)`` returns one stable mapping per project and process:
``{list name (the segment id): IdListMembership}``, where ``hash8 in membership`` tests an SDK
id-list hash (``base64(sha256(id))[:8]``). The evaluator may keep the mapping or the
memberships it looked up: both stay current.

How it stays current without a query per check:

- Each membership replays the segment's SDK id-list file (``segments.listfile``), exactly as the
  SDKs do: it remembers the file id and how many bytes it read, and on a change reads only the
  chunks appended since (a reset, i.e. a new file id, reloads the list).
- At most every ``ID_LIST_CHECK_INTERVAL_MS`` (default: ``RULESET_CHECK_INTERVAL_MS``) a lookup
  compares the project's change token in the shared cache (one GET; services replace the
  token on commit) and only when it changed asks the database for the lists' file states (one
  query). Without a shared cache it asks the database at that interval instead.

Storage: a sorted ``array('Q')`` of the 48-bit values of the hashes (8 bytes per member; 1,000,000
members take 8 MB) searched with ``bisect``, plus two small sets for changes since the last
rebuild. No numpy: the standard library's array and bisect meet the budget (see
``bench/segments_membership.py``), and one less native dependency to ship.
"""

from __future__ import annotations

import binascii
import contextlib
import heapq
import logging
import secrets
import sys
import threading
import time
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping

from django.conf import settings
from django.core.cache import cache

from segments import listfile
from segments.selectors import id_list_states

logger = logging.getLogger(__name__)

TOKEN_CACHE_PREFIX = "segments:idlists:"
LINE = listfile.LINE_BYTES
# Sorting happens in slices of this many values, merged afterwards: bounds the temporary Python
# ints a rebuild creates (~10 MB per slice) instead of one per member.
SORT_SLICE = 250_000


def _interval_seconds() -> float:
    interval_ms = getattr(settings, "ID_LIST_CHECK_INTERVAL_MS", settings.RULESET_CHECK_INTERVAL_MS)
    return max(int(interval_ms), 0) / 1000.0


def hash_value(hash8: str) -> int | None:
    """The 48-bit integer of an 8-character id-list hash, or None when it is not one."""
    if not isinstance(hash8, str) or len(hash8) != 8:
        return None
    try:
        return int.from_bytes(binascii.a2b_base64(hash8), "big")
    except (binascii.Error, ValueError):
        return None


def _decode_lines(data: str) -> tuple[str, array] | None:
    """A chunk of ``±hash`` lines as (op, values) when every line has the same op (chunks are
    written that way), decoded without a Python loop per line; None for a mixed chunk."""
    raw = data.encode("ascii")
    if len(raw) % LINE:
        return None
    ops = raw[0::LINE]
    op = ops[:1]
    if not op or ops.count(op) != len(ops) or op not in (b"+", b"-"):
        return None
    count = len(ops)
    text = bytearray(8 * count)
    for position in range(8):
        text[position::8] = raw[1 + position :: LINE]
    decoded = binascii.a2b_base64(bytes(text))  # 6 bytes per hash
    padded = bytearray(8 * count)
    for position in range(6):
        padded[2 + position :: 8] = decoded[position::6]
    values = array("Q")
    values.frombytes(bytes(padded))
    if sys.byteorder == "little":
        values.byteswap()
    return op.decode(), values


def _decode_mixed(data: str) -> Iterator[tuple[str, int]]:
    for line in data.splitlines():
        if len(line) <= 1:
            continue
        value = hash_value(line[1:9])
        if value is not None and line[0] in "+-":
            yield line[0], value


def _sorted_unique(values: array) -> array:
    """A sorted array of the distinct values: slices sorted one at a time, then merged."""
    slices = [
        array("Q", sorted(values[start : start + SORT_SLICE]))
        for start in range(0, len(values), SORT_SLICE)
    ]
    merged: Iterable[int] = slices[0] if len(slices) == 1 else heapq.merge(*slices)
    out = array("Q")
    previous = -1
    for value in merged:
        if value != previous:
            out.append(value)
            previous = value
    return out


def _contains(base: array, value: int) -> bool:
    index = bisect_left(base, value)
    return index < len(base) and base[index] == value


class IdListMembership:
    """One ID list: ``hash8 in membership``. Sorted base plus sets of changes since."""

    __slots__ = ("_owner", "_state", "created_ms", "file_id", "name", "present", "read_to")

    def __init__(self, owner: _ProjectLists, name: str) -> None:
        self._owner = owner
        self.name = name
        self.present = False
        self.file_id = ""
        self.created_ms = 0
        self.read_to = 0
        # (base, added, removed): added ∩ base = ∅, removed ⊆ base. Swapped as one tuple.
        self._state: tuple[array, set[int], set[int]] = (array("Q"), set(), set())

    # -- reads (hot path) ------------------------------------------------------------------
    def __contains__(self, hash8: object) -> bool:
        self._owner.maybe_refresh()
        value = hash_value(hash8) if isinstance(hash8, str) else None
        if value is None:
            return False
        base, added, removed = self._state
        if value in added:
            return True
        return value not in removed and _contains(base, value)

    def __len__(self) -> int:
        base, added, removed = self._state
        return len(base) + len(added) - len(removed)

    def __repr__(self) -> str:
        return f"<IdListMembership {self.name} {len(self)} ids>"

    def memory_bytes(self) -> int:
        base, added, removed = self._state
        return base.itemsize * len(base) + sys.getsizeof(added) + sys.getsizeof(removed)

    # -- writes (refresh, under the owner's lock) -----------------------------------------
    def _reset(self) -> None:
        self._state = (array("Q"), set(), set())
        self.read_to = 0

    def _add(self, values: array) -> None:
        base, added, removed = self._state
        if not (base or added) or len(values) > max(4096, len(base) // 8):
            kept = array("Q", (v for v in base if v not in removed)) if removed else base
            merged = array("Q", kept)
            merged.extend(added)
            merged.extend(values)
            self._state = (_sorted_unique(merged), set(), set())
            return
        for value in values:
            if value in removed:
                removed.discard(value)
            elif not _contains(base, value):
                added.add(value)
        self._maybe_compact()

    def _remove(self, values: array) -> None:
        base, added, removed = self._state
        if len(values) > max(4096, len(base) // 8):
            gone = set(values)
            kept = array("Q", (v for v in base if v not in gone and v not in removed))
            kept.extend(v for v in added if v not in gone)
            self._state = (_sorted_unique(kept), set(), set())
            return
        for value in values:
            if value in added:
                added.discard(value)
            elif _contains(base, value):
                removed.add(value)
        self._maybe_compact()

    def _maybe_compact(self) -> None:
        base, added, removed = self._state
        if len(added) + len(removed) <= max(4096, len(base) // 8):
            return
        merged = array("Q", (v for v in base if v not in removed))
        merged.extend(added)
        self._state = (_sorted_unique(merged), set(), set())

    def _apply(self, data: str) -> None:
        decoded = _decode_lines(data)
        if decoded is not None:
            op, values = decoded
            (self._add if op == "+" else self._remove)(values)
            return
        for op, value in _decode_mixed(data):
            (self._add if op == "+" else self._remove)(array("Q", [value]))

    def _sync(self, segment_pk: int, file_id: str, size: int, created_ms: int) -> None:
        if file_id != self.file_id or (self.read_to == 0 and size > 0):
            # A new file (reset) or a first load: build aside, then swap, so concurrent checks
            # keep answering from the previous contents meanwhile.
            state, read_to = self._load_full(segment_pk, file_id) if file_id else (None, 0)
            self._state = state or (array("Q"), set(), set())
            self.read_to = read_to
            self.file_id = file_id
            self.created_ms = created_ms
            return
        if size <= self.read_to:
            return
        for end, data in listfile.iter_chunks(
            segment_pk=segment_pk, file_id=file_id, start=self.read_to
        ):
            self._apply(data)
            self.read_to = end

    def _load_full(
        self, segment_pk: int, file_id: str
    ) -> tuple[tuple[array, set[int], set[int]], int]:
        """The whole file into a new state; consecutive additions are sorted once."""
        scratch = IdListMembership(self._owner, self.name)
        pending = array("Q")
        read_to = 0
        for end, data in listfile.iter_chunks(segment_pk=segment_pk, file_id=file_id, start=0):
            decoded = _decode_lines(data)
            if decoded is not None and decoded[0] == "+":
                pending.extend(decoded[1])
            else:
                if pending:
                    scratch._add(pending)
                    pending = array("Q")
                scratch._apply(data)
            read_to = end
        if pending:
            scratch._add(pending)
        return scratch._state, read_to


class _ProjectLists:
    def __init__(self, project_id: int) -> None:
        self.project_id = project_id
        self.lock = threading.RLock()
        self.lists: dict[str, IdListMembership] = {}
        self.token: str | None = None
        self.loaded = False
        self.next_check = 0.0

    def maybe_refresh(self) -> None:
        if self.loaded and time.monotonic() < self.next_check:
            return
        # Until the first load is done every caller waits for it (no answers from an empty
        # list); afterwards one caller refreshes while the others answer from memory.
        with self.lock:
            now = time.monotonic()
            if now < self.next_check:
                return
            self.next_check = now + _interval_seconds()
            try:
                self._refresh()
            except Exception:  # keep serving what we have; try again next interval
                logger.exception("id list refresh failed project_id=%s", self.project_id)

    def expire(self) -> None:
        self.next_check = 0.0

    def _refresh(self) -> None:
        token = _read_token(self.project_id)
        shared = settings.CACHE_IS_SHARED
        if shared and self.loaded and token is not None and token == self.token:
            return
        states = id_list_states(project_id=self.project_id)
        present = set()
        for state in states:
            membership = self.lists.get(state.name)
            if membership is None:
                membership = self.lists[state.name] = IdListMembership(self, state.name)
            membership._sync(state.segment_pk, state.file_id, state.size, state.created_ms)
            membership.present = True
            present.add(state.name)
        for name, membership in self.lists.items():
            if name not in present and membership.present:
                membership.present = False
                membership._reset()
                membership.file_id = ""
        if token is None and shared:
            token = _ensure_token(self.project_id)
        self.token = token
        self.loaded = True

    def membership(self, name: str) -> IdListMembership:
        membership = self.lists.get(name)
        if membership is None:
            with self.lock:
                membership = self.lists.get(name)
                if membership is None:
                    # A list the ruleset names but this process has not seen yet: an empty
                    # placeholder, filled by the next refresh (which is due now).
                    membership = self.lists[name] = IdListMembership(self, name)
                    self.expire()
        return membership


class ProjectIdLists(Mapping[str, IdListMembership]):
    """The project's ID lists by name. ``lists[name]`` always answers a membership (empty for
    a list that does not exist) so that a compiled ruleset can hold on to it; ``name in lists``
    and iteration cover only the lists that exist."""

    __slots__ = ("_lists",)

    def __init__(self, lists: _ProjectLists) -> None:
        self._lists = lists

    def __getitem__(self, name: str) -> IdListMembership:
        self._lists.maybe_refresh()
        return self._lists.membership(name)

    def get(self, name: str, default=None) -> IdListMembership:  # type: ignore[override]
        return self[name]

    def __contains__(self, name: object) -> bool:
        self._lists.maybe_refresh()
        membership = self._lists.lists.get(name) if isinstance(name, str) else None
        return membership is not None and membership.present

    def __iter__(self) -> Iterator[str]:
        self._lists.maybe_refresh()
        return iter([name for name, m in list(self._lists.lists.items()) if m.present])

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def memory_bytes(self) -> int:
        return sum(m.memory_bytes() for m in self._lists.lists.values())


_registry_lock = threading.Lock()
_projects: dict[int, ProjectIdLists] = {}


def id_lists_for_project(project_id: int) -> ProjectIdLists:
    """The project's ID lists in this process (one stable object per project)."""
    lists = _projects.get(project_id)
    if lists is None:
        with _registry_lock:
            lists = _projects.get(project_id)
            if lists is None:
                lists = _projects[project_id] = ProjectIdLists(_ProjectLists(project_id))
    return lists


def _token_key(project_id: int) -> str:
    return f"{TOKEN_CACHE_PREFIX}{project_id}"


def _read_token(project_id: int) -> str | None:
    try:
        return cache.get(_token_key(project_id))
    except Exception:
        return None


def _ensure_token(project_id: int) -> str | None:
    token = secrets.token_hex(8)
    with contextlib.suppress(Exception):
        cache.add(_token_key(project_id), token, timeout=None)
        return cache.get(_token_key(project_id))
    return None


def notify_changed(project_id: int) -> None:
    """Called on commit of any ID-list change: every process re-reads the lists' states at its
    next check (this process at once)."""
    with contextlib.suppress(Exception):
        cache.set(_token_key(project_id), secrets.token_hex(8), timeout=None)
    lists = _projects.get(project_id)
    if lists is not None:
        lists._lists.expire()


def forget_all() -> None:
    """Drops every in-memory list (tests)."""
    with _registry_lock:
        _projects.clear()
