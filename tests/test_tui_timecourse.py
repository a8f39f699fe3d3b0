"""Pilot tests: the Statistics screen's effect choice and the Timecourse screen."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest
from test_timecourse import timecourse_db  # noqa: F401  (fixture)

from trialtui.analysis import AnalysisSettings
from trialtui.store.connection import connect
from trialtui.study import compute, load_study
from trialtui.tui.app import TrialApp
from trialtui.tui.screens.statistics import StatisticsScreen
from trialtui.tui.screens.timecourse import TimecourseScreen
from trialtui.tui.widgets.frame_table import FrameTable

SIZE = (120, 36)


async def settle(app: TrialApp, pilot) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


def shown_column(table: FrameTable, name: str) -> list[str]:
    index = [c.name for c in table.visible_columns].index(name)
    return [str(table.get_row_at(i)[index]) for i in range(table.row_count)]


@pytest.fixture
def db(sample_db: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "trial.duckdb"
    shutil.copy(sample_db, copy)
    return copy


def expected(db: Path, study: str, **levels) -> dict[str, pl.DataFrame]:
    con = connect(db, read_only=True)
    try:
        data = load_study(con, study)
    finally:
        con.close()
    every = compute(data, AnalysisSettings(timepoint="all"), levels=("arm",))
    one = compute(data, AnalysisSettings(), levels=("comparison", "friedman"))
    return {
        "arm_all": every.level("arm"),
        "comparison": one.level("comparison"),
        "friedman": one.level("friedman"),
    }


async def test_statistics_effect_choice_leads_with_ancova(db: Path) -> None:
    reference = expected(db, "PDAC-DEF-2")["comparison"]
    app = TrialApp(db, study="PDAC-DEF-2")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("4")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, StatisticsScreen)
        table = screen.query_one("#comparison-table", FrameTable)
        await pilot.press("e", "e")  # Welch -> Mann-Whitney -> ANCOVA
        assert screen.effect.estimate == "ancova_ratio"
        by_q = reference.sort("q_ancova", "p_ancova", "biomarker", nulls_last=True)
        assert table.frame["biomarker"].to_list() == by_q["biomarker"].to_list()
        lead = [c.name for c in table.columns_shown][2:5]
        assert lead == ["ancova_ratio", "q_ancova", "p_ancova"]
        assert len(shown_column(table, "q_ancova")) == by_q.height
        assert "ANCOVA" in str(table.border_title)
        await pilot.press("s", "s")  # q -> p -> effect: largest |log2 ANCOVA ratio| first
        by_effect = reference.sort(pl.col("ancova_ratio").log(2).abs(), descending=True)
        assert table.frame["biomarker"].to_list() == by_effect["biomarker"].to_list()
        await pilot.press("v")
        await pilot.pause()
        assert screen.query_one("#statistics").has_class("-volcano")
        await pilot.press("e")  # back to the Welch ratio
        assert screen.effect.estimate == "gmfc_ratio"


async def test_timecourse_screen_shows_every_timepoint_and_friedman(db: Path) -> None:
    reference = expected(db, "PDAC-DEF-1")
    app = TrialApp(db, study="PDAC-DEF-1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("8")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, TimecourseScreen)
        assert screen.arms.equals(reference["arm_all"])
        assert screen.friedman.equals(reference["friedman"])
        table = screen.query_one("#timecourse-table", FrameTable)
        friedman = reference["friedman"].sort("q_friedman", "biomarker", nulls_last=True)
        assert shown_column(table, "biomarker") == friedman["biomarker"].to_list()
        assert table.frame["q_friedman"].to_list() == friedman["q_friedman"].to_list()
        surgery = reference["arm_all"].filter(pl.col("timepoint") == "Surgery")
        gm = dict(zip(surgery["biomarker"], surgery["gmean_fc_hi"], strict=True))
        assert table.frame["gm_hi_Surgery"].to_list() == [gm[b] for b in friedman["biomarker"]]
        assert any(c.name == "gm_Surgery" for c in table.visible_columns)
        assert screen.biomarker == friedman["biomarker"][0]
        await pilot.press("down")
        await pilot.pause()
        assert screen.biomarker == friedman["biomarker"][1]


async def test_timecourse_screen_explains_a_two_timepoint_study(db: Path) -> None:
    app = TrialApp(db, study="PDAC-DEF-2")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("8")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, TimecourseScreen)
        assert screen.has_class("-empty")
        note = str(screen.query_one("#timecourse-note").render())
        assert "PDAC-DEF-2 has 2 timepoints" in note


async def test_timecourse_screen_with_two_arms(timecourse_db: Path) -> None:  # noqa: F811
    app = TrialApp(timecourse_db, study="TC")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("8")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, TimecourseScreen)
        table = screen.query_one("#timecourse-table", FrameTable)
        assert table.frame.height == 6  # 3 biomarkers x 2 arms
        assert set(table.frame["arm"]) == {"Control", "Treated"}
        assert screen.arms.group_by("timepoint").len().sort("timepoint")["len"].to_list() == [6, 6]
