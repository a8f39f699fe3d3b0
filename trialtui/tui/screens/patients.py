"""Patients: every patient with arm, response, samples and key changes; filterable (``/``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Select, Static

from trialtui.formatting import arm_codes
from trialtui.tui.screens.base import ResultsScreen
from trialtui.tui.screens.patient_detail import PatientDetailScreen
from trialtui.tui.views import name_options
from trialtui.tui.widgets.frame_table import Column, FrameTable

if TYPE_CHECKING:
    from trialtui.study import StudyData, StudyResults

KEY_BIOMARKERS = 3
RESPONSES = ("CR", "PR", "SD", "PD", "NE")


def key_biomarkers(results: StudyResults, limit: int = KEY_BIOMARKERS) -> tuple[list[str], str]:
    """Biomarkers whose change matters most, and how they were chosen (shown beside the
    table): smallest between-arm q, else (one arm) smallest within-arm p."""
    comparison = results.level("comparison")
    if comparison.height:
        ranked = comparison.sort("q_welch", nulls_last=True)["biomarker"]
        rule = "smallest between-arm q (Welch)"
    else:
        ranked = results.level("arm").sort("p_ttest", nulls_last=True)["biomarker"]
        rule = "smallest within-arm p (paired t)"
    every = list(dict.fromkeys(ranked.to_list()))
    chosen = every[:limit]
    if len(chosen) == len(every):
        return chosen, "log2FC shown for every biomarker"
    if len(chosen) == 1:
        return chosen, f"log2FC shown for the biomarker of {rule}"
    return chosen, f"log2FC shown for the {len(chosen)} biomarkers of {rule}"


def patient_table(data: StudyData, results: StudyResults, markers: list[str]) -> pl.DataFrame:
    """One row per patient with the log2FC of ``markers`` as ``log2fc_<marker>`` columns."""
    fc = results.level("patient").filter(pl.col("biomarker").is_in(markers))
    table = data.patients.select("patient_id", "arm", "response", "sex", "age", "n_samples")
    if fc.height:
        wide = fc.pivot(on="biomarker", index="patient_id", values="log2fc")
        wide = wide.rename({m: f"log2fc_{m}" for m in markers if m in wide.columns})
        table = table.join(wide, on="patient_id", how="left")
    return table


def filter_patients(
    table: pl.DataFrame, text: str, arm: str | None, response: str | None
) -> pl.DataFrame:
    """Rows whose patient id contains ``text`` (case-insensitive), in ``arm``/``response``."""
    out = table
    if text:
        out = out.filter(
            pl.col("patient_id").str.to_lowercase().str.contains(text.lower(), literal=True)
        )
    if arm:
        out = out.filter(pl.col("arm") == arm)
    if response:
        out = out.filter(pl.col("response") == response)
    return out


class PatientsScreen(ResultsScreen):
    SUB_TITLE = "Patients"
    AUTO_FOCUS = "#patients-table"
    CSS_PATH = "patients.tcss"

    def __init__(self) -> None:
        super().__init__()
        self.table_frame = pl.DataFrame()
        self.markers: list[str] = []
        self.codes: dict[str, str] = {}

    def compose_body(self) -> ComposeResult:
        with Vertical(id="patients"):
            with Horizontal(id="patient-filters"):
                yield Select([], prompt="any arm", id="arm-filter")
                yield Select(
                    [(r, r) for r in RESPONSES], prompt="any response", id="response-filter"
                )
                yield Static("", id="key-biomarkers", markup=False)
            yield FrameTable(id="patients-table")

    def show_results(self, data: StudyData, results: StudyResults) -> None:
        self.markers, why = key_biomarkers(results)
        self.query_one("#key-biomarkers", Static).update(why)
        self.codes = arm_codes(data.arm_names)
        self.table_frame = patient_table(data, results, self.markers)
        arm_select = self.query_one("#arm-filter", Select)
        with self.prevent(Select.Changed):
            arm_select.set_options(name_options(data.arm_names))
        self.apply_filter()

    def apply_filter(self) -> None:
        arm = self.query_one("#arm-filter", Select).value
        response = self.query_one("#response-filter", Select).value
        frame = filter_patients(
            self.table_frame,
            "",
            arm if isinstance(arm, str) else None,
            response if isinstance(response, str) else None,
        )
        columns = [
            Column("patient_id", "Patient"),
            Column("arm", "Arm"),
            Column("response", "Response"),
            Column("n_samples", "Samples"),
        ]
        columns += [
            Column(f"log2fc_{m}", f"log2FC {m}")
            for m in self.markers
            if f"log2fc_{m}" in frame.columns
        ]
        columns += [Column("sex", "Sex"), Column("age", "Age")]
        self.query_one("#patients-table", FrameTable).show(
            frame,
            columns,
            caption="Patients",
            sorted_by="patient",
            aliases={"patient": "patient_id", "id": "patient_id"},
            codes=self.codes,
        )

    def on_select_changed(self, event: Select.Changed) -> None:
        self.apply_filter()

    def on_frame_table_row_chosen(self, event: FrameTable.RowChosen) -> None:
        self.open_patient(event.row["patient_id"])

    def open_patient(self, patient_id: str) -> None:
        self.app.push_screen(PatientDetailScreen(patient_id))

    def export_view(self) -> tuple[pl.DataFrame, str] | None:
        return self.query_one("#patients-table", FrameTable).frame, "patients"
