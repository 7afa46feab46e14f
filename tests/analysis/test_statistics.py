"""The Pulse statistics against numpy/scipy computed directly on generated unit-level data."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from analysis.statistics import (
    Moments,
    compare,
    cuped_stats,
    cuped_theta,
    group_stats,
    srm_p_value,
    z_for,
)


def generated(seed: int = 7, units: int = 100_000, effect: float = 0.05):
    """Control ~ Poisson(λ), λ ~ Gamma(0.5, 4) per unit; test has a 5% higher rate; pre-period values correlate with both."""
    rng = np.random.default_rng(seed)
    propensity_c = rng.gamma(0.5, 4.0, units)
    propensity_t = rng.gamma(0.5, 4.0, units)
    control = rng.poisson(propensity_c).astype(float)
    test = rng.poisson(propensity_t * (1 + effect)).astype(float)
    pre_control = rng.poisson(propensity_c).astype(float)
    pre_test = rng.poisson(propensity_t).astype(float)
    return control, test, pre_control, pre_test


def test_compare__generated_counts__matches_numpy_scipy_exactly():
    # Given unit values with a known +5% effect
    control, test, _, _ = generated()

    # When Pulse compares them from their moments
    result = compare(group_stats(Moments.of(control)), group_stats(Moments.of(test)), confidence=95)

    # Then every number is the textbook formula on numpy's sample statistics
    mean_c, mean_t = control.mean(), test.mean()
    var_c, var_t = control.var(ddof=1), test.var(ddof=1)
    n_c, n_t = control.size, test.size
    se = math.sqrt(var_t / n_t + var_c / n_c)
    se_rel = math.sqrt(var_t / (n_t * mean_c**2) + mean_t**2 * var_c / (n_c * mean_c**4))
    relative = (mean_t - mean_c) / mean_c
    z = stats.norm.ppf(0.975)
    assert result.absolute_delta == pytest.approx(mean_t - mean_c, rel=1e-9)
    assert result.relative_delta == pytest.approx(relative, rel=1e-9)
    assert result.ci_low == pytest.approx(relative - z * se_rel, rel=1e-9)
    assert result.ci_high == pytest.approx(relative + z * se_rel, rel=1e-9)
    assert result.p_value == pytest.approx(2 * stats.norm.sf(abs(mean_t - mean_c) / se), rel=1e-6)
    # And the generated effect is found: significant, the true +5% inside the interval
    assert result.p_value < 0.01
    assert result.ci_low < 0.05 < result.ci_high
    # Pinned numbers of this seed, so a change of formula cannot pass silently
    assert result.relative_delta == pytest.approx(0.0425266886, abs=1e-9)
    assert (result.ci_low, result.ci_high) == pytest.approx((0.0280873497, 0.0569660275), abs=1e-9)
    assert group_stats(Moments.of(control)).variance == pytest.approx(var_c, rel=1e-12)


def test_z_for__confidence_levels__normal_quantiles():
    assert z_for(95) == pytest.approx(1.959963984540054)
    assert z_for(99) == pytest.approx(2.5758293035489004)
    assert z_for(80) == pytest.approx(stats.norm.ppf(0.9))


def test_cuped__correlated_pre_period__narrower_interval_same_direction():
    # Given pre-period values that share each unit's propensity
    control, test, pre_c, pre_t = generated(seed=11)
    moments_c, moments_t = Moments.of(control, pre_c), Moments.of(test, pre_t)

    # When the comparison is made with and without CUPED
    plain = compare(group_stats(moments_c), group_stats(moments_t), confidence=95)
    theta = cuped_theta([moments_c, moments_t])
    pooled_x = (moments_c + moments_t).covariate
    adjusted = compare(
        cuped_stats(moments_c, theta=theta, pooled_covariate=pooled_x),
        cuped_stats(moments_t, theta=theta, pooled_covariate=pooled_x),
        confidence=95,
        cuped=True,
    )

    # Then θ is numpy's pooled regression slope, the interval narrows and still covers +5%
    x, y = np.concatenate([pre_c, pre_t]), np.concatenate([control, test])
    assert theta == pytest.approx(np.cov(x, y, ddof=1)[0, 1] / x.var(ddof=1), rel=1e-9)
    adjusted_c = control - theta * (pre_c - x.mean())
    assert cuped_stats(moments_c, theta=theta, pooled_covariate=pooled_x).variance == pytest.approx(
        adjusted_c.var(ddof=1), rel=1e-9
    )
    assert (adjusted.ci_high - adjusted.ci_low) < 0.9 * (plain.ci_high - plain.ci_low)
    assert adjusted.ci_low < 0.05 < adjusted.ci_high
    assert adjusted.cuped is True


def test_srm__60_40_split_of_50_50__flagged():
    p_value = srm_p_value({"Control": 6_000, "Test": 4_000}, {"Control": 50, "Test": 50})
    assert p_value == pytest.approx(stats.chisquare([6000, 4000], [5000, 5000]).pvalue)
    assert p_value < 0.001


def test_srm__balanced_split__not_flagged():
    assert srm_p_value({"Control": 5_020, "Test": 4_980}, {"Control": 50, "Test": 50}) > 0.5


def test_srm__uneven_sizes__against_configured_sizes():
    p_value = srm_p_value({"A": 2_000, "B": 8_000}, {"A": 20, "B": 80})
    assert p_value == pytest.approx(1.0)


def test_ratio__delta_method__matches_numpy_linearisation():
    # Given per-unit numerators (purchases) and denominators (sessions)
    rng = np.random.default_rng(3)
    sessions = rng.poisson(5, 5_000).astype(float) + 1
    purchases = rng.binomial(sessions.astype(int), 0.2).astype(float)

    # When the group's ratio statistics are computed
    result = group_stats(Moments.of(purchases, d=sessions))

    # Then mean is Σnum/Σden and variance/units is the delta-method variance of that ratio
    ratio = purchases.sum() / sessions.sum()
    mu_n, mu_d = purchases.mean(), sessions.mean()
    cov = np.cov(purchases, sessions, ddof=1)
    delta_var = (
        cov[0, 0] / mu_d**2 - 2 * mu_n * cov[0, 1] / mu_d**3 + mu_n**2 * cov[1, 1] / mu_d**4
    ) / sessions.size
    assert result.mean == pytest.approx(ratio, rel=1e-12)
    assert result.variance / result.units == pytest.approx(delta_var, rel=1e-9)
    # The linearised unit values give the same variance (the usual check of the delta method)
    linearised = (purchases - ratio * sessions) / mu_d
    assert result.variance == pytest.approx(linearised.var(ddof=1), rel=1e-6)


def test_compare__control_mean_zero__no_relative_delta():
    result = compare(
        group_stats(Moments.of([0, 0, 0])), group_stats(Moments.of([1, 0, 1])), confidence=95
    )
    assert result.relative_delta is None
    assert result.ci_low is None
    assert result.absolute_delta == pytest.approx(2 / 3)
