"""Arms: per-arm summary of every biomarker's change with within-arm tests."""

from __future__ import annotations

import polars as pl
from textual.app import ComposeResult

from trialtui.study import StudyData, StudyResults
from trialtui.tui.screens.base import ResultsScreen
from trialtui.tui.screens.biomarker_detail import BiomarkerDetailScreen
from trialtui.tui.widgets.frame_table import Column, FrameTable

ARM_VIEW = [
    Column("biomarker", "Biomarker"),
    Column("arm", "Arm"),
    Column("n_pairs", "n"),
    Column("n_unpaired", "unp"),
    Column("mean_fc", "Mean FC"),
    Column("gmean_fc", "GM FC"),
    Column("gmean_fc_lo", "lo"),
    Column("gmean_fc_hi", "hi"),
    Column("median_fc", "Median"),
    Column("p_wilcoxon", "p (W)"),
    Column("q_wilcoxon", "q (W)"),
    Column("p_ttest", "p (t)"),
    Column("q_ttest", "q (t)"),
]


class ArmsScreen(ResultsScreen):
    SUB_TITLE = "Arms"
    AUTO_FOCUS = "#arms-summary"
    CSS_PATH = "arms.tcss"

    def compose_body(self) -> ComposeResult:
        yield FrameTable(id="arms-summary")

    def show_results(self, data: StudyData, results: StudyResults) -> None:
        self.query_one("#arms-summary", FrameTable).show(
            results.level("arm"), ARM_VIEW, keep_position=True
        )

    def on_frame_table_row_chosen(self, event: FrameTable.RowChosen) -> None:
        self.app.push_screen(BiomarkerDetailScreen(event.row["biomarker"]))

    def export_view(self) -> tuple[pl.DataFrame, str] | None:
        return self.query_one("#arms-summary", FrameTable).frame, "arm"
