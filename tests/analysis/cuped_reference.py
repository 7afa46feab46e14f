"""CUPED for ratio and mean metrics computed the long way, on unit-level numpy arrays: the
delta-method linearisation of Deng et al. (2013, and their "CUPED for ratio metrics"), written
independently of ``analysis.statistics`` to check it against.

A group is four arrays over its units: y (value or numerator after exposure), d (its
denominator, ones but for a ratio), x and m (the same over the seven days before exposure).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Units:
    y: np.ndarray
    d: np.ndarray
    x: np.ndarray
    m: np.ndarray

    def __add__(self, other: Units) -> Units:
        return Units(
            *(np.concatenate([a, b]) for a, b in zip(self.arrays(), other.arrays(), strict=True))
        )

    def arrays(self) -> tuple[np.ndarray, ...]:
        return self.y, self.d, self.x, self.m

    @property
    def ratio(self) -> float:
        return self.y.sum() / self.d.sum()

    @property
    def pre_ratio(self) -> float:
        return self.x.sum() / self.m.sum()

    def linearised(self) -> tuple[np.ndarray, np.ndarray]:
        """Each unit's first-order contribution to the group's ratio and pre-period ratio."""
        value = (self.y - self.ratio * self.d) / self.d.mean()
        covariate = (self.x - self.pre_ratio * self.m) / self.m.mean()
        return value, covariate


@dataclass(frozen=True)
class Estimate:
    mean: float
    variance: float  # of the unit contributions: variance / units is the mean's variance
    units: int


def plain(units: Units) -> Estimate:
    value, _ = units.linearised()
    return Estimate(units.ratio, value.var(ddof=1), value.size)


def cuped(control: Units, test: Units) -> tuple[Estimate, Estimate, float]:
    pooled = control + test
    value, covariate = pooled.linearised()
    theta = np.cov(value, covariate, ddof=1)[0, 1] / covariate.var(ddof=1)
    adjusted = []
    for group in (control, test):
        value, covariate = group.linearised()
        mean = group.ratio - theta * (group.pre_ratio - pooled.pre_ratio)
        adjusted.append(Estimate(mean, (value - theta * covariate).var(ddof=1), value.size))
    return adjusted[0], adjusted[1], float(theta)


def comparison(control: Estimate, test: Estimate, confidence: float = 95) -> dict[str, float]:
    absolute = test.mean - control.mean
    se = math.sqrt(test.variance / test.units + control.variance / control.units)
    relative = absolute / control.mean
    se_rel = math.sqrt(
        test.variance / (test.units * control.mean**2)
        + test.mean**2 * control.variance / (control.units * control.mean**4)
    )
    z = stats.norm.ppf(1 - (1 - confidence / 100) / 2)
    return {
        "absoluteDelta": absolute,
        "relativeDelta": relative,
        "ciLow": relative - z * se_rel,
        "ciHigh": relative + z * se_rel,
        "pValue": 2 * stats.norm.sf(abs(absolute) / se),
    }


def generated_units(rng: np.random.Generator, size: int, *, effect: float = 0.0):
    """Per unit: an activity level and a conversion rate shared by both periods, so the
    pre-period correlates with the experiment; the test effect raises conversions. Returns
    visits and purchases before and after exposure, and each unit's typical price."""
    activity = rng.gamma(2.0, 4.0, size)
    conversion = rng.beta(1, 3, size)
    price = rng.lognormal(3, 0.5, size)
    visits_before = rng.poisson(activity) + 0.0
    visits_after = rng.poisson(activity) + 0.0
    purchases_before = rng.binomial(visits_before.astype(int), conversion) + 0.0
    purchases_after = rng.binomial(
        visits_after.astype(int), np.minimum(conversion * (1 + effect), 1)
    ).astype(float)
    return visits_before, visits_after, purchases_before, purchases_after, price
