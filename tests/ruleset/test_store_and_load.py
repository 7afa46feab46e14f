"""The ruleset store: one rebuild per committed transaction, monotonic times, in-memory rulesets
that notice newer versions cheaply and survive a failing backend."""

from __future__ import annotations

from unittest import mock

import pytest
from django.core.cache import cache
from django.db import transaction

from console.models import Role
from flags.models import CompiledRuleset
from flags.services.gates import gate_create, gate_update
from ruleset import changes as ruleset_changes
from ruleset import load as ruleset_load
from ruleset import store as ruleset_store


@pytest.fixture
def per_process_checks(settings):
    settings.CACHE_IS_SHARED = False
    settings.RULESET_CHECK_INTERVAL_MS = 60_000
    return settings


def test_schedule_rebuild__many_changes_in_one_transaction__one_rebuild(world, committed):
    actor = world.actor(Role.MEMBER)
    with committed(), transaction.atomic():
        gate_create(project=world.project, actor=actor, name="One")
        gate_create(project=world.project, actor=actor, name="Two")
        ruleset_changes.schedule_rebuild(world.project.id)
    stored = CompiledRuleset.objects.get(project=world.project)
    assert [spec["name"] for spec in stored.payload["feature_gates"]] == ["one", "two"]


def test_schedule_rebuild__rolled_back__nothing_rebuilt(world, committed):
    with committed() as callbacks:
        try:
            with transaction.atomic():
                gate_create(project=world.project, actor=world.actor(), name="One")
                raise RuntimeError("rollback")
        except RuntimeError:
            pass
    assert callbacks == []
    assert not CompiledRuleset.objects.exists()


def test_rebuild__clock_does_not_move__times_still_increase_and_old_versions_pruned(world):
    with mock.patch("ruleset.store.time.time", return_value=1_000.0):
        times = [
            ruleset_store.rebuild(world.project.id) for _ in range(ruleset_store.KEEP_VERSIONS + 3)
        ]
    assert times == list(range(1_000_000, 1_000_000 + ruleset_store.KEEP_VERSIONS + 3))
    kept = CompiledRuleset.objects.filter(project=world.project)
    assert kept.count() == ruleset_store.KEEP_VERSIONS
    assert max(kept.values_list("time", flat=True)) == times[-1]


def test_current__warm__no_query_until_the_interval_passes(
    world, per_process_checks, django_assert_num_queries
):
    # Given a warm process
    gate_create(project=world.project, actor=world.actor(), name="One")
    first = ruleset_load.current(world.project.id)
    assert first.ruleset.gate_names == ("one",)

    # When another process rebuilds (no notice reaches this one)
    gate_update(project=world.project, actor=world.actor(), gate_id="one", is_enabled=False)
    ruleset_store.rebuild(world.project.id)

    # Then this process keeps answering from memory without a query until its next check
    with django_assert_num_queries(0):
        assert ruleset_load.current(world.project.id) is first
    with mock.patch("ruleset.load.time.monotonic", return_value=first.next_check + 1):
        newer = ruleset_load.current(world.project.id)
    assert newer.time > first.time
    assert newer.ruleset.gates["one"].enabled is False


def test_current__shared_cache__checks_the_cache_not_the_database(
    world, settings, django_assert_num_queries
):
    settings.CACHE_IS_SHARED = True
    settings.RULESET_CHECK_INTERVAL_MS = 0
    gate_create(project=world.project, actor=world.actor(), name="One")
    first = ruleset_load.current(world.project.id)
    cache.set(ruleset_store.cache_key(world.project.id), first.time, timeout=None)

    # Checks at every call (interval 0) read only the cache
    with django_assert_num_queries(0):
        for _ in range(3):
            assert ruleset_load.current(world.project.id) is first

    # A newer time published by another process is loaded
    stamp = ruleset_store.rebuild(world.project.id)
    cache.set(ruleset_store.cache_key(world.project.id), stamp, timeout=None)
    assert ruleset_load.current(world.project.id).time == stamp


def test_current__backend_down__keeps_serving_from_memory(world, settings):
    settings.RULESET_CHECK_INTERVAL_MS = 0
    gate_create(project=world.project, actor=world.actor(), name="One")
    first = ruleset_load.current(world.project.id)
    with mock.patch("ruleset.load._latest_time", side_effect=ConnectionError("down")):
        assert ruleset_load.current(world.project.id) is first


def test_rebuild_on_commit__this_process_sees_it_at_once(world, per_process_checks, committed):
    gate_create(project=world.project, actor=world.actor(), name="One")
    first = ruleset_load.current(world.project.id)
    with committed():
        gate_update(project=world.project, actor=world.actor(), gate_id="one", description="x")
    assert ruleset_load.current(world.project.id).time > first.time


def test_rebuild__broker_unavailable__rebuilt_inline(world, committed):
    with (
        mock.patch("ruleset.tasks.rebuild_ruleset.delay", side_effect=ConnectionError("no broker")),
        committed(),
    ):
        gate_create(project=world.project, actor=world.actor(), name="One")
    payload = CompiledRuleset.objects.get(project=world.project).payload
    assert [spec["name"] for spec in payload["feature_gates"]] == ["one"]
