"""Pair baseline and on-treatment values per patient and compute fold-changes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from trialtui.analysis.settings import AnalysisSettings
from trialtui.errors import UsageError

PATIENT_COLUMNS = (
    "study_id",
    "patient_id",
    "arm",
    "biomarker",
    "unit",
    "pre",
    "post",
    "fc",
    "log2fc",
    "pre_imputed",
    "post_imputed",
)

KEYS = ["study_id", "biomarker", "arm"]


@dataclass(frozen=True)
class Pairing:
    """The paired values of one study and how they were formed.

    Attributes
    ----------
    fold_changes
        One row per paired patient and biomarker. Columns: study_id, patient_id, arm,
        biomarker, unit (the study's unit of the biomarker), pre, post, fc, log2fc,
        pre_imputed, post_imputed, response, pre_timepoint, post_timepoint.
    counts
        One row per (study_id, biomarker, arm): unit, n_pairs, n_unpaired, n_imputed (values
        of the pairs substituted below LLOQ or for zeros), n_excluded (values of the two
        timepoints left out below LLOQ).
    baseline_timepoint, timepoint
        The timepoints that were paired.
    """

    fold_changes: pl.DataFrame
    counts: pl.DataFrame
    baseline_timepoint: str
    timepoint: str


def resolve_timepoints(measurements: pl.DataFrame, settings: AnalysisSettings) -> tuple[str, str]:
    """The (baseline, on-treatment) timepoints for ``settings``.

    Raises
    ------
    UsageError
        A named timepoint does not exist, or there is no timepoint after the baseline.
    """
    points = measurements.select("timepoint", "ordinal", "is_baseline").unique().sort("ordinal")
    names = points["timepoint"].to_list()
    if settings.baseline_timepoint is not None:
        if settings.baseline_timepoint not in names:
            raise UsageError(
                f"unknown baseline timepoint '{settings.baseline_timepoint}' "
                f"(timepoints: {', '.join(names)})"
            )
        baseline = settings.baseline_timepoint
    else:
        flagged = points.filter(pl.col("is_baseline"))["timepoint"].to_list()
        if not flagged:
            raise UsageError("the study has no baseline timepoint")
        baseline = flagged[0]
    base_ordinal = points.filter(pl.col("timepoint") == baseline)["ordinal"][0]
    if settings.timepoint is not None:
        if settings.timepoint not in names:
            raise UsageError(
                f"unknown timepoint '{settings.timepoint}' (timepoints: {', '.join(names)})"
            )
        if settings.timepoint == baseline:
            raise UsageError(f"timepoint '{baseline}' is the baseline; choose another")
        return baseline, settings.timepoint
    later = points.filter(pl.col("ordinal") > base_ordinal)["timepoint"].to_list()
    if not later:
        raise UsageError(f"no timepoint after the baseline '{baseline}'")
    return baseline, later[0]


def usable_values(measurements: pl.DataFrame, settings: AnalysisSettings) -> pl.DataFrame:
    """Apply the LLOQ policy and the zero pseudocount.

    Adds ``used`` (the value analysed, null if excluded) and ``imputed`` (True when ``used``
    was substituted for a below-LLOQ value or a zero).
    """
    if settings.lloq_policy == "half":
        censored = pl.col("lloq") / 2
    elif settings.lloq_policy == "lloq":
        censored = pl.col("lloq")
    else:
        censored = pl.lit(None, dtype=pl.Float64)
    smallest = (
        pl.when(pl.col("value") > 0)
        .then(pl.col("value"))
        .otherwise(None)
        .min()
        .over("study_id", "biomarker")
    )
    pseudo = pl.lit(settings.pseudocount) if settings.pseudocount is not None else smallest / 2
    is_zero = ~pl.col("below_lloq") & (pl.col("value") == 0)
    return measurements.with_columns(
        pl.when(pl.col("below_lloq"))
        .then(censored)
        .when(is_zero)
        .then(pseudo)
        .otherwise(pl.col("value"))
        .cast(pl.Float64)
        .alias("used"),
        (pl.col("below_lloq") & pl.lit(settings.lloq_policy != "exclude") | is_zero).alias(
            "imputed"
        ),
        (pl.col("below_lloq") & pl.lit(settings.lloq_policy == "exclude")).alias("excluded"),
    )


def pair_samples(measurements: pl.DataFrame, settings: AnalysisSettings) -> Pairing:
    """Pair each patient's baseline and on-treatment value of every biomarker.

    Parameters
    ----------
    measurements
        As returned by :func:`trialtui.store.catalog.measurements`: study_id, patient_id,
        arm, response, timepoint, ordinal, is_baseline, biomarker, value, below_lloq, lloq.
    settings
        Timepoints, LLOQ policy and pseudocount.

    Returns
    -------
    Pairing
        Fold-changes and per (biomarker, arm) counts. FC = post / pre and
        log2FC = log2(post) - log2(pre).

    Notes
    -----
    log2 is C's ``log2`` (via NumPy), as in R, not Polars' ``log(2)`` (``ln(x) / ln(2)``):
    the two differ in the last bit for many values, and that decides whether equal ratios
    from different values (7 -> 20 and 40 -> 14) tie, and so which branch and p-value
    ``wilcox.test`` gives.

    Examples
    --------
    >>> m = pl.DataFrame({
    ...     "study_id": ["S"] * 4, "patient_id": ["p1", "p1", "p2", "p2"],
    ...     "arm": ["A"] * 4, "response": ["PR"] * 4,
    ...     "timepoint": ["BL", "W4"] * 2, "ordinal": [0, 1] * 2,
    ...     "is_baseline": [True, False] * 2, "biomarker": ["CD8"] * 4,
    ...     "value": [10.0, 40.0, 5.0, None], "below_lloq": [False] * 3 + [True],
    ...     "lloq": [1.0] * 4})
    >>> pair_samples(m, AnalysisSettings()).fold_changes["fc"].to_list()
    [4.0, 0.1]
    """
    baseline, timepoint = resolve_timepoints(measurements, settings)
    if "unit" not in measurements.columns:
        measurements = measurements.with_columns(pl.lit(None, dtype=pl.String).alias("unit"))
    values = usable_values(measurements, settings)
    patient_keys = ["study_id", "patient_id", "arm", "biomarker"]
    order = ["study_id", "biomarker", "arm", "patient_id"]
    key = _ordered_key(measurements, order)
    if key is not None:
        values = values.with_columns(key.alias("_key"))
    join_on = ["_key"] if key is not None else patient_keys

    def at(point: str, prefix: str, *labels: str) -> pl.DataFrame:
        return values.filter(pl.col("timepoint") == point).select(
            *join_on,
            *labels,
            pl.col("used").alias(prefix),
            pl.col("imputed").alias(f"{prefix}_imputed"),
        )

    labels = ([*patient_keys] if key is not None else []) + ["unit", "response"]
    paired = (
        at(baseline, "pre", *labels)
        .join(at(timepoint, "post"), on=join_on, how="inner")
        .filter(pl.col("pre").is_not_null() & pl.col("post").is_not_null())
        .sort(join_on if key is not None else order)
    )
    fold_changes = paired.select(
        *patient_keys[:3],
        "biomarker",
        "unit",
        "pre",
        "post",
        (pl.col("post") / pl.col("pre")).alias("fc"),
        (np.log2(pl.col("post")) - np.log2(pl.col("pre"))).alias("log2fc"),
        "pre_imputed",
        "post_imputed",
        "response",
        pl.lit(baseline).alias("pre_timepoint"),
        pl.lit(timepoint).alias("post_timepoint"),
    )

    in_window = values.filter(pl.col("timepoint").is_in([baseline, timepoint]))
    seen = values.group_by(KEYS).agg(
        pl.col("patient_id").n_unique().alias("n_patients"),
        pl.col("unit").drop_nulls().first().alias("unit"),
    )
    window_counts = in_window.group_by(KEYS).agg(pl.col("excluded").sum().alias("n_excluded"))
    pair_counts = fold_changes.group_by(KEYS).agg(
        pl.len().alias("n_pairs"),
        (pl.col("pre_imputed").sum() + pl.col("post_imputed").sum()).alias("n_imputed"),
    )
    counts = (
        seen.join(pair_counts, on=KEYS, how="left")
        .join(window_counts, on=KEYS, how="left")
        .with_columns(pl.col("n_pairs", "n_imputed", "n_excluded").fill_null(0).cast(pl.Int64))
        .with_columns((pl.col("n_patients") - pl.col("n_pairs")).alias("n_unpaired"))
        .select(*KEYS, "unit", "n_pairs", "n_unpaired", "n_imputed", "n_excluded")
        .sort(KEYS)
    )
    return Pairing(fold_changes, counts, baseline, timepoint)


def _ordered_key(frame: pl.DataFrame, columns: list[str]) -> pl.Expr | None:
    """One Int64 per row whose order is the rows' order by ``columns`` (strings, compared
    byte-wise as Polars sorts them) and which is equal exactly when all of them are.

    Joining and sorting millions of rows on one integer instead of four strings is several
    times faster and leaner. None when a column has nulls or the key would not fit in 62
    bits; the caller then joins and sorts on the columns themselves.
    """
    if frame.is_empty():
        return None
    parts = []
    size = 1
    for column in reversed(columns):
        levels = frame.get_column(column)
        if levels.dtype != pl.String or levels.null_count():
            return None
        levels = levels.unique().sort()
        code = pl.col(column).cast(pl.Enum(levels.to_list())).to_physical().cast(pl.Int64)
        parts.append(code * size)
        size *= max(len(levels), 1)
        if size >= 2**62:
            return None
    return pl.sum_horizontal(parts)
