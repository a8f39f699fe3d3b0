"""Overview: study, arms, timepoints, paired completeness and the top findings."""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Label, Select, Static

from trialtui.tui.screens.base import ResultsScreen
from trialtui.tui.views import ci_label, name_options
from trialtui.tui.widgets.frame_table import Column, FrameTable

if TYPE_CHECKING:
    from trialtui.study import StudyData, StudyResults
    from trialtui.tui.messages import CatalogReady

TOP_FINDINGS = 8
FINDINGS_BETWEEN_ARMS = "Top findings (between arms, q < 0.05)"


def top_within_arm(arm_summary: pl.DataFrame, limit: int = TOP_FINDINGS) -> pl.DataFrame:
    """Largest significant (q < 0.05, Wilcoxon signed-rank) changes within an arm, by
    |log2 geometric mean FC|: the findings of a single-arm study."""
    return (
        arm_summary.filter(pl.col("q_wilcoxon") < 0.05)
        .with_columns(pl.col("gmean_fc").log(2).abs().alias("_effect"))
        .sort("_effect", descending=True)
        .head(limit)
        .drop("_effect")
    )


def top_findings(comparison: pl.DataFrame, limit: int = TOP_FINDINGS) -> pl.DataFrame:
    """Largest significant (q < 0.05) between-arm differences, by |log2 ratio|."""
    return (
        comparison.filter(pl.col("q_welch") < 0.05)
        .with_columns(pl.col("gmfc_ratio").log(2).abs().alias("_effect"))
        .sort("_effect", descending=True)
        .head(limit)
        .drop("_effect")
    )


class OverviewScreen(ResultsScreen):
    SUB_TITLE = "Overview"
    AUTO_FOCUS = "#study-select"  # start at the top; tab walks down through the sections
    CSS_PATH = "overview.tcss"

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="overview"):
            with Horizontal(id="study-row"):
                yield Label("Study ", id="study-label")
                yield Select([], id="study-select", allow_blank=True, prompt="study")
            yield Static("", id="study-title")
            yield Static("", id="unit-notes", markup=False)
            yield Label("Arms", classes="section")
            yield FrameTable(id="arms-table", classes="compact")
            yield Label("Timepoints", classes="section")
            yield FrameTable(id="timepoints-table", classes="compact")
            yield Label(
                FINDINGS_BETWEEN_ARMS,
                id="findings-label",
                classes="section",
            )
            yield FrameTable(id="findings-table", classes="compact")
            yield Label("Paired completeness (baseline → on-treatment)", classes="section")
            yield FrameTable(id="completeness-table")

    def show_catalog(self, facts: CatalogReady) -> None:
        """Study, arms and timepoints from the catalog, before any statistic."""
        # after the first layout: tables choose the columns that fit their width
        self.call_after_refresh(self._draw_catalog, facts)

    def _draw_catalog(self, facts: CatalogReady) -> None:
        if self.trial.results is not None:
            facts.drawn.set()
            return  # the results came first and are drawn
        self._show_study(facts.study_id, facts.study, "")
        self.query_one("#arms-table", FrameTable).show(
            facts.arms,
            [
                Column("arm", "Arm"),
                Column("n_patients", "Patients"),
                Column("description", "Description"),
            ],
            codes={},
        )
        self._show_timepoints(facts.timepoints)
        self.call_after_refresh(self.trial.catalog_drawn, facts)  # once painted

    def _show_study(self, study_id: str, study: dict, reference: str) -> None:
        select = self.query_one("#study-select", Select)
        options = name_options(self.trial.studies)
        with self.prevent(Select.Changed):
            select.set_options(options)
            select.value = study_id
        title = study.get("title") or ""
        extra = " · ".join(str(v) for v in (study.get("indication"), study.get("phase")) if v)
        self.query_one("#study-title", Static).update(
            Text.assemble((study_id, "bold"), f" {title}\n{extra}\n{reference}")
        )

    def _show_timepoints(self, timepoints: pl.DataFrame) -> None:
        self.query_one("#timepoints-table", FrameTable).show(
            # nominal days are medians of whole collection days: show them as days
            timepoints.with_columns(pl.col("nominal_day").round(0).cast(pl.Int64)),
            [
                Column("timepoint", "Timepoint"),
                Column("ordinal", "#"),
                Column("is_baseline", "Baseline"),
                Column("nominal_day", "Day"),
                Column("n_samples", "Samples"),
            ],
        )

    def show_results(self, data: StudyData, results: StudyResults) -> None:
        single = results.is_single_arm
        reference = (
            "single arm"
            if single
            else f"reference: {results.reference_arm} ({results.reference_reason})"
        )
        self._show_study(data.study_id, data.study, reference)
        notes = self.query_one("#unit-notes", Static)
        notes.update("\n".join(data.unit_notes))
        notes.display = bool(data.unit_notes)
        arms = data.arms.with_columns(
            pl.when((pl.col("arm") == results.reference_arm) & pl.lit(not single))
            .then(pl.lit(f"reference ({results.reference_reason})"))
            .otherwise(pl.lit(""))
            .alias("role")
        )
        self.query_one("#arms-table", FrameTable).show(
            arms,
            [
                Column("arm", "Arm"),
                Column("n_patients", "Patients"),
                Column("role", ""),
                Column("description", "Description"),
            ],
            codes={},  # the arms' full names: this table is where they are read
        )
        self._show_timepoints(data.timepoints)
        self._show_findings(results)
        self.query_one("#completeness-table", FrameTable).show(
            data.completeness,
            [
                Column("biomarker", "Biomarker"),
                Column("arm", "Arm"),
                Column("n_patients", "Patients"),
                Column("n_baseline", "Baseline"),
                Column("n_on_treatment", "On-treatment"),
                Column("n_paired", "Paired"),
            ],
        )

    def sync(self) -> None:
        super().sync()
        trial, data = self.trial, self.trial.data
        if trial.computing or trial.last_error is None or data is None:
            return
        select = self.query_one("#study-select", Select)
        if select.value != data.study_id:
            with self.prevent(Select.Changed):  # a failed switch: show the study in view
                select.value = data.study_id

    def _show_findings(self, results: StudyResults) -> None:
        """Between-arm findings, or within-arm ones for a single-arm study."""
        table = self.query_one("#findings-table", FrameTable)
        label = self.query_one("#findings-label", Label)
        ci = ci_label(results.settings.conf_level)
        if results.is_single_arm:
            label.update("Top findings (within arm, Wilcoxon signed-rank q < 0.05)")
            findings = top_within_arm(results.level("arm"))
            columns = [
                Column("biomarker", "Biomarker"),
                Column("n_pairs", "Pairs"),
                Column("gmean_fc", f"GMFC ({ci})", ci=("gmean_fc_lo", "gmean_fc_hi")),
                Column("q_wilcoxon", "q (Wilcoxon)"),
                Column("q_ttest", "q (t)"),
            ]
        else:
            label.update(FINDINGS_BETWEEN_ARMS)
            findings = top_findings(results.level("comparison"))
            columns = [
                Column("biomarker", "Biomarker"),
                Column("arm", "Arm"),
                Column("gmfc_ratio", f"GMFC ratio ({ci})", ci=("gmfc_ratio_lo", "gmfc_ratio_hi")),
                Column("q_welch", "q (Welch)"),
                Column("q_mannwhitney", "q (MW)"),
            ]
        effect = "|log2 GMFC|" if results.is_single_arm else "|log2 ratio|"
        table.show(findings, columns, sorted_by=f"{effect}, largest first")
        if findings.is_empty():
            table.border_subtitle = "none with q < 0.05"

    def on_select_changed(self, event: Select.Changed) -> None:
        chosen = event.value
        is_new = isinstance(chosen, str) and chosen != self.trial.study_id
        if event.select.id == "study-select" and is_new:
            self.trial.open_study(str(chosen))

    def on_frame_table_cursor_moved(self, event: FrameTable.CursorMoved) -> None:
        """Keep the table whose cursor moves in view (the page scrolls with the keyboard)."""
        if event.table.has_focus:  # not when a table is (re)filled in the background
            event.table.scroll_visible(animate=False)

    def export_view(self) -> tuple[pl.DataFrame, str] | None:
        data = self.trial.data
        return (data.completeness, "completeness") if data is not None else None
