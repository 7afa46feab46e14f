"""Before/after diffs of recorded changes, for people: every value whole, structured ones as
indented JSON compared line by line. Pure functions, no ORM."""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ADDED, REMOVED, SAME = "added", "removed", "same"
ABSENT = "—"


@dataclass(frozen=True, slots=True)
class DiffLine:
    kind: str  # ADDED, REMOVED or SAME
    text: str


@dataclass(frozen=True, slots=True)
class FieldDiff:
    field: str
    old: str
    new: str
    # Line by line when either side spans several lines; empty for two one-line values.
    lines: list[DiffLine] = field(default_factory=list)

    @property
    def added(self) -> int:
        return sum(line.kind == ADDED for line in self.lines)

    @property
    def removed(self) -> int:
        return sum(line.kind == REMOVED for line in self.lines)


def as_text(value: Any) -> str:
    """A value whole: strings as they are, everything else as indented JSON."""
    if value is None:
        return ABSENT
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


def line_diff(old: str, new: str) -> list[DiffLine]:
    """Every line of both sides in order, each marked added, removed or the same."""
    kinds = {"+ ": ADDED, "- ": REMOVED, "  ": SAME}
    return [
        DiffLine(kinds[line[:2]], line[2:])
        for line in difflib.ndiff(old.splitlines(), new.splitlines())
        if line[:2] in kinds
    ]


def old_and_new(change: Any) -> tuple[Any, Any]:
    """One field of an audit entry's changes: ``{"old": ..., "new": ...}``, or a bare value
    (what was set)."""
    if isinstance(change, Mapping) and ("old" in change or "new" in change):
        return change.get("old"), change.get("new")
    return None, change


def change_diffs(changes: Mapping[str, Any] | None) -> list[FieldDiff]:
    """An audit entry's ``{field: {"old": ..., "new": ...}}`` (or ``{field: value}``) as one
    diff per field, in the entry's order."""
    diffs = []
    for name, change in (changes or {}).items():
        old, new = old_and_new(change)
        old_text, new_text = as_text(old), as_text(new)
        lines = []
        if "\n" in old_text or "\n" in new_text:
            # A side that did not exist has no lines, rather than a line saying so.
            lines = line_diff("" if old is None else old_text, "" if new is None else new_text)
        diffs.append(FieldDiff(field=name, old=old_text, new=new_text, lines=lines))
    return diffs
