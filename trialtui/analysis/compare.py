"""Between-arm comparisons of log2 fold-changes (each arm against the reference arm)."""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy import stats

from trialtui.analysis.ancova import ANCOVA_COLUMNS, ancova
from trialtui.analysis.common import (
    MIN_N_FOR_P,
    nan_to_null,
    settings_columns,
    t_quantile,
    t_two_sided_p,
)
from trialtui.analysis.multiplicity import adjust_within
from trialtui.analysis.pairing import KEYS, Pairing
from trialtui.analysis.ranktests import rank_sum
from trialtui.analysis.settings import AnalysisSettings

COMPARISON_COLUMNS = (
    "study_id",
    "biomarker",
    "arm",
    "reference_arm",
    "n",
    "n_reference",
    "gmfc_ratio",
    "gmfc_ratio_lo",
    "gmfc_ratio_hi",
    "hl_shift",
    "hl_lo",
    "hl_hi",
    "rank_biserial",
    "p_mannwhitney",
    "p_welch",
    "q_mannwhitney",
    "q_welch",
)


def welch(
    mean_x: np.ndarray,
    var_x: np.ndarray,
    n_x: np.ndarray,
    mean_y: np.ndarray,
    var_y: np.ndarray,
    n_y: np.ndarray,
    conf_level: float,
) -> dict[str, np.ndarray]:
    """Vectorised Welch two-sample t-test (R's ``t.test(x, y)``).

    Returns arrays ``diff`` (mean x - mean y), ``lo``, ``hi``, ``t``, ``df``, ``p``.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        vx, vy = var_x / n_x, var_y / n_y
        se = np.sqrt(vx + vy)
        df = (vx + vy) ** 2 / (vx**2 / (n_x - 1) + vy**2 / (n_y - 1))
        diff = mean_x - mean_y
        t = diff / se
        half = t_quantile(conf_level, df) * se
    return {
        "diff": diff,
        "lo": diff - half,
        "hi": diff + half,
        "t": t,
        "df": df,
        "p": t_two_sided_p(t, df),
    }


def compare_arms(pairing: Pairing, settings: AnalysisSettings, reference_arm: str) -> pl.DataFrame:
    """Compare every arm's log2FC with the reference arm's, for every biomarker.

    Parameters
    ----------
    pairing
        From :func:`trialtui.analysis.pairing.pair_samples`.
    settings
        CI level and FDR method.
    reference_arm
        The arm the others are compared with (see :func:`choose_reference_arm`).

    Returns
    -------
    polars.DataFrame
        One row per (study_id, biomarker, arm) other than the reference, with columns
        study_id, biomarker, arm, reference_arm, n, n_reference, gmfc_ratio (ratio of
        geometric mean FCs, 2^(mean log2FC arm - mean log2FC reference)), gmfc_ratio_lo,
        gmfc_ratio_hi (Welch interval), hl_shift, hl_lo, hl_hi (Hodges-Lehmann shift of
        log2FC with its interval, R's ``wilcox.test(conf.int = TRUE)``), rank_biserial
        (P(arm > reference) - P(arm < reference)), p_mannwhitney, p_welch, q_mannwhitney,
        q_welch (adjusted across the biomarkers of one study and arm), the ANCOVA columns
        of :func:`trialtui.analysis.ancova.ancova` (ancova_ratio, ancova_lo, ancova_hi,
        p_ancova, q_ancova, p_ancova_overall), then p_kruskal
        (Kruskal-Wallis across all arms, when there are more than two), exact_mannwhitney,
        t_welch, df_welch and the settings columns.

    Notes
    -----
    Welch: t = (m_x - m_y) / sqrt(s_x^2/n_x + s_y^2/n_y) with Welch-Satterthwaite df.
    p-values need at least 3 pairs in both arms.

    References
    ----------
    Hodges, J. L. and Lehmann, E. L. (1963). Ann. Math. Statist. 34, 598-611.
    Kerby, D. S. (2014). The simple difference formula. Compr. Psychol. 3.
    """
    fc = pairing.fold_changes
    lists = fc.group_by("study_id", "biomarker", "arm").agg(
        pl.col("log2fc").alias("values"),
        pl.len().alias("n"),
        pl.col("log2fc").mean().alias("mean"),
        pl.col("log2fc").var(ddof=1).alias("var"),
    )
    reference = lists.filter(pl.col("arm") == reference_arm).select(
        "study_id",
        "biomarker",
        pl.col("values").alias("ref_values"),
        pl.col("n").alias("n_reference"),
        pl.col("mean").alias("ref_mean"),
        pl.col("var").alias("ref_var"),
    )
    others = lists.filter(pl.col("arm") != reference_arm)
    frame = others.join(reference, on=["study_id", "biomarker"], how="left").sort(
        "study_id", "biomarker", "arm"
    )
    frame = frame.with_columns(pl.col("n_reference").fill_null(0))
    n = frame["n"].to_numpy().astype(float)
    n_ref = frame["n_reference"].to_numpy().astype(float)
    w = welch(
        frame["mean"].to_numpy().astype(float),
        frame["var"].to_numpy().astype(float),
        n,
        frame["ref_mean"].to_numpy().astype(float),
        frame["ref_var"].to_numpy().astype(float),
        n_ref,
        settings.conf_level,
    )
    testable = (n >= MIN_N_FOR_P) & (n_ref >= MIN_N_FOR_P)
    rank_rows = [
        rank_sum(
            np.asarray(x), np.asarray(y if y is not None else []), conf_level=settings.conf_level
        )
        for x, y in zip(frame["values"], frame["ref_values"], strict=True)
    ]

    def field(name: str) -> np.ndarray:
        return np.array([getattr(r, name) for r in rank_rows], dtype=float)

    frame = frame.with_columns(
        pl.lit(reference_arm).alias("reference_arm"),
        pl.Series("gmfc_ratio", np.exp2(w["diff"])),
        pl.Series("gmfc_ratio_lo", np.exp2(w["lo"])),
        pl.Series("gmfc_ratio_hi", np.exp2(w["hi"])),
        pl.Series("hl_shift", field("estimate")),
        pl.Series("hl_lo", field("conf_low")),
        pl.Series("hl_hi", field("conf_high")),
        pl.Series("rank_biserial", field("rank_biserial")),
        pl.Series("p_mannwhitney", np.where(testable, field("p_value"), np.nan)),
        pl.Series("p_welch", np.where(testable, w["p"], np.nan)),
        pl.Series("exact_mannwhitney", np.array([r.exact for r in rank_rows], dtype=bool)),
        pl.Series("t_welch", w["t"]),
        pl.Series("df_welch", w["df"]),
    )
    frame = frame.join(_kruskal(lists), on=["study_id", "biomarker"], how="left")
    frame = nan_to_null(frame)
    by = ["study_id", "arm"]
    frame = adjust_within(frame, "p_mannwhitney", "q_mannwhitney", by, settings.fdr)
    frame = adjust_within(frame, "p_welch", "q_welch", by, settings.fdr)
    frame = frame.join(ancova(pairing, settings, reference_arm), on=KEYS, how="left")
    return frame.select(
        *COMPARISON_COLUMNS,
        *ANCOVA_COLUMNS,
        "p_kruskal",
        "exact_mannwhitney",
        "t_welch",
        "df_welch",
        *settings_columns(settings, pairing.baseline_timepoint, pairing.timepoint),
    )


def _kruskal(lists: pl.DataFrame) -> pl.DataFrame:
    """Kruskal-Wallis p per biomarker when more than two arms have data (R's kruskal.test)."""
    rows = []
    for (study_id, biomarker), group in lists.group_by("study_id", "biomarker"):
        samples = [np.asarray(v) for v in group["values"] if len(v) > 0]
        p = float("nan")
        if len(samples) > 2 and sum(len(s) for s in samples) >= MIN_N_FOR_P:
            pooled = np.concatenate(samples)
            if np.ptp(pooled) > 0:
                p = float(stats.kruskal(*samples).pvalue)
        rows.append((study_id, biomarker, p))
    return pl.DataFrame(
        rows,
        schema={"study_id": pl.String, "biomarker": pl.String, "p_kruskal": pl.Float64},
        orient="row",
    )
