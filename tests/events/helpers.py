"""Small helpers shared by the event-store tests."""

from __future__ import annotations

import math

from django.db import connection

from events.models import Exposure


def bulk_statements(rows: int, *, columns: int) -> int:
    """Statements one bulk write of ``rows`` rows takes: one on PostgreSQL (COPY or a
    multi-row INSERT); on SQLite, bulk_create's batches of at most 999 parameters."""
    if connection.vendor == "postgresql":
        return 1
    return math.ceil(rows / (999 // columns))


def data_statements(captured) -> list[str]:
    """The statements a CaptureQueriesContext saw, without the test transaction's savepoints."""
    return [
        q["sql"]
        for q in captured.captured_queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT"))
    ]


EXPOSURE_EVENTS = {"gate": "statsig::gate_exposure", "config": "statsig::config_exposure"}


def log_checks(api, world, counts: dict[str, int], *, kind: str = "gate", time_ms: int) -> None:
    """Sends ``counts[name]`` checks (exposures) of each gate or config to ``/v1/log_event`` as an
    SDK logs them, each by another user, all at ``time_ms``."""
    events = [
        {
            "eventName": EXPOSURE_EVENTS[kind],
            "user": {"userID": f"{name}-user-{index}"},
            "time": time_ms,
            "metadata": {kind: name, "gateValue": "true", "ruleID": "rule"},
        }
        for name, count in counts.items()
        for index in range(count)
    ]
    response = api.post("/v1/log_event", {"events": events}, key=world.keys["server"])
    assert response.status_code == 202, response.content


def exposure_statements(captured) -> list[str]:
    """The statements a CaptureQueriesContext saw that read the exposures table."""
    table = Exposure._meta.db_table
    return [sql for sql in data_statements(captured) if f'"{table}"' in sql]
