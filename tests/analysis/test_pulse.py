"""Pulse end to end: exposures and events sent through both protocols, computed in SQL, read
through ``pulse_results``."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from scipy import stats

from analysis.models import PulseRun
from analysis.services import pulse_compute_due
from privacy.services import deletion_process_pending, deletion_request_submit
from tests.analysis.traffic import METRICS, T0, expose, ms, statsig_event


def _metric(data, name, type):
    return next(m for m in data["metrics"] if (m["name"], m["type"]) == (name, type))


def test_compute_pulse__both_protocols__units_exclusions_and_values(capi, traffic):
    # When the command computes the experiment
    out = StringIO()
    call_command("compute_pulse", "--experiment", "checkout_test", stdout=out)
    assert "1 excluded" in out.getvalue()

    # Then pulse_results answers in the shape
    response = capi.get("experiments/checkout_test/pulse_results?cuped=false")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["message"] == "Pulse results read successfully."
    data = body["data"]
    assert set(data) == {"computedAt", "exposures", "srm", "metrics"}
    # both1 (two groups) is excluded; late1 is a Control unit without events after exposure
    assert data["exposures"] == {"Control": 3, "Test": 2}
    assert set(data["srm"]) == {"pValue"}
    assert PulseRun.objects.get().excluded_units == 1

    count = _metric(data, "purchases", "event_count")
    # Control [c1: 2 (one per protocol; the pre-period ones do not count), c2: 0, late1: 0]
    assert count["groups"]["Control"] == {
        "units": 3,
        "mean": pytest.approx(2 / 3),
        "variance": pytest.approx(4 / 3),
    }
    assert count["groups"]["Test"] == {"units": 2, "mean": 2.0, "variance": 2.0}
    [comparison] = count["comparisons"]
    assert set(comparison) == {
        "control",
        "test",
        "absoluteDelta",
        "relativeDelta",
        "ciLow",
        "ciHigh",
        "pValue",
        "cuped",
    }
    assert comparison["control"] == "Control"
    assert comparison["test"] == "Test"
    assert comparison["absoluteDelta"] == pytest.approx(4 / 3)
    assert comparison["relativeDelta"] == pytest.approx(2.0)
    assert comparison["cuped"] is False

    conversion = _metric(data, "purchases", "event_user")
    assert conversion["groups"]["Control"]["mean"] == pytest.approx(1 / 3)
    assert conversion["groups"]["Test"]["mean"] == 1.0

    revenue = _metric(data, "revenue", "sum")
    assert revenue["groups"]["Control"]["mean"] == pytest.approx(15 / 3)
    assert revenue["groups"]["Test"]["mean"] == pytest.approx((60 + 8) / 2)

    # mean: units without valued events left out (c2, late1)
    basket = _metric(data, "basket", "mean")
    assert basket["groups"]["Control"] == {"units": 1, "mean": 7.5, "variance": 0.0}
    assert basket["groups"]["Test"]["mean"] == pytest.approx((20 + 8) / 2)

    ratio = _metric(data, "purchases per visit", "ratio")
    assert ratio["groups"]["Control"]["mean"] == pytest.approx(2 / 6)  # late1 visited before
    assert ratio["groups"]["Test"]["mean"] == pytest.approx(4 / 4)


def test_pulse_results__cuped__uses_pre_period_and_says_so(capi, traffic):
    call_command("compute_pulse", "--experiment", "checkout_test", stdout=StringIO())
    data = capi.get("experiments/checkout_test/pulse_results").json()["data"]
    for name, type in (
        ("purchases", "event_count"),
        ("purchases", "event_user"),
        ("revenue", "sum"),
        ("basket", "mean"),
        ("purchases per visit", "ratio"),
    ):
        assert _metric(data, name, type)["comparisons"][0]["cuped"] is True, (name, type)


def test_recompute__privacy_deleted_user__gone(capi, world, traffic):
    # Given results computed with t1
    call_command("compute_pulse", "--experiment", "checkout_test", stdout=StringIO())

    # When t1's data is deleted through the privacy pipeline and the results recomputed
    deletion_request_submit(
        project=world.project, actor=world.actor(), unit_type="userID", ids="t1"
    )
    deletion_process_pending(project_id=world.project.pk, respect_backoff=False)
    call_command("compute_pulse", "--experiment", "checkout_test", stdout=StringIO())

    # Then today's run no longer counts t1 (one run per day: replaced, not added)
    data = capi.get("experiments/checkout_test/pulse_results?cuped=false").json()["data"]
    assert data["exposures"] == {"Control": 3, "Test": 1}
    assert _metric(data, "purchases", "event_count")["groups"]["Test"]["units"] == 1
    assert PulseRun.objects.count() == 1


def test_load_pulse__202_and_computed(capi, traffic):
    assert capi.get("experiments/checkout_test/pulse_results").status_code == 404
    response = capi.post("experiments/checkout_test/load_pulse")
    assert response.status_code == 202
    assert response.json() == {"message": "Pulse computation started."}
    assert capi.get("experiments/checkout_test/pulse_results").status_code == 200


def test_pulse_results__query_parameters(capi, traffic):
    call_command("compute_pulse", "--experiment", "checkout_test", stdout=StringIO())
    wide = capi.get("experiments/checkout_test/pulse_results?cuped=false&confidence=99").json()
    narrow = capi.get("experiments/checkout_test/pulse_results?cuped=false&confidence=80").json()
    c99 = _metric(wide["data"], "purchases", "event_count")["comparisons"][0]
    c80 = _metric(narrow["data"], "purchases", "event_count")["comparisons"][0]
    assert c99["ciHigh"] - c99["ciLow"] > c80["ciHigh"] - c80["ciLow"]
    swapped = capi.get("experiments/checkout_test/pulse_results?control=Test&test=Control").json()
    assert (
        _metric(swapped["data"], "purchases", "event_count")["comparisons"][0]["test"] == "Control"
    )


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("confidence=120", "confidence"),
        ("control=Nope", "control"),
        ("cuped=maybe", "cuped"),
        ("control=Test&test=Test", "test"),
    ],
)
def test_pulse_results__bad_query__400_names_it(capi, traffic, query, field):
    call_command("compute_pulse", "--experiment", "checkout_test", stdout=StringIO())
    response = capi.get(f"experiments/checkout_test/pulse_results?{query}")
    assert response.status_code == 400
    assert field in {e["property"] for e in response.json()["errors"]}


def test_pulse__other_project__404(other_capi, traffic):
    call_command("compute_pulse", "--experiment", "checkout_test", stdout=StringIO())
    assert other_capi.get("experiments/checkout_test/pulse_results").status_code == 404
    assert other_capi.post("experiments/checkout_test/load_pulse").status_code == 404


def test_srm__60_40_split_of_50_50__flagged(api, world, capi, experiment):
    for index in range(60):
        expose(api, world, f"c{index}", "Control")
    for index in range(40):
        expose(api, world, f"t{index}", "Test")
    call_command("compute_pulse", "--experiment", "checkout_test", stdout=StringIO())
    data = capi.get("experiments/checkout_test/pulse_results").json()["data"]
    assert data["exposures"] == {"Control": 60, "Test": 40}
    assert data["srm"]["pValue"] == pytest.approx(0.0455, abs=1e-4)


def test_beat__daily_job_scheduled_and_computes_running_experiments(capi, traffic):
    assert settings.CELERY_BEAT_SCHEDULE["compute-experiment-results"]["task"] == (
        "analysis.tasks.compute_due_pulses"
    )
    assert pulse_compute_due() == 0  # in setup: nothing to compute
    assert capi.put("experiments/checkout_test/start").status_code == 200
    assert pulse_compute_due() == 1
    assert PulseRun.objects.filter(experiment=traffic).exists()


def test_bonferroni__two_test_groups__intervals_widen(api, world, capi):
    # Given an experiment with two test groups and some purchases in each
    capi.post("metrics", METRICS[0])
    body = {
        "name": "three_way",
        "groups": [
            {"name": "Control", "size": 34, "parameterValues": {}},
            {"name": "A", "size": 33, "parameterValues": {}},
            {"name": "B", "size": 33, "parameterValues": {}},
        ],
        "primaryMetrics": [{"name": "purchases", "type": "event_count"}],
    }
    assert capi.post("experiments", body).status_code == 201
    for index in range(12):
        group = ("Control", "A", "B")[index % 3]
        expose(api, world, f"u{index}", group, experiment="three_way")
        for _ in range(index % 4 + (index % 3)):
            statsig_event(api, world, f"u{index}", T0 + timedelta(hours=1))
    call_command("compute_pulse", "--experiment", "three_way", stdout=StringIO())

    def widths() -> list[float]:
        data = capi.get("experiments/three_way/pulse_results?cuped=false").json()["data"]
        comparisons = _metric(data, "purchases", "event_count")["comparisons"]
        return [c["ciHigh"] - c["ciLow"] for c in comparisons]

    plain = widths()

    # When the experiment asks for Bonferroni's correction
    assert capi.patch("experiments/three_way", {"bonferroniCorrection": True}).status_code == 200

    # Then each of the two comparisons uses 97.5% instead of 95%
    corrected = widths()
    ratio = stats.norm.ppf(1 - 0.025 / 2) / stats.norm.ppf(1 - 0.05 / 2)
    assert corrected == pytest.approx([width * ratio for width in plain])


def test_metric_events__criteria_and_count_distinct(api, world, capi, experiment):
    # Given metrics on purchases of sku "a" only, and on distinct skus bought
    assert (
        capi.post(
            "metrics",
            {
                "name": "sku a purchases",
                "type": "event_count",
                "metricEvents": [
                    {
                        "name": "purchase",
                        "criteria": [{"column": "sku", "condition": "in", "values": ["a"]}],
                    }
                ],
            },
        ).status_code
        == 201
    )
    assert (
        capi.post(
            "metrics",
            {
                "name": "skus bought",
                "type": "event_count",
                "metricEvents": [
                    {"name": "purchase", "type": "count_distinct", "metadataKey": "sku"}
                ],
            },
        ).status_code
        == 201
    )
    capi.patch(
        "experiments/checkout_test",
        {
            "primaryMetrics": [
                {"name": "sku a purchases", "type": "event_count"},
                {"name": "skus bought", "type": "event_count"},
            ]
        },
    )
    expose(api, world, "c1", "Control")
    expose(api, world, "t1", "Test")
    for unit, skus in (("c1", ["a", "a", "b"]), ("t1", ["b", "c", "c"])):
        events = [
            {
                "eventName": "purchase",
                "user": {"userID": unit},
                "time": ms(T0 + timedelta(hours=1)),
                "metadata": {"sku": sku},
            }
            for sku in skus
        ]
        api.post("/v1/log_event", {"events": events}, key=world.keys["server"])

    # When computed
    call_command("compute_pulse", "--experiment", "checkout_test", stdout=StringIO())
    data = capi.get("experiments/checkout_test/pulse_results?cuped=false").json()["data"]

    # Then only sku "a" counts for the first, distinct skus for the second
    sku_a = _metric(data, "sku a purchases", "event_count")["groups"]
    assert (sku_a["Control"]["mean"], sku_a["Test"]["mean"]) == (2.0, 0.0)
    distinct = _metric(data, "skus bought", "event_count")["groups"]
    assert (distinct["Control"]["mean"], distinct["Test"]["mean"]) == (2.0, 2.0)


def test_experiment_delete__results_go_with_it(capi, traffic):
    call_command("compute_pulse", "--experiment", "checkout_test", stdout=StringIO())
    assert capi.delete("experiments/checkout_test").status_code == 200
    assert not PulseRun.objects.exists()
