"""Concurrent writers: rule additions from many requests at once all land (row locks), and the
layer's buckets never overlap when experiments are placed at the same time."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from console.errors import ValidationError
from console.models import Role
from flags.models import Experiment, Gate
from flags.services.experiments import experiment_create
from flags.services.gates import gate_create, gate_rule_add
from flags.services.layers import layer_create

WRITERS = 6


def _run_concurrently(target, count: int) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(count)

    def run(index: int) -> None:
        try:
            barrier.wait()
            target(index)
        except BaseException as exc:  # collected for the assertion
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("row-lock behaviour is exercised against PostgreSQL (CI)")


@pytest.mark.django_db(transaction=True)
def test_gate_rule_add__concurrent_requests__no_rule_lost(postgres_only, world):
    actor = world.actor(Role.MEMBER)
    gate_create(project=world.project, actor=actor, name="Busy")

    errors = _run_concurrently(
        lambda i: gate_rule_add(
            project=world.project, actor=actor, gate_id="busy", rule={"name": f"Rule {i}"}
        ),
        WRITERS,
    )

    assert errors == []
    gate = Gate.objects.get(slug="busy")
    assert sorted(rule["name"] for rule in gate.rules) == [f"Rule {i}" for i in range(WRITERS)]
    assert gate.version == WRITERS + 1


@pytest.mark.django_db(transaction=True)
def test_layer_placement__concurrent_experiments__buckets_never_overlap(postgres_only, world):
    actor = world.actor(Role.MEMBER)
    layer_create(project=world.project, actor=actor, name="Layer")

    errors = _run_concurrently(
        lambda i: experiment_create(
            project=world.project,
            actor=actor,
            name=f"Experiment {i}",
            layer_id="layer",
            allocation=30,
        ),
        WRITERS,
    )

    # Three fit (90%), the others are refused; no bucket is owned twice
    assert len(errors) == WRITERS - 3
    assert all(isinstance(error, ValidationError) for error in errors)
    owned = [b for buckets in Experiment.objects.values_list("buckets", flat=True) for b in buckets]
    assert len(owned) == 900
    assert len(set(owned)) == 900
