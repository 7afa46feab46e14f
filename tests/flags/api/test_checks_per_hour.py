"""``checksPerHour`` of gates and dynamic configs in the console API: the entity's checks of the
last 24 hours, per hour. A list reads them for the whole page in one aggregated query
(``events.selectors.exposure_totals``), so a page costs the same queries with 1 entity as with 30."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.events.helpers import exposure_statements, log_checks

PREFIXES = {"gate": "gates", "config": "dynamic_configs"}
# A list page's queries: the project, the count, the page, the gates' holdouts (prefetched), the
# page's open reviews and the page's checks.
LIST_QUERIES = {"gate": 6, "config": 5}


def _now_ms(hours_ago: float = 0) -> int:
    return int((datetime.now(UTC) - timedelta(hours=hours_ago)).timestamp() * 1000)


def _create(capi, kind: str, names: list[str]) -> list[str]:
    ids = []
    for name in names:
        response = capi.post(PREFIXES[kind], {"name": name})
        assert response.status_code == 201, response.json()
        ids.append(response.json()["data"]["id"])
    return ids


def _list(capi, kind: str) -> tuple[dict[str, int], int, int]:
    """``({id: checksPerHour}, queries, queries reading exposures)`` of one list page."""
    with CaptureQueriesContext(connection) as captured:
        response = capi.get(f"{PREFIXES[kind]}?limit=100")
    assert response.status_code == 200
    checks = {item["id"]: item["checksPerHour"] for item in response.json()["data"]}
    return checks, len(captured), len(exposure_statements(captured))


@pytest.mark.parametrize("kind", ["gate", "config"])
def test_list__1_or_30_entities__same_queries_one_exposure_read(api, world, capi, kind):
    # Given one entity checked 48 times in the last 24 hours and 240 times before that
    (first,) = _create(capi, kind, ["Entity 00"])
    log_checks(api, world, {first: 48}, kind=kind, time_ms=_now_ms(hours_ago=2))
    log_checks(api, world, {first: 240}, kind=kind, time_ms=_now_ms(hours_ago=30))
    checks, queries_for_1, exposure_reads = _list(capi, kind)
    # Then it was checked twice per hour over the last 24 hours, read in one query
    assert checks == {first: 2}
    assert exposure_reads == 1
    # When there are 30 entities, some of them checked
    others = _create(capi, kind, [f"Entity {i:02}" for i in range(1, 30)])
    log_checks(api, world, {others[0]: 24, others[28]: 72}, kind=kind, time_ms=_now_ms())
    checks, queries_for_30, exposure_reads = _list(capi, kind)
    # Then the page costs the same queries, one of them for the checks of all 30
    assert queries_for_1 == queries_for_30 == LIST_QUERIES[kind]
    assert exposure_reads == 1
    assert len(checks) == 30
    assert (checks[first], checks[others[0]], checks[others[28]]) == (2, 1, 3)
    assert sum(checks.values()) == 6


@pytest.mark.parametrize("kind", ["gate", "config"])
def test_read__one_entity__checks_per_hour_in_one_exposure_read(api, world, capi, kind):
    (entity_id,) = _create(capi, kind, ["Checked"])
    log_checks(api, world, {entity_id: 36}, kind=kind, time_ms=_now_ms(hours_ago=23))
    with CaptureQueriesContext(connection) as captured:
        response = capi.get(f"{PREFIXES[kind]}/{entity_id}")
    # 36 checks in 24 hours: 1.5 per hour, rounded to even
    assert response.json()["data"]["checksPerHour"] == 2
    assert len(exposure_statements(captured)) == 1


def test_list__other_projects_checks__not_counted(api, world, other_world, capi):
    (gate_id,) = _create(capi, "gate", ["Shared name"])
    log_checks(api, other_world, {gate_id: 240}, time_ms=_now_ms())
    assert _list(capi, "gate")[0] == {gate_id: 0}
