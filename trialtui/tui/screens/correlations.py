"""Correlations: Spearman correlation of changes between biomarkers; heatmap and scatter."""

from __future__ import annotations

import polars as pl
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Select, Static
from textual_plotext import PlotextPlot

from trialtui.analysis.correlation import POOLED
from trialtui.study import StudyData, StudyResults
from trialtui.tui.screens.base import ResultsScreen
from trialtui.tui.views import name_options
from trialtui.tui.widgets.frame_table import Column, FrameTable
from trialtui.tui.widgets.plots import (
    draw_scatter,
    heatmap_biomarkers,
    heatmap_capacity,
    heatmap_text,
)

PAIR_VIEW = [
    Column("biomarker_x", "x"),
    Column("biomarker_y", "y"),
    Column("n", "n"),
    Column("spearman_rho", "rho"),
    Column("p", "p"),
    Column("q", "q"),
]


def correlations_for(corr: pl.DataFrame, arm: str) -> pl.DataFrame:
    """Pairs of one arm (or pooled), strongest |rho| first; pairs of equal |rho| by name."""
    return corr.filter(pl.col("arm") == arm).sort(
        [pl.col("spearman_rho").abs(), "biomarker_x", "biomarker_y"],
        descending=[True, False, False],
        nulls_last=True,
    )


class CorrelationsScreen(ResultsScreen):
    SUB_TITLE = "Correlations"
    AUTO_FOCUS = "#pairs-table"
    CSS_PATH = "correlations.tcss"
    BINDINGS = [Binding("h", "heatmap", "Heatmap")]

    def __init__(self) -> None:
        super().__init__()
        self.arm: str | None = None  # None: the study's first arm
        self._table_refilled = False
        self._highlighted: int | None = None  # the pairs table's row last highlighted
        self.pairs = pl.DataFrame()
        # each arm's pairs in order, for the correlation frame they were sorted from: a
        # return to the screen or to an arm does not sort hundreds of thousands again
        self._sorted: tuple[pl.DataFrame | None, dict[str, pl.DataFrame]] = (None, {})

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="correlations"):
            with Vertical(id="pairs-pane"):
                yield Select([], id="corr-arm", allow_blank=True, prompt="arm")
                yield FrameTable(id="pairs-table")
            with Vertical(id="corr-view"):
                yield Static("", id="corr-heatmap")
                yield PlotextPlot(id="corr-plot")

    def show_results(self, data: StudyData, results: StudyResults) -> None:
        if "correlation" not in results.frames:
            self.query_one("#pairs-table", FrameTable).border_subtitle = "computing…"
            self.trial.ensure_level("correlation")
            return
        select = self.query_one("#corr-arm", Select)
        options = [(a, a) for a in data.arm_names]
        if len(options) > 1:  # pooled only after adjusting for arm; never for one arm
            options.append((POOLED, POOLED))
        if self.arm not in [v for _, v in options]:
            self.arm = data.arm_names[0]
        with self.prevent(Select.Changed):
            select.set_options(name_options(value for _, value in options))
            select.value = self.arm
        self._show()

    def _show(self) -> None:
        results = self.trial.results
        if results is None or "correlation" not in results.frames:
            return
        corr = results.level("correlation")
        source, by_arm = self._sorted
        if source is not corr:
            by_arm = {}
            self._sorted = (corr, by_arm)
        if self.arm not in by_arm:
            by_arm[self.arm] = correlations_for(corr, self.arm)
        self.pairs = by_arm[self.arm]
        self._table_refilled = True
        self.query_one("#pairs-table", FrameTable).show(self.pairs, PAIR_VIEW)
        self.action_heatmap()

    def action_heatmap(self) -> None:
        results = self.trial.results
        if results is None or "biomarker_x" not in self.pairs.columns:
            return
        every = (
            pl.concat([self.pairs["biomarker_x"], self.pairs["biomarker_y"]])
            .unique()
            .sort()
            .to_list()
        )
        view = self.query_one("#corr-heatmap", Static)
        # as many biomarkers as the panel shows whole: no wrapped row, none cut off below
        space = self.query_one("#corr-view").size
        width = space.width or 60
        title = f"Spearman rho of log2FC, {self.arm}"
        fit = heatmap_capacity(every, width, space.height or None, title)
        if fit == 0:
            view.update(Text(f"{title}\n(too little room for the heatmap: widen the terminal)"))
        else:
            names = heatmap_biomarkers(self.pairs, every, limit=fit)
            view.update(heatmap_text(self.pairs, names, title, width=width, total=len(every)))
        view.display = True
        self.query_one("#corr-plot", PlotextPlot).display = False

    def on_resize(self) -> None:
        """The heatmap is laid out for the panel's size: lay it out again for the new
        one (after the panel has its new size)."""
        if self.query_one("#corr-heatmap", Static).display:
            self.call_after_refresh(self.action_heatmap)

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "corr-arm" and isinstance(event.value, str):
            self.arm = event.value
            self._show()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        table = self.query_one("#pairs-table", FrameTable)
        if event.data_table is not table:
            return
        last, self._highlighted = self._highlighted, event.cursor_row
        if self._table_refilled:  # the cursor landing on a new table: keep the heatmap
            self._table_refilled = False
            if event.cursor_row == 0:
                return
        elif event.cursor_row == last:
            return  # the table redrawn (a resize) with the cursor where it was: keep the view
        self.show_pair(table.selected())

    def on_frame_table_row_chosen(self, event: FrameTable.RowChosen) -> None:
        self.show_pair(event.row)

    def show_pair(self, row: dict | None) -> None:
        results, data = self.trial.results, self.trial.data
        if row is None or results is None or data is None:
            return
        fc = results.level("patient")
        if self.arm != POOLED:
            fc = fc.filter(pl.col("arm") == self.arm)
        self.query_one("#corr-heatmap", Static).display = False
        self.query_one("#corr-plot", PlotextPlot).display = True
        draw_scatter(
            self.query_one("#corr-plot", PlotextPlot),
            fc,
            row["biomarker_x"],
            row["biomarker_y"],
            data.arm_names,
            f"{row['biomarker_y']} vs {row['biomarker_x']} change: rho {row['spearman_rho']:.2f}"
            if row["spearman_rho"] is not None
            else "",
            q=row.get("q"),
        )

    def export_view(self) -> tuple[pl.DataFrame, str] | None:
        return self.pairs, "correlation"
