"""What "read back equals what was sent" means for a client that compares its plan with what it
reads (Terraform reports "inconsistent result after apply" otherwise): every field sent is read
back with the same value; fields the server fills in (ids, times, owners) may be added."""

from __future__ import annotations

from typing import Any


def differences(sent: Any, read: Any, path: str = "", *, computed: frozenset = frozenset()):
    """Where ``read`` does not give back what ``sent`` sent, as "path: sent X, read Y" lines.
    ``computed`` names keys the server assigns (a rule's ``id`` sent as "")."""
    if isinstance(sent, dict):
        if not isinstance(read, dict):
            return [f"{path or '.'}: sent an object, read {read!r}"]
        found = []
        for key, value in sent.items():
            if key in computed:
                continue
            if key not in read:
                found.append(f"{path}.{key}: sent {value!r}, not read back")
            else:
                found.extend(differences(value, read[key], f"{path}.{key}", computed=computed))
        return found
    if isinstance(sent, list):
        if not isinstance(read, list) or len(read) != len(sent):
            return [f"{path}: sent {sent!r}, read {read!r}"]
        found = []
        for index, (item, read_item) in enumerate(zip(sent, read, strict=True)):
            found.extend(differences(item, read_item, f"{path}[{index}]", computed=computed))
        return found
    return [] if sent == read else [f"{path}: sent {sent!r}, read {read!r}"]


def assert_read_back(sent: dict, read: dict, *, computed: frozenset = frozenset()) -> None:
    problems = differences(sent, read, computed=computed)
    assert not problems, "\n".join(problems)
