"""Wilcoxon signed-rank and rank-sum tests that follow R's ``wilcox.test``.

R (up to 4.5) and SciPy differ in their defaults, and biostatisticians expect R's numbers:

- the exact null distribution is used when n < 50 (signed rank; zeros dropped first) or
  both samples have fewer than 50 values (rank sum), and only without ties or zeros;
  SciPy uses the exact test for n <= 50 and, for the rank sum, only when a sample is small;
- otherwise the normal approximation with tie correction *and* continuity correction is
  used (SciPy's ``wilcoxon`` leaves the correction off by default);
- the signed-rank statistic is V, the sum of the ranks of the positive values (SciPy reports
  the smaller of the two rank sums);
- on the normal-approximation path the Hodges-Lehmann estimate and its confidence interval
  come from root-finding on the standardised statistic (``uniroot(tol = 1e-4)``), not from
  the median of pairwise differences. :func:`zeroin` reproduces R's root finder step by step
  so that the numbers agree with R's, not only to R's tolerance.

R 4.6 switched to exact conditional p-values with ties; ``exact="r46"`` is not offered yet.

References
----------
R Core Team, ``wilcox.test.default`` and ``zeroin.c`` in R's ``stats`` package.
Hollander, M., Wolfe, D. A. and Chicken, E. (2014). *Nonparametric Statistical Methods*,
3rd ed. Wiley.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import stats

EXACT_LIMIT = 50
DBL_EPSILON = float(np.finfo(float).eps)


@lru_cache(maxsize=256)
def _signrank_counts(n: int) -> tuple[int, ...]:
    """Number of sign patterns giving V = 0..n(n+1)/2 (coefficients of prod (1 + q^i))."""
    counts = [1]
    for i in range(1, n + 1):
        counts = [a + b for a, b in zip(counts + [0] * i, [0] * i + counts, strict=True)]
    return tuple(counts)


@lru_cache(maxsize=1024)
def _ranksum_counts(m: int, n: int) -> tuple[int, ...]:
    """Number of arrangements giving W = 0..m*n (Gaussian binomial coefficients)."""
    poly = [1]
    for i in range(1, m + 1):
        # multiply by (1 - q^(n+i)) ...
        k = n + i
        grown = poly + [0] * k
        for j in range(len(poly) - 1, -1, -1):
            grown[j + k] -= poly[j]
        # ... and divide by (1 - q^i): b[j] = a[j] + b[j - i]
        for j in range(i, len(grown)):
            grown[j] += grown[j - i]
        poly = grown[: i * n + 1]
    return tuple(poly)


def _tail(counts: tuple[int, ...], total: int, q: float, lower: bool) -> float:
    """P(S <= q) (lower) or P(S > q) (upper) from exact integer counts."""
    k = math.floor(q + 1e-7)
    if lower:
        return sum(counts[: max(0, k + 1)]) / total
    return sum(counts[max(0, k + 1) :]) / total


def psignrank(q: float, n: int, *, lower_tail: bool = True) -> float:
    """R's ``psignrank(q, n, lower.tail)``: P(V <= q), or P(V > q) for the upper tail."""
    return _tail(_signrank_counts(n), 2**n, q, lower_tail)


def pwilcox(q: float, m: int, n: int, *, lower_tail: bool = True) -> float:
    """R's ``pwilcox(q, m, n, lower.tail)``: P(W <= q), or P(W > q) for the upper tail."""
    return _tail(_ranksum_counts(m, n), math.comb(m + n, m), q, lower_tail)


def qwilcox(p: float, m: int, n: int) -> int:
    """R's ``qwilcox(p, m, n)`` for p <= 0.5: the smallest q with P(W <= q) >= p."""
    counts = _ranksum_counts(m, n)
    total = math.comb(m + n, m)
    target = p - 10 * DBL_EPSILON
    running = 0.0
    for q, c in enumerate(counts):
        running += c / total
        if running >= target:
            return q
    return len(counts) - 1


# Coefficients of AS 241 (highest power first), as in R's qnorm.c.
_AS241_CENTRAL = (
    (
        2509.0809287301226727,
        33430.575583588128105,
        67265.770927008700853,
        45921.953931549871457,
        13731.693765509461125,
        1971.5909503065514427,
        133.14166789178437745,
        3.387132872796366608,
    ),
    (
        5226.495278852854561,
        28729.085735721942674,
        39307.89580009271061,
        21213.794301586595867,
        5394.1960214247511077,
        687.1870074920579083,
        42.313330701600911252,
        1.0,
    ),
)
_AS241_TAIL = (
    (
        7.7454501427834140764e-4,
        0.0227238449892691845833,
        0.24178072517745061177,
        1.27045825245236838258,
        3.64784832476320460504,
        5.7694972214606914055,
        4.6303378461565452959,
        1.42343711074968357734,
    ),
    (
        1.05075007164441684324e-9,
        5.475938084995344946e-4,
        0.0151986665636164571966,
        0.14810397642748007459,
        0.68976733498510000455,
        1.6763848301838038494,
        2.05319162663775882187,
        1.0,
    ),
)
_AS241_FAR_TAIL = (
    (
        2.01033439929228813265e-7,
        2.71155556874348757815e-5,
        0.0012426609473880784386,
        0.026532189526576123093,
        0.29656057182850489123,
        1.7848265399172913358,
        5.4637849111641143699,
        6.6579046435011037772,
    ),
    (
        2.04426310338993978564e-15,
        1.4215117583164458887e-7,
        1.8463183175100546818e-5,
        7.868691311456132591e-4,
        0.0148753612908506148525,
        0.13692988092273580531,
        0.59983220655588793769,
        1.0,
    ),
)


def _horner(x: float, coefficients: tuple[float, ...]) -> float:
    """((c0 x + c1) x + c2) ..., in the order of operations of R's C code."""
    value = coefficients[0]
    for c in coefficients[1:]:
        value = value * x + c
    return value


def qnorm(p: float, *, lower_tail: bool = True) -> float:
    """R's ``qnorm(p, lower.tail = lower_tail)``: Wichura's AS 241 as R computes it.

    SciPy's ``norm.ppf`` uses another algorithm whose results differ from R's in the last
    bits (1.959963984540054 against R's 1.9599639845400536 for p = 0.025). The
    normal-approximation Hodges-Lehmann interval finds roots of a step function, where
    R's root finder lands on a point that depends on those bits, so the quantile must be
    R's to the bit.

    References
    ----------
    Wichura, M. J. (1988). Algorithm AS 241: The percentage points of the normal
    distribution. Applied Statistics 37, 477-484. R's ``qnorm.c``.

    Examples
    --------
    >>> qnorm(0.025), qnorm(0.025, lower_tail=False)
    (-1.9599639845400536, 1.9599639845400536)
    """
    if not 0.0 < p < 1.0:
        if p in (0.0, 1.0):
            return -math.inf if (p == 0.0) == lower_tail else math.inf
        return math.nan
    p_lower = p if lower_tail else 0.5 - p + 0.5
    q = p_lower - 0.5
    if abs(q) <= 0.425:
        r = 0.180625 - q * q
        numerator, denominator = _AS241_CENTRAL
        return q * _horner(r, numerator) / _horner(r, denominator)
    # r = min(p, 1 - p), without rounding 1 - p where R does not either
    r = (0.5 - p + 0.5 if lower_tail else p) if q > 0 else p_lower
    r = math.sqrt(-math.log(r))
    if r <= 5.0:
        r += -1.6
        numerator, denominator = _AS241_TAIL
    else:
        r += -5.0
        numerator, denominator = _AS241_FAR_TAIL
    value = _horner(r, numerator) / _horner(r, denominator)
    return -value if q < 0.0 else value


def _normal_p(z: np.ndarray | float) -> np.ndarray | float:
    """Two-sided p from a standard normal z, as R: 2 * min(pnorm(z), pnorm(-z))."""
    return 2.0 * stats.norm.sf(np.abs(z))


def signrank_p(v: np.ndarray, n: np.ndarray, tie_term: np.ndarray, exact: np.ndarray) -> np.ndarray:
    """Two-sided signed-rank p-values from V for many groups at once.

    Parameters
    ----------
    v
        Sum of the ranks of the positive differences (zeros dropped).
    n
        Number of non-zero differences.
    tie_term
        Sum over groups of tied |differences| of t^3 - t.
    exact
        Whether R would use the exact distribution (n < 50, no ties, no zeros).
    """
    v = np.asarray(v, dtype=float)
    n = np.asarray(n, dtype=float)
    p = np.full(v.shape, np.nan)
    for i in np.flatnonzero(exact & (n > 0)):
        ni = int(n[i])
        if v[i] > ni * (ni + 1) / 4:
            tail = psignrank(v[i] - 1, ni, lower_tail=False)
        else:
            tail = psignrank(v[i], ni)
        p[i] = min(1.0, 2.0 * tail)
    approx = ~exact & (n > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = v - n * (n + 1) / 4
        sigma = np.sqrt(n * (n + 1) * (2 * n + 1) / 24 - tie_term / 48)
        z = (z - np.sign(z) * 0.5) / sigma
        p = np.where(approx & (sigma > 0), np.minimum(1.0, _normal_p(z)), p)
    return p


@dataclass(frozen=True)
class RankSumResult:
    """Result of a two-sample Wilcoxon / Mann-Whitney test (x versus y)."""

    statistic: float  # W = sum of ranks of x - n_x (n_x + 1) / 2 (R's W)
    p_value: float
    estimate: float  # Hodges-Lehmann shift (location of x - y)
    conf_low: float
    conf_high: float
    exact: bool
    rank_biserial: float  # 2 W / (n_x n_y) - 1: P(x > y) - P(x < y)


def _tie_term(values: np.ndarray) -> float:
    _, counts = np.unique(values, return_counts=True)
    return float(np.sum(counts.astype(float) ** 3 - counts))


def rank_sum(x: np.ndarray, y: np.ndarray, *, conf_level: float = 0.95) -> RankSumResult:
    """Two-sided two-sample Wilcoxon rank-sum test with Hodges-Lehmann estimate and CI.

    Follows ``wilcox.test(x, y, conf.int = TRUE, conf.level = conf_level)`` of R <= 4.5.
    Fewer than one value in either sample gives NaN throughout. Where R cannot go on
    (every value tied: p-value NaN; both samples constant: R stops while computing the
    interval), the p-value is NaN and the estimate and limits are the common difference.

    Examples
    --------
    >>> r = rank_sum(np.array([1.1, 2.2, 3.3, 4.4]), np.array([0.5, 0.7, 1.0]))
    >>> r.statistic, round(r.p_value, 4), r.exact
    (12.0, 0.0571, True)
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    nx, ny = len(x), len(y)
    if nx == 0 or ny == 0:
        nan = float("nan")
        return RankSumResult(nan, nan, nan, nan, nan, False, nan)
    pooled = np.concatenate([x, y])
    ranks = stats.rankdata(pooled)
    w = float(np.sum(ranks[:nx]) - nx * (nx + 1) / 2)
    tie_term = _tie_term(pooled)
    has_ties = tie_term > 0
    exact = nx < EXACT_LIMIT and ny < EXACT_LIMIT and not has_ties
    alpha = 1.0 - conf_level
    if exact:
        upper = w > nx * ny / 2
        tail = pwilcox(w - 1, nx, ny, lower_tail=False) if upper else pwilcox(w, nx, ny)
        p = min(1.0, 2.0 * tail)
        diffs = np.sort(np.subtract.outer(x, y).ravel())
        qu = qwilcox(alpha / 2, nx, ny)
        if qu == 0:
            qu = 1
        ql = nx * ny - qu
        low, high = float(diffs[qu - 1]), float(diffs[ql])
        estimate = float(np.median(diffs))
    else:
        z = w - nx * ny / 2
        sigma = math.sqrt((nx * ny / 12) * ((nx + ny + 1) - tie_term / ((nx + ny) * (nx + ny - 1))))
        if sigma > 0:
            p = float(min(1.0, _normal_p((z - math.copysign(0.5, z) * (z != 0)) / sigma)))
        else:  # every value tied: R's z is 0 / 0 and its p-value NaN
            p = float("nan")
        estimate, low, high = _hodges_lehmann_approx(x, y, conf_level)
    return RankSumResult(
        statistic=w,
        p_value=p,
        estimate=estimate,
        conf_low=low,
        conf_high=high,
        exact=exact,
        rank_biserial=2.0 * w / (nx * ny) - 1.0,
    )


def _hodges_lehmann_approx(
    x: np.ndarray, y: np.ndarray, conf_level: float
) -> tuple[float, float, float]:
    """Estimate and CI by root-finding, as R's normal-approximation branch."""
    nx, ny = len(x), len(y)
    alpha = 1.0 - conf_level
    mumin = float(np.min(x) - np.max(y))
    mumax = float(np.max(x) - np.min(y))
    if mumin == mumax:
        # Each sample is constant, so every pairwise difference is the shift; R stops with
        # "cannot compute confidence interval when all observations are tied".
        return mumin, mumin, mumin

    y_sorted = np.sort(y)
    y_ties = _tie_term(y)
    n_pooled = nx + ny

    def wdiff(d: float, zq: float, correct: bool) -> float:
        # R ranks c(x - d, y) at every step; counting pairs with sorted y gives the same
        # rank sum and tie counts (exact integers and halves) in O(n log n) without a
        # full rank, so the iterations below match R's step for step.
        shifted, x_counts = np.unique(x - d, return_counts=True)
        below = np.searchsorted(y_sorted, shifted, side="left")
        equal = np.searchsorted(y_sorted, shifted, side="right") - below
        dz = float(np.sum(x_counts * (below + 0.5 * equal))) - nx * ny / 2
        xc = x_counts.astype(float)
        ec = equal.astype(float)
        merged = xc + ec
        ties = (
            float(np.sum(xc**3 - xc))
            + y_ties
            + float(np.sum((merged**3 - merged) - (xc**3 - xc) - (ec**3 - ec)))
        )
        correction = math.copysign(0.5, dz) * (dz != 0) if correct else 0.0
        sigma = math.sqrt((nx * ny / 12) * ((n_pooled + 1) - ties / (n_pooled * (n_pooled - 1))))
        if sigma == 0:
            return float("nan")
        return (dz - correction) / sigma - zq

    def root(zq: float) -> float:
        f_lower = wdiff(mumin, zq, True)
        f_upper = wdiff(mumax, zq, True)
        if f_lower <= 0:
            return mumin
        if f_upper >= 0:
            return mumax
        return zeroin(lambda d: wdiff(d, zq, True), mumin, mumax, f_lower, f_upper, tol=1e-4)

    low = root(qnorm(alpha / 2, lower_tail=False))
    high = root(qnorm(alpha / 2))
    f_lower = wdiff(mumin, 0.0, False)
    f_upper = wdiff(mumax, 0.0, False)
    if math.isnan(f_lower) or f_lower * f_upper > 0:
        estimate = float("nan")
    else:
        estimate = zeroin(lambda d: wdiff(d, 0.0, False), mumin, mumax, f_lower, f_upper, 1e-4)
    return estimate, low, high


def zeroin(f, ax: float, bx: float, fa: float, fb: float, tol: float, maxit: int = 1000) -> float:
    """Brent's root finder exactly as R's ``R_zeroin2`` (used by ``uniroot``).

    Reproducing R's iterations matters here because the functions are step functions: any
    point of a flat stretch is "a root", and R reports the one its iterations reach.
    """
    a, b = ax, bx
    c, fc = a, fa
    if fa == 0.0:
        return a
    if fb == 0.0:
        return b
    for _ in range(maxit + 1):
        prev_step = b - a
        if abs(fc) < abs(fb):
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2 * DBL_EPSILON * abs(b) + tol / 2
        new_step = (c - b) / 2
        if abs(new_step) <= tol_act or fb == 0.0:
            return b
        if abs(prev_step) >= tol_act and abs(fa) > abs(fb):
            cb = c - b
            if a == c:
                t1 = fb / fa
                p = cb * t1
                q = 1.0 - t1
            else:
                q = fa / fc
                t1 = fb / fc
                t2 = fb / fa
                p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
                q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
            if p > 0:
                q = -q
            else:
                p = -p
            if p < (0.75 * cb * q - abs(tol_act * q) / 2) and p < abs(prev_step * q / 2):
                new_step = p / q
        if abs(new_step) < tol_act:
            new_step = tol_act if new_step > 0 else -tol_act
        a, fa = b, fb
        b += new_step
        fb = f(b)
        if (fb > 0 and fc > 0) or (fb < 0 and fc < 0):
            c, fc = a, fa
    return b


@dataclass(frozen=True)
class SignedRankResult:
    """Result of a one-sample (paired) Wilcoxon signed-rank test against 0."""

    statistic: float  # V: sum of the ranks of the positive values (R's V)
    p_value: float
    n: int  # non-zero values used
    exact: bool


def signed_rank(x: np.ndarray) -> SignedRankResult:
    """Two-sided Wilcoxon signed-rank test of ``x`` against 0, as R's ``wilcox.test(x)``.

    Zeros are dropped (R's default); with ties or zeros, or 50 or more non-zero values, the
    normal approximation with tie and continuity correction is used.

    Examples
    --------
    >>> r = signed_rank(np.array([2.1, 1.7, 3.0, -0.4, 2.5, 1.1, 0.9, 2.8]))
    >>> r.statistic, round(r.p_value, 6), r.exact
    (35.0, 0.015625, True)
    """
    x = np.asarray(x, dtype=float)
    x = x[~np.isnan(x)]
    has_zeros = bool(np.any(x == 0))
    x = x[x != 0]
    n = len(x)
    if n == 0:
        return SignedRankResult(float("nan"), float("nan"), 0, False)
    magnitude = np.abs(x)
    ranks = stats.rankdata(magnitude)
    v = float(np.sum(ranks[x > 0]))
    tie_term = _tie_term(magnitude)
    exact = n < EXACT_LIMIT and tie_term == 0 and not has_zeros
    p = signrank_p(np.array([v]), np.array([n]), np.array([tie_term]), np.array([exact]))
    return SignedRankResult(v, float(p[0]), n, exact)
