"""R's rank-sum statistic of shifted samples, W(d), counted by merging, compiled.

The Hodges-Lehmann estimate and its confidence limits are roots of W(d) in the shift d
(R's ``uniroot`` over ``wdiff``): every step of the search asks W at a new d for each
problem still open. For large samples one compiled merge per (sample pair, shift) counts
it in a single pass over both sorted samples. Imported only for samples that large:
importing numba takes a moment that the exact small-sample path should not pay.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from trialtui.analysis.compiled import compiled


@compiled
def _shift_counts(
    x: np.ndarray,
    x_offsets: np.ndarray,
    y: np.ndarray,
    y_offsets: np.ndarray,
    y_ties: np.ndarray,
    groups: np.ndarray,
    shifts: np.ndarray,
    w: np.ndarray,
    ties: np.ndarray,
) -> None:
    """For problem p: W of (x_g - d, y_g) and the pooled sample's tie term, g = groups[p]
    and d = shifts[p], x_g and y_g sorted.

    W = sum over x of #(y < x - d) + #(y = x - d) / 2. Walking the shifted x in order
    (x - d is as sorted as x), a run of a equal values sits above the y passed so far and
    level with the e next ones: a tie of a + e in the pooled sample where y alone had e.
    Counts are integers, so W is exact; the tie term is summed in floating point, run by
    run, as the vectorised path sums it (exact below 2^53). Values and shifts are finite
    (the import refuses others).
    """
    for p in range(len(groups)):
        g = groups[p]
        d = shifts[p]
        stop_x = x_offsets[g + 1]
        first_y = y_offsets[g]
        stop_y = y_offsets[g + 1]
        below = first_y  # the first y not below the current shifted x
        total_below = 0
        total_equal = 0
        extra = 0.0  # what runs of equal shifted x add to y's tie term
        k = x_offsets[g]
        while k < stop_x:
            s = x[k] - d
            a = 1
            while k + a < stop_x and x[k + a] - d == s:
                a += 1
            while below < stop_y and y[below] < s:
                below += 1
            e = 0
            while below + e < stop_y and y[below + e] == s:
                e += 1
            total_below += a * (below - first_y)
            total_equal += a * e
            if a > 1 or e > 0:  # in floating point: a tie of 2.1 M values overflows int64
                merged = float(a + e)
                level = float(e)
                extra += (merged * merged * merged - merged) - (level * level * level - level)
            k += a
        w[p] = total_below + 0.5 * total_equal
        ties[p] = extra + y_ties[g]


def shift_counts(
    x: np.ndarray,
    x_offsets: np.ndarray,
    y: np.ndarray,
    y_offsets: np.ndarray,
    y_ties: np.ndarray,
    groups: np.ndarray,
    shifts: np.ndarray,
    workers: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """W(d) and the pooled tie term for each (group, shift): group g's samples are
    ``x[x_offsets[g]:x_offsets[g + 1]]`` and the same of ``y``, each sorted; ``y_ties``
    is the tie term (sum of t^3 - t) of each y sample alone. ``workers`` threads share
    the problems (the loop lets go of the interpreter)."""
    groups = np.ascontiguousarray(groups, dtype=np.int64)
    shifts = np.ascontiguousarray(shifts, dtype=np.float64)
    w = np.empty(len(groups))
    ties = np.empty(len(groups))
    inputs = (x, x_offsets, y, y_offsets, y_ties)
    shares = np.array_split(np.arange(len(groups)), max(1, min(workers, len(groups))))

    def run(part: np.ndarray) -> None:
        if len(part):
            first, stop = int(part[0]), int(part[-1]) + 1
            _shift_counts(
                *inputs, groups[first:stop], shifts[first:stop], w[first:stop], ties[first:stop]
            )

    if len(shares) == 1:
        run(shares[0])
    else:
        with ThreadPoolExecutor(len(shares)) as pool:  # list() raises what a thread raised
            list(pool.map(run, shares))
    return w, ties
