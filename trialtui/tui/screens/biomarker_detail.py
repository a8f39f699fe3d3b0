"""One biomarker: strip/box, slope, waterfall and trajectory plots by arm, and its numbers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Label, Static, TabbedContent, TabPane
from textual.worker import get_current_worker
from textual_plotext import PlotextPlot

from trialtui.formatting import arm_codes
from trialtui.tui.rows import RowsRead, read_rows
from trialtui.tui.screens.base import ResultsScreen
from trialtui.tui.views import arm_view, comparison_view, without
from trialtui.tui.widgets.frame_table import Column, FrameTable
from trialtui.tui.widgets.plots import (
    SlopeSeries,
    draw_message,
    draw_slope,
    draw_strip,
    draw_trajectory,
    draw_waterfall,
    slope_series,
)

if TYPE_CHECKING:
    from trialtui.study import StudyData, StudyResults

TABS = ("numbers", "strip", "slope", "waterfall", "trajectory")


def trajectory_changes(
    values: pl.DataFrame, timepoints: pl.DataFrame, biomarker: str
) -> pl.DataFrame:
    """log2(value / baseline value) of ``biomarker`` at every timepoint, per patient.

    ``values``: the biomarker's measurements (:func:`trialtui.store.catalog.measurements`
    with ``biomarker``); ``timepoints``: the study's (:func:`trialtui.store.catalog.timepoints`).
    Columns ``patient_id``, ``arm``, ``timepoint``, ``day`` (the timepoint's nominal day)
    and ``log2_change`` (0 at baseline); patients without a positive baseline are left out.
    """
    values = values.filter((pl.col("biomarker") == biomarker) & (pl.col("value") > 0)).join(
        timepoints.select("timepoint", pl.col("nominal_day").round(0).alias("day")),
        on="timepoint",
    )
    baseline = (
        values.filter(pl.col("is_baseline"))
        .group_by("patient_id")
        .agg(pl.col("value").first().alias("_base"))
    )
    return (
        values.join(baseline, on="patient_id")
        .group_by("patient_id", "arm", "timepoint", "day")
        .agg(pl.col("value").mean(), pl.col("_base").first())
        .with_columns((pl.col("value") / pl.col("_base")).log(2).alias("log2_change"))
        .select("patient_id", "arm", "timepoint", "day", "log2_change")
        .sort("patient_id", "day")
    )


@dataclass
class SlopeReady(Message, bubble=False):
    """A slope plot's series, prepared in a worker."""

    series: SlopeSeries
    generation: int


class BiomarkerDetailScreen(ResultsScreen):
    SUB_TITLE = "Biomarker"
    CSS_PATH = "biomarker_detail.tcss"
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("n", "tab('numbers')", "Numbers"),
        Binding("b", "tab('strip')", "Box/strip"),
        Binding("l", "tab('slope')", "Slope"),
        Binding("w", "tab('waterfall')", "Waterfall"),
        Binding("t", "tab('trajectory')", "Trajectory"),
    ]

    def __init__(self, biomarker: str) -> None:
        super().__init__()
        self.biomarker = biomarker
        self.fold_changes = pl.DataFrame()
        self.unit = ""
        self.arms: list[str] = []
        self.codes: dict[str, str] = {}
        self.slope_generation = 0
        self.rows_generation = 0  # the read of the biomarker's measurements in flight

    def compose_body(self) -> ComposeResult:
        yield Static("", id="biomarker-header")
        with TabbedContent(initial="numbers", id="biomarker-tabs"):
            with TabPane("Numbers (n)", id="numbers"), VerticalScroll():
                yield Label("Per arm", classes="section")
                yield FrameTable(id="biomarker-arms", classes="compact")
                yield Label("Between arms", classes="section")
                yield FrameTable(id="biomarker-comparison", classes="compact")
                yield Label("Patients", classes="section")
                yield FrameTable(id="biomarker-patients")
            with TabPane("Box/strip (b)", id="strip"):
                yield PlotextPlot(id="strip-plot")
            with TabPane("Slope (l)", id="slope"):
                yield PlotextPlot(id="slope-plot")
            with TabPane("Waterfall (w)", id="waterfall"):
                yield PlotextPlot(id="waterfall-plot")
            with TabPane("Trajectory (t)", id="trajectory"):
                yield PlotextPlot(id="trajectory-plot")

    def show_results(self, data: StudyData, results: StudyResults) -> None:
        b = self.biomarker
        self.sub_title = f"Biomarker {b}"
        meta = data.biomarkers.filter(pl.col("biomarker") == b)
        self.unit = ""
        if meta.height:
            row = meta.row(0, named=True)
            self.unit = row["unit"] or ""
            label = row["label"] if row["label"] not in (None, "", b) else ""
            lloq = f"LLOQ {row['lloq']:g}" if row["lloq"] is not None else ""
            parts = [row["assay"], row["compartment"], self.unit, lloq]
            details = " · ".join(str(p) for p in parts if p)
            self.query_one("#biomarker-header", Static).update(
                Text.assemble((b, "bold"), f" {label}" + (f" · {details}" if details else ""))
            )
        self.arms = data.arm_names
        self.codes = arm_codes(self.arms)
        conf = results.settings.conf_level
        self.fold_changes = results.level("patient").filter(pl.col("biomarker") == b)
        tp = f"{results.pairing.timepoint} vs {results.pairing.baseline_timepoint}"
        self.query_one("#biomarker-arms", FrameTable).show(
            results.level("arm").filter(pl.col("biomarker") == b),
            without(arm_view(conf), "biomarker"),
            caption=f"{tp}, within each arm",
            codes=self.codes,
        )
        self.query_one("#biomarker-comparison", FrameTable).show(
            results.level("comparison").filter(pl.col("biomarker") == b),
            without(comparison_view(conf), "biomarker", "n", "n_reference"),
            caption=f"vs {self.codes.get(results.reference_arm, results.reference_arm)}",
            codes=self.codes,
        )
        unit = f" ({self.unit})" if self.unit else ""
        self.query_one("#biomarker-patients", FrameTable).show(
            self.fold_changes.sort("log2fc", descending=True, nulls_last=True),
            [
                Column("patient_id", "Patient"),
                Column("arm", "Arm"),
                Column("log2fc", "log2FC"),
                Column("fc", "FC"),
                Column("pre", f"Pre{unit}"),
                Column("post", f"Post{unit}"),
                Column("response", "Response"),
            ],
            caption="Per patient",
            sorted_by="log2FC, largest first",
            codes=self.codes,
        )
        draw_strip(
            self.query_one("#strip-plot", PlotextPlot),
            self.fold_changes,
            self.arms,
            f"{b}: log2FC {tp} by arm",
            self.codes,
        )
        slope = self.query_one("#slope-plot", PlotextPlot)
        slope.plt.clear_figure()
        slope.plt.title(f"{b}: drawing {len(self.fold_changes):,} patients…")
        slope.refresh()
        self.slope_generation += 1
        self._prepare_slope(self.fold_changes, self.arms, self.slope_generation)
        draw_waterfall(
            self.query_one("#waterfall-plot", PlotextPlot),
            self.fold_changes,
            self.arms,
            f"{b}: per-patient log2FC {tp}",
            self.codes,
        )
        trajectory = self.query_one("#trajectory-plot", PlotextPlot)
        self.rows_generation += 1
        if data.timepoints.height >= 3:
            draw_message(trajectory, f"{b}: change from baseline by visit", "reading the values…")
            self._read(data.study_id, self.rows_generation)
        else:
            draw_message(
                trajectory,
                f"{b}: change from baseline by visit",
                f"{data.timepoints.height} timepoints: a trajectory needs three or more",
            )

    @work(thread=True, exclusive=True, exit_on_error=False, group="rows")
    def _read(self, study_id: str, generation: int) -> None:
        """Read the biomarker's measurements (a query on the database, not the study in
        memory) for the trajectory plot."""
        message = read_rows(self.trial.db_path, study_id, generation, biomarker=self.biomarker)
        if not get_current_worker().is_cancelled:
            self.post_message(message)

    def on_rows_read(self, message: RowsRead) -> None:
        data = self.trial.data
        if message.generation != self.rows_generation or data is None:
            return
        if not self.trial.rows_are_current(message):
            return  # the app reloads the study; the screen draws again then
        draw_trajectory(
            self.query_one("#trajectory-plot", PlotextPlot),
            trajectory_changes(message.rows, data.timepoints, self.biomarker),
            self.arms,
            f"{self.biomarker}: change from baseline by visit",
            self.codes,
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="slope")
    def _prepare_slope(self, fc: pl.DataFrame, arms: list[str], generation: int) -> None:
        series = slope_series(fc, arms)
        if not get_current_worker().is_cancelled:
            self.post_message(SlopeReady(series, generation))

    def on_slope_ready(self, message: SlopeReady) -> None:
        if message.generation != self.slope_generation:
            return
        draw_slope(
            self.query_one("#slope-plot", PlotextPlot),
            message.series,
            self.arms,
            f"{self.biomarker}: pre → post by arm",
            self.unit,
            self.codes,
        )

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

    def export_view(self) -> tuple[pl.DataFrame, str] | None:
        return self.fold_changes, f"patient_{self.biomarker}"
