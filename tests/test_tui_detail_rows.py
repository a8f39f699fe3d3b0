"""Detail screens read one patient's or one biomarker's measurements from the database.

The app does not keep a study's measurements in memory (millions of rows at scale): the
tests give the app a study without them (zero rows) and check that the patient and
biomarker screens still show every value, as plain DuckDB reads them from the file.
"""

from __future__ import annotations

import ast
import html
import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import GOOD_LONG_CSV

from trialtui.store.connection import connect
from trialtui.store.importer import import_files
from trialtui.tui.app import TrialApp
from trialtui.tui.screens.biomarker_detail import BiomarkerDetailScreen
from trialtui.tui.screens.patient_detail import PatientDetailScreen
from trialtui.tui.widgets.frame_table import FrameTable

TWO_ARMS = "PDAC-DEF-2"
THREE_VISITS = "PDAC-DEF-1"
SIZES = {"120x36": (120, 36), "80x24": (80, 24)}
TUI = Path(__file__).resolve().parents[1] / "trialtui" / "tui"


async def settle(app: TrialApp, pilot) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


async def press(app: TrialApp, pilot, *keys: str) -> None:
    for key in keys:
        await pilot.press(key)
        await settle(app, pilot)


def forget_measurements(app: TrialApp) -> None:
    """The open study as the app holds it: no measurements in memory (neither every
    measurement nor the raw pairs the statistics were computed from)."""
    assert app.data is not None
    assert app.data.measurements is None and app.data.raw_pairs == {}


def screen_text(app: TrialApp) -> str:
    return html.unescape(app.export_screenshot()).replace("\xa0", " ")


def patient_values_in_file(db: Path, study: str, patient: str) -> dict[tuple[str, str], float]:
    """(biomarker, timepoint) -> value of one patient, read with plain DuckDB."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            """
            SELECT m.biomarker_id, s.timepoint, m.value
            FROM measurements m JOIN samples s USING (study_id, sample_id)
            WHERE m.study_id = ? AND s.patient_id = ?
            """,
            [study, patient],
        ).fetchall()
    finally:
        con.close()
    return {(b, t): v for b, t, v in rows}


@pytest.fixture
def db(sample_db: Path, tmp_path: Path) -> Path:
    return Path(shutil.copy(sample_db, tmp_path / "sample.duckdb"))


@pytest.mark.parametrize("size", list(SIZES))
async def test_patient_values_come_from_the_database(db: Path, size: str) -> None:
    app = TrialApp(db, study=TWO_ARMS)
    async with app.run_test(size=SIZES[size]) as pilot:
        await settle(app, pilot)
        forget_measurements(app)
        await press(app, pilot, "2", "enter")
        screen = app.screen
        assert isinstance(screen, PatientDetailScreen)
        want = patient_values_in_file(db, TWO_ARMS, screen.patient_id)
        assert len(want) >= 10
        table = screen.query_one("#patient-table", FrameTable)
        shown = {
            (row["biomarker"], timepoint): row[timepoint]
            for row in table.frame.iter_rows(named=True)
            for timepoint in ("Baseline", "Surgery")
            if timepoint in row
        }
        assert shown == pytest.approx(want)
        assert [c.name for c in table.visible_columns][:5] == [
            "biomarker",
            "log2fc",
            "fc",
            "Baseline",
            "Surgery",
        ]


@pytest.mark.parametrize("size", list(SIZES))
async def test_unpaired_patient_reason_comes_from_the_database(db: Path, size: str) -> None:
    app = TrialApp(db, study=TWO_ARMS)
    async with app.run_test(size=SIZES[size]) as pilot:
        await settle(app, pilot)
        forget_measurements(app)
        await press(app, pilot, "2", "down", "enter")
        screen = app.screen
        assert isinstance(screen, PatientDetailScreen)
        have = {t for _, t in patient_values_in_file(db, TWO_ARMS, screen.patient_id)}
        assert have == {"Baseline"}  # the sample's unpaired patient: no Surgery biopsy
        header = str(screen.query_one("#patient-header").render())
        assert "unpaired: no Surgery sample" in header
        table = screen.query_one("#patient-table", FrameTable)
        assert table.frame["Baseline"].null_count() < table.frame.height


@pytest.mark.parametrize("size", list(SIZES))
async def test_biomarker_trajectory_comes_from_the_database(db: Path, size: str) -> None:
    app = TrialApp(db, study=THREE_VISITS)
    async with app.run_test(size=SIZES[size]) as pilot:
        await settle(app, pilot)
        forget_measurements(app)
        await press(app, pilot, "4", "enter", "t")
        screen = app.screen
        assert isinstance(screen, BiomarkerDetailScreen)
        con = duckdb.connect(str(db), read_only=True)
        try:
            (patients,) = con.execute(
                """
                SELECT count(DISTINCT s.patient_id)
                FROM measurements m JOIN samples s USING (study_id, sample_id)
                JOIN timepoints t ON t.study_id = s.study_id AND t.timepoint = s.timepoint
                WHERE m.study_id = ? AND m.biomarker_id = ? AND t.is_baseline AND m.value > 0
                """,
                [THREE_VISITS, screen.biomarker],
            ).fetchone()
        finally:
            con.close()
        assert patients > 10
        text = screen_text(app)
        assert f"{screen.biomarker}: change from baseline by visit · n = {patients} patients" in (
            text
        )


async def test_detail_screen_reloads_when_the_database_changed(db: Path, tmp_path: Path) -> None:
    """Rows read after another import do not go with the results on screen: the app
    reloads the study (and says the database changed), then the screen shows the values
    of the new load."""
    app = TrialApp(db, study=TWO_ARMS)
    async with app.run_test(size=SIZES["120x36"]) as pilot:
        await settle(app, pilot)
        before = app.data.data_version
        csv = tmp_path / "other.csv"
        csv.write_text(GOOD_LONG_CSV, encoding="utf-8")
        con = connect(db, read_only=False)
        try:
            import_files(con, [csv])
        finally:
            con.close()
        await press(app, pilot, "2", "enter")
        await settle(app, pilot)
        assert app.data.data_version != before  # reloaded
        screen = app.screen
        assert isinstance(screen, PatientDetailScreen)
        want = patient_values_in_file(db, TWO_ARMS, screen.patient_id)
        table = screen.query_one("#patient-table", FrameTable)
        assert table.frame.height == len({b for b, _ in want})


def test_no_screen_reads_the_study_measurements() -> None:
    """Nothing in trialtui.tui uses ``StudyData.measurements`` (an attribute read, as
    opposed to calling ``catalog.measurements``)."""
    readers = []
    for path in sorted(TUI.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
        readers += [
            f"{path.name}:{node.lineno}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute)
            and node.attr == "measurements"
            and id(node) not in called
        ]
    assert readers == []
