"""Pilot tests of the import dialog: a worker imports, the screens follow; errors write nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from textual.widgets import Input

from trialtui.tui.app import TrialApp
from trialtui.tui.screens.import_dialog import ImportDialog, parse_paths

SIZE = (120, 36)

NEW_STUDY = """study_id,patient_id,arm,timepoint,visit_day,biomarker,unit,value
NEW-1,n1,Drug,BL,0,CD8,cells/mm2,10
NEW-1,n1,Drug,W4,28,CD8,cells/mm2,40
NEW-1,n2,Drug,BL,0,CD8,cells/mm2,20
NEW-1,n2,Drug,W4,28,CD8,cells/mm2,30
"""


@pytest.fixture
def db(sample_db: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "trial.duckdb"
    shutil.copy(sample_db, copy)
    return copy


async def settle(app: TrialApp, pilot) -> None:
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()


async def run_import(app: TrialApp, pilot, text: str) -> ImportDialog:
    await settle(app, pilot)
    await pilot.press("i")
    await pilot.pause()
    dialog = app.screen
    assert isinstance(dialog, ImportDialog)
    dialog.query_one("#import-paths", Input).value = text
    await pilot.click("#import-ok")
    await settle(app, pilot)
    return dialog


async def test_import_new_study_then_screens_follow(db: Path, tmp_path: Path) -> None:
    source = tmp_path / "new study.csv"
    source.write_text(NEW_STUDY)
    app = TrialApp(db, study="PDAC-DEF-2")
    async with app.run_test(size=SIZE) as pilot:
        dialog = await run_import(app, pilot, f'"{source}"')
        result = str(dialog.query_one("#import-result").render())
        assert "loaded" in result and "4 measurements loaded" in result
        assert dialog.report is not None and dialog.report.files[0].status == "loaded"
        await pilot.press("escape")
        await settle(app, pilot)
        assert "NEW-1" in app.studies  # the app reloaded the database


async def test_bad_file_reports_and_writes_nothing(db: Path, tmp_path: Path) -> None:
    source = tmp_path / "bad.csv"
    source.write_text(NEW_STUDY.replace("40", "-40"))
    before = db.read_bytes()
    app = TrialApp(db, study="PDAC-DEF-2")
    async with app.run_test(size=SIZE) as pilot:
        dialog = await run_import(app, pilot, str(source))
        result = str(dialog.query_one("#import-result").render())
        assert "row 3" in result and "column 'value'" in result and "negative" in result
        assert "Nothing was written" in result
        assert dialog.report is None
        assert dialog.query_one("#import-progress").progress == 0  # not left part-way
    assert db.read_bytes() == before


def test_parse_paths_handles_quotes() -> None:
    assert parse_paths('a.csv "my file.csv"') == [Path("a.csv"), Path("my file.csv")]
