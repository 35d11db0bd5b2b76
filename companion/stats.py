r"""Statistics for comparing methods across seeds: intervals, a paired t-test, a sign-flip test.

A claim such as "method A beats method B" rests on a few runs per method, one per seed. This
module turns such runs into the two numbers a careful paper reports:

* :func:`mean_confidence_interval`: the mean of :math:`n` runs with its Student-t interval;
* :func:`paired_t_test`: the mean difference of two methods run with the *same* seeds, its
  interval, and the two-sided p-value of "no difference";
* :func:`sign_flip_test`: the exact permutation version of the paired test, which needs no
  normality assumption.

The Student-t distribution is computed here, with no SciPy at run time:
:func:`t_cdf` from the regularized incomplete beta function :func:`betainc` (a continued
fraction), and :func:`t_ppf` by bisection on the CDF. The tests compare every function with
:mod:`scipy.stats`.

Examples
--------
>>> ci = mean_confidence_interval([0.91, 0.93, 0.92, 0.94, 0.90])
>>> round(ci.mean, 3), round(ci.low, 4), round(ci.high, 4)
(0.92, 0.9004, 0.9396)
>>> res = paired_t_test([0.91, 0.93, 0.92, 0.94, 0.90], [0.90, 0.91, 0.92, 0.92, 0.89])
>>> round(res.statistic, 3), res.df, round(res.pvalue, 4)
(3.207, 4, 0.0327)
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import NamedTuple, Union

import torch

from companion import _validate as check

__all__ = [
    "ConfidenceInterval",
    "PairedTTestResult",
    "SignFlipResult",
    "betainc",
    "mean_confidence_interval",
    "paired_t_test",
    "sign_flip_test",
    "t_cdf",
    "t_ppf",
]

#: A sample of runs: a sequence of real numbers, or a 1-D tensor (or numpy array).
Sample = Union[Sequence[float], torch.Tensor]

_TINY = 1e-300
_EPS = 1e-16
_MAX_FLIPS_N = 20


class ConfidenceInterval(NamedTuple):
    """The mean of a sample and a confidence interval ``[low, high]`` around it."""

    mean: float
    low: float
    high: float
    confidence: float
    n: int


class PairedTTestResult(NamedTuple):
    """The result of :func:`paired_t_test`."""

    statistic: float
    df: int
    pvalue: float
    mean_difference: float
    low: float
    high: float
    confidence: float


class SignFlipResult(NamedTuple):
    """The result of :func:`sign_flip_test`."""

    mean_difference: float
    pvalue: float
    n_flips: int


# --------------------------------------------------------------------------------------------
# the Student-t distribution


def _beta_continued_fraction(a: float, b: float, x: float) -> float:
    # The continued fraction of I_x(a, b) * a * B(a, b) / (x^a (1-x)^b), evaluated by the
    # modified Lentz method; it converges fast for x < (a + 1) / (a + b + 2).
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    h = d
    max_terms = 1000 + int(20 * math.sqrt(max(a, b)))
    for m in range(1, max_terms + 1):
        m2 = 2 * m
        for numerator in (m * (b - m) * x / ((qam + m2) * (a + m2)),
                          -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > _TINY else _TINY)
            c = 1.0 + numerator / c
            c = c if abs(c) > _TINY else _TINY
            h *= d * c
        if abs(d * c - 1.0) < _EPS:
            break
    return h


def _betainc(a: float, b: float, x: float, y: float) -> float:
    # I_x(a, b) with y = 1 - x passed in exactly (callers often know y better than 1 - x).
    if x <= 0.0:
        return 0.0
    if y <= 0.0:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log(y)
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_continued_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_continued_fraction(b, a, y) / b


def betainc(a: float, b: float, x: float) -> float:
    r"""The regularized incomplete beta function :math:`I_x(a, b)`, as ``scipy.special.betainc``.

    .. math::

        I_x(a, b) = \frac{1}{B(a, b)} \int_0^x t^{a-1} (1-t)^{b-1}\, dt,
        \qquad B(a, b) = \frac{\Gamma(a)\Gamma(b)}{\Gamma(a+b)}.

    Computed from the continued fraction

    .. math::

        I_x(a, b) = \frac{x^a (1-x)^b}{a\, B(a, b)}
        \cfrac{1}{1 + \cfrac{d_1}{1 + \cfrac{d_2}{1 + \cdots}}},\quad
        d_{2m+1} = -\frac{(a+m)(a+b+m)\,x}{(a+2m)(a+2m+1)},\quad
        d_{2m} = \frac{m(b-m)\,x}{(a+2m-1)(a+2m)},

    which converges quickly for :math:`x < (a+1)/(a+b+2)`; otherwise the symmetry
    :math:`I_x(a, b) = 1 - I_{1-x}(b, a)` is used.

    Parameters
    ----------
    a, b : float
        Positive shape parameters.
    x : float
        In :math:`[0, 1]`.

    Returns
    -------
    float
        :math:`I_x(a, b) \in [0, 1]`.

    Raises
    ------
    TypeError
        If an argument is not a real number.
    ValueError
        If ``a`` or ``b`` is not positive and finite, or ``x`` is outside :math:`[0, 1]`.

    Examples
    --------
    >>> round(betainc(1.0, 1.0, 0.3), 12)   # the uniform distribution's CDF
    0.3
    >>> round(betainc(2.0, 3.0, 0.5), 10)   # = 11/16
    0.6875
    """
    a = check.real(a, "a", low=0, low_open=True)
    b = check.real(b, "b", low=0, low_open=True)
    x = check.real(x, "x", low=0, high=1)
    return _betainc(a, b, x, 1.0 - x)


def _check_df(df: object) -> float:
    return check.real(df, "df", low=0, low_open=True)


def _t_tail(t: float, df: float) -> float:
    # P(T > |t|) = I_x(df/2, 1/2) / 2 with x = df / (df + t^2), computed without forming t^2
    # (which overflows for |t| > 1e154) and without the cancellation of 1 - x.
    t = abs(t)
    if t == 0.0:
        return 0.5
    if math.isinf(t):
        return 0.0
    r = math.sqrt(df) / t          # x = r^2 / (1 + r^2), 1 - x = 1 / (1 + r^2)
    if r > 1e150:
        return 0.5
    r2 = r * r
    return 0.5 * _betainc(df / 2.0, 0.5, r2 / (1.0 + r2), 1.0 / (1.0 + r2))


def t_cdf(t: float, df: float) -> float:
    r"""The CDF of Student's t distribution with ``df`` degrees of freedom, as ``scipy.stats.t.cdf``.

    .. math::

        F_\nu(t) = 1 - \tfrac12 I_{x}\!\left(\tfrac{\nu}{2}, \tfrac12\right)
        \text{ for } t \ge 0, \qquad F_\nu(t) = 1 - F_\nu(-t),
        \qquad x = \frac{\nu}{\nu + t^2},

    where :math:`I` is the regularized incomplete beta function (:func:`betainc`).

    Parameters
    ----------
    t : float
        A real number; ``inf`` and ``-inf`` give 1 and 0.
    df : float
        Degrees of freedom :math:`\nu > 0` (need not be an integer).

    Returns
    -------
    float

    Raises
    ------
    TypeError
        If ``t`` or ``df`` is not a real number.
    ValueError
        If ``t`` is NaN, or ``df`` is not positive and finite.

    Examples
    --------
    >>> t_cdf(0.0, 3)
    0.5
    >>> round(t_cdf(1.0, 1), 10)   # the Cauchy distribution: 1/2 + arctan(1)/pi
    0.75
    >>> round(t_cdf(-2.776445105, 4), 6)
    0.025
    """
    t = check.real(t, "t", finite=False)
    if math.isnan(t):
        raise ValueError("t must not be NaN")
    df = _check_df(df)
    tail = _t_tail(t, df)
    return 1.0 - tail if t > 0 else tail


def t_ppf(q: float, df: float) -> float:
    r"""The quantile function of Student's t distribution, as ``scipy.stats.t.ppf``.

    Returns :math:`t` with :math:`F_\nu(t) = q` (see :func:`t_cdf`). By symmetry it solves
    :math:`P(T > t) = \min(q, 1 - q)` for :math:`t \ge 0` and restores the sign: the root is
    bracketed by doubling an upper end until the tail probability falls below the target, then
    found by bisection to the last bits of a float (the tail is decreasing in :math:`t`).

    Parameters
    ----------
    q : float
        A probability in :math:`[0, 1]`; 0 and 1 give ``-inf`` and ``inf``.
    df : float
        Degrees of freedom :math:`\nu > 0`.

    Returns
    -------
    float

    Raises
    ------
    TypeError
        If ``q`` or ``df`` is not a real number.
    ValueError
        If ``q`` is outside :math:`[0, 1]`, or ``df`` is not positive and finite.

    Examples
    --------
    >>> round(t_ppf(0.975, 4), 6)   # the 95% two-sided critical value for 5 runs
    2.776445
    >>> t_ppf(0.5, 10)
    0.0
    >>> round(t_ppf(0.975, 1e6), 4)   # close to the normal's 1.96
    1.96
    """
    q = check.real(q, "q", low=0, high=1)
    df = _check_df(df)
    if q == 0.0:
        return -math.inf
    if q == 1.0:
        return math.inf
    if q == 0.5:
        return 0.0
    p = min(q, 1.0 - q)            # the upper-tail probability to reach, in (0, 1/2)
    low, high = 0.0, 1.0
    while _t_tail(high, df) > p:
        low, high = high, 2.0 * high
    for _ in range(2000):
        mid = 0.5 * (low + high)
        if mid <= low or mid >= high:
            break                  # the bracket is two adjacent floats
        if _t_tail(mid, df) > p:
            low = mid
        else:
            high = mid
    t = 0.5 * (low + high)
    return t if q > 0.5 else -t


# --------------------------------------------------------------------------------------------
# samples of runs


def _sample(values: object, name: str, minimum: int = 2) -> list[float]:
    if isinstance(values, torch.Tensor):
        if values.dim() != 1:
            raise ValueError(f"{name} must be one-dimensional, got shape {tuple(values.shape)}")
        if values.dtype == torch.bool or values.is_complex():
            raise TypeError(f"{name} must hold real numbers, got {values.dtype}")
        values = values.detach().cpu().double().tolist()
    elif hasattr(values, "ndim") and hasattr(values, "tolist"):  # a numpy array
        if values.ndim != 1:
            raise ValueError(f"{name} must be one-dimensional, got shape {tuple(values.shape)}")
        values = values.tolist()
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise TypeError(f"{name} must be a sequence of real numbers or a 1-D tensor, got {type(values).__name__}")
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise TypeError(f"every entry of {name} must be a real number, got {type(v).__name__}")
        v = float(v)
        if not math.isfinite(v):
            raise ValueError(f"every entry of {name} must be finite, got {v}")
        out.append(v)
    if len(out) < minimum:
        raise ValueError(f"{name} must hold at least {minimum} values, got {len(out)}")
    return out


def _mean_and_sd(values: list[float]) -> tuple[float, float]:
    # two passes, as numpy: the mean, then the sum of squared deviations (ddof = 1)
    n = len(values)
    mean = sum(values) / n
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))


def _paired(a: object, b: object) -> list[float]:
    a_ = _sample(a, "a")
    b_ = _sample(b, "b")
    if len(a_) != len(b_):
        raise ValueError(f"a and b must hold one value per seed each, got {len(a_)} and {len(b_)} values")
    return [x - y for x, y in zip(a_, b_)]


def mean_confidence_interval(values: Sample, confidence: float = 0.95) -> ConfidenceInterval:
    r"""The mean of ``n`` runs and its Student-t confidence interval.

    With sample mean :math:`\bar x`, sample standard deviation
    :math:`s = \sqrt{\sum_i (x_i - \bar x)^2 / (n - 1)}` and confidence :math:`c`,

    .. math::

        \bar x \pm t_{(1+c)/2,\; n-1}\, \frac{s}{\sqrt n},

    where :math:`t_{q,\nu}` is the :math:`q`-quantile of Student's t with :math:`\nu` degrees of
    freedom (:func:`t_ppf`). If the runs are independent draws from a normal distribution with
    mean :math:`\mu`, the interval contains :math:`\mu` with probability :math:`c`. Equals
    ``scipy.stats.t.interval(confidence, n - 1, loc=mean, scale=scipy.stats.sem(values))``,
    except that identical values give the zero-width interval ``[mean, mean]`` (SciPy: NaN).

    Parameters
    ----------
    values : sequence of float or torch.Tensor, shape (n,)
        One result per run (e.g. per seed), :math:`n \ge 2`, all finite.
    confidence : float, default 0.95
        In :math:`(0, 1)`.

    Returns
    -------
    ConfidenceInterval
        ``(mean, low, high, confidence, n)``.

    Raises
    ------
    TypeError
        If ``values`` is not a sequence of real numbers or a tensor, or ``confidence`` is not a
        real number.
    ValueError
        If ``values`` has fewer than 2 entries, a non-finite entry or more than one dimension,
        or ``confidence`` is outside :math:`(0, 1)`.

    Examples
    --------
    >>> ci = mean_confidence_interval([1.0, 2.0, 3.0])
    >>> ci.mean, round(ci.low, 4), round(ci.high, 4)   # 2 +- 4.3027 / sqrt(3)
    (2.0, -0.4841, 4.4841)
    """
    confidence = check.real(confidence, "confidence", low=0, high=1, low_open=True, high_open=True)
    xs = _sample(values, "values")
    n = len(xs)
    mean, sd = _mean_and_sd(xs)
    half = t_ppf((1.0 + confidence) / 2.0, n - 1) * sd / math.sqrt(n)
    return ConfidenceInterval(mean, mean - half, mean + half, confidence, n)


def paired_t_test(a: Sample, b: Sample, confidence: float = 0.95) -> PairedTTestResult:
    r"""The paired t-test of two methods run with the same seeds, with an interval for the difference.

    With differences :math:`d_i = a_i - b_i` (one per seed), their mean :math:`\bar d` and
    standard deviation :math:`s_d` (:math:`n - 1` in the denominator),

    .. math::

        t = \frac{\bar d}{s_d / \sqrt n}, \qquad \nu = n - 1, \qquad
        p = P(|T_\nu| \ge |t|) = I_{\nu/(\nu + t^2)}\!\left(\tfrac{\nu}{2}, \tfrac12\right),

    and the interval :math:`\bar d \pm t_{(1+c)/2,\,\nu}\, s_d/\sqrt n`. Pairing removes the
    variation that the two methods share through the seed (initialization, data order), so it
    detects differences that two independent intervals would hide. It assumes the
    differences are independent and normally distributed; :func:`sign_flip_test` does not.
    Equals ``scipy.stats.ttest_rel(a, b)`` and its ``confidence_interval(confidence)``; as
    there, identical differences give ``statistic = inf`` (``-inf``) and ``pvalue = 0``, and
    all-zero differences give NaN for both.

    Parameters
    ----------
    a, b : sequence of float or torch.Tensor, shape (n,)
        The results of the two methods, entry ``i`` of each from seed ``i``; :math:`n \ge 2`.
    confidence : float, default 0.95
        Confidence of the interval for the mean difference, in :math:`(0, 1)`.

    Returns
    -------
    PairedTTestResult
        ``(statistic, df, pvalue, mean_difference, low, high, confidence)``: :math:`t`,
        :math:`\nu`, the two-sided p-value, :math:`\bar d` and the interval.

    Raises
    ------
    TypeError
        If ``a`` or ``b`` is not a sequence of real numbers or a tensor, or ``confidence`` is
        not a real number.
    ValueError
        If ``a`` and ``b`` differ in length, hold fewer than 2 values or a non-finite value, or
        ``confidence`` is outside :math:`(0, 1)`.

    Examples
    --------
    >>> res = paired_t_test([1.0, 2.0, 3.5], [0.0, 1.0, 2.0])
    >>> res.statistic, res.df, round(res.pvalue, 6)
    (7.0, 2, 0.019804)
    >>> round(res.low, 4), round(res.high, 4)
    (0.4496, 1.8838)
    """
    confidence = check.real(confidence, "confidence", low=0, high=1, low_open=True, high_open=True)
    d = _paired(a, b)
    n = len(d)
    mean, sd = _mean_and_sd(d)
    df = n - 1
    se = sd / math.sqrt(n)
    if se == 0.0:
        statistic = math.nan if mean == 0.0 else math.copysign(math.inf, mean)
        pvalue = math.nan if mean == 0.0 else 0.0
    else:
        statistic = mean / se
        pvalue = min(1.0, 2.0 * _t_tail(statistic, df))
    half = t_ppf((1.0 + confidence) / 2.0, df) * se
    return PairedTTestResult(statistic, df, pvalue, mean, mean - half, mean + half, confidence)


def sign_flip_test(a: Sample, b: Sample) -> SignFlipResult:
    r"""The exact paired permutation (sign-flip) test of "no difference" between two methods.

    If the two methods were interchangeable, each difference :math:`d_i = a_i - b_i` would be
    as likely to have the opposite sign. The test enumerates all :math:`2^n` sign patterns
    :math:`s \in \{-1, 1\}^n` and returns the two-sided p-value

    .. math::

        p = \frac{1}{2^n} \,\#\Big\{ s :\ \Big|\sum_i s_i d_i\Big| \ge \Big|\sum_i d_i\Big| \Big\},

    exact under the sole assumption that the differences are symmetric about 0 (no normality).
    The smallest attainable p-value is :math:`2/2^n`: with 5 seeds, 0.0625, so 5 seeds can never
    reach :math:`p < 0.05` with this test. Equals ``scipy.stats.permutation_test((a, b),
    statistic, permutation_type="samples", n_resamples=np.inf)`` with the mean difference as
    statistic (sums are compared with a relative tolerance of :math:`10^{-12}`, so that
    rounding does not break ties).

    Parameters
    ----------
    a, b : sequence of float or torch.Tensor, shape (n,)
        The results of the two methods, entry ``i`` of each from seed ``i``;
        :math:`2 \le n \le 20`.

    Returns
    -------
    SignFlipResult
        ``(mean_difference, pvalue, n_flips)`` with ``n_flips`` :math:`= 2^n`.

    Raises
    ------
    TypeError
        If ``a`` or ``b`` is not a sequence of real numbers or a tensor.
    ValueError
        If ``a`` and ``b`` differ in length, hold fewer than 2 or more than 20 values, or a
        non-finite value.

    Examples
    --------
    >>> res = sign_flip_test([1.0, 2.0, 3.5, 4.0], [0.0, 1.0, 2.0, 4.5])
    >>> res.mean_difference, res.pvalue, res.n_flips
    (0.75, 0.25, 16)
    """
    d = _paired(a, b)
    n = len(d)
    if n > _MAX_FLIPS_N:
        raise ValueError(f"a and b must hold at most {_MAX_FLIPS_N} values for the exact test, got {n}")
    sums = torch.zeros(1, dtype=torch.float64)
    for value in d:                # all 2^n signed sums, doubling the list at each difference
        sums = torch.cat([sums + value, sums - value])
    observed = abs(sum(d))
    tolerance = 1e-12 * sum(abs(v) for v in d)
    count = int((sums.abs() >= observed - tolerance).sum())
    return SignFlipResult(sum(d) / n, count / len(sums), len(sums))
