"""Between-arm comparisons of log2 fold-changes (each arm against the reference arm)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import polars as pl
from scipy import special

from trialtui.analysis.ancova import ANCOVA_COLUMNS, ancova
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
from trialtui.analysis.ranktests import rank_sum_groups, sort_within
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
    keys = ["study_id", "biomarker", "arm"]
    fc, offsets = pairing.groups
    fc = fc.select(*keys, "log2fc")
    values = sort_within(fc["log2fc"].to_numpy(), offsets)
    sizes = np.diff(offsets)
    lists = per_group(
        fc.with_columns(pl.Series("log2fc", values)),
        offsets,
        keys,
        pl.col("log2fc").mean().alias("mean"),
        pl.col("log2fc").var(ddof=1).alias("var"),
    ).with_columns(
        pl.Series("n", sizes, dtype=pl.UInt32),
        pl.Series("start", offsets[:-1], dtype=pl.Int64),
    )
    reference = lists.filter(pl.col("arm") == reference_arm).select(
        "study_id",
        "biomarker",
        pl.col("start").alias("ref_start"),
        pl.col("n").alias("n_reference"),
        pl.col("mean").alias("ref_mean"),
        pl.col("var").alias("ref_var"),
    )
    others = lists.filter(pl.col("arm") != reference_arm)
    frame = others.join(reference, on=["study_id", "biomarker"], how="left").sort(keys)
    frame = frame.with_columns(pl.col("n_reference", "ref_start").fill_null(0))
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
    x, x_offsets = _segments(values, frame["start"].to_numpy(), frame["n"].to_numpy())
    y, y_offsets = _segments(values, frame["ref_start"].to_numpy(), frame["n_reference"].to_numpy())
    # The ANCOVA (Polars, which lets go of the interpreter) runs beside the rank tests
    # (mostly Python between short NumPy calls): the two share the machine's cores.
    with ThreadPoolExecutor(max_workers=1) as pool:
        adjusted = pool.submit(ancova, pairing, settings, reference_arm)
        ranks = rank_sum_groups(
            x, x_offsets, y, y_offsets, conf_level=settings.conf_level, presorted=True
        )
        baseline_adjusted = adjusted.result()

    frame = frame.with_columns(
        pl.lit(reference_arm).alias("reference_arm"),
        pl.Series("gmfc_ratio", np.exp2(w["diff"])),
        pl.Series("gmfc_ratio_lo", np.exp2(w["lo"])),
        pl.Series("gmfc_ratio_hi", np.exp2(w["hi"])),
        pl.Series("hl_shift", ranks["estimate"]),
        pl.Series("hl_lo", ranks["conf_low"]),
        pl.Series("hl_hi", ranks["conf_high"]),
        pl.Series("rank_biserial", ranks["rank_biserial"]),
        pl.Series("p_mannwhitney", np.where(testable, ranks["p_value"], np.nan)),
        pl.Series("p_welch", np.where(testable, w["p"], np.nan)),
        pl.Series("exact_mannwhitney", ranks["exact"]),
        pl.Series("t_welch", w["t"]),
        pl.Series("df_welch", w["df"]),
    )
    if lists["arm"].n_unique() > 2:
        kruskal = _kruskal(fc)
    else:  # two arms at most: no biomarker has the three arms Kruskal-Wallis needs here
        kruskal = (
            lists.select("study_id", "biomarker")
            .unique()
            .with_columns(pl.lit(None, dtype=pl.Float64).alias("p_kruskal"))
        )
    frame = frame.join(kruskal, on=["study_id", "biomarker"], how="left")
    frame = nan_to_null(frame)
    by = ["study_id", "arm"]
    frame = adjust_within(frame, "p_mannwhitney", "q_mannwhitney", by, settings.fdr)
    frame = adjust_within(frame, "p_welch", "q_welch", by, settings.fdr)
    frame = frame.join(baseline_adjusted, on=KEYS, how="left")
    return frame.select(
        *COMPARISON_COLUMNS,
        *ANCOVA_COLUMNS,
        "p_kruskal",
        "exact_mannwhitney",
        "t_welch",
        "df_welch",
        *settings_columns(settings, pairing.baseline_timepoint, pairing.timepoint),
    )


def _segments(
    values: np.ndarray, starts: np.ndarray, lengths: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The slices values[start:start + length], one after another, with their offsets."""
    starts = np.asarray(starts, dtype=np.int64)
    lengths = np.asarray(lengths, dtype=np.int64)
    offsets = np.concatenate(([0], np.cumsum(lengths)))
    index = np.repeat(starts - offsets[:-1], lengths) + np.arange(offsets[-1])
    return values[index], offsets


def _kruskal(fold_changes: pl.DataFrame) -> pl.DataFrame:
    """Kruskal-Wallis p per biomarker when more than two arms have data (R's kruskal.test).

    H = (12 / (N (N + 1)) sum_k R_k^2 / n_k - 3 (N + 1)) / (1 - sum (t^3 - t) / (N^3 - N)),
    referred to chi-squared with (arms - 1) degrees of freedom; computed for every
    biomarker at once from ranks within (study, biomarker).
    """
    by = ["study_id", "biomarker"]
    ranked = fold_changes.with_columns(pl.col("log2fc").rank("average").over(by).alias("_rank"))
    per_arm = ranked.group_by(*by, "arm").agg(
        (pl.col("_rank").sum() ** 2 / pl.len()).alias("_term")
    )
    ties = (
        fold_changes.group_by(*by, "log2fc")
        .agg(pl.len().cast(pl.Float64).alias("_t"))
        .group_by(by)
        .agg((pl.col("_t") ** 3 - pl.col("_t")).sum().alias("_ties"))
    )
    sizes = fold_changes.group_by(by).agg(
        pl.len().cast(pl.Float64).alias("_n"),
        pl.col("arm").n_unique().alias("_k"),
        (pl.col("log2fc").max() > pl.col("log2fc").min()).alias("_varies"),
    )
    terms = per_arm.group_by(by).agg(pl.col("_term").sum().alias("_sum"))
    frame = sizes.join(terms, on=by).join(ties, on=by)
    n = frame["_n"].to_numpy()
    k = frame["_k"].to_numpy().astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        h = 12.0 / (n * (n + 1.0)) * frame["_sum"].to_numpy() - 3.0 * (n + 1.0)
        h = h / (1.0 - frame["_ties"].to_numpy() / (n**3 - n))
        p = special.chdtrc(k - 1.0, h)  # what scipy.stats.chi2.sf computes
    usable = (k > 2) & (n >= MIN_N_FOR_P) & frame["_varies"].to_numpy()
    return frame.select(*by).with_columns(pl.Series("p_kruskal", np.where(usable, p, np.nan)))
