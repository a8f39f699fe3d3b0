"""Spearman correlation of changes (log2FC) between biomarkers."""

from __future__ import annotations

import warnings

import numpy as np
import polars as pl

from trialtui.analysis.common import MIN_N_FOR_P, nan_to_null, settings_columns, t_two_sided_p
from trialtui.analysis.multiplicity import adjust_within
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


def _column_orders(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each column's sort order (NaN last) and, along it, where runs of equal values start
    and end: computed once, they rank any subset of a column's rows without sorting."""
    order = np.argsort(matrix, axis=0, kind="stable")
    ordered = np.take_along_axis(matrix, order, axis=0)
    starts = np.ones(matrix.shape, dtype=bool)
    starts[1:] = ordered[1:] != ordered[:-1]
    ends = np.ones(matrix.shape, dtype=bool)
    ends[:-1] = starts[1:]
    return order, starts, ends


def _ranks_where(
    order: np.ndarray, starts: np.ndarray, ends: np.ndarray, mask: np.ndarray
) -> np.ndarray:
    """Average ranks of every column among the rows where ``mask`` holds, NaN elsewhere:
    what ``rankdata`` gives for the masked values, without sorting.

    ``order``, ``starts`` and ``ends`` come from :func:`_column_orders`, for the columns of
    ``mask`` or for one column (shape (n, 1)) ranked under each column of ``mask``. Along
    the sort order the kept rows are counted; a run of tied values holding rows ``first +
    1 .. last`` of the kept ones has the average rank (first + last + 1) / 2, exact in
    floating point as rankdata's.
    """
    n, k = mask.shape
    shared = order.shape[1] == 1
    kept = mask[order[:, 0]] if shared else np.take_along_axis(mask, order, axis=0)
    counts = np.cumsum(kept, axis=0, dtype=np.int64)
    before = counts - kept
    # counts never decrease down a column, so a run's value spreads over it by a running
    # maximum (its first row) or a running minimum from the bottom (its last row)
    first = np.maximum.accumulate(np.where(starts, before, 0), axis=0)
    last = np.minimum.accumulate(np.where(ends, counts, n)[::-1], axis=0)[::-1]
    ranked = np.where(kept, (first + last + 1) / 2, np.nan)
    # column-major as rankdata returns it: NaN-skipping means then sum in the same order,
    # to the last bit
    out = np.empty((n, k), order="F")
    if shared:
        out[order[:, 0]] = ranked
    else:
        np.put_along_axis(out, order, ranked, axis=0)
    return out


def _centre_within(values: np.ndarray, groups: np.ndarray | None) -> np.ndarray:
    """Columns minus their mean within each group of rows (NaN ignored, kept).

    With ``groups`` None the overall column mean is removed. Subtracting group means is
    taking the residuals of a least-squares regression on the group as a factor.
    """
    if groups is None:
        return values - np.nanmean(values, axis=0)
    centred = np.empty_like(values)
    for g in np.unique(groups):
        rows = groups == g
        part = values[rows]
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN column of a group
            centred[rows] = part - np.nanmean(part, axis=0)
    return centred


def _pearson_columns(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson r between matching columns of a and b, ignoring NaN rows per column."""
    with np.errstate(invalid="ignore", divide="ignore"):
        am = a - np.nanmean(a, axis=0)
        bm = b - np.nanmean(b, axis=0)
        num = np.nansum(am * bm, axis=0)
        den = np.sqrt(np.nansum(am**2, axis=0) * np.nansum(bm**2, axis=0))
        return num / den


def _standardised_ranks(block: np.ndarray, groups: np.ndarray | None = None) -> np.ndarray:
    """Column ranks centred (within ``groups``) and scaled to unit norm (NaN if constant)."""
    from scipy import stats

    centred = _centre_within(stats.rankdata(block, axis=0), groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        return centred / np.sqrt((centred**2).sum(axis=0))


def spearman_matrix(
    matrix: np.ndarray, groups: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairwise-complete Spearman rho and n for the columns of ``matrix`` (NaN = missing).

    With ``groups`` (one integer label per row, e.g. the arm), rho is the partial
    Spearman correlation given the group: the ranks over the rows both columns share are
    regressed on the group as a factor and the residuals correlated.

    Returns rho, n and the number of groups among the shared rows of each pair (1 without
    ``groups``).

    Columns are grouped by their pattern of missing values (usually a few: a missing
    biopsy removes a patient from every biomarker of an assay). For each pair of patterns
    the shared rows are ranked once and all correlations of the block come from one matrix
    product. With many distinct patterns it falls back to a loop over columns that ranks
    every other column on the rows shared with that column, all at once, re-ranking each
    pair's shared rows as R's ``cor(use = "pairwise.complete.obs")`` does: every column is
    sorted once, and the ranks on a subset of rows are counts along that order. Both are
    exact.
    """
    k = matrix.shape[1]
    present = ~np.isnan(matrix)
    patterns: dict[bytes, list[int]] = {}
    for j in range(k):
        patterns.setdefault(np.packbits(present[:, j]).tobytes(), []).append(j)
    blocks = [np.array(cols) for cols in patterns.values()]
    if len(blocks) > max(4, k // 4):
        return _spearman_by_column(matrix, present, groups)
    rho = np.full((k, k), np.nan)
    count = np.zeros((k, k), dtype=int)
    n_groups = np.ones((k, k), dtype=int)
    for a, cols_a in enumerate(blocks):
        for cols_b in blocks[a:]:
            rows = present[:, cols_a[0]] & present[:, cols_b[0]]
            count[np.ix_(cols_a, cols_b)] = rows.sum()
            count[np.ix_(cols_b, cols_a)] = rows.sum()
            shared = groups[rows] if groups is not None else None
            if shared is not None:
                n_groups[np.ix_(cols_a, cols_b)] = len(np.unique(shared))
                n_groups[np.ix_(cols_b, cols_a)] = len(np.unique(shared))
            if rows.sum() < 2:
                continue
            za = _standardised_ranks(matrix[np.ix_(rows, cols_a)], shared)
            zb = _standardised_ranks(matrix[np.ix_(rows, cols_b)], shared)
            block = np.clip(za.T @ zb, -1.0, 1.0)
            rho[np.ix_(cols_a, cols_b)] = block
            rho[np.ix_(cols_b, cols_a)] = block.T
    return rho, count, n_groups


def _spearman_by_column(
    matrix: np.ndarray, present: np.ndarray, groups: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    k = matrix.shape[1]
    rho = np.full((k, k), np.nan)
    count = np.zeros((k, k), dtype=int)
    n_groups = np.ones((k, k), dtype=int)
    labels = np.unique(groups) if groups is not None else []
    order, starts, ends = _column_orders(matrix)
    for i in range(k):
        both = present & present[:, [i]]
        count[i] = both.sum(axis=0)
        if groups is not None:
            n_groups[i] = sum(both[groups == g].any(axis=0) for g in labels)
        one = slice(i, i + 1)
        rx = _centre_within(_ranks_where(order[:, one], starts[:, one], ends[:, one], both), groups)
        ry = _centre_within(_ranks_where(order, starts, ends, both), groups)
        rho[i] = _pearson_columns(rx, ry)
    return rho, count, n_groups


def _pair_rows(
    study_id: str, arm: str, names: list[str], matrix: np.ndarray, groups: np.ndarray | None
) -> pl.DataFrame:
    """One row per pair of biomarkers (x < y) with n, rho and p."""
    rho, count, n_groups = spearman_matrix(matrix, groups)
    iu, ju = np.triu_indices(len(names), k=1)
    r = rho[iu, ju]
    n = count[iu, ju].astype(float)
    df = n - 2 - (n_groups[iu, ju] - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = r * np.sqrt(df / (1 - r**2))
    testable = (n >= MIN_N_FOR_P) & (df >= 1)
    p = np.where(testable, t_two_sided_p(t, df), np.nan)
    p = np.where(testable & (np.abs(r) == 1), 0.0, p)
    return pl.DataFrame(
        {
            "study_id": [study_id] * len(iu),
            "arm": [arm] * len(iu),
            "biomarker_x": [names[i] for i in iu],
            "biomarker_y": [names[j] for j in ju],
            "n": n.astype(int),
            "spearman_rho": r,
            "p": p,
        }
    )


def correlate_changes(pairing: Pairing, settings: AnalysisSettings) -> pl.DataFrame:
    """Spearman correlation of log2FC between every pair of biomarkers, per arm, and pooled
    over the arms only after adjusting for arm.

    Returns
    -------
    polars.DataFrame
        Columns study_id, arm (an arm, or ``"pooled (arm-adjusted)"``), biomarker_x,
        biomarker_y (x < y), n (patients with both changes), spearman_rho, p, q (adjusted
        across the pairs of one study and arm), then the settings columns (as every
        level). A study with one arm has no pooled rows.

    Notes
    -----
    Per arm, p comes from the t approximation t = rho sqrt((n - 2) / (1 - rho^2)) on
    n - 2 df, as R's ``cor.test(method = "spearman", exact = FALSE)``; n < 3 gives no
    p-value.

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
    frames = []
    for (study_id,), study in fc.group_by("study_id", maintain_order=True):
        wide = study.pivot(on="biomarker", index=["arm", "patient_id"], values="log2fc")
        names = sorted(c for c in wide.columns if c not in ("arm", "patient_id"))
        if len(names) < 2:
            continue
        matrix = wide.select(names).to_numpy().astype(float)
        arms = wide["arm"].to_numpy()
        for arm in wide["arm"].unique(maintain_order=True).to_list():
            part = matrix[arms == arm]
            measured = ~np.isnan(part).all(axis=0)  # biomarkers with a change in this arm
            if measured.sum() >= 2:
                kept = [n for n, m in zip(names, measured, strict=True) if m]
                frames.append(_pair_rows(str(study_id), arm, kept, part[:, measured], None))
        labels, codes = np.unique(arms, return_inverse=True)
        if len(labels) > 1:
            frames.append(_pair_rows(str(study_id), POOLED, names, matrix, codes))
    recorded = settings_columns(settings, pairing.baseline_timepoint, pairing.timepoint)
    if not frames:
        empty = pl.DataFrame(
            schema={c: pl.String for c in CORRELATION_COLUMNS[:4]}
            | {"n": pl.Int64, "spearman_rho": pl.Float64, "p": pl.Float64, "q": pl.Float64}
        )
        return empty.with_columns(recorded)
    frame = nan_to_null(pl.concat(frames))
    frame = adjust_within(frame, "p", "q", ["study_id", "arm"], settings.fdr)
    return frame.select(*CORRELATION_COLUMNS, *recorded).sort(
        "study_id", "arm", "biomarker_x", "biomarker_y"
    )
