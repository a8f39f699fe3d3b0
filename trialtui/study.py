"""One study's data and results: the single path by which the CLI and the TUI get numbers.

``load_study`` reads frames from the store; ``compute`` runs :mod:`trialtui.analysis` on them.
Both front ends call these two functions, so a number on screen equals the number exported.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import duckdb
import polars as pl

from trialtui.analysis import (
    AnalysisSettings,
    Pairing,
    choose_reference_arm,
    compare_arms,
    compare_response,
    correlate_changes,
    pair_samples,
    summarise_arms,
)
from trialtui.analysis.common import settings_columns
from trialtui.analysis.compare import COMPARISON_COLUMNS
from trialtui.analysis.correlation import CORRELATION_COLUMNS
from trialtui.analysis.friedman import FRIEDMAN_COLUMNS, friedman_test
from trialtui.analysis.paired import ARM_COLUMNS
from trialtui.analysis.pairing import (
    PATIENT_COLUMNS,
    RawPairs,
    pair_raw,
    resolve_timepoints,
)
from trialtui.analysis.response import RESPONSE_COLUMNS
from trialtui.analysis.timecourse import (
    ALL_TIMEPOINTS,
    combine_pairings,
    pair_every_timepoint,
    per_timepoint,
)
from trialtui.choices import LEVELS
from trialtui.errors import StoreError, UsageError, first_line
from trialtui.store import catalog
from trialtui.store.connection import connect
from trialtui.store.derived import write_study_derived

LEADING_COLUMNS: dict[str, tuple[str, ...]] = {
    "patient": PATIENT_COLUMNS,
    "arm": ARM_COLUMNS,
    "comparison": COMPARISON_COLUMNS,
    "correlation": CORRELATION_COLUMNS,
    "response": RESPONSE_COLUMNS,
    "friedman": FRIEDMAN_COLUMNS,
}
DERIVED_TABLES: dict[str, str] = {
    "patient": "fold_changes",
    "arm": "arm_summary",
    "comparison": "arm_comparison",
    "correlation": "change_correlation",
    "response": "response_comparison",
    "friedman": "timepoint_friedman",
}

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class StudyData:
    """Everything about one study that the analysis and the screens need."""

    study_id: str
    study: dict
    arms: pl.DataFrame
    timepoints: pl.DataFrame
    patients: pl.DataFrame
    biomarkers: pl.DataFrame
    completeness: pl.DataFrame
    measurements: pl.DataFrame | None  # every measurement; None unless asked for
    sources: pl.DataFrame | None = None
    data_version: tuple[int, int] | None = None
    unit_notes: tuple[str, ...] = ()  # biomarkers other studies measure in other units
    measured_timepoints: pl.DataFrame | None = None  # timepoint, ordinal, is_baseline
    raw_pairs: dict[str, RawPairs] = field(default_factory=dict)
    """The measurements of one baseline beside those of every other timepoint, keyed by
    that timepoint (read with SQL, so that pairing never needs every measurement)."""

    @property
    def timepoint_facts(self) -> pl.DataFrame:
        """A frame with the measured timepoints' timepoint, ordinal and is_baseline (what
        pairing resolves timepoints from): the measured timepoints when read, else the
        measurements themselves."""
        if self.measured_timepoints is not None:
            return self.measured_timepoints
        assert self.measurements is not None, "a study needs its measured timepoints"
        return self.measurements

    @property
    def flagged_reference(self) -> str | None:
        flagged = self.arms.filter(pl.col("is_reference"))["arm"].to_list()
        return flagged[0] if flagged else None

    @property
    def arm_names(self) -> list[str]:
        return self.arms["arm"].to_list()


# The columns of catalog.completeness, for a study read without it.
_NO_COMPLETENESS = pl.DataFrame(
    schema={
        "biomarker": pl.String,
        "arm": pl.String,
        "n_patients": pl.Int64,
        "n_baseline": pl.Int64,
        "n_on_treatment": pl.Int64,
        "n_paired": pl.Int64,
        "post_timepoint": pl.String,
    }
)


def load_study(
    con: duckdb.DuckDBPyConnection,
    study: str | None,
    *,
    completeness: bool = True,
    measurements: bool = False,
    baseline: str | None = None,
) -> StudyData:
    """Read one study from the database (``study`` None: the only study), with the
    imports its data come from and the database's data version, read in one transaction
    so that they describe exactly the rows read.

    The measurements of ``baseline`` (default: the study's baseline; also when the study
    has no such timepoint) are read beside those of every other timepoint
    (``raw_pairs``), joined by DuckDB: that is all :func:`compute` needs.
    ``measurements=True`` also reads every measurement into one frame.

    ``completeness=False`` leaves out the paired-completeness listing (an empty frame with
    its columns), which no statistic needs and which costs as much as reading the
    measurements on large studies; the command line's ``stats`` and ``export`` do."""
    con.execute("BEGIN TRANSACTION")
    try:
        return _read_study(con, study, completeness, measurements, baseline)
    finally:
        con.execute("ROLLBACK")


def _read_study(
    con: duckdb.DuckDBPyConnection,
    study: str | None,
    completeness: bool,
    with_measurements: bool,
    baseline: str | None,
) -> StudyData:
    study_id = catalog.resolve_study(con, study)
    studies = catalog.studies(con).filter(pl.col("study_id") == study_id)
    measured = catalog.measured_timepoints(con, study_id)
    timepoints = catalog.timepoints(con, study_id)
    patients = catalog.patients(con, study_id)
    biomarkers = catalog.biomarkers(con, study_id)
    raw_pairs = _read_raw_pairs(con, study_id, measured, baseline)
    table = _NO_COMPLETENESS
    if completeness:
        table = _completeness_from_pairs(timepoints, patients, biomarkers, raw_pairs)
        if table is None:
            table = catalog.completeness(con, study_id)
    return StudyData(
        study_id=study_id,
        study=studies.row(0, named=True),
        arms=catalog.arms(con, study_id),
        timepoints=timepoints,
        patients=patients,
        biomarkers=biomarkers,
        completeness=table,
        measurements=catalog.measurements(con, study_id) if with_measurements else None,
        sources=catalog.source_files(con, study_id),
        data_version=catalog.data_version(con),
        unit_notes=tuple(catalog.describe_unit_differences(con, study_id)),
        measured_timepoints=measured,
        raw_pairs=raw_pairs,
    )


def _completeness_from_pairs(
    timepoints: pl.DataFrame,
    patients: pl.DataFrame,
    biomarkers: pl.DataFrame,
    raw_pairs: dict[str, RawPairs],
) -> pl.DataFrame | None:
    """:func:`trialtui.store.catalog.completeness` from the raw pairs already read, when
    they pair the study's default timepoints (else None: ask the database)."""
    baselines = timepoints.filter(pl.col("is_baseline"))
    if baselines.height != 1:
        return None
    base_ordinal = baselines["ordinal"][0]
    later = timepoints.filter(~pl.col("is_baseline") & (pl.col("ordinal") > base_ordinal))
    if later.is_empty():
        return None
    post = later.sort("ordinal")["timepoint"][0]
    raw = raw_pairs.get(post)
    if raw is None or raw.baseline_timepoint != baselines["timepoint"][0]:
        return None
    arm_sizes = patients.group_by("arm").agg(pl.len().cast(pl.Int64).alias("n_patients"))
    coverage = raw.context.select(
        "biomarker",
        "arm",
        pl.col("n_at_baseline").alias("n_baseline"),
        pl.col("n_at_timepoint").alias("n_on_treatment"),
        pl.col("n_at_both").alias("n_paired"),
    )
    return (
        biomarkers.select("biomarker")
        .join(arm_sizes, how="cross")
        .join(coverage, on=["biomarker", "arm"], how="left")
        .with_columns(
            pl.col("n_baseline", "n_on_treatment", "n_paired").fill_null(0).cast(pl.Int64),
            pl.lit(post).alias("post_timepoint"),
        )
        .sort("biomarker", "arm")
    )


def _read_raw_pairs(
    con: duckdb.DuckDBPyConnection, study_id: str, measured: pl.DataFrame, baseline: str | None
) -> dict[str, RawPairs]:
    names = measured["timepoint"].to_list()
    if baseline not in names:
        flagged = measured.filter(pl.col("is_baseline"))["timepoint"].to_list()
        if not flagged:
            return {}
        baseline = flagged[0]
    pairs = {}
    for point in names:
        if point != baseline:
            rows, patients, markers, context = catalog.raw_pairs(
                con, study_id, baseline, point, names
            )
            pairs[point] = RawPairs(rows, patients, markers, context, baseline, point)
    return pairs


def pair_study(data: StudyData, settings: AnalysisSettings) -> Pairing:
    """The pairing of ``settings``' timepoints, from the study's raw pairs (or from its
    measurements, for a baseline they were not read for).

    Raises
    ------
    UsageError
        A named timepoint does not exist, or there is no timepoint after the baseline.
    """
    points = data.timepoint_facts
    baseline, timepoint = resolve_timepoints(points, settings)
    raw = data.raw_pairs.get(timepoint)
    if raw is not None and raw.baseline_timepoint == baseline:
        return pair_raw(raw, settings)
    if data.measurements is None:
        raise UsageError(
            f"the study was read for baseline '{_raw_baseline(data)}', not '{baseline}'"
        )
    return pair_samples(data.measurements, settings)


def _raw_baseline(data: StudyData) -> str | None:
    return next((raw.baseline_timepoint for raw in data.raw_pairs.values()), None)


def fit_settings(data: StudyData, settings: AnalysisSettings) -> tuple[AnalysisSettings, list[str]]:
    """``settings`` without the choices ``data``'s study cannot take, and a note for each.

    A timepoint or reference arm the study lacks falls back to the study's default (its
    baseline, its first timepoint after baseline, its reference arm by the usual rules),
    and the note says so: nothing is carried over silently.
    """
    points = data.timepoints["timepoint"].to_list()
    arms = data.arm_names
    changes: dict[str, None] = {}
    notes = []
    for name, known, what in (
        ("baseline_timepoint", points, "timepoint"),
        ("timepoint", points, "timepoint"),
        ("reference_arm", arms, "arm"),
    ):
        value = getattr(settings, name)
        if value is not None and value not in known and value != ALL_TIMEPOINTS:
            changes[name] = None
            notes.append(
                f"{data.study_id} has no {what} '{value}': "
                f"{name.replace('_', ' ')} is the study's default"
            )
    return (settings.with_changes(**changes) if changes else settings), notes


@dataclass(frozen=True)
class StudyResults:
    """All result levels of one study under one set of settings."""

    study_id: str
    settings: AnalysisSettings
    reference_arm: str
    pairing: Pairing
    frames: dict[str, pl.DataFrame]
    reference_reason: str = ""
    arms: tuple[str, ...] = ()
    sources: pl.DataFrame | None = None  # the imports the numbers were computed from
    data_version: tuple[int, int] | None = None  # the database's, when they were read
    timepoint_pairings: tuple[Pairing, ...] = ()
    """The baseline paired with each later timepoint (for ``--timepoint all`` and the
    Friedman level); ``pairing`` is one of them, or all combined."""

    @property
    def is_single_arm(self) -> bool:
        return len(self.arms) == 1

    def level(self, level: str) -> pl.DataFrame:
        """The result frame of ``level`` (one of :data:`LEVELS`)."""
        return self.frames[level]

    def settings_used(self) -> dict:
        """Every setting, with the reference arm and the timepoints as resolved (for
        provenance files and the ``derived_runs`` log alike)."""
        return self.settings.to_dict() | {
            "reference_arm": self.reference_arm,
            "reference_arm_reason": self.reference_reason,
            "baseline_timepoint": self.pairing.baseline_timepoint,
            "timepoint": self.pairing.timepoint,
        }


def compute(
    data: StudyData,
    settings: AnalysisSettings,
    *,
    levels: tuple[str, ...] = LEVELS,
    progress: Progress | None = None,
) -> StudyResults:
    """Run the analysis of ``levels`` on one study.

    ``progress(message, fraction)`` is called between steps (for progress bars).
    """
    say = progress or (lambda _m, _f: None)
    reference = choose_reference_arm(data.arm_names, settings, data.flagged_reference)
    say("pairing samples", 0.05)
    points = data.timepoint_facts
    if settings.timepoint == ALL_TIMEPOINTS:
        pairings = tuple(pair_every_timepoint(points, settings, pair=lambda s: pair_study(data, s)))
        pairing = combine_pairings(list(pairings))
    else:
        pairing = pair_study(data, settings)
        pairings = tuple(
            pair_every_timepoint(points, settings, pairing, pair=lambda s: pair_study(data, s))
        )
    empty = StudyResults(
        data.study_id,
        settings,
        reference.arm,
        pairing,
        {},
        reference_reason=reference.reason,
        arms=tuple(data.arm_names),
        sources=data.sources,
        data_version=data.data_version,
        timepoint_pairings=pairings,
    )
    return with_levels(empty, levels, progress=progress)


def with_levels(
    results: StudyResults, levels: tuple[str, ...], *, progress: Progress | None = None
) -> StudyResults:
    """``results`` with the levels of ``levels`` it lacks, computed from its pairing.

    The app computes costly levels (correlations of many biomarkers) only when a screen
    needs them; the numbers are the same as from :func:`compute` with every level.
    """
    say = progress or (lambda _m, _f: None)
    frames = dict(results.frames)
    steps = [lvl for lvl in LEVELS if lvl in levels and lvl not in frames]
    for i, level in enumerate(steps):
        text = f"computing {level} results"

        def within(fraction: float, i: int = i, text: str = text) -> None:
            say(text, 0.1 + 0.9 * (i + fraction) / len(steps))

        within(0.0)
        frames[level] = _order(_level_frame(level, results, within), level)
    say("done", 1.0)
    return replace(results, frames=frames)


def _level_frame(
    level: str, results: StudyResults, within: Callable[[float], None] | None = None
) -> pl.DataFrame:
    """The frame of ``level``; ``within`` is told the fraction done where a level can
    tell it (correlations of one pairing)."""
    if level == "friedman":
        return friedman_test(list(results.timepoint_pairings), results.settings)
    if results.pairing.timepoint == ALL_TIMEPOINTS:
        return per_timepoint(
            list(results.timepoint_pairings),
            lambda pairing: _pairing_frame(level, pairing, results),
        )
    return _pairing_frame(level, results.pairing, results, within)


def _pairing_frame(
    level: str,
    pairing: Pairing,
    results: StudyResults,
    within: Callable[[float], None] | None = None,
) -> pl.DataFrame:
    settings = results.settings
    if level == "patient":
        return pairing.fold_changes.with_columns(
            settings_columns(settings, pairing.baseline_timepoint, pairing.timepoint)
        )
    if level == "arm":
        return summarise_arms(pairing, settings)
    if level == "comparison":
        return compare_arms(pairing, settings, results.reference_arm)
    if level == "correlation":
        return correlate_changes(pairing, settings, within)
    return compare_response(pairing, settings)


def _order(frame: pl.DataFrame, level: str) -> pl.DataFrame:
    """Documented columns first, in order; integer counts as Int64."""
    lead = LEADING_COLUMNS[level]
    rest = [c for c in frame.columns if c not in lead]
    ints = [c for c, t in frame.schema.items() if t in (pl.UInt32, pl.UInt64, pl.Int32)]
    return frame.select(*lead, *rest).with_columns(pl.col(ints).cast(pl.Int64))


def store_results(db_path: Path | str, results: StudyResults) -> None:
    """Write every computed level of ``results`` into its derived table and record the
    settings in ``derived_runs``, in one transaction.

    Raises
    ------
    StoreError
        The database is locked by another process or cannot be opened for writing.
    """
    with storing_results(db_path, results):
        pass


@contextlib.contextmanager
def storing_results(db_path: Path | str, results: StudyResults) -> Iterator[None]:
    """Store ``results`` (as :func:`store_results`) while the block runs, committed only
    once the block has completed: an export writes its files meanwhile, and the database
    holds the new results only if they were all written. On an error or an interrupt in
    the block the stored tables stay as they were.

    Raises
    ------
    StoreError
        After the block: the database is locked, cannot be opened for writing, or the
        results cannot be written.
    """
    from trialtui import __version__

    try:
        con = connect(db_path, read_only=False)
    except StoreError:
        yield  # the files are written all the same; the database says why not after
        raise
    frames = {DERIVED_TABLES[level]: frame for level, frame in results.frames.items()}
    failures: list[BaseException] = []

    def write() -> None:
        try:
            write_study_derived(
                con,
                results.study_id,
                frames,
                results.settings_used(),
                __version__,
                commit=False,
                data_version=results.data_version,
            )
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)

    writer = threading.Thread(target=write, name="store-results", daemon=True)
    writer.start()
    try:
        try:
            yield
            writer.join()
        except BaseException:
            con.interrupt()
            writer.join()
            if not failures:
                con.execute("ROLLBACK")
            raise
        if failures:
            exc = failures[0]
            if isinstance(exc, duckdb.Error):
                raise StoreError(f"{db_path}: cannot store results: {first_line(exc)}") from None
            raise exc
        con.execute("COMMIT")
    finally:
        con.close()
