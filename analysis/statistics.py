"""Pulse statistics from per-group sufficient statistics (pure: no Django, no ORM).

The database aggregates unit-level values into ``Moments`` (counts and sums of the unit value,
its square, the pre-exposure covariate, and their products), so the job never holds a row per
unit in Python; everything here is closed-form over those sums, with scipy's normal and
chi-square distributions for quantiles and p-values.

Definitions follow Statsig's Pulse documentation:

- a group's ``mean`` and ``variance`` are the sample mean and sample variance (ddof 1) of the
  unit values; for a ratio metric the mean is Σnumerator/Σdenominator and the variance is the
  delta-method variance of that ratio times the number of units;
- ``absoluteDelta`` = mean_t − mean_c; ``relativeDelta`` = absoluteDelta / mean_c, with the
  delta-method standard error of the ratio of means; the confidence interval is relativeDelta ±
  z·se_rel; the p-value is the two-sided normal test of absoluteDelta / se;
- CUPED: Y' = Y − θ(X − mean X) with X the unit's pre-exposure value of the same metric and θ
  = cov(X, Y) / var(X) pooled over the groups compared;
- SRM: Pearson's chi-square of exposed units per group against the configured group sizes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Moments:
    """Sums over a group's units of y (the unit value), x (its pre-exposure covariate; the
    denominator for a ratio metric) and their squares and product."""

    units: int
    sum_y: float
    sum_y2: float
    sum_x: float = 0.0
    sum_x2: float = 0.0
    sum_xy: float = 0.0

    @classmethod
    def of(cls, y: Sequence[float], x: Sequence[float] | None = None) -> Moments:
        """The moments of unit values (tests and small inputs; the job sums in SQL)."""
        ys = np.asarray(y, dtype=float)
        xs = np.zeros_like(ys) if x is None else np.asarray(x, dtype=float)
        return cls(
            units=int(ys.size),
            sum_y=float(ys.sum()),
            sum_y2=float((ys * ys).sum()),
            sum_x=float(xs.sum()),
            sum_x2=float((xs * xs).sum()),
            sum_xy=float((xs * ys).sum()),
        )

    def __add__(self, other: Moments) -> Moments:
        return Moments(
            self.units + other.units,
            self.sum_y + other.sum_y,
            self.sum_y2 + other.sum_y2,
            self.sum_x + other.sum_x,
            self.sum_x2 + other.sum_x2,
            self.sum_xy + other.sum_xy,
        )

    def _centered(self, a_sum: float, b_sum: float, ab_sum: float) -> float:
        # Σ(a − ā)(b − b̄) / (n − 1), the sample covariance from raw sums.
        if self.units < 2:
            return 0.0
        return (ab_sum - a_sum * b_sum / self.units) / (self.units - 1)

    @property
    def mean_y(self) -> float:
        return self.sum_y / self.units if self.units else 0.0

    @property
    def mean_x(self) -> float:
        return self.sum_x / self.units if self.units else 0.0

    @property
    def var_y(self) -> float:
        # Rounding can leave a constant's variance a hair below zero.
        return max(self._centered(self.sum_y, self.sum_y, self.sum_y2), 0.0)

    @property
    def var_x(self) -> float:
        return max(self._centered(self.sum_x, self.sum_x, self.sum_x2), 0.0)

    @property
    def cov_xy(self) -> float:
        return self._centered(self.sum_x, self.sum_y, self.sum_xy)


@dataclass(frozen=True)
class GroupStats:
    units: int
    mean: float
    variance: float


@dataclass(frozen=True)
class Comparison:
    absolute_delta: float
    relative_delta: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    cuped: bool


def group_stats(moments: Moments) -> GroupStats:
    """Sample mean and variance of the unit values y."""
    return GroupStats(units=moments.units, mean=moments.mean_y, variance=moments.var_y)


def ratio_stats(moments: Moments) -> GroupStats:
    """A ratio metric's group: y the unit's numerator, x its denominator. The mean is Σy/Σx;
    the variance is n times the delta-method variance of that ratio of means."""
    n = moments.units
    if n == 0 or moments.sum_x == 0:
        return GroupStats(units=n, mean=0.0, variance=0.0)
    mean_num, mean_den = moments.mean_y, moments.mean_x
    ratio = moments.sum_y / moments.sum_x
    variance = (
        moments.var_y / mean_den**2
        - 2 * mean_num * moments.cov_xy / mean_den**3
        + mean_num**2 * moments.var_x / mean_den**4
    )
    return GroupStats(units=n, mean=ratio, variance=max(variance, 0.0))


def cuped_theta(groups: Sequence[Moments]) -> float:
    """θ = cov(X, Y) / var(X) over the pooled units of the groups compared (0 when X is
    constant, which leaves Y unadjusted)."""
    pooled = groups[0]
    for moments in groups[1:]:
        pooled = pooled + moments
    var_x = pooled.var_x
    return pooled.cov_xy / var_x if var_x > 0 else 0.0


def cuped_stats(moments: Moments, *, theta: float, pooled_mean_x: float) -> GroupStats:
    """The group's stats of Y' = Y − θ(X − pooled mean X)."""
    mean = moments.mean_y - theta * (moments.mean_x - pooled_mean_x)
    variance = moments.var_y - 2 * theta * moments.cov_xy + theta**2 * moments.var_x
    return GroupStats(units=moments.units, mean=mean, variance=max(variance, 0.0))


def z_for(confidence: float) -> float:
    """The two-sided normal quantile of a confidence level in percent (95 → 1.96)."""
    return float(stats.norm.ppf(1 - (1 - confidence / 100) / 2))


def compare(
    control: GroupStats, test: GroupStats, *, confidence: float, cuped: bool = False
) -> Comparison:
    absolute = test.mean - control.mean
    if control.units < 2 or test.units < 2:
        return Comparison(absolute, None, None, None, None, cuped)
    se = math.sqrt(test.variance / test.units + control.variance / control.units)
    p_value = float(2 * stats.norm.sf(abs(absolute) / se)) if se > 0 else None
    if control.mean == 0:
        return Comparison(absolute, None, None, None, p_value, cuped)
    relative = absolute / control.mean
    se_rel = math.sqrt(
        test.variance / (test.units * control.mean**2)
        + test.mean**2 * control.variance / (control.units * control.mean**4)
    )
    z = z_for(confidence)
    return Comparison(
        absolute, relative, relative - z * se_rel, relative + z * se_rel, p_value, cuped
    )


def srm_p_value(exposures: Mapping[str, int], sizes: Mapping[str, float]) -> float | None:
    """Chi-square p-value of exposed units per group against the configured sizes (percent);
    None without at least two groups with a size and some exposures."""
    names = [name for name, size in sizes.items() if size > 0]
    observed = np.array([exposures.get(name, 0) for name in names], dtype=float)
    total = observed.sum()
    if len(names) < 2 or total == 0:
        return None
    weights = np.array([sizes[name] for name in names], dtype=float)
    expected = total * weights / weights.sum()
    return float(stats.chisquare(observed, expected).pvalue)
