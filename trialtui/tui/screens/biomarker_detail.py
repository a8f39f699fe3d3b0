"""One biomarker: strip/box, slope and waterfall plots by arm, and its numbers."""

from __future__ import annotations

import polars as pl
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Label, Static, TabbedContent, TabPane
from textual_plotext import PlotextPlot

from trialtui.study import StudyData, StudyResults
from trialtui.tui.screens.base import ResultsScreen
from trialtui.tui.views import ARM_VIEW, COMPARISON_VIEW, without
from trialtui.tui.widgets.frame_table import Column, FrameTable
from trialtui.tui.widgets.plots import draw_slope, draw_strip, draw_waterfall

TABS = ("numbers", "strip", "slope", "waterfall")


class BiomarkerDetailScreen(ResultsScreen):
    SUB_TITLE = "Biomarker"
    CSS_PATH = "biomarker_detail.tcss"
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("n", "tab('numbers')", "Numbers"),
        Binding("b", "tab('strip')", "Box/strip"),
        Binding("l", "tab('slope')", "Slope"),
        Binding("w", "tab('waterfall')", "Waterfall"),
    ]

    def __init__(self, biomarker: str) -> None:
        super().__init__()
        self.biomarker = biomarker
        self.fold_changes = pl.DataFrame()

    def compose_body(self) -> ComposeResult:
        yield Static("", id="biomarker-header")
        with TabbedContent(initial="numbers", id="biomarker-tabs"):
            with TabPane("Numbers [n]", id="numbers"), VerticalScroll():
                yield Label("Per arm", classes="section")
                yield FrameTable(id="biomarker-arms", classes="compact")
                yield Label("Between arms", classes="section")
                yield FrameTable(id="biomarker-comparison", classes="compact")
                yield Label("Patients", classes="section")
                yield FrameTable(id="biomarker-patients")
            with TabPane("Box/strip [b]", id="strip"):
                yield PlotextPlot(id="strip-plot")
            with TabPane("Slope [l]", id="slope"):
                yield PlotextPlot(id="slope-plot")
            with TabPane("Waterfall [w]", id="waterfall"):
                yield PlotextPlot(id="waterfall-plot")

    def show_results(self, data: StudyData, results: StudyResults) -> None:
        b = self.biomarker
        self.sub_title = f"Biomarker {b}"
        meta = data.biomarkers.filter(pl.col("biomarker") == b)
        unit = ""
        if meta.height:
            row = meta.row(0, named=True)
            unit = row["unit"] or ""
            self.query_one("#biomarker-header", Static).update(
                f"[b]{b}[/b] {row['label'] or ''} · {row['assay'] or ''} · "
                f"{row['compartment'] or ''} · {unit} · LLOQ {row['lloq']}"
            )
        arms = data.arm_names
        self.fold_changes = results.level("patient").filter(pl.col("biomarker") == b)
        tp = f"{results.pairing.timepoint} vs {results.pairing.baseline_timepoint}"
        self.query_one("#biomarker-arms", FrameTable).show(
            results.level("arm").filter(pl.col("biomarker") == b),
            without(ARM_VIEW, "biomarker"),
        )
        self.query_one("#biomarker-comparison", FrameTable).show(
            results.level("comparison").filter(pl.col("biomarker") == b),
            without(COMPARISON_VIEW, "biomarker", "n", "n_reference"),
        )
        self.query_one("#biomarker-patients", FrameTable).show(
            self.fold_changes,
            [
                Column("patient_id", "Patient"),
                Column("arm", "Arm"),
                Column("pre", "Pre"),
                Column("post", "Post"),
                Column("fc", "FC"),
                Column("log2fc", "log2FC"),
            ],
        )
        draw_strip(
            self.query_one("#strip-plot", PlotextPlot),
            self.fold_changes,
            arms,
            f"{b}: log2FC {tp} by arm",
        )
        draw_slope(
            self.query_one("#slope-plot", PlotextPlot),
            self.fold_changes,
            arms,
            f"{b}: pre → post by arm",
            unit,
        )
        draw_waterfall(
            self.query_one("#waterfall-plot", PlotextPlot),
            self.fold_changes,
            arms,
            f"{b}: per-patient log2FC",
        )

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

    def export_view(self) -> tuple[pl.DataFrame, str] | None:
        return self.fold_changes, f"patient_{self.biomarker}"
