"""Spearman correlation of changes (log2FC) between biomarkers."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import polars as pl

from trialtui.analysis.common import MIN_N_FOR_P, nan_to_null, settings_columns, t_two_sided_p
from trialtui.analysis.multiplicity import p_adjust
from trialtui.analysis.pairing import Pairing
from trialtui.analysis.settings import AnalysisSettings

POOLED = "pooled (arm-adjusted)"
CORRELATION_COLUMNS = (
    "study_id",
    "arm",
    "biomarker_x",
    "biomarker_y",
    "n",
    "spearman_rho",
    "p",
    "q",
)

# Columns sharing one pattern of missing values form a block, correlated with every other
# block by one ranking of the shared rows and one matrix product. Blocks of fewer columns,
# or beyond the largest ones, go through a compiled loop that ranks each pair afresh (one
# block pair costs a ranking and a few array operations whatever its size, so many tiny
# blocks cost more than the loop). When all patterns make few pairs of blocks they are all
# blocks: the compiled loop is not worth loading (numba and its cache, ~0.5 s).
MIN_BLOCK = 2
MAX_BLOCKS = 48
BLOCK_PAIRS_ONLY = 300
# threads for the compiled loop
WORKERS = min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)


class Ties(NamedTuple):
    """Entries of runs of equal values along sort orders: for each, its row, its position
    and the positions where its run starts and ends (all along that row's order)."""

    row: np.ndarray
    position: np.ndarray
    start: np.ndarray
    end: np.ndarray


def _sorted_rows(
    values: np.ndarray, sorted_by: tuple[np.ndarray, np.ndarray] | None = None
) -> tuple[np.ndarray, Ties]:
    """For each row of ``values`` (one variable per row): its sort order (NaN last) and the
    tied entries along it (NaN never ties). ``sorted_by``: the order and the values in it
    when they are known (:func:`trialtui.analysis.rankpairs.argsort_rows`)."""
    if sorted_by is None:
        order = np.argsort(values, axis=1, kind="stable")
        ordered = np.take_along_axis(values, order, axis=1)
    else:
        order, ordered = sorted_by
    same = ordered[:, 1:] == ordered[:, :-1]  # entry q + 1 continues the run of entry q
    tied = np.zeros(values.shape, dtype=bool)
    tied[:, 1:] |= same
    tied[:, :-1] |= same
    row, position = np.nonzero(tied)
    if not len(row):
        return order, Ties(row, position, position, position)
    # runs are consecutive tied entries of one row not continuing the previous one
    starts = np.r_[True, ~same[row[1:], position[1:] - 1] | (row[1:] != row[:-1])]
    run = np.cumsum(starts) - 1
    first = position[starts]
    last = np.r_[position[np.flatnonzero(starts)[1:] - 1], position[-1]]
    return order, Ties(row, position, first[run], last[run])


def _block_ranks(values: np.ndarray) -> np.ndarray:
    """Average ranks of the columns of a complete block minus their mean (m + 1) / 2: the
    entry at place q of a column's order has rank q + 1, a run of ties from place s to e
    the average (s + e) / 2 + 1. Multiples of 1/2, so exact, as are their products' sums."""
    rows = np.ascontiguousarray(values.T)
    m = rows.shape[1]
    order, ties = _sorted_rows(rows)
    centre = (m - 1) / 2
    ranked = np.broadcast_to(np.arange(m) - centre, rows.shape).copy()
    ranked[ties.row, ties.position] = (ties.start + ties.end) / 2 - centre
    out = np.empty(rows.shape)
    np.put_along_axis(out, order, ranked, axis=1)
    return out.T


def _group_bounds(labels: np.ndarray) -> np.ndarray:
    """Start of each run of equal labels in sorted ``labels``, and the end."""
    return np.r_[0, np.flatnonzero(labels[1:] != labels[:-1]) + 1, len(labels)]


def _group_sums(values: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Column sums of ``values`` over each run of rows ``bounds[g]:bounds[g + 1]``."""
    return np.add.reduceat(values, bounds[:-1], axis=0) if len(bounds) > 1 else values[:0]


def _rho(cross: np.ndarray, ss_a: np.ndarray, ss_b: np.ndarray) -> np.ndarray:
    """Pearson r from the centred sums (NaN where a side is constant)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.clip(cross / np.sqrt(ss_a * ss_b), -1.0, 1.0)


def spearman_matrix(
    matrix: np.ndarray,
    groups: np.ndarray | None = None,
    *,
    block_pairs_only: int | None = None,
    progress: Callable[[float], None] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairwise-complete Spearman rho and n for the columns of ``matrix`` (NaN = missing).

    With ``groups`` (one integer label per row, e.g. the arm), rho is the partial
    Spearman correlation given the group: the ranks over the rows both columns share are
    regressed on the group as a factor and the residuals correlated.

    Returns rho, n and the number of groups among the shared rows of each pair (1 without
    ``groups``).

    Every pair is ranked on the rows both columns have, as R's
    ``cor(use = "pairwise.complete.obs", method = "spearman")`` does, so a value missing
    in one column changes the other's ranks. Columns are grouped by their pattern of
    missing values (usually a few: no value missing, or a missing biopsy removing a patient
    from every biomarker). For each pair of the larger such blocks the shared rows are
    ranked once and all correlations of the two blocks come from one matrix product. The
    remaining columns (values missing one at a time: a pattern per column) go through a
    compiled loop (:mod:`trialtui.analysis.rankpairs`) that ranks each pair afresh, unless
    all patterns make at most ``block_pairs_only`` (default :data:`BLOCK_PAIRS_ONLY`)
    pairs of blocks, when every pattern is a block. Both ways give the same numbers: ranks
    are multiples of 1/2, so their sums of products are exact. ``progress`` is told the
    fraction done of the compiled loop's pairs.
    """
    k = matrix.shape[1]
    rows = np.flatnonzero(~np.isnan(matrix).all(axis=1))  # a row without values never counts
    if groups is not None:  # rows sorted by group: each group is a run of rows
        groups = np.asarray(groups)[rows]
        by_group = np.argsort(groups, kind="stable")
        rows, groups = rows[by_group], groups[by_group]
    if groups is not None or len(rows) < matrix.shape[0]:
        matrix = matrix[rows]
    present = ~np.isnan(matrix)
    rho = np.full((k, k), np.nan)
    count = np.zeros((k, k), dtype=np.int64)
    n_groups = np.ones((k, k), dtype=np.int64)
    packed = np.packbits(present, axis=0).T
    patterns: dict[bytes, list[int]] = {}
    for j in range(k):
        patterns.setdefault(packed[j].tobytes(), []).append(j)
    blocks = sorted(patterns.values(), key=len, reverse=True)
    if block_pairs_only is None:
        block_pairs_only = BLOCK_PAIRS_ONLY
    if len(blocks) * (len(blocks) + 1) // 2 > block_pairs_only:
        blocks = [b for b in blocks[:MAX_BLOCKS] if len(b) >= MIN_BLOCK]
    big = [np.array(b) for b in blocks]
    _by_blocks(matrix, present, groups, big, rho, count, n_groups)
    in_big = np.zeros(k, dtype=bool)
    for cols in big:
        in_big[cols] = True
    if not in_big.all():
        _compiled(matrix, groups, in_big, rho, count, n_groups, progress)
    return rho, count, n_groups


def _by_blocks(
    matrix: np.ndarray,
    present: np.ndarray,
    groups: np.ndarray | None,
    blocks: list[np.ndarray],
    rho: np.ndarray,
    count: np.ndarray,
    n_groups: np.ndarray,
) -> None:
    """Fill rho, count and n_groups for every pair of columns of ``blocks`` (each a set
    of columns missing on the same rows)."""
    own = [np.packbits(present[:, cols[0]]).tobytes() for cols in blocks]
    ranked: dict[int, np.ndarray] = {}  # each block on its own rows: one array per block

    def ranks(b: int, rows: np.ndarray, key: bytes) -> np.ndarray:
        if key != own[b]:
            return _block_ranks(matrix[np.ix_(rows, blocks[b])])
        if b not in ranked:
            ranked[b] = _block_ranks(matrix[np.ix_(rows, blocks[b])])
        return ranked[b]

    for a, cols_a in enumerate(blocks):
        for b in range(a, len(blocks)):
            cols_b = blocks[b]
            rows = present[:, cols_a[0]] & present[:, cols_b[0]]
            shared = int(rows.sum())
            pair = np.ix_(cols_a, cols_b)
            mirror = np.ix_(cols_b, cols_a)
            count[pair] = shared
            count[mirror] = shared
            bounds = size = None
            if groups is not None:
                labels = groups[rows]
                bounds = _group_bounds(labels) if shared else np.array([0])
                size = np.diff(bounds)[:, None].astype(float)
                n_groups[pair] = len(size)
                n_groups[mirror] = len(size)
            if shared < 2:
                continue
            key = np.packbits(rows).tobytes()
            za = ranks(a, rows, key)
            zb = ranks(b, rows, key)
            cross = za.T @ zb
            ss_a = np.einsum("ij,ij->j", za, za)
            ss_b = np.einsum("ij,ij->j", zb, zb)
            if bounds is not None:
                sa = _group_sums(za, bounds)
                sb = _group_sums(zb, bounds)
                cross -= (sa / size).T @ sb
                ss_a -= (sa * sa / size).sum(axis=0)
                ss_b -= (sb * sb / size).sum(axis=0)
            block = _rho(cross, ss_a[:, None], ss_b[None, :])
            rho[pair] = block
            rho[mirror] = block.T


def _compiled(
    matrix: np.ndarray,
    groups: np.ndarray | None,
    done: np.ndarray,
    rho: np.ndarray,
    count: np.ndarray,
    n_groups: np.ndarray,
    progress: Callable[[float], None] | None,
) -> None:
    """Fill rho, count and n_groups for every pair with a column outside ``done``: each
    such column against itself, every later such column and every ``done`` column, by
    the compiled loop (rows sorted by group, as :func:`spearman_matrix` leaves them)."""
    from trialtui.analysis.rankpairs import argsort_rows, rank_pairs

    rest = np.flatnonzero(~done)
    columns = np.r_[rest, np.flatnonzero(done)]
    values = np.ascontiguousarray(matrix[:, columns].T)
    workers = max(1, min(WORKERS, len(rest)))
    order, ties = _sorted_rows(values, argsort_rows(values, workers))
    at = ties.position == ties.start  # each run once
    runs = np.column_stack([ties.row[at], ties.start[at], ties.end[at]])
    codes = None if groups is None else np.unique(groups, return_inverse=True)[1]
    rank_pairs(
        values, order, runs, codes, columns, len(rest), rho, count, n_groups, workers, progress
    )


def _pair_rows(
    study_id: str,
    arm: str,
    names: list[str],
    matrix: np.ndarray,
    groups: np.ndarray | None,
    fdr: str,
    progress: Callable[[float], None] | None = None,
) -> pl.DataFrame:
    """One row per pair of biomarkers (x < y) with n, rho, p and q (over these pairs)."""
    rho, count, n_groups = spearman_matrix(matrix, groups, progress=progress)
    iu, ju = np.triu_indices(len(names), k=1)
    r = rho[iu, ju]
    n = count[iu, ju]
    df = (n - 2 - (n_groups[iu, ju] - 1)).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = r * np.sqrt(df / (1 - r**2))
    testable = (n >= MIN_N_FOR_P) & (df >= 1)
    p = np.where(testable, t_two_sided_p(t, df), np.nan)
    p = np.where(testable & (np.abs(r) == 1), 0.0, p)
    labels = pl.Series(names, dtype=pl.String)
    return pl.DataFrame(
        {
            "biomarker_x": labels.gather(iu),
            "biomarker_y": labels.gather(ju),
            "n": n,
            "spearman_rho": r,
            "p": p,
            "q": p_adjust(p, fdr),
        }
    ).select(
        pl.lit(study_id, dtype=pl.String).alias("study_id"),
        pl.lit(arm, dtype=pl.String).alias("arm"),
        pl.all(),
    )


def _wide(study: pl.DataFrame) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The sorted biomarker names, a patients x biomarkers matrix of log2FC (NaN where a
    patient has no change) and each row's arm.

    A row is an (arm, patient) pair. Names become codes through enumerations (their
    categories in sorted order), and the changes are scattered into place."""
    # unique values in order of appearance: Polars finds them several times faster
    names = study["biomarker"].unique(maintain_order=True).sort()
    patients = study["patient_id"].unique(maintain_order=True)
    arm_labels = study["arm"].unique(maintain_order=True).sort()
    coded = study.select(
        (
            pl.col("patient_id").cast(pl.Enum(patients)).to_physical().cast(pl.Int64)
            * len(arm_labels)
            + pl.col("arm").cast(pl.Enum(arm_labels)).to_physical()
        ).alias("key"),
        pl.col("biomarker").cast(pl.Enum(names)).to_physical().alias("column"),
        pl.col("log2fc").cast(pl.Float64).fill_null(np.nan),
    )
    key = coded["key"].to_numpy()
    seen = np.zeros(len(patients) * len(arm_labels), dtype=bool)
    seen[key] = True
    (pairs,) = np.nonzero(seen)  # the (patient, arm) pairs present, in key order
    rows = np.cumsum(seen)[key] - 1
    columns = coded["column"].to_numpy()
    matrix = np.full((len(pairs), len(names)), np.nan)
    matrix[rows, columns] = coded["log2fc"].to_numpy()
    filled = np.zeros(matrix.shape, dtype=bool)
    filled[rows, columns] = True
    if filled.sum() != coded.height:
        raise ValueError("fold changes: more than one change for a patient and biomarker")
    arms = np.array(arm_labels.to_list(), dtype=object)[pairs % len(arm_labels)]
    return names.to_list(), matrix, arms


def correlate_changes(
    pairing: Pairing,
    settings: AnalysisSettings,
    progress: Callable[[float], None] | None = None,
) -> pl.DataFrame:
    """Spearman correlation of log2FC between every pair of biomarkers, per arm, and pooled
    over the arms only after adjusting for arm. ``progress``, if given, is told the
    fraction of the work done (pairs times patients), from the compiled loop's threads too.

    Returns
    -------
    polars.DataFrame
        Columns study_id, arm (an arm, or ``"pooled (arm-adjusted)"``), biomarker_x,
        biomarker_y (x < y), n (patients with both changes), spearman_rho, p, q (adjusted
        across the pairs of one study and arm), then the settings columns (as every
        level). A study with one arm has no pooled rows. Rows are sorted by study, arm and
        the two biomarkers.

    Notes
    -----
    Per arm, rho is R's ``cor(x, y, method = "spearman", use = "pairwise.complete.obs")``:
    the patients with both changes are ranked afresh for each pair. p comes from the t
    approximation t = rho sqrt((n - 2) / (1 - rho^2)) on n - 2 df, as R's
    ``cor.test(method = "spearman", exact = FALSE)``; n < 3 gives no p-value.

    Pooling arms whose mean changes differ manufactures correlation, so the pooled rows
    hold the partial Spearman correlation given arm: the patients with both changes are
    ranked together, each variable's ranks are regressed on arm as a factor (the arm's
    mean rank is subtracted), and rho is the Pearson correlation of the residuals, with
    t on n - 2 - (k - 1) df for k arms among those patients. With two arms this equals
    R's ``ppcor::pcor.test(x, y, arm, method = "spearman")``.

    References
    ----------
    Kim S (2015). ppcor: An R package for a fast calculation to semi-partial correlation
    coefficients. Communications for Statistical Applications and Methods 22(6), 665-674.
    """
    fc = pairing.fold_changes.select("study_id", "arm", "patient_id", "biomarker", "log2fc")
    # each set of pairs: study, arm, biomarkers, their changes and the rows' arms (pooled)
    sets: list[tuple[str, str, list[str], np.ndarray, np.ndarray | None]] = []
    # one study (the usual case) is the whole frame: no copy into parts
    one = fc["study_id"].n_unique() <= 1
    for study in [fc] if one else fc.partition_by("study_id", maintain_order=True):
        names, matrix, arms = _wide(study)
        if len(names) < 2:
            continue
        sid = str(study["study_id"][0])
        labels, codes = np.unique(arms, return_inverse=True)
        for code, arm in enumerate(labels):
            part = matrix[codes == code]
            measured = ~np.isnan(part).all(axis=0)  # biomarkers with a change in this arm
            if measured.sum() >= 2:
                kept = [n for n, m in zip(names, measured, strict=True) if m]
                sets.append((sid, arm, kept, part[:, measured], None))
        if len(labels) > 1:
            sets.append((sid, POOLED, names, matrix, codes))
    # progress in proportion to the work: pairs x patients
    work = np.array([len(names) ** 2 * len(matrix) for _, _, names, matrix, _ in sets], float)
    before = np.r_[0.0, np.cumsum(work)] / max(work.sum(), 1.0)
    chunks: dict[tuple[str, str], pl.DataFrame] = {}
    for at, (sid, arm, names, matrix, groups) in enumerate(sets):
        told = None
        if progress is not None:
            start, end = before[at], before[at + 1]

            def told(fraction: float, start: float = start, end: float = end) -> None:
                progress(min(start + (end - start) * fraction, end))

        chunks[(sid, arm)] = _pair_rows(sid, arm, names, matrix, groups, settings.fdr, told)
        if progress is not None:
            progress(before[at + 1])
    recorded = settings_columns(settings, pairing.baseline_timepoint, pairing.timepoint)
    if not chunks:
        empty = pl.DataFrame(
            schema={c: pl.String for c in CORRELATION_COLUMNS[:4]}
            | {"n": pl.Int64, "spearman_rho": pl.Float64, "p": pl.Float64, "q": pl.Float64}
        )
        return empty.with_columns(recorded)
    # names are sorted and pairs come as (x, y) with x before y, so putting the chunks in
    # order of study and arm sorts the rows (Python's string order is Polars')
    frame = nan_to_null(pl.concat([chunks[key] for key in sorted(chunks)]))
    return frame.select(*CORRELATION_COLUMNS, *recorded)
