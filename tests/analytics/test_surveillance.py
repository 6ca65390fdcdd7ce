"""The outbreak detector behind 犯罪态势研判 and 风险预警 (``xietong.analytics.surveillance``).

Given a monthly series, when one month is assessed, then an alarm is raised for a real surge and not for
flat noise, ordinary seasons, steady trends or tiny counts; the false-alarm and detection rates quoted in
the UI are measured here.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from xietong.analytics import surveillance
from xietong.analytics.surveillance import (
    assess,
    detection_rate,
    false_alarm_rate,
    scan,
    seasonal_profile,
    trend,
)


def _poisson(mean: float | np.ndarray, months: int, seed: int) -> list[int]:
    rng = np.random.default_rng(seed)
    return [int(x) for x in rng.poisson(np.broadcast_to(mean, (months,)))]


def _seasonal_means(years: int, *, mean: float, amplitude: float) -> np.ndarray:
    """Monthly means from January, peaking in July: thefts that rise every summer."""
    calendar = np.arange(12 * years) % 12 + 1
    return mean * (1.0 + amplitude * np.cos(2.0 * np.pi * (calendar - 7) / 12.0))


# --- surges -----------------------------------------------------------------------------------------------


def test_planted_surge_is_an_alarm_and_the_reason_gives_the_numbers() -> None:
    # given a town's fraud cases, about 8 a month for 4 years (January to December), then 30 in January
    counts = [*_poisson(8, 48, seed=2024), 30]

    verdict = assess(counts, 48, first_month_of_year=1)

    assert verdict is not None
    assert verdict.alarm
    assert verdict.observed == 30
    assert 6.0 < verdict.expected < 10.0
    assert verdict.threshold < 30
    assert verdict.p_value < 1e-6
    assert verdict.ratio == pytest.approx(30 / verdict.expected)
    # the evidence: December–February of each previous year (the last December is too recent to count)
    assert verdict.baseline_months == (0, 1, 11, 12, 13, 23, 24, 25, 35, 36, 37)
    assert verdict.reason() == (
        f"1 月 30 件，按前 4 年同期（各年 12 月至次年 2 月，共 11 个月）预期 {verdict.expected:.1f} 件，"
        f"上限 {verdict.threshold:.0f} 件（α=0.001），是预期的 {30 / verdict.expected:.1f} 倍，预警"
    )


def test_a_past_outbreak_in_the_baseline_does_not_hide_a_new_one() -> None:
    # given a series of ~8 a month with a one-off outbreak of 60 two years ago in the same season
    counts = _poisson(8, 60, seed=7)
    counts[36] = 60
    counts.append(30)

    verdict = assess(counts, 60, first_month_of_year=1)

    # then the old outbreak is down-weighted (Anscombe residual > 2.58) instead of raising the baseline
    assert verdict is not None
    assert 36 in verdict.baseline_months
    assert verdict.expected < 10.0
    assert verdict.alarm


def test_scan_returns_only_the_alarms_most_significant_first() -> None:
    quiet = _poisson(10, 61, seed=1)
    mild = [*_poisson(10, 60, seed=2), 32]
    severe = [*_poisson(10, 60, seed=3), 60]

    alarms = scan({"枫桥": quiet, "浒墅关": mild, "通安": severe}, 60, first_month_of_year=3)

    assert [town for town, _ in alarms] == ["通安", "浒墅关"]
    assert alarms[0][1].p_value < alarms[1][1].p_value
    assert alarms[0][1].calendar_month == 3


# --- no alarm ---------------------------------------------------------------------------------------------


def test_flat_poisson_series_never_alarms_in_its_last_year() -> None:
    counts = _poisson(10, 72, seed=11)

    verdicts = [assess(counts, month, first_month_of_year=1) for month in range(60, 72)]

    assert all(v is not None for v in verdicts)
    assert [v.alarm for v in verdicts if v is not None] == [False] * 12
    assert all(not v.trend_used for v in verdicts if v is not None)


def test_constant_series_is_poisson_and_quiet() -> None:
    verdict = assess([10] * 61, 60, first_month_of_year=1)

    assert verdict is not None
    assert not verdict.alarm
    assert verdict.expected == pytest.approx(10.0)
    assert verdict.dispersion == 1.0
    assert verdict.threshold == 21.0  # Poisson(10): P(X > 21) = 0.0007 ≤ 0.001 < P(X > 20)


def test_summer_peak_of_a_seasonal_series_is_not_an_alarm() -> None:
    # given thefts three times as frequent in July as in January, every year for 8 years
    means = _seasonal_means(8, mean=12, amplitude=0.5)
    counts = _poisson(means, 96, seed=5)

    julys = [assess(counts, month, first_month_of_year=1) for month in (66, 78, 90)]

    assert all(v is not None and v.calendar_month == 7 for v in julys)
    assert [v.alarm for v in julys if v is not None] == [False, False, False]
    # the expectation follows the season (≈ 17 in July), not the yearly mean of 12
    assert all(v is not None and 14.0 < v.expected < 21.0 for v in julys)
    # and a real July surge on top of the season still is one
    surged = [*counts[:90], 3 * counts[90]]
    verdict = assess(surged, 90, first_month_of_year=1)
    assert verdict is not None
    assert verdict.alarm


def test_a_sharp_one_month_season_is_better_assessed_with_window_0() -> None:
    # given a July far above both June and August every year (the ±1-month window averages it down)
    profile = np.array([6, 6, 7, 8, 10, 16, 30, 16, 10, 8, 7, 6], dtype=float)
    counts = _poisson(np.tile(profile, 6), 72, seed=4)

    wide = assess(counts, 66, first_month_of_year=1)
    narrow = assess(counts, 66, first_month_of_year=1, window=0)

    assert wide is not None
    assert narrow is not None
    assert wide.expected < 22.0  # the June–August average
    assert 25.0 < narrow.expected < 35.0  # the Julys alone
    assert not narrow.alarm
    assert narrow.baseline_months == (6, 18, 30, 42, 54)


def test_steady_upward_trend_is_extrapolated_not_alarmed() -> None:
    # given cases growing 30 % a year, from 5 to about 24 a month over 6 years
    months = np.arange(72)
    counts = _poisson(5.0 * 1.3 ** (months / 12.0), 72, seed=3)

    verdicts = [assess(counts, month, first_month_of_year=1) for month in range(66, 72)]

    assert [v.alarm for v in verdicts if v is not None] == [False] * 6
    assert all(v is not None and v.trend_used for v in verdicts)
    last = verdicts[-1]
    assert last is not None
    assert 19.0 < last.expected < 28.0  # the trend's 23.6, not the 5-year level of about 12
    assert "含线性趋势" in last.reason()


def test_growing_seasonal_series_keeps_its_trend_in_the_peak_months() -> None:
    # given summer-peaking counts that also grow 30 % a year, for 8 years
    months = np.arange(96)
    means = _seasonal_means(8, mean=10, amplitude=0.5) * 1.3 ** (months / 12.0)
    counts = _poisson(means, 96, seed=0)

    summers = [assess(counts, month, first_month_of_year=1) for month in (77, 78, 79, 89, 90, 91)]

    # then each peak is predicted from the trend: the peak months are above every earlier count, so the
    # no-extrapolation test only passes because it compares counts brought to the same season
    assert all(v is not None and v.trend_used and not v.alarm for v in summers)
    for month, verdict in zip((77, 78, 79, 89, 90, 91), summers, strict=True):
        assert verdict is not None
        assert verdict.expected == pytest.approx(means[month], rel=0.15)
        assert verdict.expected > max(counts[: month - 1])


def test_tiny_counts_never_alarm() -> None:
    # given a station with a case every few months, then 3 in one month
    counts = [0, 1, 0, 0, 1, 0] * 6 + [3]

    verdict = assess(counts, 36, first_month_of_year=1)

    assert verdict is not None
    assert not verdict.alarm
    assert verdict.expected == pytest.approx(3 / 8)  # December–February: 3 cases in 8 reference months


def test_below_min_count_an_improbable_month_is_reported_but_not_alarmed() -> None:
    counts = [0, 0, 0, 1, 0, 0] * 6 + [4]

    verdict = assess(counts, 36, first_month_of_year=1)
    lowered = assess(counts, 36, first_month_of_year=1, min_count=1)

    assert verdict is not None
    assert lowered is not None
    assert verdict.observed > verdict.threshold
    assert not verdict.alarm
    assert verdict.reason().endswith("超出上限但不足 5 件，不预警")
    assert lowered.alarm


def test_all_zero_baseline_then_12_is_an_alarm_with_expected_0() -> None:
    counts = [0] * 36 + [12]

    verdict = assess(counts, 36, first_month_of_year=11)

    assert verdict is not None
    assert verdict.alarm
    assert verdict.expected == 0.0
    assert verdict.threshold == 0.0
    assert verdict.ratio == math.inf
    # p-value under the floor mean of half a case over the 8 reference months
    assert verdict.p_value == pytest.approx(stats.poisson.sf(11, 0.5 / 8))
    assert verdict.reason() == "11 月 12 件，前 3 年同期（各年 10–12 月，共 8 个月）均为 0 件，预警"


def test_all_zero_series_is_quiet_and_does_not_raise() -> None:
    verdict = assess([0] * 61, 60, first_month_of_year=1)

    assert verdict is not None
    assert not verdict.alarm
    assert verdict.p_value == 1.0
    assert verdict.ratio == 1.0


def test_too_short_history_gives_no_verdict() -> None:
    counts = _poisson(10, 25, seed=1)

    assert assess(counts, 23, first_month_of_year=1) is None
    assert assess(counts, 24, first_month_of_year=1) is not None  # exactly 2 years before it


def test_bad_arguments_are_refused() -> None:
    counts = _poisson(10, 30, seed=1)

    with pytest.raises(ValueError, match="outside"):
        assess(counts, 30, first_month_of_year=1)
    with pytest.raises(ValueError, match="first_month_of_year"):
        assess(counts, 29, first_month_of_year=13)
    with pytest.raises(ValueError, match="negative"):
        assess([*counts[:29], -1], 29, first_month_of_year=1)


# --- measured rates ---------------------------------------------------------------------------------------


def test_false_alarm_rate_of_poisson_series_is_near_alpha() -> None:
    # Mean 10 a month, seasonal amplitude 0.3, Poisson, 5 years of history, α = 0.001: measured 0.00097
    # here (7 alarms in 7,200 series-months) and 0.00101 over 120,000 (5,000 series × 24 months, seed 11).
    rate = false_alarm_rate(
        series=300, months=24, mean=10, seasonal_amplitude=0.3, dispersion=1.0, seed=20240601
    )

    assert rate <= 0.003


def test_false_alarm_rate_of_overdispersed_series_is_stated_not_nominal() -> None:
    # With variance 1.5 × mean the plug-in bound (it ignores the error in the estimated mean and φ) lets
    # through almost three times α: measured 0.0029 here (14 in 4,800) and 0.0028 over 120,000.
    rate = false_alarm_rate(
        series=200, months=24, mean=10, seasonal_amplitude=0.3, dispersion=1.5, seed=20240602
    )

    assert rate <= 0.005


def test_detection_rate_of_a_threefold_month_at_mean_10() -> None:
    # Same series as the Poisson false-alarm test: measured 0.90 here (300 series) and 0.889 over 5,000;
    # a twofold month is caught 32 % of the time.
    rate = detection_rate(
        series=300, months=24, mean=10, seasonal_amplitude=0.3, dispersion=1.0, surge=3, seed=20240603
    )

    assert rate >= 0.8


# --- trend and season -------------------------------------------------------------------------------------


def test_trend_rising_falling_and_flat() -> None:
    months = np.arange(48)
    rising = trend(_poisson(10.0 * 1.3 ** (months / 12.0), 48, seed=1))
    falling = trend(_poisson(20.0 * 0.75 ** (months / 12.0), 48, seed=2))
    flat = trend(_poisson(10, 48, seed=3))

    assert rising.label == "上升"
    assert 0.2 < rising.annual_change < 0.4
    assert rising.p_value < 0.001
    assert rising.describe().startswith("上升，年均 +")
    assert falling.label == "下降"
    assert -0.35 < falling.annual_change < -0.15
    assert flat.label == "平稳"
    assert flat.p_value >= 0.05
    assert flat.describe().startswith("平稳，")


def test_trend_is_not_fooled_by_a_series_that_ends_on_its_summer_peak() -> None:
    # 3 years of seasonal thefts from January, stopping in July: the raw slope would read a rise
    counts = _poisson(_seasonal_means(3, mean=12, amplitude=0.5)[:31], 31, seed=8)

    result = trend(counts)

    assert result.seasonal_adjusted
    assert result.label == "平稳"


def test_trend_of_too_little_data_is_flat_and_unknown() -> None:
    assert trend([0] * 24).label == "平稳"
    assert math.isnan(trend([3, 4, 5]).annual_change)


def test_seasonal_profile_peaks_in_july_even_from_a_partial_year() -> None:
    # given 2.5 years of counts peaking in July, starting in April (two Julys, three Aprils to Septembers)
    season = np.array([6, 6, 7, 8, 10, 14, 24, 14, 10, 8, 7, 6], dtype=float)
    counts = _poisson(np.tile(season, 4)[3:33], 30, seed=9)

    profile = seasonal_profile(counts, first_month_of_year=4)

    assert len(profile) == 12
    assert int(np.argmax(profile)) == 6  # July
    assert profile[6] == pytest.approx(np.mean(counts[3::12]) / np.mean(profile_means(counts, 4)))
    assert sum(profile) / 12 == pytest.approx(1.0)


def profile_means(counts: list[int], first_month_of_year: int) -> list[float]:
    """The 12 calendar-month means, January first, computed the slow way."""
    by_month: dict[int, list[int]] = {}
    for i, count in enumerate(counts):
        by_month.setdefault((first_month_of_year - 1 + i) % 12, []).append(count)
    return [float(np.mean(by_month[m])) for m in range(12)]


def test_seasonal_profile_of_an_empty_series_is_flat() -> None:
    assert seasonal_profile([0] * 18, first_month_of_year=1) == [1.0] * 12


# --- the arithmetic underneath ----------------------------------------------------------------------------


def test_profile_likelihood_fit_matches_full_irls() -> None:
    # The closed-form levels + Newton slope must equal an ordinary IRLS on the full dummy design.
    rng = np.random.default_rng(3)
    group = np.concatenate([np.arange(10), rng.integers(0, 10, 50)])
    t = (np.arange(60) - 62) / 12.0
    y = rng.poisson(np.exp(1.5 + 0.3 * t + 0.2 * group)).astype(float)
    weights = rng.uniform(0.5, 1.5, 60)
    design = np.column_stack([(group == g).astype(float) for g in range(10)] + [t])
    beta = np.zeros(11)
    beta[:10] = np.log(np.bincount(group, weights * y) / np.bincount(group, weights))
    for _ in range(50):
        mu = np.exp(design @ beta)
        working = weights * mu
        response = design @ beta + y / mu - 1.0  # IRLS working response for the log link
        beta = np.linalg.solve((design.T * working) @ design, (design.T * working) @ response)
    mu = np.exp(design @ beta)
    covariance = np.linalg.inv((design.T * (weights * mu)) @ design)
    root = design * np.sqrt(weights * mu)[:, None]
    leverage = np.einsum("ij,jk,ik->i", root, covariance, root)

    fit = surveillance._fit(y, t, group, weights, with_trend=True)

    assert fit is not None
    np.testing.assert_allclose(np.log(fit.level), beta[:10], atol=1e-8)
    assert fit.slope == pytest.approx(beta[10], abs=1e-8)
    assert fit.slope_variance == pytest.approx(covariance[10, 10], rel=1e-6)
    np.testing.assert_allclose(fit.leverage, leverage, atol=1e-8)


@pytest.mark.parametrize(("mean", "phi"), [(8.0, 1.0), (0.3, 1.0), (10.0, 2.5), (0.3, 3.0), (50.0, 1.7)])
def test_upper_bound_is_the_negative_binomial_quantile(mean: float, phi: float) -> None:
    if phi == 1.0:
        expected = stats.poisson.ppf(0.999, mean)
        tail = stats.poisson.sf(expected, mean)
    else:
        expected = stats.nbinom.ppf(0.999, mean / (phi - 1.0), 1.0 / phi)
        tail = stats.nbinom.sf(expected, mean / (phi - 1.0), 1.0 / phi)

    assert surveillance._upper_quantile(mean, phi, 0.001) == expected
    assert surveillance._survival(int(expected) + 1, mean, phi) == pytest.approx(tail, rel=1e-9)
