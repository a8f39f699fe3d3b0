"""Baseline-adjusted comparison of arms: ANCOVA of log2 post on log2 pre and arm."""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy import special

from trialtui.analysis.common import (
    MIN_N_FOR_P,
    nan_to_null,
    per_group,
    t_quantile,
    t_two_sided_p,
)
from trialtui.analysis.multiplicity import adjust_within
from trialtui.analysis.pairing import KEYS, Pairing
from trialtui.analysis.settings import AnalysisSettings

ANCOVA_COLUMNS = (
    "ancova_ratio",
    "ancova_lo",
    "ancova_hi",
    "p_ancova",
    "q_ancova",
    "p_ancova_overall",
)

# A pooled within-arm sum of squares of log2(pre) at or below this fraction of the total
# makes log2(pre) collinear with the arms: R's lm drops a coefficient (NA), we report none.
_SINGULAR_TOL = 1e-7


def _arm_moments(pairing: Pairing) -> pl.DataFrame:
    """n, means and centred sums of squares and products of x = log2 pre, y = log2 post."""
    fc, offsets = pairing.groups
    fc = fc.select(*KEYS, "pre", "post")
    xy = fc.with_columns(
        pl.col("pre").map_batches(np.log2, return_dtype=pl.Float64).alias("_x"),
        pl.col("post").map_batches(np.log2, return_dtype=pl.Float64).alias("_y"),
    )
    dx = pl.col("_x") - pl.col("_x").mean()
    dy = pl.col("_y") - pl.col("_y").mean()
    return per_group(
        xy,
        offsets,
        KEYS,
        pl.len().cast(pl.Float64).alias("_n"),
        pl.col("_x").mean().alias("_mx"),
        pl.col("_y").mean().alias("_my"),
        (dx * dx).sum().alias("_sxx"),
        (dx * dy).sum().alias("_sxy"),
        (dy * dy).sum().alias("_syy"),
    )


def _between(a: str, b: str) -> pl.Expr:
    """sum n_j (a_j - grand mean of a)(b_j - grand mean of b) over the arms j of a group."""
    n = pl.col("_n")

    def centred(name: str) -> pl.Expr:
        return pl.col(name) - (n * pl.col(name)).sum() / n.sum()

    return (n * centred(a) * centred(b)).sum()


def ancova(pairing: Pairing, settings: AnalysisSettings, reference_arm: str) -> pl.DataFrame:
    """ANCOVA ``lm(log2(post) ~ log2(pre) + arm)`` per biomarker, each arm against the reference.

    Parameters
    ----------
    pairing
        From :func:`trialtui.analysis.pairing.pair_samples`: the same pairs, LLOQ and zero
        substitutions as every other result.
    settings
        CI level and FDR method.
    reference_arm
        Base level of the arm factor.

    Returns
    -------
    polars.DataFrame
        One row per (study_id, biomarker, arm) other than the reference arm, with columns
        study_id, biomarker, arm, ancova_ratio (2^arm coefficient: the ratio of
        baseline-adjusted geometric means of post), ancova_lo, ancova_hi (t-interval at
        ``settings.conf_level``), p_ancova (t-test of the coefficient), q_ancova (adjusted
        across the biomarkers of one study and arm) and p_ancova_overall (F-test of arm
        after log2 pre, R's ``anova(fit)``; only when the study has more than two arms).

    Notes
    -----
    One model per biomarker over the arms with at least 3 pairs; arms with fewer pairs
    are left out of the fit and get empty values, and without 3 pairs in the reference
    arm there is no fit. With pooled within-arm sums of squares and products
    S_xx, S_xy, S_yy over the k arms in the fit (N pairs), the common slope is
    b = S_xy / S_xx, the residual variance s^2 = (S_yy - b S_xy) / (N - k - 1) and the
    arm coefficient is (ybar_a - ybar_ref) - b (xbar_a - xbar_ref) with variance
    s^2 (1/n_a + 1/n_ref + (xbar_a - xbar_ref)^2 / S_xx): the least-squares solution of
    the model, computed for all biomarkers at once from group sums. A singular fit
    (log2 pre constant within every arm) or no residual degrees of freedom gives empty
    values.

    References
    ----------
    FDA (2023). Adjusting for Covariates in Randomized Clinical Trials for Drugs and
    Biological Products. Guidance for Industry.

    Examples
    --------
    >>> from trialtui.analysis import pair_samples
    >>> m = pl.DataFrame({
    ...     "study_id": "S", "patient_id": [f"p{i}" for i in range(8) for _ in (0, 1)],
    ...     "arm": ["A"] * 8 + ["B"] * 8, "response": "PR",
    ...     "timepoint": ["BL", "W4"] * 8, "ordinal": [0, 1] * 8,
    ...     "is_baseline": [True, False] * 8, "biomarker": "CD8",
    ...     "value": [1.0, 2, 2, 4.5, 4, 7, 8, 17, 1, 4, 2, 7, 4, 17, 8, 31],
    ...     "below_lloq": False, "lloq": 0.1})
    >>> row = ancova(pair_samples(m, AnalysisSettings()), AnalysisSettings(), "A")
    >>> round(row["ancova_ratio"][0], 4)
    1.9266
    """
    moments = _arm_moments(pairing)
    n_arms = moments.group_by("study_id").agg(pl.col("arm").n_unique().alias("_arms"))
    fitted = moments.filter(pl.col("_n") >= MIN_N_FOR_P)
    by = ["study_id", "biomarker"]
    pooled = fitted.group_by(by).agg(
        pl.col("_n").sum().alias("_n_total"),
        pl.len().alias("_k"),
        pl.col("_sxx").sum().alias("_pxx"),
        pl.col("_sxy").sum().alias("_pxy"),
        pl.col("_syy").sum().alias("_pyy"),
        # between-arm sums of squares and products, for the F-test of arm after log2 pre
        _between("_mx", "_mx").alias("_bxx"),
        _between("_mx", "_my").alias("_bxy"),
        _between("_my", "_my").alias("_byy"),
    )
    reference = fitted.filter(pl.col("arm") == reference_arm).select(
        *by,
        pl.col("_n").alias("_n_ref"),
        pl.col("_mx").alias("_mx_ref"),
        pl.col("_my").alias("_my_ref"),
    )
    frame = (
        moments.filter(pl.col("arm") != reference_arm)
        .join(pooled, on=by, how="left")
        .join(reference, on=by, how="left")
        .join(n_arms, on="study_id", how="left")
        .sort(KEYS)
    )

    def col(name: str) -> np.ndarray:
        return frame[name].to_numpy().astype(float)

    n, n_ref, n_total, k = col("_n"), col("_n_ref"), col("_n_total"), col("_k")
    pxx, pxy, pyy = col("_pxx"), col("_pxy"), col("_pyy")
    txx, txy, tyy = pxx + col("_bxx"), pxy + col("_bxy"), pyy + col("_byy")
    with np.errstate(invalid="ignore", divide="ignore"):
        singular = ~(pxx > _SINGULAR_TOL * np.maximum(txx, np.finfo(float).tiny))
        slope = pxy / pxx
        df = n_total - k - 1
        rss = np.maximum(pyy - slope * pxy, 0.0)
        s2 = rss / df
        dx = col("_mx") - col("_mx_ref")
        estimate = (col("_my") - col("_my_ref")) - slope * dx
        se = np.sqrt(s2 * (1 / n + 1 / n_ref + dx**2 / pxx))
        half = t_quantile(settings.conf_level, df) * se
        t = estimate / se
        rss_reduced = tyy - txy**2 / txx
        df_arm = k - 1
        f = ((rss_reduced - rss) / df_arm) / s2
        p_overall = special.fdtrc(df_arm, df, f)  # scipy.stats.f.sf's computation
    fit_ok = (n_ref >= MIN_N_FOR_P) & (k >= 2) & (df >= 1) & ~singular & (s2 > 0)
    ok = fit_ok & (n >= MIN_N_FOR_P)
    overall_ok = ok & (col("_arms") > 2)

    def keep(values: np.ndarray, where: np.ndarray = ok) -> np.ndarray:
        return np.where(where, values, np.nan)

    with np.errstate(over="ignore"):  # 2^x beyond the double range is Inf, as in R
        ratio, lo, hi = np.exp2(estimate), np.exp2(estimate - half), np.exp2(estimate + half)
    frame = frame.with_columns(
        pl.Series("ancova_ratio", keep(ratio)),
        pl.Series("ancova_lo", keep(lo)),
        pl.Series("ancova_hi", keep(hi)),
        pl.Series("p_ancova", keep(t_two_sided_p(t, df))),
        pl.Series("p_ancova_overall", keep(p_overall, overall_ok)),
    )
    frame = nan_to_null(frame)
    frame = adjust_within(frame, "p_ancova", "q_ancova", ["study_id", "arm"], settings.fdr)
    return frame.select(*KEYS, *ANCOVA_COLUMNS)
