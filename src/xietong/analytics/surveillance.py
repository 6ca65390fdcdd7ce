"""Outbreak detection on monthly crime counts (犯罪态势研判, 风险预警): pure numpy/scipy, no Django.

A leader is warned when one series (a town's fraud cases, a district's thefts...) has far more cases in a
month than that series usually has in that season. The method is the improved Farrington algorithm of
Noufaily et al. (Statistics in Medicine 32:1206-1222, 2013), which public-health agencies use for the same
question about infections, applied to monthly data:

1. Reference data: the previous ``years`` years (up to 5; with fewer than 2 there is no verdict), minus
   the last ``window`` months, which are left out so a surge that has been building for a few months does
   not raise its own baseline. The windows (the same calendar month ± ``window`` months in each year) share
   one level and give the expected count; every other calendar month has a level of its own (Noufaily's
   10-level factor: 1 + 9 levels for window = 1), so those months only sharpen the trend and dispersion
   estimates. ``seasonal_levels=False`` fits the windows alone (the 1996 Farrington baseline).
2. A quasi-Poisson log-linear model with a linear time trend that is kept only when it is significant
   (p < 0.05), at least 3 years are used, and its extrapolation to the assessed month is not above every
   reference count brought to that month's season (a trend must not explain away a surge; comparing raw
   counts would refuse a growing series its trend in every peak month, see :func:`_farrington`).
3. Over-dispersion φ = max(1, Pearson χ²/(n − p)); past outbreaks among the reference months (standardised
   Anscombe residual > 2.58) are down-weighted by 1/residual² and the model is refitted once.
4. The upper bound is the (1 − α) quantile of a negative binomial with the fitted mean and variance φ·mean
   (Poisson when φ = 1); α = 0.001 one-sided by default. Below ``min_count`` cases (default 5) there is
   never an alarm: 0 → 2 is noise, however improbable it looks.

The false-alarm and detection rates the UI and the docs quote are measured by :func:`false_alarm_rate` and
:func:`detection_rate` on simulated series; the figures are in tests/analytics/test_surveillance.py. The
bound is a plug-in (it ignores the estimation error of the mean and of φ), so the measured false-alarm
rate is about α for Poisson counts and 2–3α for over-dispersed ones. A season that jumps within a
single month (a peak month far above both neighbours) is under-predicted by a ±1-month window; such
series are better assessed with ``window=0`` (same calendar month only), at about twice the false-alarm
rate.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, TypeVar

import numpy as np
from numpy.typing import NDArray
from scipy import special

__all__ = [
    "DEFAULT_ALPHA",
    "DEFAULT_MIN_COUNT",
    "Assessment",
    "Trend",
    "assess",
    "detection_rate",
    "false_alarm_rate",
    "scan",
    "seasonal_profile",
    "trend",
]

FloatArray = NDArray[np.float64]
K = TypeVar("K")

DEFAULT_ALPHA: Final = 0.001
DEFAULT_MIN_COUNT: Final = 5
DEFAULT_YEARS: Final = 5
DEFAULT_WINDOW: Final = 1
MIN_HISTORY_YEARS: Final = 2
TREND_MIN_YEARS: Final = 3
TREND_SIGNIFICANCE: Final = 0.05
REWEIGHT_RESIDUAL: Final = 2.58
# An all-zero baseline has fitted mean 0, under which any case at all has probability 0. The p-value is
# then computed as if half a case had been seen over its n window months (mean 0.5 / n a month): small,
# finite, and still ranking "12 after nothing" above "6 after nothing".
ZERO_BASELINE_CASES: Final = 0.5
_ETA_CLIP: Final = 30.0
_MAX_NEWTON: Final = 50


@dataclass(frozen=True)
class Assessment:
    """The verdict on one month of one series, with everything needed to explain it to a reader."""

    observed: int
    expected: float  # the model's expected count for the month (0 when its season was always empty)
    threshold: float  # upper bound: observed > threshold is an alarm when observed >= min_count too
    p_value: float  # one-sided P(X >= observed | no outbreak)
    alarm: bool
    baseline_months: tuple[int, ...]  # indexes of the window months, the evidence for ``expected``
    trend_used: bool
    dispersion: float  # φ; 1 = Poisson
    ratio: float  # observed / expected; inf after an empty season, 1.0 for 0 after 0
    calendar_month: int = 1  # 1–12, of the assessed month
    years: int = 0  # reference years used (2–5)
    window: int = DEFAULT_WINDOW
    alpha: float = DEFAULT_ALPHA
    min_count: int = DEFAULT_MIN_COUNT

    def reason(self) -> str:
        """One Chinese sentence a leader can read: the count, the expectation, the bound and the verdict."""
        head = f"{self.calendar_month} 月 {self.observed} 件"
        basis = f"前 {self.years} 年同期（各年{self._window_text()}，共 {len(self.baseline_months)} 个月"
        basis += "，含线性趋势）" if self.trend_used else "）"
        if self.expected == 0:
            middle = f"，{basis}均为 0 件"
        else:
            middle = (
                f"，按{basis}预期 {self.expected:.1f} 件，上限 {self.threshold:.0f} 件（α={self.alpha:g}）"
            )
            if self.observed > self.expected:
                middle += f"，是预期的 {self.ratio:.1f} 倍"
        if self.alarm:
            verdict = "，预警"
        elif self.observed > self.threshold:
            verdict = f"，超出上限但不足 {self.min_count} 件，不预警"
        else:
            verdict = "，未超出上限，不预警"
        return head + middle + verdict

    def _window_text(self) -> str:
        if self.window == 0:
            return f" {self.calendar_month} 月"
        first = (self.calendar_month - 1 - self.window) % 12 + 1
        last = (self.calendar_month - 1 + self.window) % 12 + 1
        if first < last:
            return f" {first}–{last} 月"
        return f" {first} 月至次年 {last} 月"


@dataclass(frozen=True)
class Trend:
    """Direction of a whole series: annual percentage change and whether it is more than noise."""

    annual_change: float  # 0.12 = +12 % a year; nan when the series is too short or empty to say
    p_value: float
    label: str  # 上升 / 下降 / 平稳 (平稳 whenever p >= 0.05)
    months: int
    seasonal_adjusted: bool

    def describe(self) -> str:
        """E.g. "上升，年均 +12.3%（p=0.004）"; a non-significant change reads 平稳 with its figure."""
        if math.isnan(self.annual_change):
            return "平稳（数据不足，无法判断趋势）"
        figure = f"年均 {self.annual_change * 100:+.1f}%（p={self.p_value:.3g}）"
        if self.label == "平稳":
            return f"平稳，{figure}，无统计学意义"
        return f"{self.label}，{figure}"


@dataclass(frozen=True)
class _Fit:
    mu: FloatArray  # fitted means of the reference months
    leverage: FloatArray  # diagonal of the weighted hat matrix, for standardising residuals
    level: FloatArray  # exp(level) of each group at t = 0; group 0 is the assessed month's window
    slope: float  # log change per year (0 without trend)
    slope_variance: float  # var(slope)/φ


@dataclass(frozen=True)
class _Model:
    expected: float
    dispersion: float
    trend_p: float
    season: FloatArray  # fitted level of each group relative to the windows' level


def assess(
    counts: Sequence[int],
    month: int,
    *,
    first_month_of_year: int,
    alpha: float = DEFAULT_ALPHA,
    min_count: int = DEFAULT_MIN_COUNT,
    years: int = DEFAULT_YEARS,
    window: int = DEFAULT_WINDOW,
    seasonal_levels: bool = True,
) -> Assessment | None:
    """Is ``counts[month]`` an outbreak? None when fewer than 24 months precede it (no verdict on less).

    ``counts[i]`` is the count of the i-th month of a consecutive monthly series that starts in calendar
    month ``first_month_of_year``; only months before ``month`` are used, so a past month can be
    re-assessed as it was seen then. Zeros never raise. ``seasonal_levels=False`` fits the windows alone
    (the 1996 Farrington baseline) instead of Noufaily's whole-year model; see the module docstring.
    """
    if not 1 <= first_month_of_year <= 12:
        raise ValueError(f"first_month_of_year must be 1–12, not {first_month_of_year}")
    if not 0 <= month < len(counts):
        raise ValueError(f"month {month} is outside a series of {len(counts)} months")
    if not 0 < alpha < 1 or years < 1 or not 0 <= window <= 4:
        raise ValueError("need 0 < alpha < 1, years >= 1 and 0 <= window <= 4")
    if month < 12 * MIN_HISTORY_YEARS:
        return None
    used_years = min(years, month // 12)
    index, group = _reference_months(month, used_years, window, seasonal_levels=seasonal_levels)
    y = np.asarray([counts[i] for i in index.tolist()], dtype=np.float64)
    observed = int(counts[month])
    if (y < 0).any() or observed < 0:
        raise ValueError("counts cannot be negative")
    in_window = group == 0
    window_months = index[in_window].tolist()

    if y[in_window].sum() == 0:
        model = _Model(expected=0.0, dispersion=1.0, trend_p=1.0, season=np.ones(1))
        trend_used, threshold = False, 0.0
    else:
        # A calendar month with no case in any reference year has fitted mean 0 and carries no
        # information; dropping it keeps the fit finite and the degrees of freedom honest.
        has_cases = np.bincount(group, weights=y)[group] > 0
        if not has_cases.all():
            _, group = np.unique(group[has_cases], return_inverse=True)  # the window stays group 0
            y, index = y[has_cases], index[has_cases]
        t = (index - month) / 12.0  # in years, so the windows' fitted level at t = 0 is μ₀
        model, trend_used = _farrington(y, t, group, allow_trend=used_years >= TREND_MIN_YEARS)
        threshold = _upper_quantile(model.expected, model.dispersion, alpha)
    floor_mean = max(model.expected, ZERO_BASELINE_CASES / len(window_months))
    ratio = observed / model.expected if model.expected > 0 else (math.inf if observed > 0 else 1.0)
    return Assessment(
        observed=observed,
        expected=model.expected,
        threshold=threshold,
        p_value=_survival(observed, floor_mean, model.dispersion),
        alarm=observed > threshold and observed >= min_count,
        baseline_months=tuple(window_months),
        trend_used=trend_used,
        dispersion=model.dispersion,
        ratio=ratio,
        calendar_month=(first_month_of_year - 1 + month) % 12 + 1,
        years=used_years,
        window=window,
        alpha=alpha,
        min_count=min_count,
    )


def scan(
    series: Mapping[K, Sequence[int]],
    month: int,
    *,
    first_month_of_year: int,
    alpha: float = DEFAULT_ALPHA,
    min_count: int = DEFAULT_MIN_COUNT,
) -> list[tuple[K, Assessment]]:
    """The alarms among many series (towns × crime types) for one month, most significant first.

    Each series is tested at level α on its own: with hundreds of series a few false alarms a year are
    expected (the measured rate times the number of series-months), which is why the rate is stated.
    """
    alarms: list[tuple[K, Assessment]] = []
    for key, counts in series.items():
        verdict = assess(
            counts, month, first_month_of_year=first_month_of_year, alpha=alpha, min_count=min_count
        )
        if verdict is not None and verdict.alarm:
            alarms.append((key, verdict))
    alarms.sort(key=lambda pair: (pair[1].p_value, -pair[1].ratio))
    return alarms


def seasonal_profile(counts: Sequence[int], first_month_of_year: int) -> list[float]:
    """Twelve seasonal indexes, January first: the calendar month's mean over the mean of the 12 means.

    1.0 is an average month, 1.3 a month 30 % busier. Averaging per calendar month first keeps a partial
    first or last year from tilting the profile; a calendar month with no data reads 1.0 (no evidence).
    The trend is not removed, so read it on whole years or alongside a flat :func:`trend`.
    """
    if not 1 <= first_month_of_year <= 12:
        raise ValueError(f"first_month_of_year must be 1–12, not {first_month_of_year}")
    sums = [0.0] * 12
    seen = [0] * 12
    for i, count in enumerate(counts):
        calendar = (first_month_of_year - 1 + i) % 12
        sums[calendar] += float(count)
        seen[calendar] += 1
    means = [sums[m] / seen[m] for m in range(12) if seen[m]]
    overall = sum(means) / len(means) if means else 0.0
    if overall <= 0:
        return [1.0] * 12
    return [sums[m] / seen[m] / overall if seen[m] else 1.0 for m in range(12)]


def trend(counts: Sequence[int], *, significance: float = TREND_SIGNIFICANCE) -> Trend:
    """Annual percentage change of a series (Poisson regression slope, exp(12·β) − 1) and its p-value.

    From two years on, the regression also has a calendar-month level, so a summer peak at the end of
    the series is not read as a rise; the p-value uses quasi-Poisson (over-dispersion-inflated) standard
    errors, so ordinary month-to-month scatter is not called a trend. Fewer than 6 months, or no cases at
    all, give 平稳 with an unknown (nan) change.
    """
    y = np.asarray(counts, dtype=np.float64)
    if (y < 0).any():
        raise ValueError("counts cannot be negative")
    months = len(y)
    seasonal = months >= 24
    if months < 6 or y.sum() == 0:
        return Trend(math.nan, 1.0, "平稳", months, seasonal)
    t = np.arange(months, dtype=np.float64) / 12.0
    group = np.arange(months) % 12 if seasonal else np.zeros(months, dtype=np.int64)
    has_cases = np.bincount(group, weights=y)[group] > 0
    _, group = np.unique(group[has_cases], return_inverse=True)
    y, t = y[has_cases], t[has_cases] - t[has_cases].mean()
    fit = _fit(y, t, group, np.ones(len(y)), with_trend=True)
    n_params = int(group.max()) + 2
    if fit is None or len(y) <= n_params:
        return Trend(math.nan, 1.0, "平稳", months, seasonal)
    phi = _dispersion(y, fit.mu, np.ones(len(y)), n_params)
    p_value = _slope_p_value(fit.slope, phi * fit.slope_variance, len(y) - n_params)
    label = "平稳" if p_value >= significance else ("上升" if fit.slope > 0 else "下降")
    return Trend(math.expm1(fit.slope), p_value, label, months, seasonal)


def false_alarm_rate(
    *,
    series: int,
    months: int,
    mean: float,
    seasonal_amplitude: float,
    dispersion: float,
    seed: int,
    alpha: float = DEFAULT_ALPHA,
    min_count: int = DEFAULT_MIN_COUNT,
    history_years: int = DEFAULT_YEARS,
    annual_growth: float = 0.0,
    window: int = DEFAULT_WINDOW,
    seasonal_levels: bool = True,
) -> float:
    """Share of outbreak-free series-months that :func:`assess` flags: the false-alarm rate to quote.

    Each of ``series`` simulated series has ``history_years`` years of history and then ``months``
    assessed months. Its mean in calendar month m is ``mean·(1 + seasonal_amplitude·cos(2π(m − 7)/12))``
    (a July peak; each series starts in a random calendar month), growing by ``annual_growth`` a year;
    counts are negative binomial with variance ``dispersion``·mean (Poisson when 1).
    """
    _check_simulation(series, months, history_years)
    rng = np.random.default_rng(seed)
    start = 12 * history_years
    assessed = alarms = 0
    for _ in range(series):
        first = int(rng.integers(1, 13))
        mu = _simulated_means(start + months, first, mean, seasonal_amplitude, annual_growth)
        counts = _draw(rng, mu, dispersion).tolist()
        for month in range(start, start + months):
            verdict = assess(
                counts,
                month,
                first_month_of_year=first,
                alpha=alpha,
                min_count=min_count,
                window=window,
                seasonal_levels=seasonal_levels,
            )
            if verdict is not None:
                assessed += 1
                alarms += verdict.alarm
    return alarms / assessed


def detection_rate(
    *,
    series: int,
    months: int,
    mean: float,
    seasonal_amplitude: float,
    dispersion: float,
    surge: float,
    seed: int,
    alpha: float = DEFAULT_ALPHA,
    min_count: int = DEFAULT_MIN_COUNT,
    history_years: int = DEFAULT_YEARS,
    annual_growth: float = 0.0,
    window: int = DEFAULT_WINDOW,
    seasonal_levels: bool = True,
) -> float:
    """Share of planted outbreaks that :func:`assess` catches: the power to quote next to the false alarms.

    Series are simulated as in :func:`false_alarm_rate`; in each, one month drawn at random among the
    ``months`` after the history gets a negative binomial count with mean ``surge`` × its expected mean
    (same dispersion), and only that month is assessed.
    """
    _check_simulation(series, months, history_years)
    if surge <= 0:
        raise ValueError("surge must be positive")
    rng = np.random.default_rng(seed)
    start = 12 * history_years
    detected = 0
    for _ in range(series):
        first = int(rng.integers(1, 13))
        planted = start + int(rng.integers(0, months))
        mu = _simulated_means(planted + 1, first, mean, seasonal_amplitude, annual_growth)
        mu[planted] *= surge
        counts = _draw(rng, mu, dispersion).tolist()
        verdict = assess(
            counts,
            planted,
            first_month_of_year=first,
            alpha=alpha,
            min_count=min_count,
            window=window,
            seasonal_levels=seasonal_levels,
        )
        detected += bool(verdict is not None and verdict.alarm)
    return detected / series


# --- the model -------------------------------------------------------------------------------------------


def _reference_months(
    month: int, years: int, window: int, *, seasonal_levels: bool
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Reference months and their level: 0 for the windows, 1… for each other calendar month.

    The windows are the same calendar month ± ``window`` in each of the previous ``years`` years. With
    ``seasonal_levels`` every month from the oldest window to ``window + 1`` months before the assessed
    one is used too, each calendar month outside the windows with a level of its own (Noufaily's
    10-level factor: 1 + 9 levels when window = 1); the last ``window`` months are always left out.
    """
    if not seasonal_levels:
        in_window = [
            month - 12 * year + offset
            for year in range(years, 0, -1)
            for offset in range(-window, window + 1)
            if month - 12 * year + offset >= 0
        ]
        return np.asarray(in_window, dtype=np.int64), np.zeros(len(in_window), dtype=np.int64)
    index = np.arange(max(0, month - 12 * years - window), month - window, dtype=np.int64)
    # Months after the same month a year back: 0…window and 12 − window…11 are in a window (the range
    # starts at the oldest window and stops before the last ``window`` months), the rest get their own level.
    offset = (index - month) % 12
    group = np.where((offset <= window) | (offset >= 12 - window), 0, offset - window)
    return index, np.asarray(group, dtype=np.int64)


def _farrington(
    y: FloatArray, t: FloatArray, group: NDArray[np.int64], *, allow_trend: bool
) -> tuple[_Model, bool]:
    """Fit with trend and keep it only if it passes Farrington's three tests; otherwise fit without.

    The no-extrapolation test compares the prediction with the reference counts brought to the assessed
    month's season (each divided by its calendar month's fitted level relative to the windows'): with
    raw counts a growing series is refused its trend in every peak month, and the peak is then compared
    with the average of five years' peaks, a false alarm (measured: 2.4 % of such months).
    """
    if allow_trend:
        with_trend = _reweighted_fit(y, t, group, with_trend=True)
        if (
            with_trend is not None
            and with_trend.trend_p < TREND_SIGNIFICANCE
            and with_trend.expected <= float((y / with_trend.season[group]).max())
        ):
            return with_trend, True
    level = _reweighted_fit(y, t, group, with_trend=False)
    assert level is not None  # noqa: S101 - without a trend the fit is closed-form and always exists
    return level, False


def _reweighted_fit(
    y: FloatArray, t: FloatArray, group: NDArray[np.int64], *, with_trend: bool
) -> _Model | None:
    """Quasi-Poisson fit, down-weight past outbreaks (Anscombe residual > 2.58), refit once."""
    n_params = int(group.max()) + 1 + with_trend
    prior = np.ones(len(y))
    first = _fit(y, t, group, prior, with_trend=with_trend)
    if first is None:
        return None
    phi = _dispersion(y, first.mu, prior, n_params)
    residual = _anscombe(y, first.mu, phi, first.leverage)
    weights = np.where(residual > REWEIGHT_RESIDUAL, 1.0 / np.maximum(residual, 1e-12) ** 2, 1.0)
    weights *= len(y) / weights.sum()
    fit = _fit(y, t, group, weights, with_trend=with_trend)
    if fit is None:
        return None
    phi = _dispersion(y, fit.mu, weights, n_params)
    trend_p = _slope_p_value(fit.slope, phi * fit.slope_variance, len(y) - n_params) if with_trend else 1.0
    return _Model(
        expected=float(fit.level[0]), dispersion=phi, trend_p=trend_p, season=fit.level / fit.level[0]
    )


def _fit(
    y: FloatArray, t: FloatArray, group: NDArray[np.int64], prior: FloatArray, *, with_trend: bool
) -> _Fit | None:
    """Weighted Poisson fit of log μ = level[group] (+ slope·t) by maximum likelihood.

    statsmodels is not a dependency, and the model does not need it: for a given slope each level has a
    closed form (the weighted mean of its months, rescaled by the trend), so only the slope is iterated
    (Newton's method on the profile likelihood, the same answer as IRLS on the full design). It runs for
    every month of every simulated series, hence no general linear algebra. Every group must have a
    positive count. None when the slope runs away (e.g. every case in the last reference month).
    """
    n_groups = int(group.max()) + 1
    # At the profiled levels each group's fitted total equals its observed total (Σ w·μ = Σ w·y).
    group_total = np.bincount(group, weights=prior * y, minlength=n_groups)
    if not with_trend:
        level = group_total / np.bincount(group, weights=prior, minlength=n_groups)
        leverage = prior / np.bincount(group, weights=prior, minlength=n_groups)[group]
        return _Fit(mu=level[group], leverage=leverage, level=level, slope=0.0, slope_variance=0.0)
    reach = float(np.abs(t).max())
    slope = 0.0
    for _ in range(_MAX_NEWTON):
        spread = np.exp(slope * t)
        level = group_total / np.bincount(group, weights=prior * spread, minlength=n_groups)
        mu = level[group] * spread
        working = prior * mu
        centred = t - (np.bincount(group, weights=working * t, minlength=n_groups) / group_total)[group]
        information = float(working @ (centred * centred))
        if not information > 0:
            return None
        step = float((prior * (y - mu)) @ t) / information
        if abs(step) < 1e-9 * (1.0 + abs(slope)):
            leverage = working / group_total[group] + working * centred * centred / information
            return _Fit(mu=mu, leverage=leverage, level=level, slope=slope, slope_variance=1.0 / information)
        slope += step
        if not math.isfinite(slope) or abs(slope) * reach > _ETA_CLIP:
            return None
    return None


def _dispersion(y: FloatArray, mu: FloatArray, weights: FloatArray, n_params: int) -> float:
    """φ = max(1, Σ w(y − μ)²/μ / (n − p)): never below Poisson, so a too-tidy baseline cannot narrow it."""
    df = len(y) - n_params
    if df < 1:
        return 1.0
    return max(1.0, float(weights @ ((y - mu) ** 2 / mu)) / df)


def _anscombe(y: FloatArray, mu: FloatArray, phi: float, leverage: FloatArray) -> FloatArray:
    """Standardised Anscombe residuals of a Poisson fit: near-normal even for small counts."""
    raw = 1.5 * (np.cbrt(y) ** 2 - np.cbrt(mu) ** 2) / mu ** (1.0 / 6.0)
    return np.asarray(raw / np.sqrt(phi * np.maximum(1.0 - leverage, 1e-8)), dtype=np.float64)


def _slope_p_value(slope: float, variance: float, df: int) -> float:
    """Two-sided t-test of a quasi-Poisson slope (t with n − p degrees of freedom, as φ is estimated)."""
    if df < 1 or not 0 < variance < math.inf:
        return 1.0
    return float(2.0 * special.stdtr(df, -abs(slope) / math.sqrt(variance)))


def _survival(observed: int, mean: float, phi: float) -> float:
    """P(X ≥ observed) for a negative binomial with this mean and variance φ·mean (Poisson if φ = 1)."""
    if observed <= 0:
        return 1.0
    return float(_survival_many(np.asarray([observed], dtype=np.float64), mean, phi)[0])


def _survival_many(observed: FloatArray, mean: float, phi: float) -> FloatArray:
    # P(X >= x) = 1 − P(X <= x − 1), read from the regularised incomplete gamma (Poisson) and beta
    # (negative binomial) functions directly: accurate in the far tail, where 1 − cdf cancels to 0.
    safe = np.maximum(observed, 1.0)
    if phi <= 1.0 + 1e-9:
        tail = special.gammainc(safe, mean)
    else:
        tail = special.betainc(safe, mean / (phi - 1.0), 1.0 - 1.0 / phi)
    return np.asarray(np.where(observed <= 0, 1.0, tail), dtype=np.float64)


def _upper_quantile(mean: float, phi: float, alpha: float) -> float:
    """Smallest q with P(X > q) ≤ α, so observed > q has probability at most α under the model."""
    if mean <= 0:
        return 0.0
    high = int(mean + 10.0 * math.sqrt(phi * mean) + 20.0)
    while True:
        beyond = _survival_many(np.arange(1.0, high + 2.0), mean, phi) <= alpha
        if beyond.any():
            return float(np.argmax(beyond))
        high *= 2


# --- simulation ------------------------------------------------------------------------------------------


def _check_simulation(series: int, months: int, history_years: int) -> None:
    if series < 1 or months < 1 or history_years < MIN_HISTORY_YEARS:
        raise ValueError(f"need series >= 1, months >= 1 and history_years >= {MIN_HISTORY_YEARS}")


def _simulated_means(length: int, first: int, mean: float, amplitude: float, growth: float) -> FloatArray:
    if mean <= 0 or not 0 <= amplitude < 1 or growth <= -1:
        raise ValueError("need mean > 0, 0 <= seasonal_amplitude < 1 and annual_growth > -1")
    index = np.arange(length, dtype=np.float64)
    calendar = (first - 1 + index) % 12 + 1
    season = 1.0 + amplitude * np.cos(2.0 * np.pi * (calendar - 7.0) / 12.0)
    return np.asarray(mean * season * (1.0 + growth) ** (index / 12.0), dtype=np.float64)


def _draw(rng: np.random.Generator, mu: FloatArray, dispersion: float) -> NDArray[np.int64]:
    if dispersion < 1:
        raise ValueError("dispersion must be >= 1 (1 = Poisson)")
    if dispersion == 1:
        return rng.poisson(mu)
    # Negative binomial with mean μ and variance φ·μ: size μ/(φ − 1), success probability 1/φ.
    return rng.negative_binomial(mu / (dispersion - 1.0), 1.0 / dispersion)
