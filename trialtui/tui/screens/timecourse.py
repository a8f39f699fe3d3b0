"""Timecourse: change at every on-treatment timepoint per arm, and Friedman's test."""

from __future__ import annotations

import math
from dataclasses import dataclass

import polars as pl
from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static
from textual_plotext import PlotextPlot

from trialtui.analysis.friedman import friedman_test
from trialtui.analysis.timecourse import summarise_every_timepoint
from trialtui.formatting import arm_codes
from trialtui.study import StudyData, StudyResults
from trialtui.tui.screens.base import ResultsScreen
from trialtui.tui.screens.biomarker_detail import BiomarkerDetailScreen
from trialtui.tui.views import ci_label
from trialtui.tui.widgets.frame_table import Column, FrameTable
from trialtui.tui.widgets.plots import arm_color

MIN_TIMEPOINTS = 3

FRIEDMAN_VIEW = [
    Column("biomarker", "Biomarker"),
    Column("arm", "Arm"),
    Column("q_friedman", "q (Friedman)"),
    Column("p_friedman", "p (Friedman)"),
    Column("friedman_chisq", "chi2 (Friedman)"),
    Column("n_complete", "n complete"),
]


@dataclass
class TimecourseReady(Message, bubble=False):
    """The per-timepoint arm summaries and the Friedman results of one results generation."""

    generation: int
    arms: pl.DataFrame
    friedman: pl.DataFrame


def gmfc_columns(arms: pl.DataFrame, timepoints: list[str]) -> pl.DataFrame:
    """One row per (biomarker, arm) with the geometric mean FC and its interval at each
    timepoint as columns ``gm_<timepoint>``, ``gm_lo_<timepoint>``, ``gm_hi_<timepoint>``."""
    parts = []
    for prefix, column in (("gm", "gmean_fc"), ("gm_lo", "gmean_fc_lo"), ("gm_hi", "gmean_fc_hi")):
        wide = arms.select(
            "biomarker", "arm", pl.format(f"{prefix}_{{}}", "timepoint").alias("_c"), column
        ).pivot(on="_c", index=["biomarker", "arm"], values=column)
        parts.append(wide)
    wide = parts[0].join(parts[1], on=["biomarker", "arm"]).join(parts[2], on=["biomarker", "arm"])
    names = [f"{p}_{t}" for t in timepoints for p in ("gm", "gm_lo", "gm_hi")]
    return wide.select("biomarker", "arm", *[n for n in names if n in wide.columns])


def draw_timecourse(
    widget: PlotextPlot,
    arms: pl.DataFrame,
    biomarker: str,
    days: dict[str, float],
    baseline: str,
    arm_names: list[str],
    title: str,
    labels: dict[str, str] | None = None,
) -> None:
    """log2 geometric mean FC with its CI at each visit day, one line per arm.

    The baseline is drawn at 0 (FC 1 by definition); the bars are the t-intervals of the
    mean log2FC, symmetric on this scale. ``labels``: legend text per arm (e.g. codes).
    """
    plt = widget.plt
    plt.clear_figure()
    rows = arms.filter((pl.col("biomarker") == biomarker) & pl.col("gmean_fc").is_not_null())
    if rows.is_empty():
        plt.title(f"{title}: no pairs")
        widget.refresh()
        return
    plt.title(title)
    for arm in [a for a in arm_names if a in set(rows["arm"])]:
        part = (
            rows.filter(pl.col("arm") == arm)
            .with_columns(pl.col("timepoint").replace_strict(days, default=None).alias("_day"))
            .sort("_day")
        )
        x = [days[baseline], *part["_day"].to_list()]
        y = [0.0, *(math.log2(v) for v in part["gmean_fc"])]
        err = [0.0] + [
            math.log2(hi) - math.log2(gm) if hi is not None else 0.0
            for gm, hi in zip(part["gmean_fc"], part["gmean_fc_hi"], strict=True)
        ]
        color = arm_color(arm_names, arm)
        plt.plot(x, y, color=color, label=(labels or {}).get(arm, arm))
        plt.error(x, y, yerr=err, color=color)
    plt.hline(0, "gray")
    ordered = sorted(days.items(), key=lambda item: item[1])
    plt.xticks([d for _, d in ordered], [name for name, _ in ordered])
    plt.xlabel("visit day")
    plt.ylabel("log2 GM FC (CI)")
    widget.refresh()


class TimecourseScreen(ResultsScreen):
    SUB_TITLE = "Timecourse"
    AUTO_FOCUS = "#timecourse-table"
    CSS_PATH = "timecourse.tcss"

    def __init__(self) -> None:
        super().__init__()
        self.arms = pl.DataFrame()
        self.friedman = pl.DataFrame()
        self.days: dict[str, float] = {}
        self.baseline = ""
        self.biomarker: str | None = None
        self._pending = -1

    def compose_body(self) -> ComposeResult:
        with Vertical(id="timecourse"):
            yield Static("", id="timecourse-note", markup=False)
            yield PlotextPlot(id="timecourse-plot")
            yield FrameTable(id="timecourse-table")

    def show_results(self, data: StudyData, results: StudyResults) -> None:
        note = self.query_one("#timecourse-note", Static)
        n_points = 1 + len(results.timepoint_pairings)
        if n_points < MIN_TIMEPOINTS:
            note.update(
                f"{data.study_id} has {n_points} timepoints: the timecourse needs a baseline "
                f"and at least two later timepoints (try a study with {MIN_TIMEPOINTS} or more)."
            )
            self.set_class(True, "-empty")
            return
        self.set_class(False, "-empty")
        note.update("computing every timepoint…")
        timepoints = data.timepoints.sort("ordinal")
        self.days = {
            t: float(d if d is not None else o)
            for t, d, o in timepoints.select("timepoint", "nominal_day", "ordinal").iter_rows()
        }
        self.baseline = results.pairing.baseline_timepoint
        later = [p.timepoint for p in results.timepoint_pairings]
        self.days = {t: d for t, d in self.days.items() if t in [self.baseline, *later]}
        self._pending = self.trial.generation
        self._compute(results, self.trial.generation)

    @work(thread=True, exclusive=True, exit_on_error=False, group="timecourse")
    def _compute(self, results: StudyResults, generation: int) -> None:
        pairings = list(results.timepoint_pairings)
        arms = summarise_every_timepoint(pairings, results.settings)
        friedman = results.frames.get("friedman")
        if friedman is None:
            friedman = friedman_test(pairings, results.settings)
        self.post_message(TimecourseReady(generation, arms, friedman))

    def on_timecourse_ready(self, message: TimecourseReady) -> None:
        if message.generation != self._pending:
            return  # results changed meanwhile: a newer worker is on its way
        self.arms, self.friedman = message.arms, message.friedman
        results, data = self.trial.results, self.trial.data
        if results is None or data is None:
            return
        timepoints = [p.timepoint for p in results.timepoint_pairings]
        table_frame = self.friedman.join(
            gmfc_columns(self.arms, timepoints), on=["biomarker", "arm"], how="left"
        ).sort("q_friedman", "biomarker", nulls_last=True)
        ci = ci_label(results.settings.conf_level)
        view = [
            *FRIEDMAN_VIEW[:4],
            *[
                Column(f"gm_{t}", f"GM FC {t} ({ci})", ci=(f"gm_lo_{t}", f"gm_hi_{t}"))
                for t in timepoints
            ],
            *FRIEDMAN_VIEW[4:],
        ]
        table = self.query_one("#timecourse-table", FrameTable)
        table.show(
            table_frame,
            view,
            caption=f"Friedman across {', '.join([self.baseline, *timepoints])} "
            "(patients complete at every timepoint)",
            sorted_by="q (Friedman), smallest first",
            codes=arm_codes(data.arm_names),
        )
        self.query_one("#timecourse-note", Static).update(
            f"GM FC vs {self.baseline} with "
            f"{ci_label(results.settings.conf_level)} per visit, one line per arm · "
            "highlight a biomarker to plot it"
        )
        first = table.selected()
        self.show_biomarker(first["biomarker"] if first else None)

    def show_biomarker(self, biomarker: str | None) -> None:
        data = self.trial.data
        if biomarker is None or data is None:
            return
        self.biomarker = biomarker
        row = self.friedman.filter(pl.col("biomarker") == biomarker)
        codes = arm_codes(data.arm_names)
        qs = [(arm, q) for arm, q in row.select("arm", "q_friedman").iter_rows() if q is not None]
        if len(qs) == 1:
            q_text = f", Friedman q {qs[0][1]:.3g}"
        else:  # one q per arm
            q_text = "".join(f", {codes.get(arm, arm)} Friedman q {q:.3g}" for arm, q in qs)
        draw_timecourse(
            self.query_one("#timecourse-plot", PlotextPlot),
            self.arms,
            biomarker,
            self.days,
            self.baseline,
            data.arm_names,
            f"{biomarker}: change over time{q_text}",
            codes,
        )

    def on_frame_table_cursor_moved(self, event: FrameTable.CursorMoved) -> None:
        row = event.row
        if row is not None and row["biomarker"] != self.biomarker:
            self.show_biomarker(row["biomarker"])

    def on_frame_table_row_chosen(self, event: FrameTable.RowChosen) -> None:
        self.app.push_screen(BiomarkerDetailScreen(event.row["biomarker"]))

    def export_view(self) -> tuple[pl.DataFrame, str] | None:
        if self.friedman.is_empty():
            return None
        return self.friedman, "friedman"
