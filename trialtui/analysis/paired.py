"""Per-arm summaries of fold-changes and within-arm (paired) tests."""

from __future__ import annotations

import numpy as np
import polars as pl

from trialtui.analysis.common import (
    MIN_N_FOR_P,
    nan_to_null,
    per_group,
    settings_columns,
    t_quantile,
    t_two_sided_p,
)
from trialtui.analysis.multiplicity import adjust_within
from trialtui.analysis.pairing import KEYS, Pairing
from trialtui.analysis.ranktests import EXACT_LIMIT, signed_rank_groups, signrank_p
from trialtui.analysis.settings import AnalysisSettings

ARM_COLUMNS = (
    "study_id",
    "biomarker",
    "arm",
    "unit",
    "n_pairs",
    "n_unpaired",
    "mean_fc",
    "gmean_fc",
    "gmean_fc_lo",
    "gmean_fc_hi",
    "median_fc",
    "fc_q1",
    "fc_q3",
    "p_wilcoxon",
    "p_ttest",
    "q_wilcoxon",
    "q_ttest",
)


def _signed_rank_terms(fc: pl.DataFrame, offsets: np.ndarray) -> pl.DataFrame:
    """V, non-zero n, tie term and zero flag of log2FC per group of ``fc`` (grouped by
    :data:`KEYS`, groups starting at ``offsets``)."""
    v, n_nonzero, ties, has_zero = signed_rank_groups(fc["log2fc"].to_numpy(), offsets)
    return pl.DataFrame(
        [
            pl.Series("_has_zero", has_zero),
            pl.Series("v_wilcoxon", v),
            pl.Series("_n_nonzero", n_nonzero),
            pl.Series("_tie_term", ties),
        ]
    )


def _group_statistics(fc: pl.DataFrame, offsets: np.ndarray) -> pl.DataFrame:
    """Means, SD, median and quartiles of every group of ``fc``, with its keys."""
    stats = per_group(
        fc,
        offsets,
        KEYS,
        pl.col("fc").mean().alias("mean_fc"),
        pl.col("log2fc").mean().alias("mean_log2fc"),
        pl.col("log2fc").std(ddof=1).alias("sd_log2fc"),
        pl.col("fc").median().alias("median_fc"),
        pl.col("fc").quantile(0.25, interpolation="linear").alias("fc_q1"),
        pl.col("fc").quantile(0.75, interpolation="linear").alias("fc_q3"),
    )
    return pl.concat([stats, _signed_rank_terms(fc, offsets)], how="horizontal")


def summarise_arms(pairing: Pairing, settings: AnalysisSettings) -> pl.DataFrame:
    """Per-arm summary of every biomarker's change, with within-arm tests.

    Parameters
    ----------
    pairing
        From :func:`trialtui.analysis.pairing.pair_samples`.
    settings
        CI level and FDR method.

    Returns
    -------
    polars.DataFrame
        One row per (study_id, biomarker, arm) with columns: study_id, biomarker, arm, unit
        (the study's unit of the biomarker; FC itself has none), n_pairs, n_unpaired,
        mean_fc (arithmetic mean of FC), gmean_fc (2^mean log2FC), gmean_fc_lo, gmean_fc_hi
        (t-interval), median_fc, fc_q1, fc_q3 (R type-7 quartiles), p_wilcoxon (signed-rank
        test of log2FC = 0), p_ttest (paired t-test on the log scale), q_wilcoxon, q_ttest
        (adjusted across the biomarkers of one study and arm), then mean_log2fc, sd_log2fc,
        v_wilcoxon, exact_wilcoxon, t_ttest, df_ttest, n_imputed, n_excluded and the
        settings columns.

    Notes
    -----
    The signed-rank test follows R's ``wilcox.test(log2fc)``: exact for fewer than 50
    non-zero differences without ties or zeros, else the normal approximation with tie and
    continuity correction. The t-test is R's ``t.test(log2fc)``. Groups with fewer than 3
    pairs get no p-values.
    """
    fc, offsets = pairing.groups
    fc = fc.select(*KEYS, "fc", "log2fc")
    counts = pairing.counts
    if "unit" not in counts.columns:  # pairings built by hand may not name a unit
        counts = counts.with_columns(pl.lit(None, dtype=pl.String).alias("unit"))
    frame = counts.join(_group_statistics(fc, offsets), on=KEYS, how="left").sort(KEYS)
    n = frame["n_pairs"].to_numpy().astype(float)
    mean = frame["mean_log2fc"].to_numpy().astype(float)
    sd = frame["sd_log2fc"].to_numpy().astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        se = sd / np.sqrt(n)
        half = t_quantile(settings.conf_level, n - 1) * se
        t = mean / se
    df = n - 1
    testable = n >= MIN_N_FOR_P
    p_t = np.where(testable & (sd > 0), t_two_sided_p(t, df), np.nan)

    n_nonzero = frame["_n_nonzero"].fill_null(0).to_numpy().astype(float)
    tie_term = frame["_tie_term"].fill_null(0).to_numpy().astype(float)
    has_zero = frame["_has_zero"].fill_null(False).to_numpy()
    exact = (n_nonzero < EXACT_LIMIT) & (tie_term == 0) & ~has_zero
    v = frame["v_wilcoxon"].fill_null(0).to_numpy().astype(float)
    p_w = np.where(testable, signrank_p(v, n_nonzero, tie_term, exact), np.nan)

    frame = frame.with_columns(
        pl.Series("gmean_fc", np.exp2(mean)),
        pl.Series("gmean_fc_lo", np.exp2(mean - half)),
        pl.Series("gmean_fc_hi", np.exp2(mean + half)),
        pl.Series("p_wilcoxon", p_w),
        pl.Series("p_ttest", p_t),
        pl.Series("t_ttest", np.where(testable, t, np.nan)),
        pl.Series("df_ttest", df),
        pl.Series("exact_wilcoxon", exact & testable),
        pl.col("v_wilcoxon").fill_null(0.0),
    )
    frame = nan_to_null(frame)
    by = ["study_id", "arm"]
    frame = adjust_within(frame, "p_wilcoxon", "q_wilcoxon", by, settings.fdr)
    frame = adjust_within(frame, "p_ttest", "q_ttest", by, settings.fdr)
    return frame.select(
        *ARM_COLUMNS,
        "mean_log2fc",
        "sd_log2fc",
        "v_wilcoxon",
        "exact_wilcoxon",
        "t_ttest",
        "df_ttest",
        "n_imputed",
        "n_excluded",
        *settings_columns(settings, pairing.baseline_timepoint, pairing.timepoint),
    )
