"""One patient: each biomarker's value at every timepoint, FC and log2FC, and a bar plot."""

from __future__ import annotations

import polars as pl
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Static
from textual_plotext import PlotextPlot

from trialtui.formatting import arm_codes
from trialtui.study import StudyData, StudyResults
from trialtui.tui.screens.base import ResultsScreen
from trialtui.tui.widgets.frame_table import Column, FrameTable
from trialtui.tui.widgets.plots import draw_patient

NARROW = 100


def patient_changes(results: StudyResults, patient_id: str) -> pl.DataFrame:
    """The patient's rows of the patient-level results, one per biomarker."""
    return results.level("patient").filter(pl.col("patient_id") == patient_id).sort("biomarker")


def patient_values(
    data: StudyData, results: StudyResults, patient_id: str
) -> tuple[pl.DataFrame, list[str]]:
    """One row per biomarker measured in the patient: unit, the value at every timepoint
    (a column per timepoint, in visit order), FC, log2FC and which values were imputed.

    Returns the frame and the timepoint columns, so unpaired patients show what they have.
    """
    timepoints = data.timepoints.sort("ordinal")["timepoint"].to_list()
    values = data.measurements.filter(pl.col("patient_id") == patient_id)
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


def unpaired_reason(data: StudyData, results: StudyResults, patient_id: str) -> str:
    """Why a patient has no fold-changes, e.g. ``no Surgery sample``; empty when paired."""
    if patient_changes(results, patient_id).height:
        return ""
    have = set(data.measurements.filter(pl.col("patient_id") == patient_id)["timepoint"].to_list())
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
        info = data.patients.filter(pl.col("patient_id") == self.patient_id)
        reason = unpaired_reason(data, results, self.patient_id)
        if info.height:
            row = info.row(0, named=True)
            age = "NA" if row["age"] is None else f"{row['age']:g}"
            samples = row["n_samples"]
            noun = "sample" if samples == 1 else "samples"
            self.query_one("#patient-header", Static).update(
                f"[b]{self.patient_id}[/b] · {row['arm']} · response {row['response'] or 'NA'}"
                f" · sex {row['sex'] or 'NA'} · age {age} · {samples} {noun}"
                + (f" · [b]{reason}[/b]" if reason else "")
            )
        self.changes = patient_changes(results, self.patient_id)
        self.values, timepoints = patient_values(data, results, self.patient_id)
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
