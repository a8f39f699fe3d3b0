"""Change by clinical response: responders (CR/PR) against non-responders (SD/PD)."""

from __future__ import annotations

import numpy as np
import polars as pl

from trialtui.analysis.common import MIN_N_FOR_P, nan_to_null, settings_columns
from trialtui.analysis.multiplicity import adjust_within
from trialtui.analysis.pairing import Pairing
from trialtui.analysis.ranktests import rank_sum
from trialtui.analysis.settings import AnalysisSettings

RESPONDERS = ("CR", "PR")
NON_RESPONDERS = ("SD", "PD")
POOLED = "all"  # every arm together
RESPONSE_COLUMNS = (
    "study_id",
    "arm",
    "biomarker",
    "n_responders",
    "n_nonresponders",
    "median_log2fc_responders",
    "median_log2fc_nonresponders",
    "p_mannwhitney",
    "q_mannwhitney",
)


def compare_response(pairing: Pairing, settings: AnalysisSettings) -> pl.DataFrame:
    """Compare log2FC between responders and non-responders, per arm and pooled.

    Returns
    -------
    polars.DataFrame
        Columns study_id, arm (``"all"`` = pooled), biomarker, n_responders,
        n_nonresponders, median_log2fc_responders, median_log2fc_nonresponders,
        p_mannwhitney (R's ``wilcox.test(responders, non-responders)``), q_mannwhitney
        (adjusted across the biomarkers of one study and arm), hl_shift, hl_lo, hl_hi
        (Hodges-Lehmann shift of log2FC, responders minus non-responders) and the settings
        columns. Patients with response NE or unknown are left out.
    """
    fc = pairing.fold_changes.filter(
        pl.col("response").is_in(RESPONDERS + NON_RESPONDERS)
    ).with_columns(pl.col("response").is_in(RESPONDERS).alias("_responder"))
    both = pl.concat([fc, fc.with_columns(pl.lit(POOLED).alias("arm"))])
    lists = (
        both.group_by("study_id", "arm", "biomarker")
        .agg(
            pl.col("log2fc").filter(pl.col("_responder")).alias("_r"),
            pl.col("log2fc").filter(~pl.col("_responder")).alias("_nr"),
        )
        .sort("study_id", "arm", "biomarker")
    )
    results = [
        rank_sum(np.asarray(r), np.asarray(nr), conf_level=settings.conf_level)
        for r, nr in zip(lists["_r"], lists["_nr"], strict=True)
    ]
    n_r = lists["_r"].list.len().to_numpy()
    n_nr = lists["_nr"].list.len().to_numpy()
    testable = (n_r >= MIN_N_FOR_P) & (n_nr >= MIN_N_FOR_P)
    frame = lists.with_columns(
        pl.col("_r").list.len().alias("n_responders"),
        pl.col("_nr").list.len().alias("n_nonresponders"),
        pl.col("_r").list.median().alias("median_log2fc_responders"),
        pl.col("_nr").list.median().alias("median_log2fc_nonresponders"),
        pl.Series("p_mannwhitney", np.where(testable, [r.p_value for r in results], np.nan)),
        pl.Series("hl_shift", [r.estimate for r in results], dtype=pl.Float64),
        pl.Series("hl_lo", [r.conf_low for r in results], dtype=pl.Float64),
        pl.Series("hl_hi", [r.conf_high for r in results], dtype=pl.Float64),
    )
    frame = nan_to_null(frame)
    frame = adjust_within(
        frame, "p_mannwhitney", "q_mannwhitney", ["study_id", "arm"], settings.fdr
    )
    return frame.select(
        *RESPONSE_COLUMNS,
        "hl_shift",
        "hl_lo",
        "hl_hi",
        *settings_columns(settings, pairing.baseline_timepoint, pairing.timepoint),
    )
