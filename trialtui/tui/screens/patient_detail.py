"""One patient: each biomarker's pre, post, FC and log2FC, and a plot of the changes."""

from __future__ import annotations

import polars as pl
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Static
from textual_plotext import PlotextPlot

from trialtui.study import StudyData, StudyResults
from trialtui.tui.screens.base import ResultsScreen
from trialtui.tui.widgets.frame_table import Column, FrameTable
from trialtui.tui.widgets.plots import draw_patient


def patient_changes(results: StudyResults, patient_id: str) -> pl.DataFrame:
    """The patient's rows of the patient-level results, one per biomarker."""
    return results.level("patient").filter(pl.col("patient_id") == patient_id).sort("biomarker")


class PatientDetailScreen(ResultsScreen):
    SUB_TITLE = "Patient"
    AUTO_FOCUS = "#patient-table"
    CSS_PATH = "patient_detail.tcss"
    BINDINGS = [Binding("escape", "app.pop_screen", "Back")]

    def __init__(self, patient_id: str) -> None:
        super().__init__()
        self.patient_id = patient_id
        self.changes = pl.DataFrame()

    def compose_body(self) -> ComposeResult:
        yield Static("", id="patient-header")
        with Horizontal(id="patient-body"):
            yield FrameTable(id="patient-table")
            yield PlotextPlot(id="patient-plot")

    def show_results(self, data: StudyData, results: StudyResults) -> None:
        self.sub_title = f"Patient {self.patient_id}"
        info = data.patients.filter(pl.col("patient_id") == self.patient_id)
        if info.height:
            row = info.row(0, named=True)
            age = "NA" if row["age"] is None else f"{row['age']:g}"
            self.query_one("#patient-header", Static).update(
                f"[b]{self.patient_id}[/b] · {row['arm']} · response {row['response'] or 'NA'}"
                f" · sex {row['sex'] or 'NA'} · age {age} · {row['n_samples']} samples"
            )
        self.changes = patient_changes(results, self.patient_id)
        self.query_one("#patient-table", FrameTable).show(
            self.changes,
            [
                Column("biomarker", "Biomarker"),
                Column("pre", "Pre"),
                Column("post", "Post"),
                Column("fc", "FC"),
                Column("log2fc", "log2FC"),
                Column("pre_imputed", "pre imp"),
                Column("post_imputed", "post imp"),
            ],
        )
        draw_patient(
            self.query_one("#patient-plot", PlotextPlot),
            self.changes,
            f"{self.patient_id}: log2FC {results.pairing.timepoint} vs "
            f"{results.pairing.baseline_timepoint}",
        )

    def export_view(self) -> tuple[pl.DataFrame, str] | None:
        return self.changes, f"patient_{self.patient_id}"
