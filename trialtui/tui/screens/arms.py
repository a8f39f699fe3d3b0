"""Arms: per-arm summary of every biomarker's change with within-arm tests."""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl
from textual.app import ComposeResult

from trialtui.tui.screens.base import ResultsScreen
from trialtui.tui.screens.biomarker_detail import BiomarkerDetailScreen
from trialtui.tui.views import ARM_VIEW
from trialtui.tui.widgets.frame_table import FrameTable

if TYPE_CHECKING:
    from trialtui.study import StudyData, StudyResults


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
