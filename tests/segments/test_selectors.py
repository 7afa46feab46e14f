"""Reads of ``segments.selectors`` the screens use directly: membership of one id."""

from __future__ import annotations

from segments import selectors
from tests.segments.conftest import id_list


def test_segment_is_member__members_and_strangers__one_query_each(
    capi, world, django_assert_num_queries
):
    # Given two ID lists, each with its own members
    id_list(capi, "Beta testers", ["ada", "bob"])
    id_list(capi, "Staff", ["cyd"])
    beta = selectors.segment_get(project=world.project, segment_id="beta_testers")
    # Then a member is found and others are not, one indexed lookup each
    with django_assert_num_queries(1):
        assert selectors.segment_is_member(segment=beta, unit_id="ada") is True
    assert selectors.segment_is_member(segment=beta, unit_id="cyd") is False
    assert selectors.segment_is_member(segment=beta, unit_id="ADA") is False
    # And a removed id is no member any more
    capi.delete("/segments/beta_testers/id_list", {"ids": ["ada"]})
    assert selectors.segment_is_member(segment=beta, unit_id="ada") is False
