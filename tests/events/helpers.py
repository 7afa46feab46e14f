"""Small helpers shared by the event-store tests."""

from __future__ import annotations

import math

from django.db import connection


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
