"""Pair baseline and on-treatment values per patient and compute fold-changes."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import polars as pl

from trialtui.analysis.common import grouped
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

    @cached_property
    def groups(self) -> tuple[pl.DataFrame, np.ndarray]:
        """``fold_changes`` with each (study_id, biomarker, arm)'s rows together and where
        each group starts (:func:`trialtui.analysis.common.grouped`): found once for every
        level computed from this pairing."""
        return grouped(self.fold_changes, KEYS)


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
    """Apply the LLOQ policy and the zero pseudocount to every measurement.

    Adds ``used`` (the value analysed, null if excluded), ``imputed`` (True when ``used``
    was substituted for a below-LLOQ value or a zero) and ``excluded``.
    """
    smallest = (
        pl.when(pl.col("value") > 0)
        .then(pl.col("value"))
        .otherwise(None)
        .min()
        .over("study_id", "biomarker")
    )
    pseudo = pl.lit(settings.pseudocount) if settings.pseudocount is not None else smallest / 2
    used, imputed = _used_value(
        pl.col("value"), pl.col("below_lloq"), pl.col("lloq"), settings, pseudo
    )
    return measurements.with_columns(
        used.alias("used"),
        imputed.alias("imputed"),
        (pl.col("below_lloq") & pl.lit(settings.lloq_policy == "exclude")).alias("excluded"),
    )


def _used_value(
    value: pl.Expr, below: pl.Expr, lloq: pl.Expr, settings: AnalysisSettings, pseudo: pl.Expr
) -> tuple[pl.Expr, pl.Expr]:
    """The value analysed (null if excluded) and whether it was imputed: the LLOQ policy
    for values below LLOQ, ``pseudo`` for zeros."""
    if settings.lloq_policy == "half":
        censored = lloq / 2
    elif settings.lloq_policy == "lloq":
        censored = lloq
    else:
        censored = pl.lit(None, dtype=pl.Float64)
    is_zero = ~below & (value == 0)
    used = pl.when(below).then(censored).when(is_zero).then(pseudo).otherwise(value)
    imputed = below & pl.lit(settings.lloq_policy != "exclude") | is_zero
    return used.cast(pl.Float64), imputed


# The rows of :class:`RawPairs`: numbers only; names are in its lookup frames.
RAW_PAIR_COLUMNS = (
    "patient",
    "marker",
    "pre_value",
    "pre_below",
    "pre_lloq",
    "post_value",
    "post_below",
    "post_lloq",
)
PATIENT_LOOKUP_COLUMNS = ["study_id", "patient_id", "arm", "response"]
MARKER_LOOKUP_COLUMNS = ["study_id", "biomarker", "unit"]
CONTEXT_COLUMNS = (
    "study_id",
    "biomarker",
    "arm",
    "unit",
    "n_patients",
    "n_below_window",
    "smallest_positive",
    "n_at_baseline",
    "n_at_timepoint",
    "n_at_both",
)


@dataclass(frozen=True)
class RawPairs:
    """Measurements at two timepoints side by side, before any analysis rule.

    Attributes
    ----------
    rows
        One row per patient, biomarker and pair of measurements (columns
        :data:`RAW_PAIR_COLUMNS`: ``patient`` and ``marker`` index ``patients`` and
        ``markers``; value null when below LLOQ, lloq the one that applies), sorted by
        study_id, biomarker, arm and patient_id. Names are attached only to the pairs
        an analysis keeps (:meth:`labelled`): millions of rows hold no strings.
    patients, markers
        The rows' patients (:data:`PATIENT_LOOKUP_COLUMNS`) and biomarkers
        (:data:`MARKER_LOOKUP_COLUMNS`), row i for index i.
    context
        One row per (study_id, biomarker, arm) measured at any timepoint (columns
        :data:`CONTEXT_COLUMNS`): patients with any measurement, measurements below LLOQ
        at either of the two timepoints, the biomarker's smallest value above zero, and
        the patients measured at the baseline, at the timepoint and at both.
    baseline_timepoint, timepoint
        The two timepoints.

    The store builds them with SQL for large studies
    (:func:`trialtui.store.catalog.raw_pairs`); :func:`raw_pairs_from_measurements`
    builds the same from a frame of measurements. :func:`pair_raw` applies the rules.
    """

    rows: pl.DataFrame
    patients: pl.DataFrame
    markers: pl.DataFrame
    context: pl.DataFrame
    baseline_timepoint: str
    timepoint: str

    def labelled(self, rows: pl.DataFrame | None = None) -> pl.DataFrame:
        """``rows`` (default: every row) with the names of their study, patient, arm,
        response, biomarker and unit in front, in place of the indices."""
        rows = self.rows if rows is None else rows
        patient, marker = rows["patient"], rows["marker"]
        return rows.select(
            self.patients["study_id"].gather(patient),
            self.patients["patient_id"].gather(patient),
            self.patients["arm"].gather(patient),
            self.patients["response"].gather(patient),
            self.markers["biomarker"].gather(marker),
            self.markers["unit"].gather(marker),
            pl.all().exclude("patient", "marker"),
        )


def raw_pairs_from_measurements(
    measurements: pl.DataFrame, baseline: str, timepoint: str
) -> RawPairs:
    """:class:`RawPairs` of ``baseline`` and ``timepoint`` from a frame of measurements
    (columns of :func:`trialtui.store.catalog.measurements`; ``unit`` optional)."""
    if "unit" not in measurements.columns:
        measurements = measurements.with_columns(pl.lit(None, dtype=pl.String).alias("unit"))
    patient_keys = ["study_id", "patient_id", "arm", "biomarker"]

    def at(point: str, prefix: str, *labels: str) -> pl.DataFrame:
        return measurements.filter(pl.col("timepoint") == point).select(
            *patient_keys,
            *labels,
            pl.col("value").alias(f"{prefix}_value"),
            pl.col("below_lloq").alias(f"{prefix}_below"),
            pl.col("lloq").cast(pl.Float64).alias(f"{prefix}_lloq"),
        )

    named = (
        at(baseline, "pre", "unit", "response")
        .join(at(timepoint, "post"), on=patient_keys, how="inner")
        .sort("study_id", "biomarker", "arm", "patient_id")
        .with_row_index("_row")
    )
    patients = named.select(PATIENT_LOOKUP_COLUMNS).unique(maintain_order=True)
    markers = named.select(MARKER_LOOKUP_COLUMNS).unique(maintain_order=True)
    rows = (
        named.join(patients.with_row_index("patient"), on=PATIENT_LOOKUP_COLUMNS, nulls_equal=True)
        .join(markers.with_row_index("marker"), on=MARKER_LOOKUP_COLUMNS, nulls_equal=True)
        .sort("_row")
        .select(RAW_PAIR_COLUMNS)
    )
    window = pl.col("timepoint").is_in([baseline, timepoint])

    def patients_at(*points: str) -> pl.Expr:
        at = [pl.col("patient_id").filter(pl.col("timepoint") == p).unique() for p in points]
        common = at[0] if len(at) == 1 else at[0].filter(at[0].is_in(at[1].implode()))
        return common.len().cast(pl.Int64)

    context = measurements.group_by(KEYS).agg(
        pl.col("unit").drop_nulls().first(),
        pl.col("patient_id").n_unique().alias("n_patients"),
        (pl.col("below_lloq") & window).sum().cast(pl.Int64).alias("n_below_window"),
        patients_at(baseline).alias("n_at_baseline"),
        patients_at(timepoint).alias("n_at_timepoint"),
        patients_at(baseline, timepoint).alias("n_at_both"),
    )
    smallest = measurements.group_by("study_id", "biomarker").agg(
        pl.col("value").filter(pl.col("value") > 0).min().alias("smallest_positive")
    )
    context = context.join(smallest, on=["study_id", "biomarker"], how="left")
    return RawPairs(rows, patients, markers, context.select(CONTEXT_COLUMNS), baseline, timepoint)


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
        Fold-changes and per (biomarker, arm) counts (see :func:`pair_raw`).

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
    return pair_raw(raw_pairs_from_measurements(measurements, baseline, timepoint), settings)


def _usable(prefix: str, settings: AnalysisSettings, pseudo: pl.Expr) -> list[pl.Expr]:
    """:func:`_used_value` of one timepoint's columns (``pre_`` or ``post_``)."""
    value, below, lloq = (pl.col(f"{prefix}_{part}") for part in ("value", "below", "lloq"))
    used, imputed = _used_value(value, below, lloq, settings, pseudo)
    return [used.alias(prefix), imputed.alias(f"{prefix}_imputed")]


def _pairs_per_group(fold_changes: pl.DataFrame) -> pl.DataFrame:
    """Pairs and imputed values per (study, biomarker, arm): counted over the runs of
    each group (pairs come sorted by group), not by hashing the keys."""
    ordered, offsets = grouped(fold_changes.select(*KEYS, "pre_imputed", "post_imputed"), KEYS)
    starts = offsets[:-1]
    imputed = ordered.select(
        pl.col("pre_imputed").cast(pl.Int64) + pl.col("post_imputed").cast(pl.Int64)
    ).to_series()
    n_imputed = np.add.reduceat(imputed.to_numpy(), starts) if len(starts) else []
    return (
        ordered[starts.tolist()]
        .select(KEYS)
        .with_columns(
            pl.Series("n_pairs", np.diff(offsets), dtype=pl.Int64),
            pl.Series("n_imputed", n_imputed, dtype=pl.Int64),
        )
    )


def pair_raw(raw: RawPairs, settings: AnalysisSettings) -> Pairing:
    """Fold-changes and counts from measurements side by side, under ``settings``.

    Values below LLOQ become LLOQ/2, LLOQ or are left out (``settings.lloq_policy``); zeros
    become the pseudocount (default: half the biomarker's smallest value above zero in
    the study). FC = post / pre and log2FC = log2(post) - log2(pre), for every pair with
    both values.

    Notes
    -----
    log2 is C's ``log2`` (via NumPy), as in R, not Polars' ``log(2)`` (``ln(x) / ln(2)``):
    the two differ in the last bit for many values, and that decides whether equal ratios
    from different values (7 -> 20 and 40 -> 14) tie, and so which branch and p-value
    ``wilcox.test`` gives.
    """
    rows = raw.rows
    if settings.pseudocount is not None:
        pseudo = pl.lit(settings.pseudocount, dtype=pl.Float64)
    else:
        pseudo = pl.col("smallest_positive") / 2
        has_zero = ((rows["pre_value"] == 0) | (rows["post_value"] == 0)).any()
        if has_zero:  # each biomarker's smallest value above zero, by its index
            smallest = (
                raw.markers.with_row_index("marker")
                .join(
                    raw.context.select("study_id", "biomarker", "smallest_positive").unique(
                        ["study_id", "biomarker"]
                    ),
                    on=["study_id", "biomarker"],
                    how="left",
                )
                .sort("marker")["smallest_positive"]
            )
            rows = rows.with_columns(smallest.gather(rows["marker"]))
        else:  # no zero to replace: the pseudocount is never used
            rows = rows.with_columns(pl.lit(None, dtype=pl.Float64).alias("smallest_positive"))
    paired = rows.with_columns(
        *_usable("pre", settings, pseudo), *_usable("post", settings, pseudo)
    ).filter(pl.col("pre").is_not_null() & pl.col("post").is_not_null())
    kept = paired.select("patient", "marker", "pre", "post", "pre_imputed", "post_imputed")
    fold_changes = raw.labelled(kept).select(
        "study_id",
        "patient_id",
        "arm",
        "biomarker",
        "unit",
        "pre",
        "post",
        (pl.col("post") / pl.col("pre")).alias("fc"),
        (np.log2(pl.col("post")) - np.log2(pl.col("pre"))).alias("log2fc"),
        "pre_imputed",
        "post_imputed",
        "response",
        pl.lit(raw.baseline_timepoint).alias("pre_timepoint"),
        pl.lit(raw.timepoint).alias("post_timepoint"),
    )
    pair_counts = _pairs_per_group(fold_changes)
    excluded = pl.col("n_below_window") if settings.lloq_policy == "exclude" else pl.lit(0)
    counts = (
        raw.context.select(*KEYS, "unit", "n_patients", excluded.alias("n_excluded"))
        .join(pair_counts, on=KEYS, how="left")
        .with_columns(pl.col("n_pairs", "n_imputed", "n_excluded").fill_null(0).cast(pl.Int64))
        .with_columns((pl.col("n_patients") - pl.col("n_pairs")).alias("n_unpaired"))
        .select(*KEYS, "unit", "n_pairs", "n_unpaired", "n_imputed", "n_excluded")
        .sort(KEYS)
    )
    return Pairing(fold_changes, counts, raw.baseline_timepoint, raw.timepoint)
