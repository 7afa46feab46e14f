"""Helpers for the privacy tests: submitting through the service, and erasers registered for one
test only (the registry is global)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from console.models import Role
from privacy.erasers import register_eraser, unregister_eraser
from privacy.models import DeletionRequest, DeletionSource
from privacy.services import deletion_request_submit


def submit(world, ids, *, request_id: str | None = None, unit_type: str = "user_id"):
    return deletion_request_submit(
        project=world.project,
        actor=world.actor(Role.ADMIN),
        unit_type=unit_type,
        ids=ids,
        request_id=request_id,
        source=DeletionSource.CONSOLE,
    )


@dataclass
class RecordingEraser:
    """An eraser that records each call (request's project, unit type, chunk) and can fail."""

    name: str
    calls: list[tuple[int, str, tuple[str, ...]]] = field(default_factory=list)
    fail_with: Exception | None = None
    before: Callable[[list[str]], None] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, *, project_id: int, unit_type: str, ids: list[str]) -> int:
        if self.before is not None:
            self.before(ids)
        if self.fail_with is not None:
            raise self.fail_with
        with self.lock:
            self.calls.append((project_id, unit_type, tuple(ids)))
        return len(ids)

    def ids_seen(self) -> list[str]:
        return [value for _p, _u, chunk in self.calls for value in chunk]


@pytest.fixture
def recording_eraser() -> Iterator[Callable[[str], RecordingEraser]]:
    names: list[str] = []

    def make(name: str = "zz_test.recorder") -> RecordingEraser:
        eraser = RecordingEraser(name)
        register_eraser(name)(eraser)
        names.append(name)
        return eraser

    yield make
    for name in names:
        unregister_eraser(name)


def reload(request: DeletionRequest) -> DeletionRequest:
    return DeletionRequest.objects.get(pk=request.pk)
