"""One patient: each biomarker's value at every timepoint, FC and log2FC, and a bar plot."""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl
from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Static
from textual.worker import get_current_worker
from textual_plotext import PlotextPlot

from trialtui.formatting import arm_codes
from trialtui.tui.rows import RowsRead, read_rows
from trialtui.tui.screens.base import ResultsScreen
from trialtui.tui.widgets.frame_table import Column, FrameTable
from trialtui.tui.widgets.plots import draw_patient

if TYPE_CHECKING:
    from trialtui.study import StudyData, StudyResults

NARROW = 100


def patient_changes(results: StudyResults, patient_id: str) -> pl.DataFrame:
    """The patient's rows of the patient-level results, one per biomarker."""
    return results.level("patient").filter(pl.col("patient_id") == patient_id).sort("biomarker")


def patient_values(
    values: pl.DataFrame, data: StudyData, results: StudyResults, patient_id: str
) -> tuple[pl.DataFrame, list[str]]:
    """One row per biomarker measured in the patient: unit, the value at every timepoint
    (a column per timepoint, in visit order), FC, log2FC and which values were imputed.

    ``values``: the patient's measurements (:func:`trialtui.store.catalog.measurements`
    with ``patient_id``). Returns the frame and the timepoint columns, so unpaired patients
    show what they have.
    """
    timepoints = data.timepoints.sort("ordinal")["timepoint"].to_list()
    values = values.filter(pl.col("patient_id") == patient_id)
    units = data.biomarkers.select("biomarker", "unit")
    if values.is_empty():
        frame = pl.DataFrame({"biomarker": []}, schema={"biomarker": pl.String})
    else:
        frame = values.pivot(
            on="timepoint", index="biomarker", values="value", aggregate_function="mean"
        )
    shown = [t for t in timepoints if t in frame.columns]
    changes = patient_changes(results, patient_id).select(
        "biomarker",
        "fc",
        "log2fc",
        pl.concat_str(
            pl.when(pl.col("pre_imputed")).then(pl.lit("pre")),
            pl.when(pl.col("post_imputed")).then(pl.lit("post")),
            separator="+",
            ignore_nulls=True,
        ).alias("imputed"),
    )
    frame = (
        frame.join(units, on="biomarker", how="left")
        .join(changes, on="biomarker", how="full", coalesce=True)
        .sort("biomarker")
    )
    return frame, shown


def unpaired_reason(values: pl.DataFrame, results: StudyResults, patient_id: str) -> str:
    """Why a patient has no fold-changes, e.g. ``no Surgery sample``; empty when paired.

    ``values``: the patient's measurements, as for :func:`patient_values`."""
    if patient_changes(results, patient_id).height:
        return ""
    have = set(values.filter(pl.col("patient_id") == patient_id)["timepoint"].to_list())
    missing = [
        t for t in (results.pairing.baseline_timepoint, results.pairing.timepoint) if t not in have
    ]
    if missing:
        return "unpaired: no " + " and no ".join(missing) + " sample"
    return "unpaired: no biomarker measured at both timepoints"


class PatientDetailScreen(ResultsScreen):
    SUB_TITLE = "Patient"
    AUTO_FOCUS = "#patient-table"
    CSS_PATH = "patient_detail.tcss"
    BINDINGS = [Binding("escape", "app.pop_screen", "Back")]

    def __init__(self, patient_id: str) -> None:
        super().__init__()
        self.patient_id = patient_id
        self.changes = pl.DataFrame()
        self.values = pl.DataFrame()
        self._plot_title = ""
        self.rows_generation = 0  # the read of the patient's measurements in flight

    def compose_body(self) -> ComposeResult:
        yield Static("", id="patient-header")
        with Horizontal(id="patient-body"):
            with Vertical(id="patient-table-pane"):  # the filter box opens above the table
                yield FrameTable(id="patient-table")
            yield PlotextPlot(id="patient-plot")

    def on_resize(self, event: events.Resize) -> None:
        """Below 100 columns the plot goes under the table, so neither is squeezed."""
        self.query_one("#patient-body").set_class(event.size.width < NARROW, "-narrow")
        self.call_after_refresh(self._draw_plot)  # as many bars as the new height holds

    def show_results(self, data: StudyData, results: StudyResults) -> None:
        self.sub_title = f"Patient {self.patient_id}"
        self.changes = patient_changes(results, self.patient_id)
        self._show_header(data, "")
        self.rows_generation += 1
        self._read(data.study_id, self.rows_generation)

    def _show_header(self, data: StudyData, reason: str) -> None:
        info = data.patients.filter(pl.col("patient_id") == self.patient_id)
        if info.height:
            row = info.row(0, named=True)
            age = "NA" if row["age"] is None else f"{row['age']:g}"
            samples = row["n_samples"]
            noun = "sample" if samples == 1 else "samples"
            self.query_one("#patient-header", Static).update(
                Text.assemble(
                    (self.patient_id, "bold"),
                    f" · {row['arm']} · response {row['response'] or 'NA'}"
                    f" · sex {row['sex'] or 'NA'} · age {age} · {samples} {noun}",
                    *([" · ", (reason, "bold")] if reason else []),
                )
            )

    @work(thread=True, exclusive=True, exit_on_error=False, group="rows")
    def _read(self, study_id: str, generation: int) -> None:
        """Read the patient's measurements (a query on the database, not the study in memory)."""
        message = read_rows(self.trial.db_path, study_id, generation, patient_id=self.patient_id)
        if not get_current_worker().is_cancelled:
            self.post_message(message)

    def on_rows_read(self, message: RowsRead) -> None:
        data, results = self.trial.data, self.trial.results
        if message.generation != self.rows_generation or data is None or results is None:
            return
        if not self.trial.rows_are_current(message):
            return  # the app reloads the study; the screen draws again then
        values = message.rows
        reason = unpaired_reason(values, results, self.patient_id)
        self._show_header(data, reason)
        self.values, timepoints = patient_values(values, data, results, self.patient_id)
        pair = f"{results.pairing.timepoint} vs {results.pairing.baseline_timepoint}"
        self.query_one("#patient-table", FrameTable).show(
            self.values,
            [
                Column("biomarker", "Biomarker"),
                Column("log2fc", "log2FC"),
                Column("fc", "FC"),
                *(Column(t, t) for t in timepoints),
                Column("unit", "Unit"),
                Column("imputed", "Imputed (LLOQ)"),
            ],
            caption=f"Values; FC = {pair}",
            sorted_by="biomarker",
            codes=arm_codes(data.arm_names),
        )
        self._plot_title = f"{self.patient_id}: log2FC {pair}" + (f" ({reason})" if reason else "")
        self._draw_plot()

    def _draw_plot(self) -> None:
        draw_patient(self.query_one("#patient-plot", PlotextPlot), self.changes, self._plot_title)

    def export_view(self) -> tuple[pl.DataFrame, str] | None:
        return self.values, f"patient_{self.patient_id}"
