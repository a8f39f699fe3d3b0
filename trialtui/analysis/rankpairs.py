"""Pairwise-complete Spearman correlation, compiled: each pair of columns ranked afresh on
the rows both have, in two passes over the rows per pair.

Imported only when a correlation needs it: importing numba and loading the compiled loop
from its cache takes a moment that nothing else should pay.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from threading import Lock

import numpy as np

from trialtui.analysis.compiled import compiled

# how many times each thread tells its progress
PROGRESS_STEPS = 8
# rows (patients) up to which every sum of the loop fits in 64-bit integers
MAX_ROWS = 1_000_000


@compiled
def _rank_pairs(
    first: np.ndarray,
    order: np.ndarray,
    size: np.ndarray,
    runs: np.ndarray,
    run_from: np.ndarray,
    here: np.ndarray,
    bounds: np.ndarray,
    columns: np.ndarray,
    rho: np.ndarray,
    count: np.ndarray,
    groups_seen: np.ndarray,
) -> None:
    """rho, n and groups present for each column at a position in ``first`` and every
    column at a later position (or the same), each pair ranked on the rows both have (S).

    Columns are rows of the inputs, at positions 0 .. width - 1; ``columns[p]`` is the
    column at position p, which names the cells of ``rho``, ``count`` and ``groups_seen``
    written. ``order[p]`` holds the rows (unsigned: no check for negative indices) in
    ascending order of the values, the ``size[p]`` present ones first; the runs of equal
    values along it are ``runs[run_from[p]:run_from[p + 1]]``, each its first place and
    the place after it. ``here[p, r]`` is 1 where row r has a value. Rows come sorted by
    group, group g at rows ``bounds[g]:bounds[g + 1]``.

    Along i's order the rows of S are counted: the count is i's rank on S. Along j's order
    the same for j, and the products are summed. A run of ties shares its average rank:
    the few tied rows are put right after each pass. Ranks are kept doubled, so every sum
    is an exact integer. With more than one group the ranks are regressed on the group
    (its mean rank removed) before correlating: each group's rows of S and rank sums are
    counted during j's pass for two groups (two arms, the usual case), over each group's
    run of rows after it for more.
    """
    width, n = here.shape
    n_groups = len(bounds) - 1
    grouped = n_groups > 1
    two_groups = n_groups == 2
    second = bounds[1] if two_groups else n  # the second group's first row
    doubled = np.zeros(n, dtype=np.int32)  # 2 x i's rank on S by row, 0 off S
    doubled_j = np.zeros(n, dtype=np.int32)  # 2 x j's rank on S by row (read on S only)
    in_group = np.zeros(n_groups, dtype=np.int64)
    sum_i = np.zeros(n_groups, dtype=np.int64)
    sum_j = np.zeros(n_groups, dtype=np.int64)
    for i in first:
        oi = order[i]
        doubled[:] = 0  # rows i lacks stay off S for every j
        for j in range(i, width):
            oj = order[j]
            hj = here[j]
            # i's ranks on S along i's order, then each run of ties given its average
            m = 0
            for t in range(size[i]):
                k = oi[t]
                w = hj[k]
                m += w
                doubled[k] = 2 * m * w
            ties_i = 0  # the sum of (t^3 - t) / 3 over the runs' rows of S
            for run in range(run_from[i], run_from[i + 1]):
                kept = 0
                low = 0
                for v in range(runs[run, 0], runs[run, 1]):
                    r2 = doubled[oi[v]]
                    if r2:
                        if kept == 0:
                            low = r2  # 2 x (the count before the run + 1)
                        kept += 1
                if kept > 1:
                    average = low + kept - 1
                    for v in range(runs[run, 0], runs[run, 1]):
                        if doubled[oi[v]]:
                            doubled[oi[v]] = average
                    ties_i += (kept * kept * kept - kept) // 3
            # j's ranks on S along j's order, against i's
            c = 0
            cross = 0
            # two groups: the second group's rows of S (k >= second) and rank sums, as
            # they come; the first group's are the totals' rest
            kept_2 = 0
            total_i2 = 0
            total_j2 = 0
            if two_groups:
                for t in range(size[j]):
                    k = oj[t]
                    ri = np.int64(doubled[k])
                    w = 1 if ri else 0
                    c += w
                    cross += ri * c
                    in_2 = w if k >= second else 0
                    kept_2 += in_2
                    total_i2 += ri * in_2
                    total_j2 += c * in_2
                total_j2 *= 2
            elif grouped:
                for t in range(size[j]):
                    k = oj[t]
                    ri = np.int64(doubled[k])
                    c += 1 if ri else 0
                    cross += ri * c
                    doubled_j[k] = 2 * c
            else:
                for t in range(size[j]):
                    ri = np.int64(doubled[oj[t]])
                    c += 1 if ri else 0
                    cross += ri * c
            cross *= 2
            # j's runs of ties: the q-th of their kept rows was given 2 (before + q), the
            # average is 2 before + kept + 1
            ties_j = 0
            for run in range(run_from[j], run_from[j + 1]):
                kept = 0
                for v in range(runs[run, 0], runs[run, 1]):
                    if doubled[oj[v]]:
                        kept += 1
                if kept > 1:
                    q = 0
                    for v in range(runs[run, 0], runs[run, 1]):
                        k = oj[v]
                        ri = np.int64(doubled[k])
                        if ri:
                            q += 1
                            shift = kept + 1 - 2 * q
                            cross += ri * shift
                            if two_groups:
                                if k >= second:
                                    total_j2 += shift
                            else:
                                doubled_j[k] += shift
                    ties_j += (kept * kept * kept - kept) // 3
            # sums of squares: those of ranks 1 .. m less what ties take
            squares = 2 * m * (m + 1) * (2 * m + 1) // 3
            sq_i = squares - ties_i
            sq_j = squares - ties_j
            a = columns[i]
            b = columns[j]
            count[a, b] = m
            count[b, a] = m
            # centre: the doubled ranks' mean is m + 1, and their sums m (m + 1)
            mean = m * (m + 1) * (m + 1)
            centred = float(cross - mean)
            ss_i = float(sq_i - mean)
            ss_j = float(sq_j - mean)
            if grouped:
                if two_groups:
                    # the doubled ranks of S sum to m (m + 1), ties or not
                    in_group[0] = m - kept_2
                    in_group[1] = kept_2
                    sum_i[0] = m * (m + 1) - total_i2
                    sum_i[1] = total_i2
                    sum_j[0] = m * (m + 1) - total_j2
                    sum_j[1] = total_j2
                else:
                    # each group's rows of S and their rank sums, over its run of rows
                    for g in range(n_groups):
                        kept = 0
                        total_i = 0
                        total_j = 0
                        for r in range(bounds[g], bounds[g + 1]):
                            ri = np.int64(doubled[r])
                            w = 1 if ri else 0
                            kept += w
                            total_i += ri
                            total_j += doubled_j[r] * w
                        in_group[g] = kept
                        sum_i[g] = total_i
                        sum_j[g] = total_j
                # less each group's mean: the terms are summed, then taken away
                seen = 0
                less_c = 0.0
                less_i = 0.0
                less_j = 0.0
                for g in range(n_groups):
                    if in_group[g]:
                        seen += 1
                        ci = sum_i[g] - in_group[g] * (m + 1)
                        cj = sum_j[g] - in_group[g] * (m + 1)
                        less_c += ci * cj / in_group[g]
                        less_i += ci * ci / in_group[g]
                        less_j += cj * cj / in_group[g]
                centred -= less_c
                ss_i -= less_i
                ss_j -= less_j
                groups_seen[a, b] = seen
                groups_seen[b, a] = seen
            r = np.nan  # also where a side is constant: 0 / 0
            if m >= 2:
                r = centred / np.sqrt(ss_i * ss_j)
                if r > 1.0:
                    r = 1.0
                elif r < -1.0:
                    r = -1.0
            rho[a, b] = r
            rho[b, a] = r


@compiled
def _argsort_rows(
    values: np.ndarray, rows: np.ndarray, order: np.ndarray, ordered: np.ndarray
) -> None:
    """For each row p of ``rows``: ``order[p]``, the places of ``values[p]`` in ascending
    order of the values, as ``np.argsort(kind="stable")`` gives them (NaN last, -0.0 equal
    to 0.0, equal values by place), and ``ordered[p]`` the values in that order.

    A least-significant-digit radix sort (stable) of keys that order as the values do: a
    double's bits with the sign bit set for one not negative, all bits flipped for a
    negative one; every NaN the largest key. Eight bits a pass; a pass where every key
    has the same byte is skipped (it keeps the order)."""
    n = values.shape[1]
    keys = np.empty(n, dtype=np.uint64)
    idx = np.empty(n, dtype=np.uint32)
    tmp = np.empty(n, dtype=np.uint32)
    counts = np.empty((8, 256), dtype=np.int64)
    top = np.uint64(1) << np.uint64(63)
    nan_key = ~np.uint64(0)
    for p in rows:
        row = values[p]
        counts[:, :] = 0
        for t in range(n):
            x = row[t]
            if np.isnan(x):
                k = nan_key
            else:
                bits = np.float64(x + 0.0).view(np.uint64)  # -0.0 + 0.0 is 0.0
                k = ~bits if bits & top else bits | top
            keys[t] = k
            for b in range(8):
                counts[b, (k >> np.uint64(8 * b)) & np.uint64(255)] += 1
            idx[t] = t
        src = idx
        dst = tmp
        for b in range(8):
            shift = np.uint64(8 * b)
            if n == 0 or counts[b, (keys[0] >> shift) & np.uint64(255)] == n:
                continue
            total = 0
            for v in range(256):
                c = counts[b, v]
                counts[b, v] = total
                total += c
            for t in range(n):
                j = src[t]
                v = (keys[j] >> shift) & np.uint64(255)
                dst[counts[b, v]] = j
                counts[b, v] += 1
            src, dst = dst, src
        for t in range(n):
            j = src[t]
            order[p, t] = j
            ordered[p, t] = row[j]


def argsort_rows(values: np.ndarray, workers: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's stable ascending order (as ``np.argsort(values, axis=1, kind="stable")``,
    NaN last) and the rows' values in it, between ``workers`` threads: three to four times
    faster than NumPy's sort of the rows a correlation ranks."""
    values = np.ascontiguousarray(values, dtype=np.float64)
    width, n = values.shape
    order = np.empty((width, n), dtype=np.int64)
    ordered = np.empty((width, n))
    shares = [np.arange(w, width, workers, dtype=np.int64) for w in range(max(workers, 1))]
    if len(shares) == 1:
        _argsort_rows(values, shares[0], order, ordered)
    else:
        with ThreadPoolExecutor(len(shares)) as pool:  # list() raises what a thread raised
            list(pool.map(lambda rows: _argsort_rows(values, rows, order, ordered), shares))
    return order, ordered


def rank_pairs(
    values: np.ndarray,
    order: np.ndarray,
    runs: np.ndarray,
    group: np.ndarray | None,
    columns: np.ndarray,
    starts: int,
    rho: np.ndarray,
    count: np.ndarray,
    groups_seen: np.ndarray,
    workers: int,
    progress: Callable[[float], None] | None = None,
) -> None:
    """Fill ``rho``, ``count`` and ``groups_seen`` for every pair of columns of ``values``
    (variables as rows, NaN = missing; ``columns[p]`` names the one at position p in the
    outputs) whose first column is at a position below ``starts``, between ``workers``
    threads. ``order``: each row's sort order (NaN last); ``runs``: its runs of ties, one
    row each (variable, first place, last place), by variable. ``group``: each row's
    group, 0 .. k - 1, in ascending order. ``progress`` is told the fraction of pairs
    done, from the threads, a few times in each."""
    width, n = values.shape
    if n > MAX_ROWS:  # the sums of squared doubled ranks would overflow 64-bit integers
        raise ValueError(f"pairwise ranking: {n:,} rows, more than {MAX_ROWS:,}")
    order = order.astype(np.uint32)
    run_from = np.searchsorted(runs[:, 0], np.arange(width + 1)).astype(np.int64)
    runs = np.column_stack([runs[:, 1], runs[:, 2] + 1]).astype(np.int64)  # [first, stop)
    here = (~np.isnan(values)).astype(np.uint8)
    size = here.sum(axis=1, dtype=np.int64)
    if group is None:
        bounds = np.array([0, n], dtype=np.int64)
    else:  # two at least, so that the groups seen are always counted
        codes = np.asarray(group, dtype=np.int64)
        n_groups = max(2, int(codes.max(initial=0)) + 1)
        bounds = np.searchsorted(codes, np.arange(n_groups + 1)).astype(np.int64)
    inputs = (order, size, runs, run_from, here, bounds)
    outputs = (np.asarray(columns, dtype=np.int64), rho, count, groups_seen)
    # the loop lets go of the interpreter: threads take every other column, a few at a
    # time so that progress can be told
    shares = [np.arange(w, starts, workers, dtype=np.int64) for w in range(workers)]
    total = max(1, sum(width - p for p in range(starts)))
    done = [0]
    lock = Lock()

    def run(share: np.ndarray) -> None:
        for part in np.array_split(share, min(len(share), PROGRESS_STEPS) or 1):
            _rank_pairs(part, *inputs, *outputs)
            if progress is not None:
                with lock:
                    done[0] += int((width - part).sum())
                    progress(done[0] / total)

    if workers == 1:
        run(shares[0])
        return
    with ThreadPoolExecutor(workers) as pool:  # list() raises what a thread raised
        list(pool.map(run, shares))
