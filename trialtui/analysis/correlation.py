"""Spearman correlation of changes (log2FC) between biomarkers."""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy import stats

from trialtui.analysis.common import MIN_N_FOR_P, nan_to_null, settings_columns, t_two_sided_p
from trialtui.analysis.multiplicity import adjust_within
from trialtui.analysis.pairing import Pairing
from trialtui.analysis.settings import AnalysisSettings

POOLED = "all"
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


def _masked_ranks(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Column-wise average ranks of ``values`` where ``mask`` holds, NaN elsewhere."""
    masked = np.where(mask, values, np.nan)
    return stats.rankdata(masked, axis=0, nan_policy="omit")


def _pearson_columns(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson r between matching columns of a and b, ignoring NaN rows per column."""
    with np.errstate(invalid="ignore", divide="ignore"):
        am = a - np.nanmean(a, axis=0)
        bm = b - np.nanmean(b, axis=0)
        num = np.nansum(am * bm, axis=0)
        den = np.sqrt(np.nansum(am**2, axis=0) * np.nansum(bm**2, axis=0))
        return num / den


def _standardised_ranks(block: np.ndarray) -> np.ndarray:
    """Column ranks centred and scaled to unit norm (NaN for constant columns)."""
    ranks = stats.rankdata(block, axis=0)
    centred = ranks - ranks.mean(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return centred / np.sqrt((centred**2).sum(axis=0))


def spearman_matrix(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairwise-complete Spearman rho and n for the columns of ``matrix`` (NaN = missing).

    Columns are grouped by their pattern of missing values (usually a few: a missing
    biopsy removes a patient from every biomarker of an assay). For each pair of patterns
    the shared rows are ranked once and all correlations of the block come from one matrix
    product. With many distinct patterns it falls back to a loop over columns that ranks
    every other column on the rows shared with that column, all at once. Both are exact.
    """
    k = matrix.shape[1]
    present = ~np.isnan(matrix)
    patterns: dict[bytes, list[int]] = {}
    for j in range(k):
        patterns.setdefault(np.packbits(present[:, j]).tobytes(), []).append(j)
    groups = [np.array(cols) for cols in patterns.values()]
    if len(groups) > max(4, k // 4):
        return _spearman_by_column(matrix, present)
    rho = np.full((k, k), np.nan)
    count = np.zeros((k, k), dtype=int)
    for a, cols_a in enumerate(groups):
        for cols_b in groups[a:]:
            rows = present[:, cols_a[0]] & present[:, cols_b[0]]
            count[np.ix_(cols_a, cols_b)] = rows.sum()
            count[np.ix_(cols_b, cols_a)] = rows.sum()
            if rows.sum() < 2:
                continue
            za = _standardised_ranks(matrix[np.ix_(rows, cols_a)])
            zb = _standardised_ranks(matrix[np.ix_(rows, cols_b)])
            block = np.clip(za.T @ zb, -1.0, 1.0)
            rho[np.ix_(cols_a, cols_b)] = block
            rho[np.ix_(cols_b, cols_a)] = block.T
    return rho, count


def _spearman_by_column(matrix: np.ndarray, present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    k = matrix.shape[1]
    rho = np.full((k, k), np.nan)
    count = np.zeros((k, k), dtype=int)
    for i in range(k):
        both = present & present[:, [i]]
        count[i] = both.sum(axis=0)
        xi = np.broadcast_to(matrix[:, [i]], matrix.shape)
        rho[i] = _pearson_columns(_masked_ranks(xi, both), _masked_ranks(matrix, both))
    return rho, count


def correlate_changes(pairing: Pairing, settings: AnalysisSettings) -> pl.DataFrame:
    """Spearman correlation of log2FC between every pair of biomarkers, per arm and pooled.

    Returns
    -------
    polars.DataFrame
        Columns study_id, arm (``"all"`` = pooled over arms), biomarker_x, biomarker_y
        (x < y), n (patients with both changes), spearman_rho, p, q (adjusted across the
        pairs of one study and arm), then the settings columns (as every level).

    Notes
    -----
    p comes from the t approximation t = rho sqrt((n - 2) / (1 - rho^2)) on n - 2 df, as
    R's ``cor.test(method = "spearman", exact = FALSE)``; n < 3 gives no p-value.
    """
    fc = pairing.fold_changes
    wide_source = pl.concat(
        [
            fc.select("study_id", "arm", "patient_id", "biomarker", "log2fc"),
            fc.select("study_id", pl.lit(POOLED).alias("arm"), "patient_id", "biomarker", "log2fc"),
        ]
    )
    frames = []
    for (study_id, arm), group in wide_source.group_by("study_id", "arm", maintain_order=True):
        wide = group.pivot(on="biomarker", index="patient_id", values="log2fc")
        names = sorted(c for c in wide.columns if c != "patient_id")
        if len(names) < 2:
            continue
        matrix = wide.select(names).to_numpy().astype(float)
        rho, count = spearman_matrix(matrix)
        iu, ju = np.triu_indices(len(names), k=1)
        r = rho[iu, ju]
        n = count[iu, ju].astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            t = r * np.sqrt((n - 2) / (1 - r**2))
        p = np.where(n >= MIN_N_FOR_P, t_two_sided_p(t, n - 2), np.nan)
        p = np.where((n >= MIN_N_FOR_P) & (np.abs(r) == 1), 0.0, p)
        frames.append(
            pl.DataFrame(
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
        )
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
