"""Pulse statistics from per-group sufficient statistics (pure: no Django, no ORM).

The database aggregates unit-level values into ``Moments`` (counts and sums of four unit values
and of their pairwise products), so the job never holds a row per unit in Python; everything
here is closed-form over those sums, with numpy for the delta method's quadratic forms and
scipy's normal and chi-square distributions for quantiles and p-values.

Definitions follow Statsig's Pulse documentation:

- a group's value is Σy/Σd over its units. For every type but ``ratio`` d is 1, so the value is
  the sample mean of the unit values and its ``variance`` their sample variance (ddof 1); for a
  ratio metric the value is Σnumerator/Σdenominator and the variance is the delta-method
  variance of that ratio times the number of units (so variance/units is always the variance
  of the group's value);
- ``absoluteDelta`` = mean_t − mean_c; ``relativeDelta`` = absoluteDelta / mean_c, with the
  delta-method standard error of the ratio of means; the confidence interval is relativeDelta ±
  z·se_rel; the p-value is the two-sided normal test of absoluteDelta / se;
- CUPED (Deng et al. 2013, with their delta-method extension to ratios): the covariate is the
  same metric over the seven days before each unit's exposure, Σx/Σm (m is 1 for the additive
  types, the pre-period denominator of a ratio, the pre-period count of valued events of a
  mean, so a unit without earlier events adds nothing to either). The adjusted value is
  value − θ·(covariate − pooled covariate), θ = Cov(value, covariate) / Var(covariate) from the
  delta-method linearisation over the pooled units of the groups compared, and its variance is
  Var(value) − 2θ·Cov + θ²·Var(covariate). With d = m = 1 this is the textbook unit-level
  Y − θ(X − X̄);
- SRM: Pearson's chi-square of exposed units per group against the configured group sizes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

# The unit values, in the order of ``Moments.covariance``: y the value after exposure (a
# ratio's numerator), d its denominator, x the value in the seven days before exposure, m its
# denominator.
VARIABLES = ("y", "d", "x", "m")
# Each Moments field but ``units``: the unit values whose product it sums over the units.
TERMS: dict[str, tuple[str, ...]] = {
    "sum_y": ("y",),
    "sum_y2": ("y", "y"),
    "sum_x": ("x",),
    "sum_x2": ("x", "x"),
    "sum_xy": ("x", "y"),
    "sum_d": ("d",),
    "sum_d2": ("d", "d"),
    "sum_yd": ("y", "d"),
    "sum_m": ("m",),
    "sum_m2": ("m", "m"),
    "sum_xm": ("x", "m"),
    "sum_ym": ("y", "m"),
    "sum_dx": ("d", "x"),
    "sum_dm": ("d", "m"),
}
# The field summing a product of unit values, by its (sorted) variables.
TERMS_OF = {tuple(sorted(variables)): field for field, variables in TERMS.items()}


@dataclass(frozen=True)
class Moments:
    """Sums over a group's units of the unit values y, d, x, m (see ``VARIABLES``) and of
    their pairwise products: the sufficient statistics of every estimate below."""

    units: int
    sum_y: float
    sum_y2: float
    sum_x: float
    sum_x2: float
    sum_xy: float
    sum_d: float
    sum_d2: float
    sum_yd: float
    sum_m: float
    sum_m2: float
    sum_xm: float
    sum_ym: float
    sum_dx: float
    sum_dm: float

    @classmethod
    def of(
        cls,
        y: Sequence[float],
        x: Sequence[float] | None = None,
        *,
        d: Sequence[float] | None = None,
        m: Sequence[float] | None = None,
    ) -> Moments:
        """The moments of unit values (tests and small inputs; the job sums in SQL). Omitted
        covariates are 0, omitted denominators 1."""
        ys = np.asarray(y, dtype=float)
        values = {
            "y": ys,
            "d": np.ones_like(ys) if d is None else np.asarray(d, dtype=float),
            "x": np.zeros_like(ys) if x is None else np.asarray(x, dtype=float),
            "m": np.ones_like(ys) if m is None else np.asarray(m, dtype=float),
        }
        sums = {
            field: float(np.prod([values[v] for v in variables], axis=0).sum())
            for field, variables in TERMS.items()
        }
        return cls(units=int(ys.size), **sums)

    def __add__(self, other: Moments) -> Moments:
        return Moments(**{k: v + getattr(other, k) for k, v in asdict(self).items()})

    @property
    def value(self) -> float:
        """Σy/Σd: the group's mean, or its ratio."""
        return self.sum_y / self.sum_d if self.sum_d else 0.0

    @property
    def covariate(self) -> float:
        """Σx/Σm: the same over the pre-exposure period."""
        return self.sum_x / self.sum_m if self.sum_m else 0.0

    def means(self) -> np.ndarray:
        return np.array([self.sum_y, self.sum_d, self.sum_x, self.sum_m]) / self.units

    def covariance(self) -> np.ndarray:
        """The sample covariance matrix (ddof 1) of (y, d, x, m) from the raw sums."""
        matrix = np.zeros((4, 4))
        if self.units < 2:
            return matrix
        sums = [self.sum_y, self.sum_d, self.sum_x, self.sum_m]
        for i, a in enumerate(VARIABLES):
            for j, b in enumerate(VARIABLES):
                product = getattr(self, TERMS_OF[tuple(sorted((a, b)))])
                matrix[i, j] = (product - sums[i] * sums[j] / self.units) / (self.units - 1)
        return matrix


@dataclass(frozen=True)
class _Linearised:
    """Unit-level (× units) delta-method variances of a group's value and covariate and
    their covariance."""

    var_value: float
    var_covariate: float
    covariance: float


def _linearise(moments: Moments) -> _Linearised:
    # Gradients of Σy/Σd and Σx/Σm in the means of (y, d, x, m); a zero denominator leaves
    # the ratio constant (a group or a pre-period without any events).
    mean_y, mean_d, mean_x, mean_m = moments.means()
    value = np.zeros(4)
    if mean_d:
        value[:2] = (1 / mean_d, -mean_y / mean_d**2)
    covariate = np.zeros(4)
    if mean_m:
        covariate[2:] = (1 / mean_m, -mean_x / mean_m**2)
    matrix = moments.covariance()
    return _Linearised(
        var_value=float(value @ matrix @ value),
        var_covariate=float(covariate @ matrix @ covariate),
        covariance=float(value @ matrix @ covariate),
    )


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
    """The group's value Σy/Σd and n times its delta-method variance: for d = 1, the sample
    mean and sample variance of the unit values."""
    if moments.units == 0 or moments.sum_d == 0:
        return GroupStats(units=moments.units, mean=0.0, variance=0.0)
    variance = _linearise(moments).var_value
    return GroupStats(units=moments.units, mean=moments.value, variance=max(variance, 0.0))


def cuped_theta(groups: Sequence[Moments]) -> float:
    """θ = Cov(value, covariate) / Var(covariate) over the pooled units of the groups compared
    (0 when the covariate does not vary, which leaves the value unadjusted)."""
    pooled = groups[0]
    for moments in groups[1:]:
        pooled = pooled + moments
    if pooled.units < 2:
        return 0.0
    linearised = _linearise(pooled)
    if linearised.var_covariate <= 0:
        return 0.0
    return linearised.covariance / linearised.var_covariate


def cuped_stats(moments: Moments, *, theta: float, pooled_covariate: float) -> GroupStats:
    """The group's adjusted value − θ(covariate − pooled covariate) and its variance. A group
    without pre-period denominators has no covariate of its own and keeps its value."""
    plain = group_stats(moments)
    if moments.units == 0 or moments.sum_d == 0:
        return plain
    shift = moments.covariate - pooled_covariate if moments.sum_m else 0.0
    linearised = _linearise(moments)
    variance = (
        linearised.var_value
        - 2 * theta * linearised.covariance
        + theta**2 * linearised.var_covariate
    )
    return GroupStats(
        units=moments.units, mean=plain.mean - theta * shift, variance=max(variance, 0.0)
    )


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
