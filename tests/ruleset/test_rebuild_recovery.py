"""Ruleset rebuilds lost after their commit (a worker killed mid-task) are found by the project's
revision and redone by the next sweep, once: a message delivered again, or a sweep racing the
queued task, adds no version."""

from __future__ import annotations

import signal
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

import pytest
from django.db import transaction

from console.models import Project, Role
from flags.models import CompiledRuleset
from flags.services.gates import gate_create
from ruleset import load as ruleset_load
from ruleset import store as ruleset_store
from ruleset.tasks import rebuild_ruleset, rebuild_stale_rulesets
from tests.conftest import make_world
from tests.privacy.workers import (
    require_live_services,
    start_celery_worker,
    stop,
    subprocess_env,
    wait_until,
)


def _revision(project_id: int) -> int:
    return Project.objects.values_list("ruleset_revision", flat=True).get(pk=project_id)


def _newest(project_id: int) -> CompiledRuleset:
    return CompiledRuleset.objects.filter(project_id=project_id).order_by("-time").first()


def _versions(project_id: int) -> int:
    return CompiledRuleset.objects.filter(project_id=project_id).count()


def _gate_names(ruleset: CompiledRuleset) -> list[str]:
    return [spec["name"] for spec in ruleset.payload["feature_gates"]]


@contextmanager
def _lost_rebuilds() -> Iterator[None]:
    """Changes commit, but their queued rebuild never runs (the worker died with it)."""
    with mock.patch("ruleset.tasks.rebuild_ruleset.delay"):
        yield


def test_change__through_a_service__bumps_the_revision_the_rebuild_stores(world, committed):
    # Given a project
    project_id = world.project.id
    before = _revision(project_id)

    # When a gate is created
    with committed():
        gate_create(project=world.project, actor=world.actor(Role.MEMBER), name="One")

    # Then the revision moved by one, and the rebuild stored the version of that revision
    assert _revision(project_id) == before + 1
    newest = _newest(project_id)
    assert newest.source_revision == before + 1
    assert _gate_names(newest) == ["one"]


def test_change__many_in_one_transaction__one_bump(world, committed):
    # Given a project
    project_id = world.project.id
    before = _revision(project_id)

    # When one transaction makes two changes
    with committed():
        gate_create(project=world.project, actor=world.actor(Role.MEMBER), name="One")
        gate_create(project=world.project, actor=world.actor(Role.MEMBER), name="Two")

    # Then the revision moved once, and one version compiled both changes
    assert _revision(project_id) == before + 1
    assert _versions(project_id) == 1
    assert _gate_names(_newest(project_id)) == ["one", "two"]


def _create_gate_then_fail(world) -> None:
    with transaction.atomic():
        gate_create(project=world.project, actor=world.actor(Role.MEMBER), name="One")
        raise RuntimeError("rollback")


def test_change__rolled_back__revision_unchanged(world, committed):
    # Given a project
    project_id = world.project.id
    before = _revision(project_id)

    # When a change is rolled back
    with committed(), pytest.raises(RuntimeError):
        _create_gate_then_fail(world)

    # Then no change is recorded and nothing is stale
    assert _revision(project_id) == before
    assert ruleset_store.stale_project_ids() == []


def test_change__after_a_rebuild_in_the_same_transaction__also_served(world, committed):
    # Given a transaction that changes the project, rebuilds it (as erasers do), changes it again
    project_id = world.project.id
    with committed(), transaction.atomic():
        gate_create(project=world.project, actor=world.actor(Role.MEMBER), name="One")
        ruleset_store.rebuild(project_id)
        gate_create(project=world.project, actor=world.actor(Role.MEMBER), name="Two")

    # Then the change after the rebuild got a revision of its own, and is served
    newest = _newest(project_id)
    assert newest.source_revision == _revision(project_id)
    assert _gate_names(newest) == ["one", "two"]


def test_rebuild_task__delivered_twice__second_adds_no_version(world, committed):
    # Given the rebuild message a committed change queued
    project_id = world.project.id
    with mock.patch("ruleset.tasks.rebuild_ruleset.delay") as delay, committed():
        gate_create(project=world.project, actor=world.actor(Role.MEMBER), name="One")
    args, kwargs = delay.call_args

    # When the broker delivers it twice (a redelivery after the rebuild completed)
    first = rebuild_ruleset.apply(args, kwargs).get()
    second = rebuild_ruleset.apply(args, kwargs).get()

    # Then only the first compiled; the second found that version current
    assert _versions(project_id) == 1
    assert second == first == _newest(project_id).time
    assert _newest(project_id).source_revision == _revision(project_id)


def test_rebuild__called_directly__compiles_even_when_current(world, committed):
    # Given a project whose newest version is current
    project_id = world.project.id
    with committed():
        gate_create(project=world.project, actor=world.actor(Role.MEMBER), name="One")
    first = _newest(project_id).time

    # When a command (or an eraser) rebuilds it
    stamp = ruleset_store.rebuild(project_id)

    # Then a new version is stored anyway
    assert stamp > first
    assert _versions(project_id) == 2


def test_rebuild_stale_rulesets__lost_rebuilds__exactly_those_projects_rebuilt(
    world, other_world, committed, django_assert_num_queries
):
    # Given three projects with a compiled ruleset
    quiet = make_world("Initech")
    projects = [world.project.id, other_world.project.id, quiet.project.id]
    for project_id in projects:
        ruleset_store.rebuild(project_id)
    # And a change in two of them whose rebuild was lost with its worker
    with _lost_rebuilds(), committed():
        gate_create(project=world.project, actor=world.actor(Role.MEMBER), name="Lost")
        gate_create(project=other_world.project, actor=other_world.actor(Role.MEMBER), name="Lost")
    assert [_versions(project_id) for project_id in projects] == [1, 1, 1]

    # When the sweeper looks for stale projects
    with django_assert_num_queries(1):
        stale = ruleset_store.stale_project_ids()

    # Then it finds exactly the two, in one query
    assert stale == sorted(projects[:2])

    # When the beat job runs
    assert rebuild_stale_rulesets.apply().get() == 2

    # Then each changed project has one new version with its change; the quiet one none
    for project_id in projects[:2]:
        assert _versions(project_id) == 2
        assert _gate_names(_newest(project_id)) == ["lost"]
        assert _newest(project_id).source_revision == _revision(project_id)
    assert _versions(quiet.project.id) == 1

    # And the next run finds nothing to do
    assert rebuild_stale_rulesets.apply().get() == 0
    assert [_versions(project_id) for project_id in projects] == [2, 2, 1]


@contextmanager
def _tasks_sent_to(queue: str) -> Iterator[None]:
    """Tasks go through Redis to ``queue`` (a queue no other worker on this Redis consumes)."""
    from console.celery import app

    default_queue = app.conf.task_default_queue
    app.conf.task_always_eager = False
    app.conf.task_default_queue = queue
    try:
        yield
    finally:
        app.conf.task_default_queue = default_queue
        app.conf.task_always_eager = True


@pytest.mark.live_services
@pytest.mark.django_db(transaction=True)
def test_rebuild__worker_killed_mid_compile__next_sweep_rebuilds_once(world, tmp_path):
    require_live_services(redis=True)
    from console.celery import app

    # Given a project serving its ruleset
    project_id = world.project.id
    ruleset_load.current(project_id)
    versions_before = _versions(project_id)
    # And a worker whose compile takes minutes
    marker = tmp_path / "compiling"
    queue = f"flags-rebuild-{uuid.uuid4().hex[:8]}"
    env = subprocess_env(FLAGS_TEST_COMPILE_MARKER=str(marker), FLAGS_TEST_COMPILE_DELAY="300")
    worker = start_celery_worker("tests.ruleset.slow_rebuild_worker", env, queue=queue)
    try:
        # When a gate is created, its rebuild reaches that worker
        with _tasks_sent_to(queue):
            gate_create(project=world.project, actor=world.actor(Role.MEMBER), name="Fresh")
        # And the worker is killed in the middle of the compile
        wait_until(marker.exists, timeout=120, what="the rebuild's compile", process=worker)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        stop(worker)

    # Then the project is stale: its change committed, the newest version lacks it
    revision = _revision(project_id)
    assert revision > _newest(project_id).source_revision
    assert "fresh" not in _gate_names(_newest(project_id))
    assert _versions(project_id) == versions_before

    # When the beat job's next run reaches a fresh worker
    sweeper = start_celery_worker("console.celery", subprocess_env(), queue=queue)
    try:
        with _tasks_sent_to(queue):
            app.send_task("ruleset.tasks.rebuild_stale_rulesets", queue=queue)
        wait_until(
            lambda: _newest(project_id).source_revision >= revision,
            timeout=120,
            what="the sweep's rebuild",
            process=sweeper,
        )
    finally:
        stop(sweeper)

    # Then the gate is served, from exactly one new version
    assert "fresh" in _gate_names(_newest(project_id))
    assert _versions(project_id) == versions_before + 1

    # And neither the next sweep nor the killed worker's message, redelivered, adds another
    assert rebuild_stale_rulesets() == 0
    rebuild_ruleset(project_id, only_if_stale=True)
    assert _versions(project_id) == versions_before + 1
