"""Statistics: between-arm comparison of every biomarker, sortable; volcano plot."""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual_plotext import PlotextPlot

from trialtui.formatting import arm_codes
from trialtui.tui.screens.base import ResultsScreen
from trialtui.tui.screens.biomarker_detail import BiomarkerDetailScreen
from trialtui.tui.views import COMPARISON_EFFECTS, WITHIN_EFFECTS, Effect, effect_view
from trialtui.tui.widgets.frame_table import FrameTable
from trialtui.tui.widgets.plots import draw_volcano

if TYPE_CHECKING:
    from trialtui.study import StudyData, StudyResults

SORTS = ("q", "p", "effect", "biomarker")


def sort_comparison(frame: pl.DataFrame, key: str, effect: Effect | None = None) -> pl.DataFrame:
    """Sort results by the q, p or size of ``effect`` (default: the first), or by name."""
    if effect is None:
        effects = COMPARISON_EFFECTS if "gmfc_ratio" in frame.columns else WITHIN_EFFECTS
        effect = next(iter(effects.values()))
    if key == "q":
        return frame.sort(effect.q, effect.p, "biomarker", nulls_last=True)
    if key == "p":
        return frame.sort(effect.p, "biomarker", nulls_last=True)
    if key == "effect":
        size = pl.col(effect.estimate)
        size = size.log(2).abs() if effect.log_scale else size.abs()
        return frame.sort(size, descending=True, nulls_last=True)
    return frame.sort("biomarker", "arm")


def sort_statement(key: str, effect: Effect) -> str:
    """How the table is ordered, in words."""
    if key == "q":
        return f"q ({effect.name}), smallest first"
    if key == "p":
        return f"p ({effect.name}), smallest first"
    if key == "effect":
        size = f"|log2 {effect.label}|" if effect.log_scale else f"|{effect.label}|"
        return f"{size}, largest first"
    return "biomarker"


class StatisticsScreen(ResultsScreen):
    SUB_TITLE = "Statistics"
    AUTO_FOCUS = "#comparison-table"
    CSS_PATH = "statistics.tcss"
    BINDINGS = [
        Binding("s", "cycle_sort", "Sort"),
        Binding("e", "cycle_effect", "Effect"),
        Binding("v", "toggle_volcano", "Volcano"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.sort_key = "q"
        self.effect_name = ""
        self.frame = pl.DataFrame()
        self.comparison = pl.DataFrame()
        self.reference_arm = ""
        self.conf_level = 0.95
        self.codes: dict[str, str] = {}

    @property
    def effects(self) -> dict[str, Effect]:
        return COMPARISON_EFFECTS if "gmfc_ratio" in self.frame.columns else WITHIN_EFFECTS

    @property
    def effect(self) -> Effect:
        effects = self.effects
        return effects.get(self.effect_name) or next(iter(effects.values()))

    def compose_body(self) -> ComposeResult:
        with Vertical(id="statistics"):
            yield FrameTable(id="comparison-table")
            yield PlotextPlot(id="volcano")

    def show_results(self, data: StudyData, results: StudyResults) -> None:
        self.comparison = results.level("comparison")
        self.frame = self.comparison if self.comparison.height else results.level("arm")
        self.reference_arm = results.reference_arm
        self.conf_level = results.settings.conf_level
        self.codes = arm_codes(data.arm_names)
        self._show(keep_position=True)
        self._draw_volcano()

    def _show(self, *, keep_position: bool = False) -> None:
        table = self.query_one("#comparison-table", FrameTable)
        effect = self.effect
        if self.effects is COMPARISON_EFFECTS:
            caption = f"Each arm vs {self.codes.get(self.reference_arm, self.reference_arm)}"
        else:
            caption = "Within each arm (single-arm study)"
        lead = next(k for k, v in self.effects.items() if v is effect)
        table.show(
            sort_comparison(self.frame, self.sort_key, effect),
            effect_view(self.effects, lead, self.conf_level),
            keep_position=keep_position,
            caption=caption,
            sorted_by=sort_statement(self.sort_key, effect),
            aliases={"q": effect.q, "p": effect.p, "effect": effect.estimate},
            codes=self.codes,
        )

    def _draw_volcano(self) -> None:
        table = self.query_one("#comparison-table", FrameTable)
        row = table.selected()
        highlight = row["biomarker"] if row else None
        if self.comparison.height == 0 and "gmean_fc" in self.frame.columns:
            # single arm: the within-arm change takes the place of the comparison
            draw_volcano(
                self.query_one("#volcano", PlotextPlot),
                self.frame,
                "Volcano: change within the arm",
                highlight=highlight,
                estimate="gmean_fc",
                q="q_wilcoxon",
                p="p_wilcoxon",
                xlabel="log2 geometric mean FC (post / pre)",
                ylabel="-log10 q (Wilcoxon signed-rank)",
            )
            return
        effect = self.effect if self.effects is COMPARISON_EFFECTS else COMPARISON_EFFECTS["Welch"]
        axis = f"log2 {effect.label}" if effect.log_scale else effect.label
        if effect is COMPARISON_EFFECTS["Welch"]:
            axis = "log2 ratio of geometric mean FC"
        draw_volcano(
            self.query_one("#volcano", PlotextPlot),
            self.comparison,
            f"Volcano: each arm vs {self.reference_arm}",
            highlight=highlight,
            estimate=effect.estimate,
            q=effect.q,
            p=effect.p,
            log_scale=effect.log_scale,
            xlabel=f"{axis} (arm / reference)" if effect.log_scale else f"{axis} (arm - reference)",
            ylabel=f"-log10 q ({effect.name})",
        )

    def action_cycle_sort(self) -> None:
        self.sort_key = SORTS[(SORTS.index(self.sort_key) + 1) % len(SORTS)]
        self._show()

    def action_cycle_effect(self) -> None:
        names = list(self.effects)
        current = next(k for k, v in self.effects.items() if v is self.effect)
        self.effect_name = names[(names.index(current) + 1) % len(names)]
        self._show()
        if self.query_one("#statistics").has_class("-volcano"):
            self._draw_volcano()

    def action_toggle_volcano(self) -> None:
        self.query_one("#statistics").toggle_class("-volcano")
        self.call_after_refresh(self._draw_volcano)  # labels are placed for the laid-out size

    def on_frame_table_cursor_moved(self, event: FrameTable.CursorMoved) -> None:
        if self.query_one("#statistics").has_class("-volcano"):
            self._draw_volcano()

    def on_frame_table_row_chosen(self, event: FrameTable.RowChosen) -> None:
        self.app.push_screen(BiomarkerDetailScreen(event.row["biomarker"]))

    def export_view(self) -> tuple[pl.DataFrame, str] | None:
        table = self.query_one("#comparison-table", FrameTable)
        level = "comparison" if "gmfc_ratio" in table.frame.columns else "arm"
        return table.frame, level
