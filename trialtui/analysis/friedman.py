"""Change across all timepoints: Friedman's test on patients complete at every timepoint."""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy import special

from trialtui.analysis.common import MIN_N_FOR_P, nan_to_null, settings_columns
from trialtui.analysis.multiplicity import adjust_within
from trialtui.analysis.pairing import KEYS, Pairing
from trialtui.analysis.settings import AnalysisSettings
from trialtui.analysis.timecourse import ALL_TIMEPOINTS

FRIEDMAN_COLUMNS = (
    "study_id",
    "biomarker",
    "arm",
    "n_complete",
    "n_timepoints",
    "friedman_chisq",
    "p_friedman",
    "q_friedman",
)


def complete_log2_matrix(pairings: list[Pairing]) -> pl.DataFrame:
    """log2 values of the patients with a value at the baseline and every later timepoint.

    One row per (study_id, biomarker, arm, patient_id) with columns ``_t0`` (baseline),
    ``_t1`` ... (the timepoints of ``pairings`` in order). The values come from the pairs,
    so the LLOQ and zero rules are the same as everywhere.
    """
    patient = [*KEYS, "patient_id"]

    def log2(column: str) -> pl.Expr:
        return pl.col(column).map_batches(np.log2, return_dtype=pl.Float64)

    first = pairings[0].fold_changes
    wide = first.select(*patient, log2("pre").alias("_t0"), log2("post").alias("_t1"))
    for i, pairing in enumerate(pairings[1:], start=2):
        later = pairing.fold_changes.select(*patient, log2("post").alias(f"_t{i}"))
        wide = wide.join(later, on=patient, how="inner")
    return wide


def _ranks_within_rows(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Average ranks within each row of ``matrix`` (few columns: the timepoints) and how
    many values of its row equal each cell (itself included).

    A value's average rank is the count of smaller values plus (the count of equal ones
    + 1) / 2: a multiple of 1/2, so exact. A row holding NaN has NaN ranks, as
    ``scipy.stats.rankdata`` gives (whose import this level does not pay)."""
    below = (matrix[:, None, :] < matrix[:, :, None]).sum(axis=2)
    tied = (matrix[:, :, None] == matrix[:, None, :]).sum(axis=2)
    ranks = below + (tied + 1) / 2
    ranks[np.isnan(matrix).any(axis=1)] = np.nan
    return ranks, tied


def friedman_test(pairings: list[Pairing], settings: AnalysisSettings) -> pl.DataFrame:
    """Friedman's test across the baseline and every on-treatment timepoint.

    Parameters
    ----------
    pairings
        From :func:`trialtui.analysis.timecourse.pair_every_timepoint`: the baseline
        paired with each later timepoint.
    settings
        FDR method.

    Returns
    -------
    polars.DataFrame
        One row per (study_id, biomarker, arm) with columns study_id, biomarker, arm,
        n_complete (patients with a value at every timepoint), n_timepoints (baseline
        included), friedman_chisq, p_friedman, q_friedman (adjusted across the biomarkers
        of one study and arm), then the settings columns (timepoint ``"all"``).

    Notes
    -----
    As R's ``friedman.test(y)`` on the patients x timepoints matrix ``y`` of log2 values:
    ranks within each patient (average ranks for ties), R_j the rank sum of timepoint j,

        chisq = 12 sum_j (R_j - n (k + 1) / 2)^2 / (n k (k + 1) - sum (t^3 - t) / (k - 1))

    over the tie groups t of every patient, with k - 1 degrees of freedom. Patients
    missing any timepoint are left out. Fewer than 3 complete patients: no p-value; all
    values tied within every patient: no statistic.

    References
    ----------
    Hollander, M. and Wolfe, D. A. (1973). Nonparametric Statistical Methods, 139-146.
    """
    k = len(pairings) + 1
    groups = pl.concat([p.fold_changes.select(KEYS).unique() for p in pairings]).unique()
    wide = complete_log2_matrix(pairings)
    matrix = wide.select([f"_t{j}" for j in range(k)]).to_numpy()
    ranks, tied = _ranks_within_rows(matrix)
    per_patient = wide.select(KEYS).with_columns(
        *[pl.Series(f"_r{j}", ranks[:, j]) for j in range(k)],
        pl.Series("_ties", (tied.astype(float) ** 2 - 1).sum(axis=1)),  # sum t^3 - t
    )
    sums = per_patient.group_by(KEYS).agg(
        pl.len().alias("n_complete"),
        *[pl.col(f"_r{j}").sum() for j in range(k)],
        pl.col("_ties").sum(),
    )
    centre = pl.col("n_complete") * (k + 1) / 2
    sums = sums.with_columns(
        pl.sum_horizontal([(pl.col(f"_r{j}") - centre) ** 2 for j in range(k)]).alias("_ss")
    )
    frame = (
        groups.join(sums.select(*KEYS, "n_complete", "_ss", "_ties"), on=KEYS, how="left")
        .with_columns(pl.col("n_complete").fill_null(0).cast(pl.Int64))
        .sort(KEYS)
    )
    n = frame["n_complete"].to_numpy().astype(float)
    ss = frame["_ss"].to_numpy().astype(float)
    tie_term = frame["_ties"].fill_null(0).to_numpy().astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        denominator = n * k * (k + 1) - tie_term / (k - 1)
        chisq = np.where((n > 0) & (denominator > 0), 12 * ss / denominator, np.nan)
        p = np.where(n >= MIN_N_FOR_P, special.chdtrc(k - 1, chisq), np.nan)
    frame = nan_to_null(
        frame.with_columns(
            pl.lit(k, dtype=pl.Int64).alias("n_timepoints"),
            pl.Series("friedman_chisq", chisq),
            pl.Series("p_friedman", p),
        )
    )
    frame = adjust_within(frame, "p_friedman", "q_friedman", ["study_id", "arm"], settings.fdr)
    baseline = pairings[0].baseline_timepoint if pairings else ""
    return frame.select(*FRIEDMAN_COLUMNS, *settings_columns(settings, baseline, ALL_TIMEPOINTS))
