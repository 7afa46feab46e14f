"""The registry of erasers: one per store that holds user ids.

An eraser removes every trace of some ids of one unit type from one store, for one project::

    from privacy.erasers import register_eraser

    @register_eraser("flag_events.events", covers=["flag_events.Event"])
    def erase_events(*, project_id: int, unit_type: str, ids: list[str]) -> int:
        ...  # set-based deletes in chunks (see ``chunked``), idempotent
        return rows_touched

Rules every eraser follows:

- ``ids`` may be long (up to 10,000); work in chunks of ``CHUNK_SIZE`` ids with one set-based
  statement per chunk and table (``WHERE user_id = ANY(%s)`` / ``__in``), never a query per id or row.
- Idempotent: running it again after a crash or on a second worker erases nothing more and fails
  nothing.
- ``unit_type`` is ``"user_id"`` (Statsig ``userID``) or a custom unit type such as ``"companyID"``;
  use ``is_user_id_type`` to tell them apart, and ``custom_id_keys`` to find the keys under which the
  custom id may appear in stored user objects.
- Never log the ids.
- Return how many rows (or entries) it changed, for progress reporting only.
- Declare the models it erases from with ``covers=["app_label.ModelName", ...]``:
  ``tests/privacy/test_registry.py`` fails for any model with a user-id-like field that no eraser
  covers. The job calls an eraser inside a transaction per chunk, so ``transaction.on_commit``
  hooks (ruleset rebuilds) run when the chunk commits.

Each app registers its erasers in its ``erasers.py``, imported from its ``AppConfig.ready()``. The
deletion job (``privacy.services.deletion_process_pending``) runs every registered eraser, in name
order, for every pending request.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol, TypeVar

logger = logging.getLogger(__name__)

#: ids handed to one set-based statement. Small enough that a chunk's DELETE holds its row locks
#: for milliseconds, so concurrent ingestion keeps answering.
CHUNK_SIZE = 500

#: The unit type names that mean "the user id" (Statsig wire uses both spellings).
USER_ID_TYPES = frozenset({"user_id", "userid", "userID", "user", "distinct_id"})

#: What audit-log payloads and review payloads show instead of an erased id.
ERASED_MARKER = "[erased]"


class Eraser(Protocol):
    def __call__(self, *, project_id: int, unit_type: str, ids: list[str]) -> int: ...


@dataclass(frozen=True)
class RegisteredEraser:
    name: str
    fn: Eraser
    module: str
    # Model labels ("app_label.ModelName") whose user ids this eraser erases; the registry test
    # checks that every model with a user-id-like field is covered by some eraser.
    covers: tuple[str, ...] = ()

    def __call__(self, *, project_id: int, unit_type: str, ids: list[str]) -> int:
        return int(self.fn(project_id=project_id, unit_type=unit_type, ids=list(ids)) or 0)


_REGISTRY: dict[str, RegisteredEraser] = {}

F = TypeVar("F", bound=Callable[..., int])


def register_eraser(name: str, *, covers: Iterable[str] = ()) -> Callable[[F], F]:
    """Register ``fn(*, project_id, unit_type, ids) -> int`` under a unique, stable ``name``.

    The name is stored in each request's progress, so keep it stable (``<app_label>.<store>``).
    ``covers`` lists the models it erases from (``"flag_events.Event"``); without it, a name
    ``"<app_label>.<model_name>"`` covers that model. Registering the same function again (module
    re-import) is harmless; a different function under a taken name is an error.
    """

    if not name or not isinstance(name, str):
        raise ValueError("eraser name must be a non-empty string")

    def decorator(fn: F) -> F:
        qualname = f"{fn.__module__}.{getattr(fn, '__qualname__', repr(fn))}"
        existing = _REGISTRY.get(name)
        if existing is not None and existing.module != qualname:
            raise ValueError(f"eraser {name!r} is already registered by {existing.module}")
        _REGISTRY[name] = RegisteredEraser(name=name, fn=fn, module=qualname, covers=tuple(covers))
        return fn

    return decorator


def registered_erasers() -> list[RegisteredEraser]:
    """Every registered eraser, in name order (the order the job runs them)."""
    return [_REGISTRY[name] for name in sorted(_REGISTRY)]


def covered_models() -> dict[str, list[str]]:
    """``{"app_label.modelname" (lower case): [eraser names]}`` for every covered model."""
    out: dict[str, list[str]] = {}
    for eraser in registered_erasers():
        labels = {label.lower() for label in eraser.covers}
        if not eraser.covers:
            # "flag_events.events" covers flag_events.Event; "console.audit_log" console.AuditLog.
            app_label, _, store = eraser.name.lower().partition(".")
            store = store.replace("_", "")
            labels.update({f"{app_label}.{store}", f"{app_label}.{store.removesuffix('s')}"})
        for label in labels:
            out.setdefault(label, []).append(eraser.name)
    return out


def eraser_names() -> list[str]:
    return sorted(_REGISTRY)


def get_eraser(name: str) -> RegisteredEraser | None:
    return _REGISTRY.get(name)


def unregister_eraser(name: str) -> None:
    """For tests only."""
    _REGISTRY.pop(name, None)


# ---------------------------------------------------------------------------------------------
# Helpers for eraser authors


def chunked(ids: Iterable[str], size: int = CHUNK_SIZE) -> Iterator[list[str]]:
    """Yield lists of at most ``size`` ids (deduplicated, order kept)."""
    chunk: list[str] = []
    seen: set[str] = set()
    for value in ids:
        if value in seen:
            continue
        seen.add(value)
        chunk.append(value)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def is_user_id_type(unit_type: str) -> bool:
    """True when ``unit_type`` names the user id rather than a custom id type."""
    return unit_type in USER_ID_TYPES or unit_type.lower() in {t.lower() for t in USER_ID_TYPES}


def custom_id_keys(unit_type: str) -> list[str]:
    """Keys under which a custom id of ``unit_type`` may appear in a stored ``customIDs`` dict.

    Statsig matches custom id types case-insensitively (``companyID`` vs ``companyid``), so
    callers compare keys against these lower-cased too when they can.
    """
    return sorted({unit_type, unit_type.lower()})


_TOKEN_SPLIT = re.compile(r"([^\w\-.@:+|/]+)")


def replace_ids_in_json(
    value: object, ids: set[str], marker: str = ERASED_MARKER
) -> tuple[object, int]:
    """Return ``value`` with every id in ``ids`` replaced by ``marker``, and how many were replaced.

    Walks dicts (keys and values) and lists. A string equal to an id becomes the marker; inside a
    longer string (a delimited list ``"a,b,c"`` or a sentence) each whole token equal to an id is
    replaced, so ``"u1,u2"`` with ``u1`` erased becomes ``"[erased],u2"`` while ``"u10"`` stays.
    Numbers and booleans are left alone (stored user ids are strings).
    """
    count = 0

    def walk_str(node: str) -> str:
        nonlocal count
        if node in ids:
            count += 1
            return marker
        parts = _TOKEN_SPLIT.split(node)
        changed = False
        for index in range(0, len(parts), 2):
            token = parts[index]
            if token in ids:
                parts[index] = marker
            else:
                core = token.strip(".:|/")
                if not core or core not in ids:
                    continue
                parts[index] = token.replace(core, marker, 1)
            count += 1
            changed = True
        return "".join(parts) if changed else node

    def walk(node: object) -> object:
        nonlocal count
        if isinstance(node, str):
            return walk_str(node)
        if isinstance(node, list | tuple):
            return [walk(item) for item in node]
        if isinstance(node, dict):
            out: dict = {}
            for key, item in node.items():
                new_key = walk_str(key) if isinstance(key, str) else key
                if new_key != key:
                    suffix = 1
                    while new_key in out or new_key in node:
                        suffix += 1
                        new_key = f"{marker}#{suffix}"
                out[new_key] = walk(item)
            return out
        return node

    return walk(value), count


def remove_ids_from_json(
    value: object, ids: set[str], marker: str = ERASED_MARKER
) -> tuple[object, int]:
    """Like ``replace_ids_in_json`` but list items and dict keys equal to an id are dropped.

    For payloads that will still be applied (an open review's change): ``{"ids": ["u1", "u2"]}``
    with ``u1`` erased becomes ``{"ids": ["u2"]}``, so committing it later adds no marker as an id.
    Ids inside longer strings are replaced by the marker.
    """
    count = 0

    def walk(node: object) -> object:
        nonlocal count
        if isinstance(node, str):
            new, n = replace_ids_in_json(node, ids, marker)
            count += n
            return new
        if isinstance(node, list | tuple):
            out_list = []
            for item in node:
                if isinstance(item, str) and item in ids:
                    count += 1
                    continue
                out_list.append(walk(item))
            return out_list
        if isinstance(node, dict):
            out: dict = {}
            for key, item in node.items():
                if isinstance(key, str) and key in ids:
                    count += 1
                    continue
                out[key] = walk(item)
            return out
        return node

    return walk(value), count


def json_text_needles(ids: Iterable[str]) -> list[str]:
    """Substrings that find ``ids`` inside JSON stored as text (both escaping styles)."""
    import json

    needles: set[str] = set()
    for value in ids:
        needles.add(json.dumps(value, ensure_ascii=False)[1:-1])
        needles.add(json.dumps(value)[1:-1])
    return sorted(needles)
