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

import itertools
import math
import os
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import special

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
    return 2.0 * special.ndtr(-np.abs(z))  # what scipy.stats.norm.sf computes


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
    on_exact = exact & (n > 0)
    for size in np.unique(n[on_exact]).astype(int).tolist():
        rows = np.flatnonzero(on_exact & (n == size))
        p[rows] = _exact_two_sided(v[rows], size * (size + 1) / 2, *_psignrank_tails(size))
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


RANK_SUM_FIELDS = (
    "statistic",
    "p_value",
    "estimate",
    "conf_low",
    "conf_high",
    "exact",
    "rank_biserial",
)


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n with ties given their average rank (R's ``rank``)."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1], [True])))
    average = (starts[:-1] + starts[1:] + 1) / 2.0  # mean of ranks start+1..end
    ranks = np.empty(len(values))
    ranks[order] = np.repeat(average, np.diff(starts))
    return ranks


def _tie_term(values: np.ndarray) -> float:
    _, counts = np.unique(values, return_counts=True)
    t = counts.astype(float)
    return float(np.sum(t * t * t - t))


def rank_sum(x: np.ndarray, y: np.ndarray, *, conf_level: float = 0.95) -> RankSumResult:
    """Two-sided two-sample Wilcoxon rank-sum test with Hodges-Lehmann estimate and CI.

    Follows ``wilcox.test(x, y, conf.int = TRUE, conf.level = conf_level)`` of R <= 4.5.
    Fewer than one value in either sample gives NaN throughout. Where R cannot go on
    (every value tied: p-value NaN; both samples constant: R stops while computing the
    interval), the p-value is NaN and the estimate and limits are the common difference.
    One group of :func:`rank_sum_groups`, which tests many pairs of samples at once.

    Examples
    --------
    >>> r = rank_sum(np.array([1.1, 2.2, 3.3, 4.4]), np.array([0.5, 0.7, 1.0]))
    >>> r.statistic, round(r.p_value, 4), r.exact
    (12.0, 0.0571, True)
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    out = rank_sum_groups(x, np.array([0, len(x)]), y, np.array([0, len(y)]), conf_level=conf_level)
    values = {name: out[name][0] for name in RANK_SUM_FIELDS}
    return RankSumResult(**{k: bool(v) if k == "exact" else float(v) for k, v in values.items()})


class _Samples:
    """Pairs of samples (x_g, y_g), each sorted, stored flat with offsets.

    :meth:`counts` gives, for shifts d_g, R's rank-sum statistic of (x_g - d_g, y_g) and
    the tie term of the pooled values, by counting in the sorted samples (binary
    searches, or a merge for large samples) instead of ranking:
    W(d) = sum_i #(y < x_i - d) + #(y = x_i - d) / 2, which is exactly the rank sum of
    x - d minus n_x (n_x + 1) / 2 (integers and halves).
    """

    def __init__(
        self,
        x: np.ndarray,
        x_offsets: np.ndarray,
        y: np.ndarray,
        y_offsets: np.ndarray,
        *,
        presorted: bool = False,
    ) -> None:
        self.x = np.asarray(x, dtype=float) if presorted else sort_within(x, x_offsets)
        self.y = np.asarray(y, dtype=float) if presorted else sort_within(y, y_offsets)
        self.x_offsets = np.asarray(x_offsets, dtype=np.int64)
        self.y_offsets = np.asarray(y_offsets, dtype=np.int64)
        self.nx = np.diff(self.x_offsets).astype(float)
        self.ny = np.diff(self.y_offsets).astype(float)
        self.y_ties = _segment_tie_terms(self.y, self.y_offsets)

    # Mean sample size from which counting group by group (a compiled merge, worth
    # loading numba for) is used rather than counting all groups in one vectorised call
    # (binary searches in arrays of every group's values).
    PER_GROUP_FROM = 400
    # Problems (a group and a shift) counted per call from which two threads share them.
    THREADED_FROM = 64

    def counts(self, groups: np.ndarray, shifts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """W(d) and the pooled tie term for each (group, shift)."""
        if len(groups) == 0:
            return np.empty(0), np.empty(0)
        if self.nx[groups].mean() >= self.PER_GROUP_FROM:
            return self._counts_per_group(groups, shifts)
        return self._counts_flat(groups, shifts)

    def _counts_per_group(
        self, groups: np.ndarray, shifts: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Group by group, by the compiled merge of :mod:`trialtui.analysis.shiftcounts`
        (one pass over a group's two sorted samples per shift)."""
        from trialtui.analysis.shiftcounts import shift_counts

        # the merge lets go of the interpreter: a second thread counts other groups
        workers = min(os.cpu_count() or 1, 2) if len(groups) >= self.THREADED_FROM else 1
        return shift_counts(
            self.x, self.x_offsets, self.y, self.y_offsets, self.y_ties, groups, shifts, workers
        )

    def _flat_keys(self) -> tuple[np.ndarray, np.ndarray, int]:
        """Every y as one sorted integer key: group * stride + 2 * (rank among all y) + 1."""
        if not hasattr(self, "_keys"):
            unique = np.unique(self.y)
            stride = 2 * len(unique) + 2
            segment = np.repeat(np.arange(len(self.ny)), np.diff(self.y_offsets))
            rank = np.searchsorted(unique, self.y)
            self._keys = (unique, segment * stride + 2 * rank + 1, stride)
        return self._keys

    def _counts_flat(self, groups: np.ndarray, shifts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # s = x - d of every problem, one problem after another.
        unique, keys, stride = self._flat_keys()
        lengths = (self.x_offsets[groups + 1] - self.x_offsets[groups]).astype(np.int64)
        offsets = np.concatenate(([0], np.cumsum(lengths)))
        problem = np.repeat(np.arange(len(groups)), lengths)
        index = np.repeat(self.x_offsets[groups] - offsets[:-1], lengths) + np.arange(offsets[-1])
        shifted = self.x[index] - shifts[problem]
        # y_g < s  <=>  rank of y_g among all y < first rank of a value >= s
        position = np.searchsorted(unique, shifted, side="left")
        query = groups[problem] * stride + 2 * position + 1
        below = np.searchsorted(keys, query, side="left")
        matches = np.flatnonzero(unique[np.minimum(position, len(unique) - 1)] == shifted)
        equal = np.zeros(len(shifted), dtype=np.int64)
        equal[matches] = np.searchsorted(keys, query[matches], side="right") - below[matches]
        below -= self.y_offsets[groups][problem]
        n = len(groups)
        w = np.bincount(problem, weights=below, minlength=n) + 0.5 * np.bincount(
            problem, weights=equal, minlength=n
        )
        change = np.ones(len(shifted) + 1, dtype=bool)
        change[1:-1] = (shifted[1:] != shifted[:-1]) | (problem[1:] != problem[:-1])
        starts = np.flatnonzero(change)
        a = np.diff(starts).astype(float)
        e = equal[starts[:-1]].astype(float)
        merged = a + e
        runs = problem[starts[:-1]]
        terms = (merged * merged * merged - merged) - (e * e * e - e)
        ties = np.bincount(runs, weights=terms, minlength=n)
        return w, ties + self.y_ties[groups]


def signed_rank_groups(
    values: np.ndarray, offsets: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The terms of R's ``wilcox.test(x)`` for many samples at once.

    Sample g is ``values[offsets[g]:offsets[g + 1]]``. Returns, per sample: V (the sum of
    the average ranks of |x| among the non-zero values, over the positive ones), the
    number of non-zero values, the tie term sum(t^3 - t) over runs of equal |x|, and
    whether any value is zero. Every rank is a whole number or a half, so every sum is
    exact and equals R's.
    """
    values = np.asarray(values, dtype=float)
    offsets = np.asarray(offsets, dtype=np.int64)
    groups = len(offsets) - 1
    sizes = np.diff(offsets)
    # |x| sorted within each sample: its zeros come first and are passed over, so that
    # the rank of a non-zero value is its place in the sample after them. The sign comes
    # along in the sort key: non-negative doubles order as their bit patterns do, in 63
    # bits, so shifted left the freed lowest bit holds "x > 0" without changing the order
    # of the magnitudes (equal |x| stay neighbours, one run of ties whatever their signs)
    keys = np.abs(values).view(np.uint64) << np.uint64(1)
    keys |= values > 0
    keys = _sort_segments(keys, offsets)
    positive = (keys & np.uint64(1)).astype(bool)
    keys >>= np.uint64(1)
    ordered = keys.view(np.float64)
    nonempty = np.flatnonzero(sizes)
    zero_count = np.zeros(groups, dtype=np.int64)
    if len(nonempty):
        zero_count[nonempty] = np.add.reduceat(ordered == 0, offsets[nonempty], dtype=np.int64)
    has_zero = zero_count > 0
    n_nonzero = sizes - zero_count
    # equal neighbours within a sample, zeros aside: runs of tied ranks
    tied = ordered[1:] == ordered[:-1]
    tied &= ordered[1:] != 0
    inner = offsets[1:-1]
    tied[inner[(inner > 0) & (inner < len(ordered))] - 1] = False  # across two samples
    # a non-zero value's rank if nothing tied: its place after its sample's zeros
    place = np.arange(1, len(ordered) + 1, dtype=float)
    place -= np.repeat((offsets[:-1] + zero_count).astype(float), sizes)
    v = np.zeros(groups)
    if not tied.any():
        place *= positive
        if len(nonempty):
            v[nonempty] = np.add.reduceat(place, offsets[nonempty])
        return v, n_nonzero.astype(float), np.zeros(groups), has_zero
    # runs of equal |x| share their average rank (a zero is a run of one, never positive)
    starts = np.flatnonzero(np.concatenate(([True], ~tied)))
    t = np.diff(np.append(starts, len(ordered))).astype(float)
    average = place[starts] + (t - 1) / 2
    positives = np.add.reduceat(positive, starts, dtype=np.int64)
    run_group = np.searchsorted(offsets, starts, side="right") - 1
    v = np.bincount(run_group, weights=average * positives, minlength=groups)
    ties = np.bincount(run_group, weights=t * t * t - t, minlength=groups)
    return v, n_nonzero.astype(float), ties, has_zero


def _segment_tie_terms(values: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Sum of t^3 - t over runs of equal values in each sorted segment."""
    segments = len(offsets) - 1
    change = np.ones(len(values) + 1, dtype=bool)
    change[1:-1] = values[1:] != values[:-1]
    inner = offsets[1:-1]
    change[inner[(inner > 0) & (inner < len(values))]] = True  # a segment starts a run
    starts = np.flatnonzero(change)
    if len(starts) == len(values) + 1:  # nothing tied
        return np.zeros(segments)
    t = np.diff(starts).astype(float)
    segment = np.searchsorted(offsets, starts[:-1], side="right") - 1
    return np.bincount(segment, weights=t * t * t - t, minlength=segments)


def sort_within(values: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """``values`` sorted within each segment offsets[g]:offsets[g + 1]."""
    return _sort_segments(np.asarray(values, dtype=float), np.asarray(offsets, dtype=np.int64))


def _sort_segments(values: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """``values`` (any dtype NumPy sorts) sorted within each segment."""
    segments = len(offsets) - 1
    if segments and len(values) >= 64 * segments:
        # few, long segments: sorting each alone beats one sort by (segment, value)
        out = np.empty_like(values)
        for start, end in itertools.pairwise(offsets.tolist()):
            out[start:end] = np.sort(values[start:end])
        return out
    segment = np.repeat(np.arange(segments), np.diff(offsets))
    return values[np.lexsort((values, segment))]


@lru_cache(maxsize=256)
def _psignrank_tails(n: int) -> tuple[np.ndarray, np.ndarray]:
    """P(V <= q) and P(V > q) for q = 0..n(n+1)/2, from exact counts, cached by n."""
    return _tails(_signrank_counts(n), 2**n)


def _tails(counts: tuple[int, ...], total: int) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper tail probabilities from exact integer counts (one rounding each)."""
    lower, upper, running = [], [], 0
    for c in counts:
        running += c
        lower.append(running / total)
        upper.append((total - running) / total)
    return np.array(lower), np.array(upper)


def _exact_two_sided(
    statistic: np.ndarray, top: float, lower: np.ndarray, upper: np.ndarray
) -> np.ndarray:
    """R's two-sided exact p: 2 P(S >= s) above the centre top / 2, else 2 P(S <= s)."""
    is_upper = statistic > top / 2
    # P(S >= s) = P(S > s - 1); indices floor(q + 1e-7) as R's psignrank and pwilcox
    k_upper = np.floor(statistic - 1 + 1e-7).astype(np.int64)
    k_lower = np.floor(statistic + 1e-7).astype(np.int64)
    last = len(lower) - 1
    tail = np.where(
        is_upper,
        np.where(k_upper < 0, 1.0, upper[np.clip(k_upper, 0, last)]),
        np.where(k_lower < 0, 0.0, lower[np.clip(k_lower, 0, last)]),
    )
    return np.minimum(1.0, 2.0 * tail)


@lru_cache(maxsize=1024)
def _pwilcox_tails(m: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """P(W <= q) and P(W > q) for q = 0..m*n, from exact counts, cached by (m, n)."""
    return _tails(_ranksum_counts(m, n), math.comb(m + n, m))


def _exact_rank_sum_p(w: np.ndarray, nx: np.ndarray, ny: np.ndarray) -> np.ndarray:
    """R's exact two-sided p-value from W, by (n_x, n_y) with cached distributions."""
    p = np.empty(len(w))
    sizes = np.stack([nx, ny], axis=1).astype(np.int64)
    for m, n in {tuple(row) for row in sizes.tolist()}:
        rows = np.flatnonzero((sizes[:, 0] == m) & (sizes[:, 1] == n))
        p[rows] = _exact_two_sided(w[rows], m * n, *_pwilcox_tails(m, n))
    return p


def rank_sum_groups(
    x: np.ndarray,
    x_offsets: np.ndarray,
    y: np.ndarray,
    y_offsets: np.ndarray,
    *,
    conf_level: float = 0.95,
    presorted: bool = False,
) -> dict[str, np.ndarray]:
    """:func:`rank_sum` for many pairs of samples at once.

    Parameters
    ----------
    x, y
        Values of every group's first and second sample, one group after another.
    x_offsets, y_offsets
        Group g is ``x[x_offsets[g]:x_offsets[g + 1]]`` against
        ``y[y_offsets[g]:y_offsets[g + 1]]`` (so each has one entry more than groups).
    conf_level
        Level of the Hodges-Lehmann interval.
    presorted
        Each group's values are already sorted (spares sorting them again).

    Returns
    -------
    dict of numpy.ndarray
        One value per group for each of :data:`RANK_SUM_FIELDS` (``exact`` boolean).

    Notes
    -----
    W and the tie terms come from counting in sorted samples (:class:`_Samples`). Exact
    p-values use the null distribution of W cached by (n_x, n_y). On the normal
    approximation the estimate and both limits are found by R's ``uniroot`` run for all
    groups and all three roots together (:func:`zeroin_many`), each with its own state,
    so every group reaches the point R reaches.
    """
    samples = _Samples(x, x_offsets, y, y_offsets, presorted=presorted)
    nx, ny = samples.nx, samples.ny
    nan = np.full(len(nx), np.nan)
    out = {name: nan.copy() for name in RANK_SUM_FIELDS}
    out["exact"] = np.zeros(len(nx), dtype=bool)
    present = np.flatnonzero((nx > 0) & (ny > 0))
    if len(present) == 0:
        return out
    w, ties = samples.counts(present, np.zeros(len(present)))
    out["statistic"][present] = w
    out["rank_biserial"][present] = 2.0 * w / (nx[present] * ny[present]) - 1.0
    exact = (nx[present] < EXACT_LIMIT) & (ny[present] < EXACT_LIMIT) & (ties == 0)
    out["exact"][present] = exact
    alpha = 1.0 - conf_level

    on_exact = present[exact]
    if len(on_exact):
        out["p_value"][on_exact] = _exact_rank_sum_p(w[exact], nx[on_exact], ny[on_exact])
        for g in on_exact.tolist():
            xs = samples.x[samples.x_offsets[g] : samples.x_offsets[g + 1]]
            ys = samples.y[samples.y_offsets[g] : samples.y_offsets[g + 1]]
            m, n = len(xs), len(ys)
            diffs = np.sort(np.subtract.outer(xs, ys).ravel())
            qu = qwilcox(alpha / 2, m, n) or 1
            out["conf_low"][g] = diffs[qu - 1]
            out["conf_high"][g] = diffs[m * n - qu]
            out["estimate"][g] = np.median(diffs)

    approx = present[~exact]
    if len(approx):
        a_nx, a_ny = nx[approx], ny[approx]
        with np.errstate(invalid="ignore", divide="ignore"):
            z = w[~exact] - a_nx * a_ny / 2
            sigma = np.sqrt(
                (a_nx * a_ny / 12)
                * ((a_nx + a_ny + 1) - ties[~exact] / ((a_nx + a_ny) * (a_nx + a_ny - 1)))
            )
            corrected = (z - np.copysign(0.5, z) * (z != 0)) / sigma
        # every value tied: R's z is 0 / 0 and its p-value NaN
        out["p_value"][approx] = np.where(sigma > 0, np.minimum(1.0, _normal_p(corrected)), np.nan)
        estimate, low, high = _hodges_lehmann_approx(samples, approx, conf_level)
        out["estimate"][approx] = estimate
        out["conf_low"][approx] = low
        out["conf_high"][approx] = high
    return out


def _hodges_lehmann_approx(
    samples: _Samples, groups: np.ndarray, conf_level: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Estimate and CI by root-finding, as R's normal-approximation branch, for ``groups``.

    R's ``wdiff(d, zq)`` is (W(d) - n_x n_y / 2 - correction) / sigma(d) - zq, with the
    continuity correction for the limits and without it for the estimate; ``root(zq)``
    returns an end of [mumin, mumax] where the sign allows, else ``uniroot``'s root.
    """
    alpha = 1.0 - conf_level
    x_lo = samples.x[samples.x_offsets[groups]]
    x_hi = samples.x[samples.x_offsets[groups + 1] - 1]
    y_lo = samples.y[samples.y_offsets[groups]]
    y_hi = samples.y[samples.y_offsets[groups + 1] - 1]
    mumin = x_lo - y_hi
    mumax = x_hi - y_lo
    nx, ny = samples.nx[groups], samples.ny[groups]
    n_pooled = nx + ny

    def standardised(
        w: np.ndarray, ties: np.ndarray, which: np.ndarray, zq: np.ndarray, correct: np.ndarray
    ) -> np.ndarray:
        m, n, pooled = nx[which], ny[which], n_pooled[which]
        dz = w - m * n / 2
        correction = np.where(correct, np.copysign(0.5, dz) * (dz != 0), 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            sigma = np.sqrt((m * n / 12) * ((pooled + 1) - ties / (pooled * (pooled - 1))))
            value = (dz - correction) / sigma - zq
        return np.where(sigma == 0, np.nan, value)

    def wdiff(which: np.ndarray, d: np.ndarray, zq: np.ndarray, correct: np.ndarray) -> np.ndarray:
        w, ties = samples.counts(groups[which], d)
        return standardised(w, ties, which, zq, correct)

    k = len(groups)
    constant = mumin == mumax  # each sample constant: R stops; report the one difference
    every = np.arange(k)
    # Problems: the lower limit, the upper limit, the estimate, for every group.
    which = np.concatenate([every, every, every])
    zq = np.concatenate(
        [
            np.full(k, qnorm(alpha / 2, lower_tail=False)),
            np.full(k, qnorm(alpha / 2)),
            np.zeros(k),
        ]
    )
    correct = np.concatenate([np.ones(2 * k, dtype=bool), np.zeros(k, dtype=bool)])
    lower_end = mumin[which]
    upper_end = mumax[which]
    live = ~constant[which]
    f_lower = np.full(3 * k, np.nan)
    f_upper = np.full(3 * k, np.nan)
    # W at both ends of the search is the same for a group's three problems: count once.
    ends = np.flatnonzero(~constant)
    w_ends, ties_ends = samples.counts(
        np.concatenate([groups[ends], groups[ends]]), np.concatenate([mumin[ends], mumax[ends]])
    )
    for block in range(3):
        p = block * k + ends
        half = len(ends)
        f_lower[p] = standardised(w_ends[:half], ties_ends[:half], ends, zq[p], correct[p])
        f_upper[p] = standardised(w_ends[half:], ties_ends[half:], ends, zq[p], correct[p])

    result = np.full(3 * k, np.nan)
    result[~live] = lower_end[~live]
    limit = np.arange(3 * k) < 2 * k
    at_lower = live & limit & (f_lower <= 0)
    at_upper = live & limit & ~at_lower & (f_upper >= 0)
    result[at_lower] = lower_end[at_lower]
    result[at_upper] = upper_end[at_upper]
    # The estimate: uniroot needs a sign change (R stops otherwise; NaN here).
    no_root = live & ~limit & (np.isnan(f_lower) | (f_lower * f_upper > 0))
    search = np.flatnonzero(live & ~at_lower & ~at_upper & ~no_root)
    if len(search):

        def f(problems: np.ndarray, d: np.ndarray) -> np.ndarray:
            p = search[problems]
            return wdiff(which[p], d, zq[p], correct[p])

        result[search] = zeroin_many(
            f,
            lower_end[search],
            upper_end[search],
            f_lower[search],
            f_upper[search],
            tol=1e-4,
        )
    return result[2 * k :], result[:k], result[k : 2 * k]


def zeroin_many(
    f,
    ax: np.ndarray,
    bx: np.ndarray,
    fa: np.ndarray,
    fb: np.ndarray,
    tol: float,
    maxit: int = 1000,
) -> np.ndarray:
    """:func:`zeroin` for many functions at once, each with its own state.

    ``f(problems, d)`` evaluates the functions numbered ``problems`` at ``d``. Every step
    is R's, element by element, so each problem stops where R's ``R_zeroin2`` would.
    """
    a, b = np.array(ax, dtype=float), np.array(bx, dtype=float)
    fa, fb = np.array(fa, dtype=float), np.array(fb, dtype=float)
    c, fc = a.copy(), fa.copy()
    result = np.full(len(a), np.nan)
    result[fa == 0.0] = a[fa == 0.0]
    done = fa == 0.0
    hit = ~done & (fb == 0.0)
    result[hit] = b[hit]
    done |= hit
    active = np.flatnonzero(~done)
    prev_step = np.zeros(len(a))
    for _ in range(maxit + 1):
        if len(active) == 0:
            break
        i = active
        prev_step[i] = b[i] - a[i]
        swap = np.abs(fc[i]) < np.abs(fb[i])
        s = i[swap]
        a[s], b[s], c[s] = b[s], c[s], b[s]
        fa[s], fb[s], fc[s] = fb[s], fc[s], fb[s]
        tol_act = 2 * DBL_EPSILON * np.abs(b[i]) + tol / 2
        new_step = (c[i] - b[i]) / 2
        converged = (np.abs(new_step) <= tol_act) | (fb[i] == 0.0)
        result[i[converged]] = b[i[converged]]
        keep = ~converged
        i, tol_act, new_step = i[keep], tol_act[keep], new_step[keep]
        if len(i) == 0:
            active = i
            break
        interpolate = (np.abs(prev_step[i]) >= tol_act) & (np.abs(fa[i]) > np.abs(fb[i]))
        if interpolate.any():
            j = i[interpolate]
            with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
                cb = c[j] - b[j]
                secant = a[j] == c[j]
                t1_s = fb[j] / fa[j]
                p_s = cb * t1_s
                q_s = 1.0 - t1_s
                q0 = fa[j] / fc[j]
                t1 = fb[j] / fc[j]
                t2 = fb[j] / fa[j]
                p_i = t2 * (cb * q0 * (q0 - t1) - (b[j] - a[j]) * (t1 - 1.0))
                q_i = (q0 - 1.0) * (t1 - 1.0) * (t2 - 1.0)
                p = np.where(secant, p_s, p_i)
                q = np.where(secant, q_s, q_i)
                q = np.where(p > 0, -q, q)
                p = np.where(p > 0, p, -p)
                take = (p < (0.75 * cb * q - np.abs(tol_act[interpolate] * q) / 2)) & (
                    p < np.abs(prev_step[j] * q / 2)
                )
                stepped = np.where(take, p / q, new_step[interpolate])
            new_step[interpolate] = stepped
        small = np.abs(new_step) < tol_act
        new_step = np.where(small, np.where(new_step > 0, tol_act, -tol_act), new_step)
        a[i], fa[i] = b[i], fb[i]
        b[i] = b[i] + new_step
        fb[i] = f(i, b[i])
        same_side = ((fb[i] > 0) & (fc[i] > 0)) | ((fb[i] < 0) & (fc[i] < 0))
        s = i[same_side]
        c[s], fc[s] = a[s], fa[s]
        active = i
    result[active] = b[active]
    return result


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
    ranks = _average_ranks(magnitude)
    v = float(np.sum(ranks[x > 0]))
    tie_term = _tie_term(magnitude)
    exact = n < EXACT_LIMIT and tie_term == 0 and not has_zeros
    p = signrank_p(np.array([v]), np.array([n]), np.array([tie_term]), np.array([exact]))
    return SignedRankResult(v, float(p[0]), n, exact)
