"""The statistical tests behind "did the training move the numbers, and is it real".

Small, pure functions with textbook definitions, so each can be checked against
scipy/statsmodels and a hand-worked example:

- rates: two-proportion z-test (pooled standard error for the p-value, as
  statsmodels' `proportions_ztest`; unpooled Wald interval for the difference,
  as `confint_proportions_2indep(method="wald")`);
- speed of answer: Mann-Whitney U (scipy, two-sided) for the p-value and a
  percentile bootstrap with a fixed seed for the difference of medians, so the
  same calls always print the same interval;
- interrupted time series: OLS on daily values with a level and a slope change
  at the training date and weekday dummies (statsmodels).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 20240607
# Resampling in chunks bounds memory on a busy practice (2,800 answered calls a
# month x 2,000 resamples would otherwise be a 45 MB index array per side).
_BOOTSTRAP_CHUNK = 250


@dataclass(frozen=True)
class ProportionTest:
    """after - before for a rate: difference, its confidence interval, two-sided p-value."""

    before: float
    after: float
    difference: float
    ci_low: float
    ci_high: float
    z: float
    p_value: float


def two_proportion_test(
    before_count: int, before_n: int, after_count: int, after_n: int, confidence: float = 0.95
) -> ProportionTest:
    if before_n <= 0 or after_n <= 0:
        raise ValueError("both windows need at least one call")
    p1, p2 = before_count / before_n, after_count / after_n
    diff = p2 - p1
    pooled = (before_count + after_count) / (before_n + after_n)
    se_pooled = math.sqrt(pooled * (1 - pooled) * (1 / before_n + 1 / after_n))
    if se_pooled == 0:
        # Both windows 0 % or both 100 %: no evidence of any change.
        z, p_value = 0.0, 1.0
    else:
        z = diff / se_pooled
        p_value = float(2 * stats.norm.sf(abs(z)))
    se = math.sqrt(p1 * (1 - p1) / before_n + p2 * (1 - p2) / after_n)
    crit = float(stats.norm.ppf(0.5 + confidence / 2))
    return ProportionTest(p1, p2, diff, diff - crit * se, diff + crit * se, z, p_value)


@dataclass(frozen=True)
class MedianShift:
    """median(after) - median(before), a bootstrap interval for it, Mann-Whitney p-value."""

    before_median: float
    after_median: float
    difference: float
    ci_low: float
    ci_high: float
    u_statistic: float
    p_value: float


def _bootstrap_medians(values: np.ndarray, rng: np.random.Generator, resamples: int) -> np.ndarray:
    out = np.empty(resamples)
    for start in range(0, resamples, _BOOTSTRAP_CHUNK):
        size = min(_BOOTSTRAP_CHUNK, resamples - start)
        idx = rng.integers(0, len(values), size=(size, len(values)))
        out[start : start + size] = np.median(values[idx], axis=1)
    return out


def median_shift(
    before: Sequence[float] | np.ndarray,
    after: Sequence[float] | np.ndarray,
    confidence: float = 0.95,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> MedianShift:
    b = np.asarray(before, dtype=float)
    a = np.asarray(after, dtype=float)
    if len(b) == 0 or len(a) == 0:
        raise ValueError("both windows need at least one answered call")
    u, p_value = stats.mannwhitneyu(a, b, alternative="two-sided")
    rng = np.random.default_rng(seed)
    # Before first, then after: the order the reference computation in the tests uses.
    boot_b = _bootstrap_medians(b, rng, resamples)
    boot_a = _bootstrap_medians(a, rng, resamples)
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(boot_a - boot_b, [tail, 100 - tail])
    med_b, med_a = float(np.median(b)), float(np.median(a))
    return MedianShift(med_b, med_a, med_a - med_b, float(low), float(high), float(u), float(p_value))


@dataclass(frozen=True)
class SegmentedFit:
    """Interrupted time series: the step and the change of slope at the training date.

    level_change is in the metric's units (a fraction for rates) on the first
    day after training; slope_change is per day.
    """

    level_change: float
    level_ci: tuple[float, float]
    level_p: float
    slope_change: float
    slope_ci: tuple[float, float]
    slope_p: float
    days_before: int
    days_after: int


def segmented_regression(daily: pd.DataFrame, hac_lags: int = 5) -> SegmentedFit:
    """Fit value ~ t + post + t_post + weekday on one row per day.

    `daily` has columns t (days since training, negative before), value and
    weekday (0-6). Standard errors are Newey-West (HAC) over `hac_lags` days:
    busy weeks cluster, and plain OLS errors would overstate certainty.
    """
    import statsmodels.api as sm  # lazy: start-up speed

    frame = daily.sort_values("t").reset_index(drop=True)
    post = (frame["t"] > 0).astype(float)
    design = pd.DataFrame({"const": 1.0, "t": frame["t"].astype(float), "post": post, "t_post": frame["t"] * post})
    for day in sorted(frame["weekday"].unique())[1:]:
        design[f"wd{day}"] = (frame["weekday"] == day).astype(float)
    model = sm.OLS(frame["value"].astype(float), design)
    fit = model.fit(cov_type="HAC", cov_kwds={"maxlags": hac_lags}) if hac_lags else model.fit()
    ci = fit.conf_int()
    return SegmentedFit(
        level_change=float(fit.params["post"]),
        level_ci=(float(ci.loc["post", 0]), float(ci.loc["post", 1])),
        level_p=float(fit.pvalues["post"]),
        slope_change=float(fit.params["t_post"]),
        slope_ci=(float(ci.loc["t_post", 0]), float(ci.loc["t_post", 1])),
        slope_p=float(fit.pvalues["t_post"]),
        days_before=int((frame["t"] < 0).sum()),
        days_after=int((frame["t"] > 0).sum()),
    )


def chance_words(p_value: float | None) -> str:
    """How a manager should read a p-value, in words."""
    if p_value is None or math.isnan(p_value):
        return "there is not enough variation to judge"
    if p_value < 0.01:
        return "this is very unlikely to be chance"
    if p_value < 0.05:
        return "this is unlikely to be chance"
    if p_value < 0.20:
        return "but this could still be chance"
    return "a change this size could easily be chance"
