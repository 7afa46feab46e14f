"""The Events screen's reads, and the privacy erasers of the event store."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from events import selectors
from events.models import Event, Exposure, Group, Person, PersonDistinctId


def ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


@pytest.fixture
def history(api, world):
    """Two days of events and exposures sent through the endpoints."""
    today = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    yesterday = today - timedelta(days=1)
    key = world.keys["server"]
    events = [
        {"eventName": "purchase", "user": {"userID": "u1"}, "time": ms(yesterday)},
        {"eventName": "purchase", "user": {"userID": "u2"}, "time": ms(today)},
        {"eventName": "purchase", "user": {"userID": "u1"}, "time": ms(today)},
        {"eventName": "signup", "user": {"userID": "u3"}, "time": ms(today)},
        {"eventName": "no_user"},
    ]
    for user, value, when in (
        ("u1", "true", today),
        ("u2", "false", today),
        ("u1", "true", yesterday),
    ):
        events.append(
            {
                "eventName": "statsig::gate_exposure",
                "user": {"userID": user},
                "time": ms(when),
                "metadata": {"gate": "new_checkout", "gateValue": value, "ruleID": "r"},
            }
        )
    api.post("/v1/log_event", {"events": events}, key=key)
    exposures = [
        {"user": {"userID": u}, "experimentName": "exp", "group": g, "time": ms(today)}
        for u, g in (("u1", "Control"), ("u2", "Test"), ("u3", "Test"))
    ]
    api.post("/v1/log_custom_exposure", {"exposures": exposures}, key=key)
    api.post(
        "/batch/",
        {
            "api_key": world.keys["client"],
            "batch": [{"event": "pageview", "distinct_id": "u9", "timestamp": today.isoformat()}],
        },
    )
    return today.date(), yesterday.date()


def test_exposure_counts__gate__per_day_and_value(world, history):
    today, yesterday = history
    assert selectors.exposure_counts(project=world.project, kind="gate", name="new_checkout") == [
        {"day": yesterday, "value": True, "count": 1, "users": 1},
        {"day": today, "value": False, "count": 1, "users": 1},
        {"day": today, "value": True, "count": 1, "users": 1},
    ]


def test_exposure_counts__experiment__per_day_and_group(world, history):
    today, _ = history
    assert selectors.exposure_counts(project=world.project, kind="experiment", name="exp") == [
        {"day": today, "group": "Control", "count": 1, "users": 1},
        {"day": today, "group": "Test", "count": 2, "users": 2},
    ]


def test_exposure_counts__other_project__nothing(other_world, history):
    assert (
        selectors.exposure_counts(project=other_world.project, kind="gate", name="new_checkout")
        == []
    )


def test_event_counts_per_day__per_name(world, history):
    today, yesterday = history
    assert selectors.event_counts_per_day(project=world.project) == [
        {"day": yesterday, "name": "purchase", "count": 1},
        {"day": today, "name": "pageview", "count": 1},
        {"day": today, "name": "purchase", "count": 2},
        {"day": today, "name": "signup", "count": 1},
    ]
    assert selectors.event_counts_per_day(project=world.project, days=1, names=["signup"]) == [
        {"day": today, "name": "signup", "count": 1}
    ]


def test_recent_events__filters_and_after_id(world, history):
    newest = list(selectors.recent_events(project=world.project))
    assert [e.name for e in newest][:1] == ["pageview"]
    assert len(newest) == 5
    assert [
        e.user_id
        for e in selectors.recent_events(project=world.project, name="purchase", user_id="u1")
    ] == [
        "u1",
        "u1",
    ]
    assert [e.name for e in selectors.recent_events(project=world.project, source="posthog")] == [
        "pageview"
    ]
    assert list(selectors.recent_events(project=world.project, after_id=newest[0].id)) == []


def test_dropped_counts__per_day_source_reason(world, history):
    today, _ = history
    assert selectors.dropped_counts(project=world.project) == [
        {"day": today, "source": "statsig_http", "reason": "missing_unit_id", "count": 1}
    ]


# ---------------------------------------------------------------------------------------------
# Erasers.


def run_erasers(project_id: int, unit_type: str, ids: list[str]) -> dict[str, int]:
    from privacy.erasers import get_eraser

    return {
        name: get_eraser(name)(project_id=project_id, unit_type=unit_type, ids=ids)
        for name in (
            "flag_events.events",
            "flag_events.exposures",
            "flag_events.persons",
            "flag_events.groups",
        )
    }


def test_erasers__registered():
    from privacy.erasers import eraser_names

    assert {
        "flag_events.events",
        "flag_events.exposures",
        "flag_events.persons",
        "flag_events.groups",
    } <= set(eraser_names())


def test_erasers__user_id__every_trace_gone_others_kept_idempotent(
    api, world, other_world, history
):
    key = world.keys["client"]
    api.post(
        "/capture/",
        {"api_key": key, "event": "$set", "distinct_id": "u1", "$set": {"email": "x@y.z"}},
    )
    api.post(
        "/capture/",
        {
            "api_key": key,
            "event": "$create_alias",
            "distinct_id": "u1",
            "properties": {"alias": "u1-anon"},
        },
    )
    api.post(
        "/capture/",
        {"api_key": key, "event": "$set", "distinct_id": "u2", "$set": {"email": "b@y.z"}},
    )
    api.post(
        "/capture/",
        {
            "api_key": other_world.keys["client"],
            "event": "$set",
            "distinct_id": "u1",
            "$set": {"a": 1},
        },
    )
    api.post("/capture/", {"api_key": key, "event": "before_login", "distinct_id": "u1-anon"})
    # When u1 is erased in the first project
    counts = run_erasers(world.project.pk, "user_id", ["u1"])
    # Then nothing of u1 is left there: events, exposures, person with its alias
    # 2 purchases, $set and $create_alias of u1, and the event captured under its alias
    assert counts["flag_events.events"] == 5
    assert counts["flag_events.exposures"] == 3
    assert not Event.objects.filter(project=world.project, user_id="u1").exists()
    assert not Exposure.objects.filter(project=world.project, user_id="u1").exists()
    assert not PersonDistinctId.objects.filter(
        project=world.project, distinct_id__in=["u1", "u1-anon"]
    ).exists()
    # And the others are untouched
    assert Event.objects.filter(project=world.project, user_id="u2").exists()
    assert PersonDistinctId.objects.filter(project=world.project, distinct_id="u2").exists()
    assert PersonDistinctId.objects.filter(project=other_world.project, distinct_id="u1").exists()
    assert Person.objects.count() == 2
    # And a second run erases nothing more
    assert set(run_erasers(world.project.pk, "user_id", ["u1"]).values()) == {0}


def test_erasers__custom_id__events_exposures_and_groups(api, world):
    key = world.keys["server"]
    api.post(
        "/v1/log_event",
        {
            "events": [
                {"eventName": "e", "user": {"customIDs": {"companyID": "acme"}}},
                {"eventName": "e", "user": {"customIDs": {"companyID": "globex"}}},
            ]
        },
        key=key,
    )
    api.post(
        "/v1/log_custom_exposure",
        {
            "exposures": [
                {
                    "user": {"userID": "u", "customIDs": {"companyID": "acme"}},
                    "gateName": "g",
                    "passes": True,
                }
            ]
        },
        key=key,
    )
    api.post(
        "/capture/",
        {
            "api_key": world.keys["client"],
            "event": "$groupidentify",
            "distinct_id": "x",
            "properties": {
                "$group_type": "companyID",
                "$group_key": "acme",
                "$group_set": {"n": 1},
            },
        },
    )
    counts = run_erasers(world.project.pk, "companyID", ["acme"])
    assert counts == {
        "flag_events.events": 1,
        "flag_events.exposures": 1,
        "flag_events.persons": 0,
        "flag_events.groups": 1,
    }
    assert not Group.objects.exists()
    assert Event.objects.filter(custom_ids__companyID="globex").exists()


def test_erasers__stable_id(api, world):
    api.post(
        "/v1/log_event",
        {"events": [{"eventName": "e", "user": {"customIDs": {"stableID": "device-1"}}}]},
        key=world.keys["server"],
    )
    assert run_erasers(world.project.pk, "stableID", ["device-1"])["flag_events.events"] == 1
    assert not Event.objects.exists()


def test_seed_demo_data__events_exposures_persons__idempotent(world):
    from events.demo import seed_demo_data

    seed_demo_data(project=world.project, actor=world.actor())
    events = Event.objects.filter(project=world.project).count()
    assert events > 200
    assert Exposure.objects.filter(project=world.project).count() > 400
    assert Person.objects.filter(project=world.project).count() == 5
    assert selectors.event_counts_per_day(project=world.project)
    dropped = Counter()
    for row in selectors.dropped_counts(project=world.project):
        dropped[row["reason"]] += row["count"]
    assert dropped == {"missing_distinct_id": 2, "missing_unit_id": 3, "sdk_diagnostics": 5}
    seed_demo_data(project=world.project, actor=world.actor())
    assert Event.objects.filter(project=world.project).count() == events


def test_exposure_totals__page_of_names__each_counted_since_the_bound(
    world, history, django_assert_num_queries
):
    today, yesterday = history
    since_yesterday = datetime.combine(yesterday, datetime.min.time(), tzinfo=UTC)
    since_today = datetime.combine(today, datetime.min.time(), tzinfo=UTC)
    names = ["new_checkout", "never_checked"]
    # One aggregated query for the whole page of names
    with django_assert_num_queries(1):
        totals = selectors.exposure_totals(
            project=world.project, kind="gate", names=names, since=since_yesterday
        )
    assert totals == {"new_checkout": 3, "never_checked": 0}
    assert selectors.exposure_totals(
        project=world.project, kind="feature_gate", names=names, since=since_today
    ) == {"new_checkout": 2, "never_checked": 0}


def test_exposure_totals__experiment_kind_alias__counts_config_exposures(world, history):
    _, yesterday = history
    since = datetime.combine(yesterday, datetime.min.time(), tzinfo=UTC)
    assert selectors.exposure_totals(
        project=world.project, kind="experiment", names=["exp"], since=since
    ) == {"exp": 3}


def test_exposure_totals__other_project__zero(other_world, history):
    since = datetime.now(UTC) - timedelta(days=7)
    assert selectors.exposure_totals(
        project=other_world.project, kind="gate", names=["new_checkout"], since=since
    ) == {"new_checkout": 0}


def test_exposure_totals__no_names__empty_without_a_query(world, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert (
            selectors.exposure_totals(
                project=world.project, kind="gate", names=["", ""], since=datetime.now(UTC)
            )
            == {}
        )
