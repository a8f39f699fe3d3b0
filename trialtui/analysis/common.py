"""Shared pieces of the analysis modules: t quantiles, NaN handling, settings columns."""

from __future__ import annotations

import itertools

import numpy as np
import polars as pl
from scipy import special

from trialtui.analysis.settings import AnalysisSettings

MIN_N_FOR_P = 3  # a test with fewer observations per group reports no p-value


def t_two_sided_p(t: np.ndarray, df: np.ndarray) -> np.ndarray:
    """Two-sided p-values of t statistics (NaN where undefined).

    ``scipy.special.stdtr`` is what ``scipy.stats.t.sf`` computes, without importing
    ``scipy.stats`` (over half a second at start-up).
    """
    df = np.asarray(df, dtype=float)
    with np.errstate(invalid="ignore"):
        p = 2.0 * special.stdtr(df, -np.abs(t))
    return np.where(df > 0, p, np.nan)


def t_quantile(conf_level: float, df: np.ndarray) -> np.ndarray:
    """The (1 + conf_level) / 2 quantile of t with ``df`` degrees of freedom
    (``scipy.stats.t.ppf``'s computation)."""
    df = np.asarray(df, dtype=float)
    with np.errstate(invalid="ignore"):
        q = special.stdtrit(df, (1.0 + conf_level) / 2.0)
    return np.where(df > 0, q, np.nan)


def nan_to_null(frame: pl.DataFrame) -> pl.DataFrame:
    """Missing results are nulls, never NaN, in every output frame."""
    floats = [c for c, t in frame.schema.items() if t in (pl.Float64, pl.Float32)]
    return frame.with_columns(pl.col(floats).fill_nan(None)) if floats else frame


def settings_columns(settings: AnalysisSettings, baseline: str, timepoint: str) -> list[pl.Expr]:
    """Trailing columns recording how a result row was computed."""
    return [
        pl.lit(baseline).alias("baseline_timepoint"),
        pl.lit(timepoint).alias("timepoint"),
        pl.lit(settings.lloq_policy).alias("lloq_policy"),
        # null: the default, half of each biomarker's smallest positive value
        pl.lit(settings.pseudocount, dtype=pl.Float64).alias("pseudocount"),
        pl.lit(settings.fdr).alias("fdr_method"),
        pl.lit(settings.conf_level).alias("conf_level"),
    ]


def grouped(frame: pl.DataFrame, keys: list[str]) -> tuple[pl.DataFrame, np.ndarray]:
    """``frame`` with the rows of each group of ``keys`` together, groups in key order,
    and the offsets where groups start (plus the end).

    Pairings come sorted by their keys; that is checked on the first row of each run of
    equal keys (runs in strictly increasing key order are exactly sorted groups), and
    the frame is sorted only when it is not.
    """
    for attempt in range(2):
        if frame.is_empty():
            return frame, np.zeros(1, dtype=np.int64)
        change = pl.any_horizontal([pl.col(k) != pl.col(k).shift(1) for k in keys])
        starts = frame.select(change.fill_null(True).arg_true())[:, 0].to_numpy()
        heads = frame[starts.tolist()].select(keys).rows()
        if attempt or all(a < b for a, b in itertools.pairwise(heads)):
            return frame, np.append(starts, frame.height).astype(np.int64)
        frame = frame.sort(keys, maintain_order=True)
    raise AssertionError("unreachable")


def per_group(
    frame: pl.DataFrame, offsets: np.ndarray, keys: list[str], *aggs: pl.Expr
) -> pl.DataFrame:
    """``aggs`` over each group of ``frame`` (rows offsets[g]:offsets[g + 1], as
    :func:`grouped` gives them), one row per group in order with its ``keys`` first.

    The groups are told apart by their position, not by hashing the keys."""
    sizes = np.diff(offsets)
    segment = pl.Series("_segment", np.repeat(np.arange(len(sizes), dtype=np.int32), sizes))
    values = (
        frame.with_columns(segment)
        .group_by("_segment", maintain_order=True)
        .agg(*aggs)
        .drop("_segment")
    )
    return pl.concat([frame[offsets[:-1].tolist()].select(keys), values], how="horizontal")
