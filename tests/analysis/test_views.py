"""The analysis screens through the browser client: metrics, the results section, Recompute."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from analysis.models import Metric, PulseRun
from console.models import Role


def _url(world, path: str) -> str:
    return f"/p/{world.project.slug}/{path}"


def test_metric_create__member__created_and_listed(as_role, world):
    client = as_role(Role.MEMBER)
    response = client.post(
        _url(world, "metrics/new/"),
        {
            "name": "signups",
            "type": "event_user",
            "directionality": "increase",
            "unitTypes": "userID",
            "metricEvents": json.dumps([{"name": "signup", "type": "count"}]),
            "description": "",
        },
    )
    assert response.status_code == 302
    assert Metric.objects.filter(project=world.project, slug="signups::event_user").exists()
    page = client.get(_url(world, "metrics/")).content.decode()
    assert "signups" in page
    assert "Create a metric" in page


def test_metric_create__bad_events__form_error_on_the_field(as_role, world):
    response = as_role(Role.MEMBER).post(
        _url(world, "metrics/new/"),
        {
            "name": "revenue",
            "type": "sum",
            "directionality": "increase",
            "metricEvents": json.dumps([{"name": "purchase", "type": "count"}]),
        },
    )
    assert response.status_code == 400
    assert "type must be value" in response.content.decode()
    assert not Metric.objects.exists()


def test_metric_screens__viewer__reads_but_cannot_create(as_role, world, capi):
    capi.post("metrics", {"name": "visits", "type": "event_count", "metricEvents": [{"name": "v"}]})
    viewer = as_role(Role.VIEWER)
    assert viewer.get(_url(world, "metrics/")).status_code == 200
    assert viewer.get(_url(world, "metrics/visits::event_count/")).status_code == 200
    assert viewer.get(_url(world, "metrics/new/")).status_code == 403
    assert viewer.post(_url(world, "metrics/visits::event_count/delete/")).status_code == 403


def test_metric_delete__member__gone(as_role, world, capi):
    capi.post("metrics", {"name": "visits", "type": "event_count", "metricEvents": [{"name": "v"}]})
    response = as_role(Role.MEMBER).post(_url(world, "metrics/visits::event_count/delete/"))
    assert response.status_code == 302
    assert not Metric.objects.exists()


def test_results_section__computed__lift_units_srm_and_recompute(as_role, world, traffic):
    call_command("compute_pulse", "--experiment", "checkout_test", stdout=StringIO())
    page = as_role(Role.VIEWER).get(_url(world, "experiments/checkout_test/results/?cuped=off"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-metric-result="purchases::event_count"' in html
    assert "+200.0%" in html  # Test's purchases per unit against Control's
    assert "1 seen in several groups, left out" in html
    assert "Recompute" not in html  # viewers cannot recompute
    summary = as_role(Role.VIEWER).get(
        _url(world, "experiments/checkout_test/results/?view=summary")
    )
    assert "data-decision-results" in summary.content.decode()


def test_results_section__nothing_computed__says_so(as_role, world, experiment):
    html = as_role(Role.MEMBER).get(_url(world, "experiments/checkout_test/results/")).content
    assert b"No results yet" in html
    assert b"Recompute" in html


def test_recompute__member__computed_and_back_to_the_page(as_role, world, traffic):
    response = as_role(Role.MEMBER).post(
        _url(world, "experiments/checkout_test/results/recompute/")
    )
    assert response.status_code == 302
    assert response["Location"].endswith("/experiments/checkout_test/#results")
    assert PulseRun.objects.filter(experiment=traffic).exists()


@pytest.mark.parametrize("role", [Role.VIEWER])
def test_recompute__viewer__403(as_role, world, experiment, role):
    response = as_role(role).post(_url(world, "experiments/checkout_test/results/recompute/"))
    assert response.status_code == 403


def test_experiment_page__loads_the_results_section(as_role, world, experiment):
    html = as_role(Role.VIEWER).get(_url(world, "experiments/checkout_test/")).content.decode()
    assert 'id="results"' in html
    assert "/experiments/checkout_test/results/" in html


def test_metrics_set__member__experiment_names_them(as_role, world, capi, experiment):
    # Given the fixture's experiment (five metrics in use) and one more metric
    capi.post("metrics", {"name": "visits", "type": "event_count", "metricEvents": [{"name": "v"}]})
    page = as_role(Role.MEMBER).get(_url(world, "experiments/checkout_test/results/"))
    assert 'name="metric:visits::event_count"' in page.content.decode()

    # When a member keeps only visits as primary and revenue as secondary
    response = as_role(Role.MEMBER).post(
        _url(world, "experiments/checkout_test/results/metrics/"),
        {"metric:visits::event_count": "primary", "metric:revenue::sum": "secondary"},
    )

    # Then the experiment names exactly those
    assert response.status_code == 302
    experiment.refresh_from_db()
    assert experiment.primary_metrics == [{"name": "visits", "type": "event_count"}]
    assert experiment.secondary_metrics == [{"name": "revenue", "type": "sum"}]


def test_metrics_set__viewer__403(as_role, world, experiment):
    response = as_role(Role.VIEWER).post(_url(world, "experiments/checkout_test/results/metrics/"))
    assert response.status_code == 403
