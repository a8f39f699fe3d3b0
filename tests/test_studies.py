"""Several studies in one database: biomarker definitions (unit, LLOQ, assay) per study."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pytest
from textual.widgets import Static

from trialtui.store.connection import connect
from trialtui.store.importer import import_files
from trialtui.tui.app import TrialApp

# Two trials measure CD206: one counts cells by IHC, the other scores % area by mIF.
STUDY_A = """\
study_id,patient_id,arm,timepoint,is_baseline,biomarker,assay,unit,lloq,value
A,P1,Drug,pre,true,CD206,IHC,cells/mm2,1,10
A,P1,Drug,post,false,CD206,IHC,cells/mm2,1,40
A,P2,Drug,pre,true,CD206,IHC,cells/mm2,1,20
A,P2,Drug,post,false,CD206,IHC,cells/mm2,1,10
"""
STUDY_B = """\
study_id,patient_id,arm,timepoint,is_baseline,biomarker,assay,unit,lloq,value
B,Q1,Drug,base,true,CD206,mIF,% area,0.5,2
B,Q1,Drug,w6,false,CD206,mIF,% area,0.5,<0.5
B,Q2,Drug,base,true,CD206,mIF,% area,0.5,4
B,Q2,Drug,w6,false,CD206,mIF,% area,0.5,8
"""


@pytest.fixture
def two_studies(tmp_path: Path, write_csv) -> Path:
    db = tmp_path / "two.duckdb"
    con = connect(db, read_only=False)
    try:
        import_files(con, [write_csv(STUDY_A, "a.csv")])
        import_files(con, [write_csv(STUDY_B, "b.csv")])
    finally:
        con.close()
    return db


def test_each_study_keeps_its_own_definition(two_studies: Path) -> None:
    con = duckdb.connect(str(two_studies), read_only=True)
    try:
        rows = con.execute(
            "SELECT study_id, biomarker_id, assay, unit, lloq FROM biomarkers ORDER BY 1"
        ).fetchall()
    finally:
        con.close()
    assert rows == [("A", "CD206", "IHC", "cells/mm2", 1.0), ("B", "CD206", "mIF", "% area", 0.5)]


def test_conflicting_unit_within_one_file_names_row_and_column(
    run_cli, write_csv, one_line_error, tmp_path: Path
) -> None:
    clash = write_csv(
        STUDY_A.replace(
            "P2,Drug,post,false,CD206,IHC,cells/mm2", "P2,Drug,post,false,CD206,IHC,% area"
        )
    )
    result = run_cli("import", clash, "--db", tmp_path / "x.duckdb")
    one_line_error(result, "row 5", "column 'unit'", "biomarker 'CD206'", "'% area' here")


def test_study_lloq_is_used_for_its_own_values(two_studies: Path, run_cli) -> None:
    # Q1's '<0.5' becomes 0.25 under the default LLOQ/2, from study B's own LLOQ.
    result = run_cli(
        "stats", "--db", two_studies, "--study", "B", "--level", "patient", "--format", "csv"
    )
    assert result.returncode == 0, result.stderr
    frame = pl.read_csv(result.stdout.encode())
    q1 = frame.filter(pl.col("patient_id") == "Q1").row(0, named=True)
    assert q1["post"] == 0.25
    assert q1["unit"] == "% area"


@pytest.mark.parametrize(("study", "unit"), [("A", "cells/mm2"), ("B", "% area")])
@pytest.mark.parametrize("level", ["patient", "arm"])
def test_patient_and_arm_levels_carry_the_study_unit(
    two_studies: Path, run_cli, study: str, unit: str, level: str
) -> None:
    result = run_cli(
        "stats", "--db", two_studies, "--study", study, "--level", level, "--format", "csv"
    )
    assert result.returncode == 0, result.stderr
    frame = pl.read_csv(result.stdout.encode())
    assert frame["unit"].unique().to_list() == [unit]


def test_info_says_when_studies_use_other_units(two_studies: Path, run_cli) -> None:
    result = run_cli("info", "--db", two_studies)
    assert result.returncode == 0, result.stderr
    notes = [line for line in result.stdout.splitlines() if line.startswith("note:")]
    assert notes == [
        "note: biomarker CD206 is in 'cells/mm2' here but '% area' in B; compare across "
        "studies with care",
        "note: biomarker CD206 is in '% area' here but 'cells/mm2' in A; compare across "
        "studies with care",
    ]


def test_info_is_silent_when_units_agree(sample_db: Path, run_cli) -> None:
    result = run_cli("info", "--db", sample_db)
    assert result.returncode == 0, result.stderr
    assert "note:" not in result.stdout


async def test_overview_says_when_studies_use_other_units(two_studies: Path) -> None:
    app = TrialApp(two_studies, study="B")
    async with app.run_test(size=(120, 36)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        notes = app.screen.query_one("#unit-notes", Static)
        assert notes.display
        assert "CD206 is in '% area' here but 'cells/mm2' in A" in str(notes.render())
