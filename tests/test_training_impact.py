"""Training impact: the statistics match reference computations, and the words match the numbers."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest
from support.history import history

from callwatch.metrics.effect import BEFORE_DAYS, fit_effect, ramp
from callwatch.metrics.frame import prepare
from callwatch.metrics.loader import calls_from_records
from callwatch.metrics.params import MetricParams
from callwatch.metrics.stats import (
    BOOTSTRAP_SEED,
    median_shift,
    segmented_regression,
    two_proportion_test,
)
from callwatch.metrics.training import explanation, training_impact

PARAMS = MetricParams(timezone="America/New_York")


def test_two_proportion_test_matches_statsmodels() -> None:
    result = two_proportion_test(405, 500, 450, 500)
    z, p = proportions_ztest([450, 405], [500, 500])
    low, high = confint_proportions_2indep(450, 500, 405, 500, method="wald", compare="diff")
    assert result.difference == pytest.approx(0.09)
    assert result.z == pytest.approx(z)
    assert result.p_value == pytest.approx(p)
    assert (result.ci_low, result.ci_high) == (pytest.approx(low), pytest.approx(high))


def test_two_proportion_test_hand_worked() -> None:
    # 40/50 vs 45/50: pooled p = 0.85, SE0 = sqrt(.85*.15*(2/50)) = 0.071414,
    # z = 0.1 / 0.071414 = 1.4003, p = 2*(1 - Phi(1.4003)) = 0.1614;
    # SE = sqrt(.8*.2/50 + .9*.1/50) = 0.070711, CI = 0.1 -+ 1.95996*SE = (-0.0386, 0.2386).
    result = two_proportion_test(40, 50, 45, 50)
    assert result.z == pytest.approx(1.4003, abs=1e-4)
    assert result.p_value == pytest.approx(0.1614, abs=1e-4)
    assert result.ci_low == pytest.approx(-0.0386, abs=1e-4)
    assert result.ci_high == pytest.approx(0.2386, abs=1e-4)


def test_two_proportion_test_identical_extremes_is_no_evidence() -> None:
    result = two_proportion_test(50, 50, 60, 60)
    assert (result.difference, result.p_value) == (0.0, 1.0)


def test_median_shift_matches_scipy_and_a_reference_bootstrap() -> None:
    rng = np.random.default_rng(3)
    before = rng.gamma(3.0, 5.0, size=120).round(1)
    after = rng.gamma(3.0, 3.5, size=140).round(1)
    result = median_shift(before, after, resamples=400)
    u, p = stats.mannwhitneyu(after, before, alternative="two-sided")
    assert (result.u_statistic, result.p_value) == (pytest.approx(u), pytest.approx(p))
    assert result.difference == pytest.approx(np.median(after) - np.median(before))
    # The same bootstrap written as a plain loop, same seed and draw order.
    ref_rng = np.random.default_rng(BOOTSTRAP_SEED)
    b_meds = [np.median(before[ref_rng.integers(0, len(before), len(before))]) for _ in range(400)]
    a_meds = [np.median(after[ref_rng.integers(0, len(after), len(after))]) for _ in range(400)]
    low, high = np.percentile(np.array(a_meds) - np.array(b_meds), [2.5, 97.5])
    assert (result.ci_low, result.ci_high) == (pytest.approx(low), pytest.approx(high))
    assert result.ci_high < 0 < result.p_value < 0.01


def test_median_shift_hand_worked_exact_p() -> None:
    # No overlap, 3 vs 3: U = 9 of 9 pairs; exact two-sided p = 2 / C(6,3) = 0.1.
    result = median_shift([1, 2, 3], [4, 5, 6], resamples=50)
    assert result.u_statistic == 9
    assert result.p_value == pytest.approx(0.1)
    assert result.difference == 3


def test_segmented_regression_recovers_a_noiseless_step_and_slope() -> None:
    t = np.array([d for d in range(-28, 29) if d != 0])
    weekday = (t + 2) % 7
    value = 0.80 + 0.001 * t + 0.09 * (t > 0) + 0.002 * t * (t > 0) + 0.01 * (weekday == 0)
    fit = segmented_regression(pd.DataFrame({"t": t, "value": value, "weekday": weekday}), hac_lags=0)
    assert fit.level_change == pytest.approx(0.09)
    assert fit.slope_change == pytest.approx(0.002)
    assert (fit.days_before, fit.days_after) == (28, 28)


def test_segmented_regression_matches_statsmodels_formula() -> None:
    import statsmodels.formula.api as smf

    rng = np.random.default_rng(11)
    t = np.array([d for d in range(-30, 31) if d != 0])
    frame = pd.DataFrame({"t": t, "weekday": (t + 3) % 7})
    frame["value"] = 0.8 + 0.07 * (t > 0) + rng.normal(0, 0.03, len(t))
    fit = segmented_regression(frame, hac_lags=0)
    frame["post"] = (frame["t"] > 0).astype(float)
    frame["t_post"] = frame["t"] * frame["post"]
    ref = smf.ols("value ~ t + post + t_post + C(weekday)", data=frame).fit()
    assert fit.level_change == pytest.approx(ref.params["post"])
    assert fit.level_p == pytest.approx(ref.pvalues["post"])
    assert fit.slope_ci[0] == pytest.approx(ref.conf_int().loc["t_post", 0])


def _prepared(calls: list) -> pd.DataFrame:
    return prepare(calls_from_records(calls), PARAMS)


@pytest.fixture(scope="module")
def eight_weeks() -> pd.DataFrame:
    return _prepared(history(date(2026, 9, 28), 8, date(2026, 10, 28)))


def test_effect_matches_a_statsmodels_formula_fit() -> None:
    """The verdict's model is WLS on daily rates: value ~ t + weekday + step + ramp, weights = calls."""
    import statsmodels.formula.api as smf

    rng = np.random.default_rng(11)
    t = np.array([d for d in range(-60, 43) if d != 0 and (d + 2) % 7 < 5])
    frame = pd.DataFrame({"t": t, "weekday": (t + 2) % 7, "weight": rng.poisson(60, len(t)).astype(float)})
    frame["value"] = 0.8 + 0.05 * ramp(t) + rng.normal(0, 0.05, len(t))
    effect, lines = fit_effect(frame, higher_is_better=True)
    frame["step"] = (frame["t"] > 0).astype(float)
    frame["ramp"] = ramp(frame["t"].to_numpy())
    ref = smf.wls("value ~ t + C(weekday) + step + ramp", data=frame, weights=frame["weight"]).fit()
    contrast = ref.t_test("step + ramp = 0")
    assert effect.estimate == pytest.approx(float(contrast.effect[0]))
    assert effect.p_value == pytest.approx(float(contrast.pvalue))
    assert (effect.ci_low, effect.ci_high) == tuple(pytest.approx(v) for v in contrast.conf_int()[0])
    assert effect.trend_per_week == pytest.approx(7 * ref.params["t"])
    assert lines is not None and len(lines) == len(t)


def test_effect_recovers_a_noiseless_ramp_and_ignores_a_drift() -> None:
    t = np.array([d for d in range(-84, 43) if d != 0])
    weekday = (t + 2) % 7
    base = 0.8 + 0.002 * t + 0.01 * (weekday == 0)
    frame = pd.DataFrame({"t": t, "weekday": weekday, "weight": 50.0})
    with_ramp, _ = fit_effect(frame.assign(value=base + 0.07 * ramp(t)), higher_is_better=True)
    assert with_ramp.estimate == pytest.approx(0.07)
    drift_only, _ = fit_effect(frame.assign(value=base), higher_is_better=True)
    assert drift_only.estimate == pytest.approx(0.0, abs=1e-9)


def test_training_impact_finds_the_built_in_improvement(eight_weeks: pd.DataFrame) -> None:
    impact = training_impact(eight_weeks, date(2026, 10, 28))
    answer = impact.measure("answer_rate")
    assert answer.before == pytest.approx(0.76, abs=0.04)
    assert answer.after == pytest.approx(0.86, abs=0.04)
    assert impact.verdict == "improved" == answer.verdict
    e = answer.effect
    assert e.ci_low is not None and e.ci_high is not None and 0 < e.ci_low < e.ci_high
    assert e.p_value is not None and e.p_value < 0.05
    assert impact.headline.startswith("Improved: from 14 days after the training on, the answer rate is")
    assert impact.measure("speed_of_answer").effect.estimate is not None
    assert impact.measure("speed_of_answer").effect.estimate < 0  # type: ignore[operator]
    # The training day itself is in neither window.
    assert impact.before_window[1] == date(2026, 10, 27) and impact.after_window[0] == date(2026, 10, 29)
    counted = eight_weeks[eight_weeks["counted"]]
    days = counted["date"].dt.date
    in_before = ((days >= date(2026, 9, 30)) & (days <= date(2026, 10, 27))).sum()
    assert answer.before_n == in_before


def test_training_impact_says_when_there_is_too_little_data() -> None:
    calls = history(date(2026, 9, 28), 2, date(2026, 10, 5), calls_per_day=3)
    impact = training_impact(_prepared(calls), date(2026, 10, 5))
    assert impact.verdict == "too little data"
    assert all(m.verdict == "too little data" and m.effect.estimate is None for m in impact.measures)
    assert impact.headline.startswith("Too little data to judge the answer rate yet:")
    assert any("days after the training have calls so far" in w for w in impact.warnings)


def test_training_impact_no_change_is_no_clear_change() -> None:
    calls = history(date(2026, 9, 28), 8, date(2026, 10, 28), answer_after=0.80, seed=5)
    impact = training_impact(_prepared(calls), date(2026, 10, 28))
    assert impact.verdict == "no clear change"
    e = impact.primary.effect
    assert e.ci_low is not None and e.ci_high is not None and e.ci_low <= 0 <= e.ci_high


def test_training_impact_warns_about_volume_and_weekday_mix() -> None:
    calls = history(date(2026, 9, 28), 8, date(2026, 10, 28))
    # After the training, drop every Monday and Tuesday and half of the rest.
    kept = [
        c
        for c in calls
        if c.arrived_at.date() < date(2026, 10, 28)
        or (c.arrived_at.astimezone(PARAMS.tz).weekday() >= 2 and int(c.call_id[9:12]) % 2 == 0)
    ]
    impact = training_impact(_prepared(kept), date(2026, 10, 28))
    assert any(w.startswith("Call volume changed") for w in impact.warnings)
    assert any("weekday mix changed" in w for w in impact.warnings)


def test_caveats_only_where_they_apply(eight_weeks: pd.DataFrame) -> None:
    plain = training_impact(eight_weeks, date(2026, 10, 28), other_trainings=(date(2026, 10, 28),))
    assert not [w for w in plain.warnings if "Another training" in w or "volume" in w or "weekday mix" in w]
    impact = training_impact(eight_weeks, date(2026, 10, 28), other_trainings=(date(2026, 10, 28), date(2026, 11, 10)))
    assert [w for w in impact.warnings if "Another training" in w] == [
        "Another training at this office (10 Nov 2026) falls within the weeks measured here; "
        "the two effects cannot be separated."
    ]
    assert impact.before_window[0] == date(2026, 10, 28) - timedelta(days=BEFORE_DAYS)


def test_plain_difference_and_effect_differ_only_with_a_reason() -> None:
    m = training_impact(_prepared(history(date(2026, 9, 28), 8, date(2026, 10, 28))), date(2026, 10, 28)).primary
    text = explanation(m)
    simple, estimate = m.simple_change, m.effect.estimate
    assert simple is not None and estimate is not None
    if abs(simple - estimate) >= 0.01:
        assert text is not None and text.startswith("The plain before/after difference")
    else:
        assert text is None


def test_training_impact_on_no_calls_at_all() -> None:
    impact = training_impact(prepare(calls_from_records([]), PARAMS), date(2026, 10, 28))
    assert impact.verdict == "too little data"
    assert impact.headline.startswith("Too little data to judge the answer rate yet: 0 days with calls before")
