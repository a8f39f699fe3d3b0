"""Rank-sum tests of many groups at once against one group at a time and direct ranking.

:func:`rank_sum` is tested against R in ``test_ranktests.py``; here the vectorised
:func:`rank_sum_groups` must give each group exactly what :func:`rank_sum` gives it alone,
and both ways of counting W(d) (group by group, all groups in one call) must equal the
rank sum and tie term of R's ``rank(c(x - d, y))``, computed here by ranking.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import loaded_modules

from trialtui.analysis.ranktests import (
    RANK_SUM_FIELDS,
    _Samples,
    rank_sum,
    rank_sum_groups,
)
from trialtui.analysis.shiftcounts import shift_counts


def ranked_counts(x: np.ndarray, y: np.ndarray, d: float) -> tuple[float, float]:
    """W and the tie term of rank(c(x - d, y)), by ranking the pooled sample."""
    pooled = np.concatenate([x - d, y])
    _, inverse, counts = np.unique(pooled, return_inverse=True, return_counts=True)
    first = np.concatenate(([0], np.cumsum(counts)[:-1]))
    ranks = (first + (counts + 1) / 2.0)[inverse]
    w = ranks[: len(x)].sum() - len(x) * (len(x) + 1) / 2
    t = counts.astype(float)
    return float(w), float(np.sum(t**3 - t))


def random_groups(rng: np.random.Generator, sizes: list[tuple[int, int]], decimals: int):
    xs = [np.round(rng.normal(0.3, 1, m), decimals) for m, _ in sizes]
    ys = [np.round(rng.normal(0, 1, n), decimals) for _, n in sizes]
    x_offsets = np.concatenate(([0], np.cumsum([len(v) for v in xs])))
    y_offsets = np.concatenate(([0], np.cumsum([len(v) for v in ys])))
    return xs, ys, np.concatenate(xs), x_offsets, np.concatenate(ys), y_offsets


@pytest.mark.parametrize("decimals", [1, 2, 6])
def test_both_counting_paths_equal_ranking(decimals: int) -> None:
    rng = np.random.default_rng(decimals)
    sizes = [(5, 7), (40, 33), (1, 3), (120, 90), (500, 450)]
    xs, ys, x, xo, y, yo = random_groups(rng, sizes, decimals)
    samples = _Samples(x, xo, y, yo)
    groups = np.repeat(np.arange(len(sizes)), 4)
    # shifts that hit pairwise differences exactly (ties across samples) and others
    shifts = np.array(
        [
            d
            for g in range(len(sizes))
            for d in (0.0, xs[g][0] - ys[g][-1], float(np.median(xs[g]) - ys[g][0]), 0.123)
        ]
    )
    flat = samples._counts_flat(groups, shifts)
    per_group = samples._counts_per_group(groups, shifts)
    expected = np.array(
        [ranked_counts(xs[g], ys[g], d) for g, d in zip(groups, shifts, strict=True)]
    )
    np.testing.assert_array_equal(flat[0], expected[:, 0])
    np.testing.assert_array_equal(flat[1], expected[:, 1])
    np.testing.assert_array_equal(per_group[0], expected[:, 0])
    np.testing.assert_array_equal(per_group[1], expected[:, 1])


def test_counting_sees_values_that_become_equal_after_the_shift() -> None:
    """Distinct tiny x values round to the same x - d: R's rank ties them, so must we."""
    x = np.array([1e-17, 2e-17, 0.5])
    y = np.array([-1.0, 0.2, 0.7])
    samples = _Samples(x, np.array([0, 3]), y, np.array([0, 3]))
    for counts in (samples._counts_flat, samples._counts_per_group):
        w, ties = counts(np.array([0]), np.array([1.0]))
        assert (w[0], ties[0]) == ranked_counts(x, y, 1.0)
        assert ties[0] == 24.0  # 3^3 - 3: x - 1 gives -1.0 twice, equal to y's -1.0: a tie of three


@pytest.mark.parametrize("decimals", [1, 3])
def test_many_groups_at_once_equal_one_group_at_a_time(decimals: int) -> None:
    rng = np.random.default_rng(10 + decimals)
    sizes = [(3, 4), (8, 9), (30, 45), (60, 55), (0, 5), (5, 0), (2, 2), (700, 650)]
    xs, ys, x, xo, y, yo = random_groups(rng, sizes, decimals)
    together = rank_sum_groups(x, xo, y, yo, conf_level=0.9)
    for g in range(len(sizes)):
        alone = rank_sum(xs[g], ys[g], conf_level=0.9)
        for name in RANK_SUM_FIELDS:
            got, want = together[name][g], getattr(alone, name)
            if isinstance(want, float) and np.isnan(want):
                assert np.isnan(got), (g, name)
            else:
                assert got == want, (g, name)


@pytest.mark.parametrize("decimals", [1, 6])
def test_groups_counted_by_two_threads_equal_ranking(decimals: int) -> None:
    """From THREADED_FROM problems per call, two threads count half of them each: every
    group's W and tie term still equal ranking, at shifts that hit differences exactly."""
    rng = np.random.default_rng(20 + decimals)
    sizes = [(int(rng.integers(400, 520)), int(rng.integers(400, 520))) for _ in range(70)]
    assert len(sizes) >= _Samples.THREADED_FROM
    xs, ys, x, xo, y, yo = random_groups(rng, sizes, decimals)
    samples = _Samples(x, xo, y, yo)
    groups = np.repeat(np.arange(len(sizes)), 2)
    shifts = np.array(
        [d for g in range(len(sizes)) for d in (xs[g][0] - ys[g][-1], 0.05 * (g % 7))]
    )
    w, ties = samples._counts_per_group(groups, shifts)
    expected = np.array(
        [ranked_counts(xs[g], ys[g], d) for g, d in zip(groups, shifts, strict=True)]
    )
    np.testing.assert_array_equal(w, expected[:, 0])
    np.testing.assert_array_equal(ties, expected[:, 1])


@pytest.mark.parametrize("decimals", [0, 1, 8])
def test_signed_rank_of_many_samples_equals_one_sample_at_a_time(decimals: int) -> None:
    """V, non-zero n, tie term and zero flag of every sample, from the vectorised terms,
    equal :func:`signed_rank`'s (tested against R) sample by sample: with zeros, ties
    (coarse rounding), empty samples, a sample of zeros only, and none tied at all."""
    from trialtui.analysis.ranktests import signed_rank, signed_rank_groups

    rng = np.random.default_rng(30 + decimals)
    sizes = [7, 0, 60, 3, 200, 1, 45, 0, 5, 120]
    samples = [np.round(rng.normal(0.2, 1.0, n), decimals) for n in sizes]
    samples[3] = np.zeros(3)
    samples[6][:4] = 0.0
    # the largest |x| of one sample equals the smallest of the next: not one run
    samples += [np.array([1.0, -4.0, 4.0]), np.array([4.0, 6.0, -9.0]), np.array([4.5])]
    sizes = [len(x) for x in samples]
    offsets = np.concatenate(([0], np.cumsum(sizes)))
    v, n_nonzero, ties, has_zero = signed_rank_groups(np.concatenate(samples), offsets)
    for g, x in enumerate(samples):
        alone = signed_rank(x)
        nonzero = x[x != 0]
        assert n_nonzero[g] == alone.n == len(nonzero)
        assert has_zero[g] == bool((x == 0).any())
        _, counts = np.unique(np.abs(nonzero), return_counts=True)
        assert ties[g] == float(np.sum(counts.astype(float) ** 3 - counts))
        if len(nonzero):
            assert v[g] == alone.statistic, g
        else:
            assert v[g] == 0.0
    assert (ties[:-3] > 0).any() == (decimals < 8)


def ranked_signed_terms(x: np.ndarray) -> tuple[float, float, float, bool]:
    """V, non-zero n, tie term and zero flag of R's ``wilcox.test(x)``, by ranking |x|
    of the non-zero values directly (average ranks of equal values)."""
    nonzero = x[x != 0]
    _, inverse, counts = np.unique(np.abs(nonzero), return_inverse=True, return_counts=True)
    first = np.concatenate(([0], np.cumsum(counts)[:-1]))
    ranks = (first + (counts + 1) / 2.0)[inverse]
    t = counts.astype(float)
    v = float(ranks[nonzero > 0].sum())
    return v, float(len(nonzero)), float(np.sum(t**3 - t)), bool((x == 0).any())


@pytest.mark.parametrize("long_samples", [True, False])
def test_signed_rank_terms_equal_direct_ranking_with_signs_zeros_and_infinities(
    long_samples: bool,
) -> None:
    """Equal |x| of opposite signs share one average rank, -0.0 counts as a zero, +-inf
    and subnormal values rank by magnitude: against ranking each sample directly, for few
    long samples (sorted one by one) and many short ones (one sort for all)."""
    from trialtui.analysis.ranktests import signed_rank_groups

    rng = np.random.default_rng(7 if long_samples else 8)
    pool = np.array([0.0, -0.0, 1.5, -1.5, 2.0, -2.0, np.inf, -np.inf, 5e-324, -5e-324, 1e-300])
    sizes = rng.integers(200, 400, 12) if long_samples else rng.integers(0, 6, 400)
    samples = []
    for k, n in enumerate(sizes):
        coarse = np.round(rng.normal(0.1, 1.0, n), 1)
        picked = rng.choice(pool, n)
        samples.append(np.where(rng.random(n) < 0.3, picked, coarse) if k % 3 else coarse)
    offsets = np.concatenate(([0], np.cumsum([len(x) for x in samples])))
    got = signed_rank_groups(np.concatenate(samples), offsets)
    for g, x in enumerate(samples):
        assert tuple(float(term[g]) for term in got) == ranked_signed_terms(x), g


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_compiled_counts_shared_between_threads_equal_ranking(workers: int) -> None:
    """The compiled merge with the problems split between 1 to 3 threads (whatever the
    machine's cores): groups of every size, an empty x or y sample, all values tied."""
    rng = np.random.default_rng(40 + workers)
    sizes = [(30, 25), (0, 4), (5, 0), (200, 180), (1, 1), (60, 60)]
    xs, ys, x, xo, y, yo = random_groups(rng, sizes, 1)
    xs[5][:] = 0.5
    ys[5][:] = 0.5
    x = np.concatenate(xs)
    y = np.concatenate(ys)
    samples = _Samples(x, xo, y, yo)
    groups = np.array([0, 3, 1, 2, 5, 4, 3, 0, 5])
    shifts = np.array([0.0, xs[3][0] - ys[3][-1], 0.0, 0.2, 0.0, 0.0, -0.1, 0.3, 0.1])
    w, ties = shift_counts(
        samples.x, xo, samples.y, yo, samples.y_ties, groups, shifts, workers=workers
    )
    expected = np.array(
        [ranked_counts(xs[g], ys[g], d) for g, d in zip(groups, shifts, strict=True)]
    )
    np.testing.assert_array_equal(w, expected[:, 0])
    np.testing.assert_array_equal(ties, expected[:, 1])


def test_a_tie_of_millions_of_values_does_not_overflow() -> None:
    """A tie of 2.2 M pooled values: t^3 is past 64-bit integers, the tie term is not."""
    x = np.concatenate([np.zeros(1_500_000), [1.0, 2.0]])
    y = np.concatenate([np.zeros(700_000), [-1.0, 3.0]])
    samples = _Samples(x, np.array([0, len(x)]), y, np.array([0, len(y)]))
    w, ties = samples._counts_per_group(np.array([0]), np.array([0.0]))
    tied = 2_200_000.0
    assert ties[0] > 0
    np.testing.assert_allclose(ties[0], tied**3 - tied, rtol=1e-12)
    # each zero of x: above y's -1, level with its 700,000 zeros (half each); 1 and 2:
    # above the zeros and -1
    assert w[0] == 1_500_000 * (1 + 700_000 / 2) + 2 * 700_001


def test_large_samples_take_the_compiled_counts_and_small_ones_do_not() -> None:
    """``rank_sum_groups`` counts large samples' W(d) by the compiled merge (numba
    loaded), the sample-sized ones without it."""
    setup = (
        "import numpy as np; from trialtui.analysis.ranktests import rank_sum_groups; "
        "rng = np.random.default_rng(3); "
    )
    large = loaded_modules(
        setup + "x = rng.normal(size=900); y = rng.normal(size=800); "
        "rank_sum_groups(x, np.array([0, 900]), y, np.array([0, 800]))"
    )
    assert "trialtui.analysis.shiftcounts" in large and "numba" in large
    small = loaded_modules(
        setup + "x = rng.normal(size=90); y = rng.normal(size=80); "
        "rank_sum_groups(x, np.array([0, 90]), y, np.array([0, 80]))"
    )
    assert "trialtui.analysis.ranktests" in small and "numba" not in small
