"""The unmodified ``statsig`` SDK against a live server: a gate targeting a 10,000-id segment
(served as an SDK id list), members pass, strangers fail, and a removed id fails after the SDK's
next id-list sync. Our own ``/v1/check_gate`` answers the same."""

from __future__ import annotations

import time

import pytest
import requests

from segments import services

pytestmark = pytest.mark.django_db(transaction=True)

IDS = [f"member-{n}" for n in range(10_000)]


def _wait_for(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


def test_statsig_sdk__id_list_segment__members_pass_and_removal_syncs(live_server, world):
    pytest.importorskip("statsig")
    gates = pytest.importorskip("flags.services.gates")
    from statsig import StatsigOptions, StatsigUser
    from statsig import statsig as sdk

    # Given a 10,000-id segment and a gate targeting it (made through the services)
    actor = world.actor()
    project = world.project
    services.segment_create(project=project, actor=actor, name="Beta testers", type="id_list")
    for start in range(0, len(IDS), 5000):
        services.segment_ids_add(
            project=project, actor=actor, segment_id="beta_testers", ids=IDS[start : start + 5000]
        )
    gates.gate_create(
        project=project,
        actor=actor,
        name="beta feature",
        rules=[
            {
                "name": "beta testers",
                "passPercentage": 100,
                "conditions": [{"type": "passes_segment", "targetValue": "beta_testers"}],
            }
        ],
    )
    server_key = world.keys["server"]

    def ours(user_id: str) -> bool:
        response = requests.post(
            f"{live_server.url}/v1/check_gate",
            json={"user": {"userID": user_id}, "gateName": "beta_feature"},
            headers={"STATSIG-API-KEY": server_key},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        return response.json()["value"]

    # When the SDK initialises against the live server
    sdk.initialize(
        server_key,
        StatsigOptions(
            api=f"{live_server.url}/v1",
            idlists_sync_interval=1,
            rulesets_sync_interval=1,
            disable_all_logging=True,
        ),
    )
    try:
        # The SDK downloads id lists during initialisation and then every second; give a
        # failed first download (the test server sometimes drops a kept-alive connection) a
        # background sync to recover.
        assert _wait_for(lambda: sdk.check_gate(StatsigUser("member-0"), "beta_feature"))
        # Then members pass and strangers fail, in the SDK and on our server
        for user_id in ("member-0", "member-4321", "member-9999"):
            assert sdk.check_gate(StatsigUser(user_id), "beta_feature") is True, user_id
            assert ours(user_id) is True
        for user_id in ("member-10000", "stranger", "MEMBER-1"):
            assert sdk.check_gate(StatsigUser(user_id), "beta_feature") is False, user_id
            assert ours(user_id) is False

        # When an id is removed (and another added) through the console API
        console = {"STATSIG-API-KEY": world.keys["console"]}
        base = f"{live_server.url}/console/v1/segments/beta_testers/id_list"
        removed = requests.delete(base, json={"ids": ["member-4321"]}, headers=console, timeout=10)
        assert removed.status_code == 200, removed.text
        added = requests.patch(base, json={"ids": ["newcomer"]}, headers=console, timeout=10)
        assert added.status_code == 200, added.text

        # Then after the SDK's next id-list sync the removed id fails and the new one passes
        assert _wait_for(lambda: not sdk.check_gate(StatsigUser("member-4321"), "beta_feature"))
        assert _wait_for(lambda: sdk.check_gate(StatsigUser("newcomer"), "beta_feature"))
        assert sdk.check_gate(StatsigUser("member-4320"), "beta_feature") is True
        assert _wait_for(lambda: ours("member-4321") is False)
        assert ours("newcomer") is True

        # When the list is reset, the SDK drops the old file and loads the new one
        reset = requests.post(
            f"{base}/reset", json={"ids": ["only-one"]}, headers=console, timeout=10
        )
        assert reset.status_code == 200, reset.text
        assert _wait_for(lambda: sdk.check_gate(StatsigUser("only-one"), "beta_feature"))
        assert sdk.check_gate(StatsigUser("member-0"), "beta_feature") is False
        assert _wait_for(lambda: ours("member-0") is False)
    finally:
        sdk.shutdown()
