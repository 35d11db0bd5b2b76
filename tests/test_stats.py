"""Tests of companion.stats against scipy.stats: the t distribution, intervals, paired tests."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.special
import scipy.stats
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from companion.stats import (
    ConfidenceInterval,
    PairedTTestResult,
    SignFlipResult,
    betainc,
    mean_confidence_interval,
    paired_t_test,
    sign_flip_test,
    t_cdf,
    t_ppf,
)

SHAPES = st.floats(0.05, 500.0, allow_nan=False, allow_infinity=False)
DFS = st.floats(0.3, 1e4, allow_nan=False, allow_infinity=False)
PROBABILITIES = st.floats(1e-15, 1 - 1e-15, allow_nan=False).filter(lambda q: q != 0.5)
RESULTS = st.floats(-10.0, 10.0, allow_nan=False, allow_infinity=False, width=64)
CONFIDENCES = st.floats(0.5, 0.999, allow_nan=False)


def samples(min_size: int = 2, max_size: int = 12) -> st.SearchStrategy[list[float]]:
    return st.lists(RESULTS, min_size=min_size, max_size=max_size)


def spread(values: list[float]) -> float:
    return float(np.std(values, ddof=1))


# ---------------------------------------------------------------- the t distribution


# normal floats only: for a subnormal x (e.g. 2**-1074) scipy's betainc loses precision (it gives
# 2.889e-162 at a=0.5, b=2, where x**a / (a B(a, b)) = 3.334e-162), so it is no reference there
@given(a=SHAPES, b=SHAPES, x=st.floats(0.0, 1.0, allow_subnormal=False))
def test_betainc_matches_scipy(a: float, b: float, x: float) -> None:
    expected = scipy.special.betainc(a, b, x)
    assert betainc(a, b, x) == pytest.approx(expected, rel=1e-9, abs=1e-300)


@given(t=st.floats(-1e6, 1e6, allow_nan=False), df=DFS)
def test_t_cdf_matches_scipy(t: float, df: float) -> None:
    expected = scipy.stats.t.cdf(t, df)
    assert t_cdf(t, df) == pytest.approx(expected, rel=1e-8, abs=1e-300)


@given(t=st.floats(1e150, 1e300), df=st.floats(0.5, 50.0))
def test_t_cdf_far_tails_match_scipy(t: float, df: float) -> None:
    # t^2 would overflow; the tail is still computed, not rounded to 0
    assert t_cdf(-t, df) == pytest.approx(scipy.stats.t.cdf(-t, df), rel=1e-8, abs=1e-300)
    assert t_cdf(t, df) == pytest.approx(scipy.stats.t.cdf(t, df), rel=1e-12)


@given(q=PROBABILITIES, df=DFS)
def test_t_ppf_matches_scipy_and_inverts_the_cdf(q: float, df: float) -> None:
    t = t_ppf(q, df)
    assert t == pytest.approx(scipy.stats.t.ppf(q, df), rel=1e-8)
    assert t_cdf(t, df) == pytest.approx(q, rel=1e-8)
    upper = max(q, 1 - q)          # >= 1/2, so 1 - upper is exact
    assert t_ppf(upper, df) == -t_ppf(1 - upper, df)  # symmetry


def test_t_distribution_special_values() -> None:
    assert t_cdf(0.0, 2.5) == 0.5 and t_ppf(0.5, 2.5) == 0.0
    assert t_cdf(math.inf, 3) == 1.0 and t_cdf(-math.inf, 3) == 0.0
    assert t_ppf(0.0, 3) == -math.inf and t_ppf(1.0, 3) == math.inf
    assert t_cdf(1.0, 1) == pytest.approx(0.75, rel=1e-14)  # Cauchy: 1/2 + arctan(1)/pi
    assert betainc(2.0, 3.0, 0.0) == 0.0 and betainc(2.0, 3.0, 1.0) == 1.0
    assert betainc(2.0, 3.0, 0.5) == pytest.approx(11 / 16, rel=1e-14)
    assert t_ppf(0.975, 1e8) == pytest.approx(scipy.stats.norm.ppf(0.975), rel=1e-6)


# ---------------------------------------------------------------- intervals and tests


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # scipy on identical values: 0 * inf
@given(values=samples(), confidence=CONFIDENCES)
def test_mean_confidence_interval_matches_scipy(values: list[float], confidence: float) -> None:
    ci = mean_confidence_interval(values, confidence)
    mean = float(np.mean(values))
    low, high = scipy.stats.t.interval(confidence, len(values) - 1, loc=mean, scale=scipy.stats.sem(values))
    assert isinstance(ci, ConfidenceInterval) and ci.n == len(values) and ci.confidence == confidence
    assert ci.mean == pytest.approx(mean, rel=1e-12, abs=1e-12)
    if spread(values) > 0:
        assert ci.low == pytest.approx(low, rel=1e-8, abs=1e-9)
        assert ci.high == pytest.approx(high, rel=1e-8, abs=1e-9)
    assert ci.low <= ci.mean <= ci.high


@given(values=samples(3, 8))
def test_interval_narrows_with_lower_confidence(values: list[float]) -> None:
    assume(spread(values) > 1e-6)
    wide, narrow = mean_confidence_interval(values, 0.99), mean_confidence_interval(values, 0.8)
    assert wide.low < narrow.low < narrow.high < wide.high


@given(data=st.data(), n=st.integers(2, 12), confidence=CONFIDENCES)
def test_paired_t_test_matches_scipy(data: st.DataObject, n: int, confidence: float) -> None:
    a = data.draw(samples(n, n))
    b = data.draw(samples(n, n))
    d = np.subtract(a, b)
    assume(np.std(d, ddof=1) > 1e-6 * (1 + np.abs(d).max()))
    res = paired_t_test(a, b, confidence)
    ref = scipy.stats.ttest_rel(a, b)
    low, high = ref.confidence_interval(confidence)
    assert isinstance(res, PairedTTestResult) and res.df == n - 1 == ref.df
    assert res.statistic == pytest.approx(ref.statistic, rel=1e-8)
    assert res.pvalue == pytest.approx(ref.pvalue, rel=1e-8, abs=1e-300)
    assert res.mean_difference == pytest.approx(d.mean(), rel=1e-12, abs=1e-12)
    assert res.low == pytest.approx(low, rel=1e-8, abs=1e-9)
    assert res.high == pytest.approx(high, rel=1e-8, abs=1e-9)
    # the interval excludes 0 exactly when the test rejects at level 1 - confidence
    if abs(res.pvalue - (1 - confidence)) > 1e-9:
        assert (res.pvalue < 1 - confidence) == (res.low > 0 or res.high < 0)


@given(a=samples(2, 8), shift=st.floats(0.5, 3.0))
def test_paired_t_test_is_antisymmetric_and_shift_detects(a: list[float], shift: float) -> None:
    b = [x - shift + 0.01 * i for i, x in enumerate(a)]
    ab, ba = paired_t_test(a, b), paired_t_test(b, a)
    assert ab.statistic == pytest.approx(-ba.statistic) and ab.pvalue == pytest.approx(ba.pvalue)
    assert ab.mean_difference > 0 and ab.low < ab.mean_difference < ab.high


def test_identical_values_give_a_zero_width_interval() -> None:
    ci = mean_confidence_interval([0.5, 0.5, 0.5])
    assert ci.mean == ci.low == ci.high == 0.5 and ci.n == 3


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # scipy warns about the zero variance
def test_paired_t_test_constant_differences_follow_scipy() -> None:
    same = paired_t_test([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    assert math.isnan(same.statistic) and math.isnan(same.pvalue)
    assert same.low == same.high == same.mean_difference == 0.0
    ref = scipy.stats.ttest_rel([1.0, 2.0, 3.0], [0.0, 1.0, 2.0])
    up = paired_t_test([1.0, 2.0, 3.0], [0.0, 1.0, 2.0])
    assert up.statistic == ref.statistic == math.inf and up.pvalue == ref.pvalue == 0.0
    assert paired_t_test([0.0, 1.0, 2.0], [1.0, 2.0, 3.0]).statistic == -math.inf


@given(data=st.data(), n=st.integers(2, 8))
@settings(deadline=None, max_examples=60)
def test_sign_flip_test_matches_scipy_permutation_test(data: st.DataObject, n: int) -> None:
    # values on a grid of quarters: signed sums are exact, so ties are real ties
    grid = st.integers(-12, 12).map(lambda k: k / 4)
    a = data.draw(st.lists(grid, min_size=n, max_size=n))
    b = data.draw(st.lists(grid, min_size=n, max_size=n))
    res = sign_flip_test(a, b)
    ref = scipy.stats.permutation_test(
        (np.array(a), np.array(b)), lambda x, y, axis: np.mean(x - y, axis=axis),
        permutation_type="samples", n_resamples=np.inf, vectorized=True,
    )
    assert isinstance(res, SignFlipResult) and res.n_flips == 2**n
    assert res.pvalue == pytest.approx(ref.pvalue, abs=1e-12)
    assert res.mean_difference == pytest.approx(float(np.mean(np.subtract(a, b))), abs=1e-12)


@given(a=samples(2, 10), b=samples(2, 10))
@settings(max_examples=40)
def test_sign_flip_test_on_generic_floats_matches_scipy(a: list[float], b: list[float]) -> None:
    n = min(len(a), len(b))
    a, b = a[:n], b[:n]
    res = sign_flip_test(a, b)
    ref = scipy.stats.permutation_test(
        (np.array(a), np.array(b)), lambda x, y, axis: np.mean(x - y, axis=axis),
        permutation_type="samples", n_resamples=np.inf, vectorized=True,
    )
    assert res.pvalue == pytest.approx(ref.pvalue, abs=1e-12)


def test_sign_flip_test_smallest_p_value() -> None:
    # five seeds, all in one direction: the smallest attainable p-value, 2 / 2^5
    res = sign_flip_test([1.0, 2.0, 3.0, 4.0, 5.0], [0.0, 1.0, 2.0, 3.0, 4.0])
    assert res.pvalue == 2 / 32 and res.n_flips == 32 and res.mean_difference == 1.0
    assert sign_flip_test([1.0] * 20, [0.0] * 20).pvalue == 2 / 2**20


def test_tensors_and_arrays_are_accepted() -> None:
    values = [0.9, 0.92, 0.95, 0.91]
    expected = mean_confidence_interval(values)
    assert mean_confidence_interval(torch.tensor(values, dtype=torch.float64)) == pytest.approx(expected)
    assert mean_confidence_interval(np.array(values)) == pytest.approx(expected)
    assert mean_confidence_interval(tuple(values)) == pytest.approx(expected)
    other = [0.8, 0.85, 0.9, 0.82]
    assert paired_t_test(torch.tensor(values), np.array(other)) == pytest.approx(
        paired_t_test(values, other), rel=1e-6)
    assert sign_flip_test(torch.tensor(values), other).pvalue == sign_flip_test(values, other).pvalue


# ---------------------------------------------------------------- every raise


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: betainc("1", 1.0, 0.5), TypeError, "a must be a real number"),
        (lambda: betainc(0.0, 1.0, 0.5), ValueError, "a must be > 0"),
        (lambda: betainc(1.0, -1.0, 0.5), ValueError, "b must be > 0"),
        (lambda: betainc(1.0, math.inf, 0.5), ValueError, "b must be finite"),
        (lambda: betainc(1.0, 1.0, 1.5), ValueError, r"x must be in \[0, 1\]"),
        (lambda: betainc(1.0, 1.0, None), TypeError, "x must be a real number"),
        (lambda: t_cdf(math.nan, 3), ValueError, "t must not be NaN"),
        (lambda: t_cdf("0", 3), TypeError, "t must be a real number"),
        (lambda: t_cdf(0.0, 0), ValueError, "df must be > 0"),
        (lambda: t_cdf(0.0, True), TypeError, "df must be a real number"),
        (lambda: t_ppf(1.5, 3), ValueError, r"q must be in \[0, 1\]"),
        (lambda: t_ppf(0.5, -2), ValueError, "df must be > 0"),
        (lambda: t_ppf([0.5], 3), TypeError, "q must be a real number"),
        (lambda: mean_confidence_interval([1.0]), ValueError, "values must hold at least 2 values, got 1"),
        (lambda: mean_confidence_interval([]), ValueError, "values must hold at least 2 values, got 0"),
        (lambda: mean_confidence_interval("abc"), TypeError, "values must be a sequence of real numbers"),
        (lambda: mean_confidence_interval(3.0), TypeError, "values must be a sequence of real numbers"),
        (lambda: mean_confidence_interval([1.0, "2"]), TypeError, "every entry of values must be a real number"),
        (lambda: mean_confidence_interval([1.0, True]), TypeError, "every entry of values must be a real number"),
        (lambda: mean_confidence_interval([1.0, math.nan]), ValueError, "every entry of values must be finite"),
        (lambda: mean_confidence_interval(torch.ones(2, 2)), ValueError, r"values must be one-dimensional, got shape \(2, 2\)"),
        (lambda: mean_confidence_interval(np.ones((2, 2))), ValueError, r"values must be one-dimensional, got shape \(2, 2\)"),
        (lambda: mean_confidence_interval(torch.ones(3, dtype=torch.bool)), TypeError, "values must hold real numbers"),
        (lambda: mean_confidence_interval([1.0, 2.0], confidence=1.0), ValueError, r"confidence must be in \(0, 1\)"),
        (lambda: mean_confidence_interval([1.0, 2.0], confidence=0), ValueError, r"confidence must be in \(0, 1\)"),
        (lambda: mean_confidence_interval([1.0, 2.0], confidence="95%"), TypeError, "confidence must be a real number"),
        (lambda: paired_t_test([1.0, 2.0], [1.0, 2.0, 3.0]), ValueError, "a and b must hold one value per seed each, got 2 and 3"),
        (lambda: paired_t_test([1.0], [1.0]), ValueError, "a must hold at least 2 values"),
        (lambda: paired_t_test([1.0, 2.0], None), TypeError, "b must be a sequence of real numbers"),
        (lambda: paired_t_test([1.0, 2.0], [1.0, math.inf]), ValueError, "every entry of b must be finite"),
        (lambda: paired_t_test([1.0, 2.0], [0.0, 1.0], confidence=2), ValueError, r"confidence must be in \(0, 1\)"),
        (lambda: sign_flip_test([1.0, 2.0], [1.0, 2.0, 3.0]), ValueError, "a and b must hold one value per seed each"),
        (lambda: sign_flip_test([0.0] * 21, [1.0] * 21), ValueError, "a and b must hold at most 20 values for the exact test, got 21"),
        (lambda: sign_flip_test({1.0, 2.0}, [1.0, 2.0]), TypeError, "a must be a sequence of real numbers"),
    ],
)
def test_bad_input_raises(call, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        call()
