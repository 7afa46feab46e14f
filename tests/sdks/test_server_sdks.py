"""The server SDKs people run today, from their registries, against a live server configured only
through their documented options: the legacy ``statsig-node``, ``@statsig/statsig-node-core`` and
``statsig-python-core`` (Statsig's Rust core, over ``/v2/download_config_specs``). Each must
answer every gate, config, experiment and layer as our ``/v1/check_gate``, ``get_config`` and
``get_layer`` do, including a gate on a 1,500-id segment it downloads as an ID list, and its
events and exposures must land in the store."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from events.models import Event, EventSource, Exposure
from tests.sdks.conftest import reference_answers, run_harness, sdk_job, wait_for
from tests.sdks.world import sdk_users

pytestmark = pytest.mark.django_db(transaction=True)


def _differences(answer: dict, reference: dict) -> dict:
    return {
        f"{section}.{name}": (value, reference[section].get(name))
        for section, values in answer.items()
        for name, value in values.items()
        if reference[section].get(name) != value
    }


def _assert_logged(world, event: str, users: list[dict]) -> None:
    """One event per user, and the SDK's exposures of every gate it checked."""
    project = world.project
    assert wait_for(lambda: Event.objects.filter(project=project, name=event).count() == len(users))
    logged = Event.objects.filter(project=project, name=event)
    assert {e.user_id for e in logged} == {user["userID"] for user in users}
    assert {e.source for e in logged} == {EventSource.STATSIG_SDK}
    exposed = set(
        Exposure.objects.filter(project=project, source=EventSource.STATSIG_SDK).values_list(
            "kind", "name"
        )
    )
    assert ("gate", "passes_segment") in exposed
    assert ("config", "checkout") in exposed
    assert ("layer", "homepage") in exposed


def _member_passes(answers: list[dict], users: list[dict]) -> None:
    """The ID-list segment really was downloaded: some member passes through it."""
    assert any(
        answer["gates"]["passes_segment"] and user["userID"].startswith("member-")
        for answer, user in zip(answers, users, strict=True)
    )


@pytest.mark.parametrize("sdk", ["statsig-node", "statsig-node-core"])
def test_node_server_sdk__every_entity__agrees_with_http_api_and_logs(
    sdk, world, sdk_world, live_base, run_node_sdk
):
    # Given the SDK world served by a live server
    users = sdk_users()
    if sdk == "statsig-node":
        # This SDK replaces each user's environment with its own `environment` option.
        users = [{k: v for k, v in u.items() if k != "statsigEnvironment"} for u in users]
    key = world.keys["server"]
    expected = reference_answers(live_base, key, users, sdk_world)

    # When the unmodified SDK initialises from it, evaluates everything and logs an event
    event = f"sdk_test_{sdk.replace('-', '_')}"
    answers = run_node_sdk(sdk_job(sdk, live_base, key, users, sdk_world, event))

    # Then every answer equals ours, and what it logged is stored
    for user, answer, reference in zip(users, answers, expected, strict=True):
        assert answer == reference, (user, _differences(answer, reference))
    _member_passes(answers, users)
    _assert_logged(world, event, users)


def test_python_core_sdk__every_entity__agrees_with_http_api_and_logs(world, sdk_world, live_base):
    pytest.importorskip("statsig_python_core")
    users = sdk_users()
    key = world.keys["server"]
    expected = reference_answers(live_base, key, users, sdk_world)

    event = "sdk_test_python_core"
    job = sdk_job("statsig-python-core", live_base, key, users, sdk_world, event)
    answers = run_harness(
        [sys.executable, str(Path(__file__).parent / "python_core_harness.py")], job, {}
    )

    for user, answer, reference in zip(users, answers, expected, strict=True):
        assert answer == reference, (user, _differences(answer, reference))
    _member_passes(answers, users)
    _assert_logged(world, event, users)
