"""Gate Pulse: the units a rule passed against those it failed, computed like an experiment's
results from gate exposures (as SDKs log them) and events, read through the console API and
on the gate page."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from scipy import stats

from analysis.models import PulseRun
from analysis.services import gate_pulse_compute_due
from console.models import Role
from tests.analysis.traffic import METRICS, T0, ms

GATE = "new_checkout"
PASS_UNITS = 60
FAIL_UNITS = 60


def _create_gate(capi, *, pass_percentage=50, **fields) -> str:
    """The gate with a partial rollout rule and a rule passing everyone; the first one's id."""
    body = {
        "name": GATE,
        "idType": "userID",
        "rules": [
            {"name": "Half", "passPercentage": pass_percentage, "conditions": [{"type": "public"}]},
            {"name": "Staff", "passPercentage": 100, "conditions": [{"type": "public"}]},
        ],
        **fields,
    }
    response = capi.post("gates", body)
    assert response.status_code == 201, response.json()
    return response.json()["data"]["rules"][0]["id"]


def _log(api, world, events: list[dict]) -> None:
    response = api.post("/v1/log_event", {"events": events}, key=world.keys["server"])
    assert response.status_code == 202, response.content


def _exposure(unit: str, rule_id: str, passed: bool, at=T0) -> dict:
    return {
        "eventName": "statsig::gate_exposure",
        "user": {"userID": unit},
        "time": ms(at),
        "metadata": {"gate": GATE, "gateValue": "true" if passed else "false", "ruleID": rule_id},
    }


def _purchase(unit: str, at) -> dict:
    return {
        "eventName": "purchase",
        "user": {"userID": unit},
        "time": ms(at),
        "metadata": {"price": "10"},
    }


@pytest.fixture
def rule_traffic(api, world, capi):
    """Purchases per unit drawn with a known effect (pass buys more); a unit seen passing and
    failing, exposures of the other rule and purchases before exposure, none of which count.
    Returns the rule id and the purchases after exposure of each group's units."""
    for metric in METRICS:
        assert capi.post("metrics", metric).status_code == 201
    rule_id = _create_gate(capi)
    rng = np.random.default_rng(15)
    counts = {
        "pass": rng.poisson(2.0, PASS_UNITS),
        "fail": rng.poisson(1.2, FAIL_UNITS),
    }
    events = []
    for group, group_counts in counts.items():
        for index, count in enumerate(group_counts):
            unit = f"{group}-{index}"
            events.append(_exposure(unit, rule_id, group == "pass"))
            events.append(_purchase(unit, T0 - timedelta(hours=1)))  # before exposure
            events.extend(_purchase(unit, T0 + timedelta(minutes=m + 1)) for m in range(count))
    events.append(_exposure("both", rule_id, True))
    events.append(_exposure("both", rule_id, False, at=T0 + timedelta(hours=1)))
    events.append(_purchase("both", T0 + timedelta(hours=2)))
    events.append(_exposure("staff-1", "other-rule", True))
    events.append(_purchase("staff-1", T0 + timedelta(hours=2)))
    for start in range(0, len(events), 200):
        _log(api, world, events[start : start + 200])
    return rule_id, counts


def _metric(data, name, type):
    return next(m for m in data["metrics"] if (m["name"], m["type"]) == (name, type))


def _reference(test: np.ndarray, control: np.ndarray, confidence: float = 95) -> dict:
    """The issue's statistics, straight from numpy and scipy."""
    mean_t, mean_c = test.mean(), control.mean()
    var_t, var_c = test.var(ddof=1), control.var(ddof=1)
    n_t, n_c = len(test), len(control)
    relative = (mean_t - mean_c) / mean_c
    se_rel = np.sqrt(var_t / (n_t * mean_c**2) + mean_t**2 * var_c / (n_c * mean_c**4))
    z = stats.norm.ppf(1 - (1 - confidence / 100) / 2)
    se = np.sqrt(var_t / n_t + var_c / n_c)
    return {
        "absoluteDelta": mean_t - mean_c,
        "relativeDelta": relative,
        "ciLow": relative - z * se_rel,
        "ciHigh": relative + z * se_rel,
        "pValue": 2 * stats.norm.sf(abs(mean_t - mean_c) / se),
    }


def test_gate_pulse__load_then_read__pass_against_fail_as_numpy(capi, rule_traffic):
    rule_id, counts = rule_traffic
    results_url = f"gates/{GATE}/rules/{rule_id}/pulse_results"
    assert capi.get(results_url).status_code == 404  # nothing computed yet

    # When results are loaded (every metric of the project: the gate monitors none)
    response = capi.post(f"gates/{GATE}/load_pulse")
    assert response.status_code == 202
    assert response.json() == {"message": "Pulse computation started."}

    # Then the rule's results compare pass (test) with fail (control)
    response = capi.get(f"{results_url}?cuped=false&confidence=90")
    assert response.status_code == 200, response.json()
    data = response.json()["data"]
    assert data["exposures"] == {"pass": PASS_UNITS, "fail": FAIL_UNITS}  # "both" left out
    assert PulseRun.objects.get(gate__slug=GATE, rule_id=rule_id).excluded_units == 1
    assert data["srm"]["pValue"] == pytest.approx(1.0)  # 60/60 on a 50% rollout
    assert {(m["name"], m["type"]) for m in data["metrics"]} == {
        (m["name"], m["type"]) for m in METRICS
    }

    count = _metric(data, "purchases", "event_count")
    passed, failed = counts["pass"].astype(float), counts["fail"].astype(float)
    assert count["groups"]["pass"] == {
        "units": PASS_UNITS,
        "mean": pytest.approx(passed.mean()),
        "variance": pytest.approx(passed.var(ddof=1)),
    }
    assert count["groups"]["fail"]["mean"] == pytest.approx(failed.mean())
    [comparison] = count["comparisons"]
    assert (comparison["control"], comparison["test"], comparison["cuped"]) == (
        "fail",
        "pass",
        False,
    )
    expected = _reference(passed, failed, confidence=90)
    for field, value in expected.items():
        assert comparison[field] == pytest.approx(value), field
    assert comparison["ciLow"] > 0  # the known effect is found

    conversion = _metric(data, "purchases", "event_user")
    converted = (counts["pass"] > 0).astype(float), (counts["fail"] > 0).astype(float)
    assert conversion["comparisons"][0]["relativeDelta"] == pytest.approx(
        _reference(*converted)["relativeDelta"]
    )

    # The other rule (passing everyone) is not computed
    staff = capi.get(f"gates/{GATE}").json()["data"]["rules"][1]["id"]
    assert capi.get(f"gates/{GATE}/rules/{staff}/pulse_results").status_code == 404


def test_gate_pulse__monitoring_metrics__only_those(capi, api, world):
    for metric in METRICS:
        assert capi.post("metrics", metric).status_code == 201
    rule_id = _create_gate(
        capi, monitoringMetrics=[{"name": "revenue", "type": "sum"}], pass_percentage=10
    )
    _log(api, world, [_exposure("u1", rule_id, True), _exposure("u2", rule_id, False)])
    assert capi.post(f"gates/{GATE}/load_pulse").status_code == 202
    data = capi.get(f"gates/{GATE}/rules/{rule_id}/pulse_results").json()["data"]
    assert [(m["name"], m["type"]) for m in data["metrics"]] == [("revenue", "sum")]

    # A request naming metrics measures those instead (a name takes every type of it)
    assert capi.post(f"gates/{GATE}/load_pulse?metrics=purchases").status_code == 202
    data = capi.get(f"gates/{GATE}/rules/{rule_id}/pulse_results").json()["data"]
    assert {(m["name"], m["type"]) for m in data["metrics"]} == {
        ("purchases", "event_count"),
        ("purchases", "event_user"),
    }
    assert PulseRun.objects.filter(gate__slug=GATE).count() == 1  # one run per rule and day


@pytest.mark.parametrize(
    ("method", "path", "field"),
    [
        ("post", f"gates/{GATE}/load_pulse?metrics=nope", "metrics"),
        ("get", f"gates/{GATE}/rules/nope/pulse_results", "ruleID"),
        ("get", f"gates/{GATE}/rules/{{rule}}/pulse_results?confidence=120", "confidence"),
        ("get", f"gates/{GATE}/rules/{{rule}}/pulse_results?cuped=maybe", "cuped"),
    ],
)
def test_gate_pulse__bad_input__400_names_the_field(capi, method, path, field):
    rule_id = _create_gate(capi)
    response = getattr(capi, method)(path.format(rule=rule_id))
    assert response.status_code == 400, response.json()
    assert field in {e["property"] for e in response.json()["errors"]}


def test_load_pulse__gate_without_partial_rollout__400_names_rules(capi):
    _create_gate(capi, pass_percentage=100)
    response = capi.post(f"gates/{GATE}/load_pulse")
    assert response.status_code == 400
    assert "rules" in {e["property"] for e in response.json()["errors"]}


def test_gate_pulse__other_project__404(capi, other_capi):
    rule_id = _create_gate(capi)
    assert other_capi.post(f"gates/{GATE}/load_pulse").status_code == 404
    assert other_capi.get(f"gates/{GATE}/rules/{rule_id}/pulse_results").status_code == 404


def test_gate_pulse__read_only_key__reads_but_cannot_load(api, world, capi, rule_traffic):
    rule_id, _ = rule_traffic
    assert capi.post(f"gates/{GATE}/load_pulse").status_code == 202
    created = capi.post(
        "keys", {"description": "reader", "type": "CONSOLE", "scopes": ["omni_read_only"]}
    )
    read_only = created.json()["data"]["key"]
    load = api.post(f"/console/v1/gates/{GATE}/load_pulse", {}, key=read_only)
    assert load.status_code == 403
    results = api.get(f"/console/v1/gates/{GATE}/rules/{rule_id}/pulse_results", key=read_only)
    assert results.status_code == 200


def test_daily_job__enabled_gates_with_a_rollout__computed(capi, rule_traffic):
    rule_id, _ = rule_traffic
    assert gate_pulse_compute_due() == 1
    assert PulseRun.objects.filter(gate__slug=GATE, rule_id=rule_id).exists()
    assert capi.patch(f"gates/{GATE}", {"measureMetricLifts": False}).status_code == 200
    assert gate_pulse_compute_due() == 0


def _url(world, path: str) -> str:
    return f"/p/{world.project.slug}/{path}"


def test_gate_page__results_section__lift_per_rule_and_recompute(as_role, world, rule_traffic):
    rule_id, counts = rule_traffic
    # The gate page loads the section
    page = as_role(Role.VIEWER).get(_url(world, f"gates/{GATE}/")).content.decode()
    assert 'id="results"' in page
    assert f"/gates/{GATE}/results/" in page

    # Before a computation it says so, and a member recomputes
    member = as_role(Role.MEMBER)
    assert b"No results yet" in member.get(_url(world, f"gates/{GATE}/results/")).content
    response = member.post(_url(world, f"gates/{GATE}/results/recompute/"))
    assert response.status_code == 302
    assert response["Location"].endswith(f"/gates/{GATE}/#results")

    # Then viewers see the rule's pass against fail lift, without Recompute
    html = as_role(Role.VIEWER).get(_url(world, f"gates/{GATE}/results/?cuped=off")).content
    html = html.decode()
    assert f'data-rule-results="{rule_id}"' in html
    assert 'data-metric-result="purchases::event_count"' in html
    lift = counts["pass"].mean() / counts["fail"].mean() - 1
    assert f"{lift * 100:+.1f}%" in html
    assert "1 seen passing and failing, left out" in html
    assert "Recompute" not in html
    assert (
        as_role(Role.VIEWER).post(_url(world, f"gates/{GATE}/results/recompute/")).status_code
        == 403
    )
