"""End to end: the unmodified ``statsig`` SDK initialises from a running server, checks a gate,
and sees a rules change made through the service after its next sync."""

from __future__ import annotations

import time

import pytest

from console.models import Role
from flags.services.gates import gate_create, gate_update

statsig = pytest.importorskip("statsig")
from statsig import StatsigOptions, StatsigUser  # noqa: E402
from statsig.statsig_server import StatsigServer  # noqa: E402

SYNC_WAIT_SECONDS = 15


@pytest.mark.django_db(transaction=True)
def test_sdk__pointed_at_our_server__evaluates_and_follows_changes(live_server, world, settings):
    # Given a gate passing only example.com staff, served by a running server
    settings.RULESET_CHECK_INTERVAL_MS = 50
    actor = world.actor(Role.MEMBER)
    gate_create(
        project=world.project,
        actor=actor,
        name="Staff",
        rules=[
            {
                "name": "Staff",
                "passPercentage": 100,
                "conditions": [
                    {
                        "type": "email",
                        "operator": "str_ends_with_any",
                        "targetValue": ["@example.com"],
                    }
                ],
            }
        ],
    )
    staff = StatsigUser(user_id="1", email="ada@example.com")
    guest = StatsigUser(user_id="2", email="bob@elsewhere.org")

    # When the unmodified SDK initialises against it
    server = StatsigServer()
    details = server.initialize(
        world.keys["server"],
        StatsigOptions(
            api=f"{live_server.url}/v1", rulesets_sync_interval=1, disable_all_logging=True
        ),
    )
    try:
        assert details.source.name.lower() == "network"
        assert server.check_gate(staff, "staff") is True
        assert server.check_gate(guest, "staff") is False

        # And the rules change through the service
        gate_update(
            project=world.project,
            actor=actor,
            gate_id="staff",
            rules=[{"name": "Everyone", "passPercentage": 100, "conditions": []}],
        )

        # Then the SDK sees the change after its next sync
        deadline = time.monotonic() + SYNC_WAIT_SECONDS
        while not server.check_gate(guest, "staff") and time.monotonic() < deadline:
            time.sleep(0.2)
        assert server.check_gate(guest, "staff") is True
    finally:
        server.shutdown()
