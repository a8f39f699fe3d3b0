"""Statistics: between-arm comparison of every biomarker, sortable; volcano plot."""

from __future__ import annotations

import polars as pl
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual_plotext import PlotextPlot

from trialtui.study import StudyData, StudyResults
from trialtui.tui.screens.base import ResultsScreen
from trialtui.tui.screens.biomarker_detail import BiomarkerDetailScreen
from trialtui.tui.views import EFFECTS, WITHIN_VIEW, comparison_view
from trialtui.tui.widgets.frame_table import FrameTable
from trialtui.tui.widgets.plots import draw_volcano

SORTS = ("q", "p", "effect", "biomarker")


def sort_comparison(frame: pl.DataFrame, key: str, effect: str = "welch") -> pl.DataFrame:
    """Sort between-arm (or within-arm) results by q, p, |effect| or biomarker.

    ``effect`` (a key of :data:`~trialtui.tui.views.EFFECTS`) names the between-arm
    estimate and test whose q, p and size are used.
    """
    between = "gmfc_ratio" in frame.columns
    chosen = EFFECTS[effect]
    if key == "q":
        return frame.sort(chosen.q if between else "q_ttest", nulls_last=True)
    if key == "p":
        return frame.sort(chosen.p if between else "p_ttest", nulls_last=True)
    if key == "effect":
        size = pl.col(chosen.estimate if between else "gmean_fc")
        size = (size.log(2) if chosen.ratio or not between else size).abs()
        return frame.sort(size, descending=True, nulls_last=True)
    return frame.sort("biomarker", "arm")


class StatisticsScreen(ResultsScreen):
    SUB_TITLE = "Statistics"
    AUTO_FOCUS = "#comparison-table"
    CSS_PATH = "statistics.tcss"
    BINDINGS = [
        Binding("s", "cycle_sort", "Sort"),
        Binding("v", "toggle_volcano", "Volcano"),
        Binding("e", "cycle_effect", "Effect"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.sort_key = "q"
        self.effect = "welch"
        self.frame = pl.DataFrame()

    def compose_body(self) -> ComposeResult:
        with Vertical(id="statistics"):
            yield FrameTable(id="comparison-table")
            yield PlotextPlot(id="volcano")

    def show_results(self, data: StudyData, results: StudyResults) -> None:
        comparison = results.level("comparison")
        self.frame = comparison if comparison.height else results.level("arm")
        self._show()

    def _draw_volcano(self) -> None:
        results = self.trial.results
        if results is None or "comparison" not in results.frames:
            return
        chosen = EFFECTS[self.effect]
        draw_volcano(
            self.query_one("#volcano", PlotextPlot),
            results.level("comparison"),
            f"Volcano: each arm vs {results.reference_arm}"
            + ("" if self.effect == "welch" else f" ({chosen.label})"),
            effect=chosen.estimate,
            q=chosen.q,
            log2=chosen.ratio,
            xlabel=chosen.axis,
            ylabel=f"-log10 q ({chosen.test})",
        )

    def _show(self) -> None:
        table = self.query_one("#comparison-table", FrameTable)
        table.sort_column = None
        between = "gmfc_ratio" in self.frame.columns
        view = comparison_view(self.effect) if between else WITHIN_VIEW
        table.show(sort_comparison(self.frame, self.sort_key, self.effect), view)
        table.border_title = f"sorted by {self.sort_key}" + (
            f" · effect: {EFFECTS[self.effect].label}" if between and self.effect != "welch" else ""
        )
        self._draw_volcano()

    def action_cycle_sort(self) -> None:
        self.sort_key = SORTS[(SORTS.index(self.sort_key) + 1) % len(SORTS)]
        self._show()

    def action_cycle_effect(self) -> None:
        """Welch ratio -> HL shift -> ANCOVA ratio: the estimate shown, sorted and plotted."""
        keys = list(EFFECTS)
        self.effect = keys[(keys.index(self.effect) + 1) % len(keys)]
        self._show()

    def action_toggle_volcano(self) -> None:
        self.query_one("#statistics").toggle_class("-volcano")

    def on_frame_table_row_chosen(self, event: FrameTable.RowChosen) -> None:
        self.app.push_screen(BiomarkerDetailScreen(event.row["biomarker"]))

    def export_view(self) -> tuple[pl.DataFrame, str] | None:
        table = self.query_one("#comparison-table", FrameTable)
        level = "comparison" if "gmfc_ratio" in table.frame.columns else "arm"
        return table.frame, level
