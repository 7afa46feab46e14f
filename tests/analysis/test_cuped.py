"""CUPED for ratio and mean metrics (the delta-method form) against the long numpy computation
of ``tests.analysis.cuped_reference``, from the statistics alone and end to end through the
SQL aggregation and ``pulse_results``."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import numpy as np
import pytest
from django.core.management import call_command

from analysis.statistics import Moments, compare, cuped_stats, cuped_theta, group_stats
from tests.analysis import cuped_reference as reference
from tests.analysis.cuped_reference import Units, generated_units
from tests.analysis.traffic import T0, ms

COMPARED = ("absoluteDelta", "relativeDelta", "ciLow", "ciHigh", "pValue")


def _moments(units: Units) -> Moments:
    return Moments.of(units.y, units.x, d=units.d, m=units.m)


def _pulse(control: Units, test: Units, *, cuped: bool) -> dict[str, float]:
    """The comparison as ``analysis.statistics`` makes it, from the groups' moments only."""
    moments_c, moments_t = _moments(control), _moments(test)
    if cuped:
        theta = cuped_theta([moments_c, moments_t])
        pooled = (moments_c + moments_t).covariate
        result = compare(
            cuped_stats(moments_c, theta=theta, pooled_covariate=pooled),
            cuped_stats(moments_t, theta=theta, pooled_covariate=pooled),
            confidence=95,
            cuped=True,
        )
    else:
        result = compare(group_stats(moments_c), group_stats(moments_t), confidence=95)
    return {
        "absoluteDelta": result.absolute_delta,
        "relativeDelta": result.relative_delta,
        "ciLow": result.ci_low,
        "ciHigh": result.ci_high,
        "pValue": result.p_value,
    }


def _ratio_groups(seed: int, size: int, effect: float) -> tuple[Units, Units]:
    """purchases per visit: numerator purchases, denominator visits, both periods."""
    rng = np.random.default_rng(seed)
    groups = []
    for group_effect in (0.0, effect):
        before_v, after_v, before_p, after_p, _ = generated_units(rng, size, effect=group_effect)
        groups.append(Units(y=after_p, d=after_v, x=before_p, m=before_v))
    return groups[0], groups[1]


def _mean_groups(seed: int, size: int, effect: float) -> tuple[Units, Units]:
    """basket: the mean price of a unit's purchases after exposure (units that bought); the
    covariate is the sum and count of its purchases' prices before."""
    rng = np.random.default_rng(seed)
    groups = []
    for group_effect in (0.0, effect):
        _, _, before_p, after_p, price = generated_units(rng, size)
        bought = after_p > 0
        after_mean = price * (1 + group_effect) * rng.lognormal(0, 0.2, size)
        before_sum = before_p * price * rng.lognormal(0, 0.2, size)
        groups.append(
            Units(
                y=after_mean[bought],
                d=np.ones(bought.sum()),
                x=before_sum[bought],
                m=before_p[bought],
            )
        )
    return groups[0], groups[1]


@pytest.mark.parametrize("groups", [_ratio_groups, _mean_groups], ids=["ratio", "mean"])
def test_cuped__generated_units__matches_numpy_linearisation(groups):
    # Given 40,000 units per group with a known +4% effect and a correlated pre-period
    control, test = groups(seed=5, size=40_000, effect=0.04)

    # When Pulse compares their moments with CUPED
    result = _pulse(control, test, cuped=True)

    # Then every number is the delta-method CUPED computed unit by unit with numpy
    adjusted_c, adjusted_t, theta = reference.cuped(control, test)
    assert cuped_theta([_moments(control), _moments(test)]) == pytest.approx(theta, rel=1e-9)
    expected = reference.comparison(adjusted_c, adjusted_t)
    assert result == pytest.approx(expected, rel=1e-7)
    pooled = (_moments(control) + _moments(test)).covariate
    adjusted = cuped_stats(_moments(control), theta=theta, pooled_covariate=pooled)
    assert adjusted.mean == pytest.approx(adjusted_c.mean, rel=1e-12)
    assert adjusted.variance == pytest.approx(adjusted_c.variance, rel=1e-7)
    # And the variance reduction is real: the interval narrows and still covers the +4%
    plain = _pulse(control, test, cuped=False)
    assert result["ciHigh"] - result["ciLow"] < 0.85 * (plain["ciHigh"] - plain["ciLow"])
    assert result["ciLow"] < 0.04 < result["ciHigh"]


@pytest.mark.parametrize("groups", [_ratio_groups, _mean_groups], ids=["ratio", "mean"])
def test_cuped_off__generated_units__plain_delta_method(groups):
    control, test = groups(seed=9, size=20_000, effect=0.0)
    expected = reference.comparison(reference.plain(control), reference.plain(test))
    assert _pulse(control, test, cuped=False) == pytest.approx(expected, rel=1e-7)


def test_cuped__covariate_unrelated__same_as_plain_within_noise():
    # Given a pre-period drawn independently of the experiment period
    rng = np.random.default_rng(21)
    control, test = _ratio_groups(seed=21, size=30_000, effect=0.0)
    shuffled = [
        Units(y=g.y, d=g.d, x=rng.permutation(g.x), m=rng.permutation(g.m)) for g in (control, test)
    ]

    # Then CUPED neither narrows nor widens the interval beyond noise
    adjusted = _pulse(*shuffled, cuped=True)
    plain = _pulse(*shuffled, cuped=False)
    width = plain["ciHigh"] - plain["ciLow"]
    assert adjusted["ciHigh"] - adjusted["ciLow"] == pytest.approx(width, rel=0.01)


def test_cuped__no_pre_period_events__unadjusted():
    # Given units of which none had an event before exposure (x = m = 0 for every unit)
    control, test = _ratio_groups(seed=2, size=1_000, effect=0.0)
    empty = [Units(y=g.y, d=g.d, x=0 * g.x, m=0 * g.m) for g in (control, test)]

    # Then θ is 0 and the CUPED comparison is the plain one
    assert cuped_theta([_moments(g) for g in empty]) == 0.0
    assert _pulse(*empty, cuped=True) == pytest.approx(_pulse(*empty, cuped=False), rel=1e-12)


# -- End to end: events through the API, aggregated in SQL ------------------------------------


def _log(api, world, events: list[dict]) -> None:
    response = api.post("/v1/log_event", {"events": events}, key=world.keys["server"])
    assert response.status_code == 202, response.content


def _event(unit: str, name: str, at, price: float | None = None) -> dict:
    event = {"eventName": name, "user": {"userID": unit}, "time": ms(at)}
    if price is not None:
        event["metadata"] = {"price": str(round(price, 2))}
    return event


def test_pulse_results__ratio_and_mean_cuped__match_numpy_on_the_same_units(
    api, world, capi, experiment
):
    # Given 120 units per group whose purchases and visits before and after exposure are known
    rng = np.random.default_rng(17)
    exposures, events = [], []
    units: dict[str, dict[str, list]] = {}
    for group, effect in (("Control", 0.0), ("Test", 0.3)):
        before_v, after_v, before_p, after_p, price = generated_units(rng, 120, effect=effect)
        arrays = units[group] = {"ratio": [], "mean": []}
        for index in range(120):
            unit = f"{group[0]}{index}"
            exposures.append(
                {
                    "user": {"userID": unit},
                    "experimentName": "checkout_test",
                    "group": group,
                    "time": ms(T0),
                }
            )
            pre = [T0 - timedelta(days=6, hours=-k) for k in range(int(before_v[index]))]
            post = [T0 + timedelta(minutes=10 + k) for k in range(int(after_v[index]))]
            events += [_event(unit, "visit", at) for at in pre + post]
            # Older than the seven-day window: never counted
            events.append(_event(unit, "visit", T0 - timedelta(days=8)))
            pre_prices = price[index] * rng.lognormal(0, 0.2, int(before_p[index]))
            post_prices = price[index] * rng.lognormal(0, 0.2, int(after_p[index]))
            events += [_event(unit, "purchase", pre[k], p) for k, p in enumerate(pre_prices)]
            events += [_event(unit, "purchase", post[k], p) for k, p in enumerate(post_prices)]
            # The stored prices are rounded to cents; the reference sees the same values
            pre_prices, post_prices = np.round(pre_prices, 2), np.round(post_prices, 2)
            arrays["ratio"].append(
                (after_p[index], after_v[index], before_p[index], before_v[index])
            )
            if post_prices.size:
                arrays["mean"].append((post_prices.mean(), 1.0, pre_prices.sum(), pre_prices.size))
    response = api.post(
        "/v1/log_custom_exposure", {"exposures": exposures}, key=world.keys["server"]
    )
    assert response.status_code in (200, 202), response.content
    _log(api, world, events)

    # When the results are computed and read with and without CUPED
    call_command("compute_pulse", "--experiment", "checkout_test", stdout=StringIO())

    def read(cuped: str, name: str, type: str) -> dict:
        data = capi.get(f"experiments/checkout_test/pulse_results?cuped={cuped}").json()["data"]
        return next(m for m in data["metrics"] if (m["name"], m["type"]) == (name, type))

    # Then each comparison is numpy's on the same unit values, CUPED or not
    for kind, name in (("ratio", "purchases per visit"), ("mean", "basket")):
        control, test = (
            Units(*(np.array(column, dtype=float) for column in zip(*units[g][kind], strict=True)))
            for g in ("Control", "Test")
        )
        adjusted = read("true", name, kind)
        plain = read("false", name, kind)
        [with_cuped], [without] = adjusted["comparisons"], plain["comparisons"]
        assert with_cuped["cuped"] is True
        assert without["cuped"] is False
        expected = reference.comparison(*reference.cuped(control, test)[:2])
        assert {k: with_cuped[k] for k in COMPARED} == pytest.approx(expected, rel=1e-6), kind
        expected = reference.comparison(reference.plain(control), reference.plain(test))
        assert {k: without[k] for k in COMPARED} == pytest.approx(expected, rel=1e-6), kind
        assert plain["groups"]["Control"] == {
            "units": control.y.size,
            "mean": pytest.approx(control.ratio, rel=1e-9),
            "variance": pytest.approx(reference.plain(control).variance, rel=1e-6),
        }
        # And the correlated pre-period narrows the interval
        width = without["ciHigh"] - without["ciLow"]
        assert with_cuped["ciHigh"] - with_cuped["ciLow"] < 0.9 * width, kind
