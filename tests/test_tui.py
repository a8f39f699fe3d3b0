"""Pilot tests of the Textual app: every screen driven by keys, numbers equal the analysis."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from textual.widgets import Input, Select, TextArea

from trialtui.analysis import AnalysisSettings
from trialtui.formatting import format_cell, format_p
from trialtui.store.connection import connect
from trialtui.study import StudyResults, compute, load_study
from trialtui.tui.app import TrialApp
from trialtui.tui.screens.arms import ArmsScreen
from trialtui.tui.screens.biomarker_detail import BiomarkerDetailScreen
from trialtui.tui.screens.correlations import CorrelationsScreen
from trialtui.tui.screens.overview import OverviewScreen
from trialtui.tui.screens.patient_detail import PatientDetailScreen
from trialtui.tui.screens.patients import PatientsScreen
from trialtui.tui.screens.settings import SettingsScreen
from trialtui.tui.screens.statistics import StatisticsScreen
from trialtui.tui.widgets.frame_table import FrameTable

SIZE = (120, 36)
STUDY = "PDAC-DEF-2"


def expected(db: Path, settings: AnalysisSettings | None = None) -> StudyResults:
    """Results computed outside the app, straight from trialtui.analysis."""
    con = connect(db, read_only=True)
    try:
        data = load_study(con, STUDY)
    finally:
        con.close()
    return compute(data, settings or AnalysisSettings())


async def settle(app: TrialApp, pilot) -> None:
    """Wait for workers and the messages they post, without sleeping."""
    await app.workers.wait_for_complete()
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


def shown_rows(table: FrameTable) -> list[list[str]]:
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


def shown_column(table: FrameTable, name: str) -> list[str]:
    index = [c.name for c in table.visible_columns].index(name)
    return [row[index] for row in shown_rows(table)]


@pytest.fixture
def app(sample_db: Path, tmp_path: Path) -> TrialApp:
    # a copy: Apply stores results in the database
    return TrialApp(shutil.copy(sample_db, tmp_path / "sample.duckdb"), study=STUDY)


async def test_overview_shows_study_arms_and_findings(app: TrialApp, sample_db: Path) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, OverviewScreen)
        arms = app.screen.query_one("#arms-table", FrameTable)
        assert shown_column(arms, "arm") == ["Defactinib + Pembrolizumab", "Pembrolizumab"]
        assert shown_column(arms, "n_patients") == ["20", "20"]
        completeness = app.screen.query_one("#completeness-table", FrameTable)
        cd8 = completeness.frame.filter(pl.col("biomarker") == "CD8")
        assert cd8["n_paired"].to_list() == [18, 18]
        findings = app.screen.query_one("#findings-table", FrameTable).frame
        reference = expected(sample_db).level("comparison")
        assert findings.height > 0
        assert set(findings["biomarker"]) <= set(
            reference.filter(pl.col("q_welch") < 0.05)["biomarker"]
        )
        assert "PDAC-DEF-2" in app.status_text()


async def test_arms_screen_numbers_equal_analysis(app: TrialApp, sample_db: Path) -> None:
    reference = expected(sample_db).level("arm")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("3")
        await settle(app, pilot)
        assert isinstance(app.screen, ArmsScreen)
        table = app.screen.query_one("#arms-summary", FrameTable)
        assert_frame_equal(table.frame, reference)
        codes = table.codes
        rows = {(r[0], r[1]): r for r in shown_rows(table)}
        names = [c.name for c in table.visible_columns]
        for row in reference.iter_rows(named=True):
            cells = rows[(row["biomarker"], codes.get(row["arm"], row["arm"]))]
            for column in ("n_pairs", "gmean_fc", "p_wilcoxon", "q_ttest"):
                shown = cells[names.index(column)].split(" (")[0]
                assert float(shown) == pytest.approx(row[column], rel=2e-3, abs=1e-4), column
        assert "D+P = Defactinib + Pembrolizumab" in str(table.border_subtitle)


async def test_statistics_sort_and_biomarker_plots(app: TrialApp, sample_db: Path) -> None:
    reference = expected(sample_db).level("comparison")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("4")
        await settle(app, pilot)
        assert isinstance(app.screen, StatisticsScreen)
        table = app.screen.query_one("#comparison-table", FrameTable)
        by_q = reference.sort("q_welch", "p_welch", nulls_last=True)["biomarker"].to_list()
        assert table.frame["biomarker"].to_list() == by_q
        assert shown_column(table, "biomarker") == by_q
        await pilot.press("s")  # -> p
        await pilot.press("s")  # -> effect
        effect = reference.sort(pl.col("gmfc_ratio").log(2).abs(), descending=True)
        assert shown_column(table, "biomarker") == effect["biomarker"].to_list()
        await pilot.press("v")
        assert app.screen.query_one("#statistics").has_class("-volcano")
        # open the first biomarker (largest effect: PFAK) and walk its plots
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, BiomarkerDetailScreen)
        assert app.screen.biomarker == effect["biomarker"][0]
        for key, tab in (("b", "strip"), ("l", "slope"), ("w", "waterfall"), ("n", "numbers")):
            await pilot.press(key)
            await pilot.pause()
            assert app.screen.query_one("TabbedContent").active == tab
        detail = app.screen.query_one("#biomarker-comparison", FrameTable)
        row = reference.filter(pl.col("biomarker") == app.screen.biomarker).row(0, named=True)
        ratio = shown_column(detail, "gmfc_ratio")[0]
        assert float(ratio.split(" (")[0]) == pytest.approx(row["gmfc_ratio"], rel=1e-3)
        assert shown_column(detail, "q_welch") == [format_p(row["q_welch"])]
        await pilot.press("escape")
        assert isinstance(app.screen, StatisticsScreen)


async def test_patients_filter_and_detail(app: TrialApp, sample_db: Path) -> None:
    patients = expected(sample_db).level("patient")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("2")
        await settle(app, pilot)
        assert isinstance(app.screen, PatientsScreen)
        table = app.screen.query_one("#patients-table", FrameTable)
        assert table.frame.height == 40
        await pilot.press("slash")
        await pilot.press(*"dp-1")
        await pilot.pause()
        assert shown_column(table, "patient_id") == [f"DP-{i}" for i in range(10, 20)]
        await pilot.press("escape")
        await pilot.pause()
        assert table.frame.height == 40
        app.screen.query_one("#response-filter", Select).value = "CR"
        await pilot.pause()
        assert set(shown_column(table, "response")) == {"CR"}
        app.screen.query_one("#response-filter", Select).clear()
        app.screen.query_one("#arm-filter", Select).value = "Pembrolizumab"
        await pilot.pause()
        assert set(table.frame["arm"]) == {"Pembrolizumab"}
        assert set(shown_column(table, "arm")) == {table.codes["Pembrolizumab"]}
        table.focus()
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, PatientDetailScreen)
        patient = app.screen.patient_id
        detail = app.screen.query_one("#patient-table", FrameTable)
        want = patients.filter(pl.col("patient_id") == patient).sort("biomarker")
        assert shown_column(detail, "biomarker") == want["biomarker"].to_list()
        names = shown_column(detail, "biomarker")
        shown = dict(zip(names, shown_column(detail, "log2fc"), strict=True))
        for marker, value in want.select("biomarker", "log2fc").iter_rows():
            assert float(shown[marker]) == pytest.approx(value, abs=6e-4)


async def test_correlations_heatmap_and_pair(app: TrialApp, sample_db: Path) -> None:
    corr = expected(sample_db).level("correlation")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("5")
        await settle(app, pilot)
        assert isinstance(app.screen, CorrelationsScreen)
        table = app.screen.query_one("#pairs-table", FrameTable)
        first = corr.filter(pl.col("arm") == "Defactinib + Pembrolizumab")  # opens on arm 1
        assert table.frame.height == first.height
        cd8_fap = first.filter((pl.col("biomarker_x") == "CD8") & (pl.col("biomarker_y") == "FAP"))[
            "spearman_rho"
        ][0]
        assert format_cell(cd8_fap) in shown_column(table, "spearman_rho")
        app.screen.query_one("#corr-arm", Select).value = "pooled (arm-adjusted)"
        await pilot.pause()
        assert set(table.frame["arm"]) == {"pooled (arm-adjusted)"}
        await pilot.press("down")
        await pilot.press("h")
        await pilot.pause()


async def test_settings_recompute_in_worker(app: TrialApp, sample_db: Path) -> None:
    changed = AnalysisSettings(lloq_policy="exclude", fdr="holm")
    want = expected(sample_db, changed).level("arm")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("7")
        await settle(app, pilot)
        assert isinstance(app.screen, SettingsScreen)
        app.screen.query_one("#set-lloq", Select).value = "exclude"
        app.screen.query_one("#set-fdr", Select).value = "holm"
        await pilot.click("#apply")
        await settle(app, pilot)
        assert app.results is not None
        assert app.results.settings.lloq_policy == "exclude"
        assert "LLOQ exclude" in app.status_text() and "FDR holm" in app.status_text()
        await pilot.press("3")
        await settle(app, pilot)
        table = app.screen.query_one("#arms-summary", FrameTable)
        assert_frame_equal(
            table.frame.drop("reference_arm", strict=False),
            want.drop("reference_arm", strict=False),
        )


async def test_settings_rejects_bad_confidence_level(app: TrialApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("7")
        await settle(app, pilot)
        generation = app.generation
        app.screen.query_one("#set-conf", Input).value = "1.5"
        await pilot.click("#apply")
        await settle(app, pilot)
        assert app.generation == generation
        message = str(app.screen.query_one("#settings-message").render())
        assert "conf_level" in message


async def test_export_writes_csv_and_provenance(
    app: TrialApp, sample_db: Path, tmp_path: Path
) -> None:
    target = tmp_path / "arms.csv"
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("3")
        await settle(app, pilot)
        await pilot.press("ctrl+e")
        await pilot.pause()
        app.screen.query_one("#export-path", Input).value = str(target)
        await pilot.click("#export-ok")
        await pilot.pause()
    exported = pl.read_csv(target)
    want = expected(sample_db).level("arm")
    assert exported.columns[:16] == want.columns[:16]
    assert exported["mean_fc"].to_list() == pytest.approx(want["mean_fc"].to_list(), rel=1e-12)
    import json

    provenance = json.loads(target.with_name("arms.csv.provenance.json").read_text())
    assert provenance["level"] == "arm"
    assert provenance["study_id"] == STUDY
    assert provenance["row_count"] == want.height
    assert provenance["settings"]["lloq_policy"] == "half"
    assert all(len(s["sha256"]) == 64 for s in provenance["source_files"])


async def test_export_refuses_to_overwrite(app: TrialApp, tmp_path: Path) -> None:
    target = tmp_path / "exists.csv"
    target.write_text("keep me\n")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("3")
        await settle(app, pilot)
        await pilot.press("ctrl+e")
        await pilot.pause()
        app.screen.query_one("#export-path", Input).value = str(target)
        await pilot.click("#export-ok")
        await pilot.pause()
        error = str(app.screen.query_one("#export-error").render())
        assert "already exists" in error and "Overwrite" in error and "--force" not in error
    assert target.read_text() == "keep me\n"


async def test_help_palette_and_quit(app: TrialApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert type(app.screen).__name__ == "HelpScreen"
        await pilot.press("escape")
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Biomarker: CD8")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, BiomarkerDetailScreen)
        assert app.screen.biomarker == "CD8"
        await pilot.press("q")
    assert app.return_code == 0


async def test_study_picker_switches_study(app: TrialApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.screen.query_one("#study-select", Select).value = "PDAC-DEF-1"
        await settle(app, pilot)
        assert app.results is not None and app.results.study_id == "PDAC-DEF-1"
        arms = app.screen.query_one("#arms-table", FrameTable)
        assert shown_column(arms, "arm") == ["Defactinib + Pembrolizumab + Gemcitabine"]
        assert app.screen.query_one("#timepoints-table", FrameTable).frame.height == 3


async def test_small_screen_80x24(app: TrialApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        for key in "1234576":
            await pilot.press(key)
            await settle(app, pilot)
        assert type(app.screen).__name__ == "ConsoleScreen"
        assert isinstance(app.screen.query_one("#sql-editor"), TextArea)


async def test_missing_database_reports_error(tmp_path: Path) -> None:
    app = TrialApp(tmp_path / "nope.duckdb")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.results is None
        assert app.last_error is not None and "no such database" in app.last_error
        assert "error" in app.status_text()
