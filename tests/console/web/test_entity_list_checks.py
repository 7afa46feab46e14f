"""The "Checks 24 h" column of the gate and dynamic-config list screens
(``console.web.entities.checks_last_day`` over ``events.selectors.exposure_totals``): each
entity's checks of the last 24 hours, read for the whole page in one aggregated query, so a page
costs the same queries with 1 entity as with 30."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from console.models import Role
from tests.events.helpers import exposure_statements, log_checks

SCREENS = {"gate": ("gates", "gates"), "config": ("dynamic_configs", "configs")}
# A list page's queries: the session, the user, the membership, the tag filter's choices, the
# count, the page, the page's checks, the page's open reviews and the project for the shell.
LIST_QUERIES = 9


def _now_ms(hours_ago: float = 0) -> int:
    return int((datetime.now(UTC) - timedelta(hours=hours_ago)).timestamp() * 1000)


def _create(capi, kind: str, names: list[str]) -> list[str]:
    api_prefix, _ = SCREENS[kind]
    ids = []
    for name in names:
        response = capi.post(api_prefix, {"name": name})
        assert response.status_code == 201, response.json()
        ids.append(response.json()["data"]["id"])
    return ids


def _checks_column(client, world, kind: str) -> tuple[dict[str, int], int, int]:
    """``({entity id: checks shown}, queries, queries reading exposures)`` of the list page."""
    _, screen = SCREENS[kind]
    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"/p/{world.project.slug}/{screen}/")
    assert response.status_code == 200
    shown = {}
    for entity_id, row in re.findall(
        r'<tr data-entity="([^"]+)">(.*?)</tr>', response.content.decode(), re.S
    ):
        shown[entity_id] = int(re.findall(r'<td class="text-end">(\d+)</td>', row)[-1])
    return shown, len(captured), len(exposure_statements(captured))


@pytest.mark.parametrize("kind", ["gate", "config"])
def test_list_screen__1_or_30_entities__same_queries_one_exposure_read(
    api, world, capi, as_role, kind
):
    # Given one entity checked 3 times in the last 24 hours and twice before that
    (first,) = _create(capi, kind, ["Entity 00"])
    log_checks(api, world, {first: 3}, kind=kind, time_ms=_now_ms(hours_ago=1))
    log_checks(api, world, {first: 2}, kind=kind, time_ms=_now_ms(hours_ago=30))
    client = as_role(Role.VIEWER)
    shown, queries_for_1, exposure_reads = _checks_column(client, world, kind)
    # Then its row shows the 3 recent checks, read in one query
    assert shown == {first: 3}
    assert exposure_reads == 1
    # When there are 30 entities, some of them checked
    others = _create(capi, kind, [f"Entity {i:02}" for i in range(1, 30)])
    log_checks(api, world, {others[0]: 7, others[28]: 1}, kind=kind, time_ms=_now_ms())
    shown, queries_for_30, exposure_reads = _checks_column(client, world, kind)
    # Then the page costs the same queries, still one of them for the checks of all 30
    assert queries_for_1 == queries_for_30 == LIST_QUERIES
    assert exposure_reads == 1
    assert len(shown) == 30
    assert (shown[first], shown[others[0]], shown[others[28]]) == (3, 7, 1)
    assert sum(shown.values()) == 11
