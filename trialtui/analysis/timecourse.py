"""Every on-treatment timepoint against the baseline: one pairing per timepoint."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from trialtui.analysis.pairing import Pairing, pair_samples, resolve_timepoints
from trialtui.analysis.settings import AnalysisSettings
from trialtui.choices import TIMEPOINT_ALL

ALL_TIMEPOINTS = TIMEPOINT_ALL  # the ``timepoint`` setting: baseline with every later one


def later_timepoints(timepoints: pl.DataFrame, settings: AnalysisSettings) -> list[str]:
    """The timepoints after the baseline of ``settings``, in visit order.

    ``timepoints``: any frame with the columns timepoint, ordinal and is_baseline, such as
    the measurements or the study's measured timepoints.

    Raises
    ------
    UsageError
        The baseline does not exist or no timepoint follows it.
    """
    baseline, _ = resolve_timepoints(timepoints, settings.with_changes(timepoint=None))
    points = timepoints.select("timepoint", "ordinal").unique().sort("ordinal")
    base_ordinal = points.filter(pl.col("timepoint") == baseline)["ordinal"][0]
    return points.filter(pl.col("ordinal") > base_ordinal)["timepoint"].to_list()


def pair_every_timepoint(
    measurements: pl.DataFrame,
    settings: AnalysisSettings,
    known: Pairing | None = None,
    *,
    pair: Callable[[AnalysisSettings], Pairing] | None = None,
) -> list[Pairing]:
    """One :class:`Pairing` of the baseline with each later timepoint, in visit order.

    Each pairing follows :func:`trialtui.analysis.pairing.pair_samples` with ``settings``
    (LLOQ, zeros, baseline) and its own on-treatment timepoint; ``known``, a pairing
    already made for one of them, is reused. ``pair(settings)``, when given, makes a
    pairing instead of :func:`pair_samples` on ``measurements`` (which then need only the
    columns timepoint, ordinal and is_baseline).
    """
    make = pair or (lambda chosen: pair_samples(measurements, chosen))
    return [
        known
        if known is not None and known.timepoint == point
        else make(settings.with_changes(timepoint=point))
        for point in later_timepoints(measurements, settings)
    ]


def combine_pairings(pairings: list[Pairing]) -> Pairing:
    """The pairings of every timepoint as one (``timepoint`` ``"all"``).

    Fold-changes keep their ``post_timepoint``; counts gain a ``timepoint`` column.
    """
    fold_changes = pl.concat([p.fold_changes for p in pairings], how="vertical_relaxed")
    counts = pl.concat(
        [p.counts.with_columns(pl.lit(p.timepoint).alias("timepoint")) for p in pairings],
        how="vertical_relaxed",
    )
    return Pairing(fold_changes, counts, pairings[0].baseline_timepoint, ALL_TIMEPOINTS)


def per_timepoint(
    pairings: list[Pairing], result_of: Callable[[Pairing], pl.DataFrame]
) -> pl.DataFrame:
    """``result_of`` each pairing, stacked: one block of rows per on-treatment timepoint.

    Multiplicity adjustments inside ``result_of`` stay within one timepoint, so q-values
    are per timepoint.
    """
    return pl.concat([result_of(p) for p in pairings], how="vertical_relaxed")


def summarise_every_timepoint(pairings: list[Pairing], settings: AnalysisSettings) -> pl.DataFrame:
    """Per-arm summaries (:func:`trialtui.analysis.paired.summarise_arms`) at every
    on-treatment timepoint, one block of rows per timepoint (its ``timepoint`` column);
    q-values are adjusted within each timepoint."""
    from trialtui.analysis.paired import summarise_arms

    return per_timepoint(pairings, lambda pairing: summarise_arms(pairing, settings))
