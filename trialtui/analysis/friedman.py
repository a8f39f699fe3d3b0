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


def log2_by_timepoint(pairings: list[Pairing]) -> pl.DataFrame:
    """log2 of the analysed value of every patient, biomarker and timepoint of ``pairings``.

    Columns: study_id, biomarker, arm, patient_id, timepoint, log2_value. The baseline
    value comes from the pairs (so the LLOQ and zero rules are the same as everywhere).
    """
    parts = []
    for pairing in pairings:
        fc = pairing.fold_changes
        for column, point in (("pre", pairing.baseline_timepoint), ("post", pairing.timepoint)):
            parts.append(
                fc.select(
                    *KEYS,
                    "patient_id",
                    pl.lit(point).alias("timepoint"),
                    pl.col(column)
                    .map_batches(np.log2, return_dtype=pl.Float64)
                    .alias("log2_value"),
                )
            )
    return pl.concat(parts).unique(subset=[*KEYS, "patient_id", "timepoint"], keep="first")


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
    values = log2_by_timepoint(pairings)
    k = len(pairings) + 1
    patient = [*KEYS, "patient_id"]
    complete = values.filter(pl.len().over(patient) == k)
    ranked = complete.with_columns(
        pl.col("log2_value").rank("average").over(patient).alias("_rank")
    )
    n_complete = ranked.group_by(KEYS).agg(pl.col("patient_id").n_unique().alias("n_complete"))
    rank_sums = (
        ranked.group_by([*KEYS, "timepoint"])
        .agg(pl.col("_rank").sum().alias("_r"))
        .join(n_complete, on=KEYS)
        .group_by(KEYS)
        .agg(((pl.col("_r") - pl.col("n_complete") * (k + 1) / 2) ** 2).sum().alias("_ss"))
    )
    ties = (
        ranked.group_by([*patient, "_rank"])
        .agg(pl.len().cast(pl.Float64).alias("_t"))
        .group_by(KEYS)
        .agg((pl.col("_t") ** 3 - pl.col("_t")).sum().alias("_ties"))
    )
    frame = (
        values.select(KEYS)
        .unique()
        .join(n_complete, on=KEYS, how="left")
        .join(rank_sums, on=KEYS, how="left")
        .join(ties, on=KEYS, how="left")
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
