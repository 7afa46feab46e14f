"""The in-memory membership of ID lists used by the evaluator: exact, current within the check
interval, and free of queries between checks."""

from __future__ import annotations

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from segments import idlists
from segments.idlists import IdListMembership, _decode_lines, hash_value, id_lists_for_project
from segments.listfile import id_list_hash
from tests.segments.conftest import id_list

MEMBERS = [f"user-{n}" for n in range(1500)]


@pytest.fixture
def big(capi, world):
    id_list(capi, "Big list", MEMBERS)
    return id_lists_for_project(world.project.pk)


def test_membership__members_in_strangers_out(big):
    lists = big
    assert "big_list" in lists
    assert list(lists) == ["big_list"]
    members = lists["big_list"]
    assert len(members) == 1500
    assert all(id_list_hash(u) in members for u in MEMBERS[:200])
    assert id_list_hash("user-1500") not in members
    assert id_list_hash("USER-1") not in members
    assert "not-a-hash" not in members
    assert None not in members


def test_membership__after_warm_up__no_query_per_check(big, settings):
    settings.ID_LIST_CHECK_INTERVAL_MS = 60_000
    members = big["big_list"]
    id_list_hash("user-1") in members  # noqa: B015 - warm up
    with CaptureQueriesContext(connection) as queries:
        for unit_id in MEMBERS:
            assert id_list_hash(unit_id) in members
        big.get("big_list")
    assert len(queries) == 0


def test_membership__changes__seen_at_once_in_this_process(big, capi):
    members = big["big_list"]
    assert id_list_hash("user-7") in members
    capi.delete("/segments/big_list/id_list", {"ids": ["user-7"]})
    capi.patch("/segments/big_list/id_list", {"ids": ["newcomer"]})
    assert id_list_hash("user-7") not in members
    assert id_list_hash("newcomer") in members
    assert len(members) == 1500


def test_membership__other_process_change__seen_after_interval(big, capi, settings, monkeypatch):
    # An interval well above the time the change takes on a busy machine
    settings.ID_LIST_CHECK_INTERVAL_MS = 1500
    members = big["big_list"]
    assert id_list_hash("user-9") in members
    # Given a change committed by another process: only the shared token moves
    monkeypatch.setattr(idlists, "notify_changed", _remote_notify)
    capi.delete("/segments/big_list/id_list", {"ids": ["user-9"]})
    # Then this process answers from memory until its next check
    assert id_list_hash("user-9") in members
    time.sleep(1.6)
    assert id_list_hash("user-9") not in members


def _remote_notify(project_id: int) -> None:
    from django.core.cache import cache

    cache.set(idlists._token_key(project_id), "changed elsewhere", timeout=None)


def test_membership__reset__reloaded_from_new_file(big, capi):
    members = big["big_list"]
    capi.post("/segments/big_list/id_list/reset", {"ids": ["only-one"]})
    assert id_list_hash("only-one") in members
    assert id_list_hash("user-1") not in members
    assert len(members) == 1


def test_membership__deleted_list__empty_and_absent(big, capi):
    members = big["big_list"]
    assert capi.delete("/segments/big_list").status_code == 200
    assert id_list_hash("user-1") not in members
    assert "big_list" not in big
    assert list(big) == []


def test_mapping__list_not_seen_yet__placeholder_filled_later(capi, world):
    lists = id_lists_for_project(world.project.pk)
    early = lists["late_list"]
    assert "late_list" not in lists
    assert id_list_hash("u1") not in early
    id_list(capi, "Late list", ["u1"])
    assert id_list_hash("u1") in early
    assert lists["late_list"] is early


def test_mapping__one_object_per_project(world, other_world):
    assert id_lists_for_project(world.project.pk) is id_lists_for_project(world.project.pk)
    assert id_lists_for_project(world.project.pk) is not id_lists_for_project(
        other_world.project.pk
    )


def test_memory__eight_bytes_per_member(big):
    members = big["big_list"]
    id_list_hash("x") in members  # noqa: B015
    assert members.memory_bytes() < 1500 * 8 + 2000


def test_decode__lines__same_as_per_line_hashing():
    ids = [f"id-{n}" for n in range(50)]
    data = "".join(f"+{id_list_hash(u)}\n" for u in ids)
    op, values = _decode_lines(data)
    assert op == "+"
    assert list(values) == [hash_value(id_list_hash(u)) for u in ids]
    assert _decode_lines(data.replace("+", "-", 1)) is None


def test_apply__mixed_chunk__applied_in_order():
    owner = idlists._ProjectLists(0)
    members = IdListMembership(owner, "x")
    owner.next_check = time.monotonic() + 3600
    a, b = id_list_hash("a"), id_list_hash("b")
    members._apply(f"+{a}\n+{b}\n-{a}\n")
    assert b in members
    assert a not in members
    members._apply(f"+{a}\n")
    assert a in members


def test_apply__large_batches__rebuild_keeps_set_semantics():
    owner = idlists._ProjectLists(0)
    owner.next_check = time.monotonic() + 3600
    members = IdListMembership(owner, "x")
    first = [id_list_hash(f"u{n}") for n in range(10_000)]
    members._apply("".join(f"+{h}\n" for h in first))
    members._apply("".join(f"-{h}\n" for h in first[:5000]))
    members._apply("".join(f"+{h}\n" for h in first[:10]))
    assert len(members) == 5010
    assert first[0] in members
    assert first[10] not in members
    assert first[9999] in members
