"""Cross-import integrity: a later file that contradicts the database is refused with one
line naming the file, row, column, the stored value and the new one; identical restatements
change nothing; deliberate subject-data changes need --update-subject-data and are audited."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import GOOD_LONG_CSV

from trialtui.errors import InputError
from trialtui.store.connection import connect
from trialtui.store.importer import ImportReport, import_files

SAMPLE_HEADER = "study_id,patient_id,arm,sample_id,timepoint,visit_day,biomarker,value"
FIRST = f"""\
{SAMPLE_HEADER}
T1,P01,A,S-BL,BL,0,M1,5
T1,P01,A,S-W4,W4,28,M1,7
"""


def load(db: Path, *paths: Path, **options) -> ImportReport:
    con = connect(db, read_only=False)
    try:
        return import_files(con, list(paths), **options)
    finally:
        con.close()


def query(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture
def sample_db(tmp_path: Path, write_csv) -> Path:
    db = tmp_path / "t.duckdb"
    load(db, write_csv(FIRST, "a.csv"))
    return db


# ----------------------------------------------------------------------------- samples


def test_a_sample_id_of_another_patient_is_refused(
    sample_db: Path, write_csv, run_cli, db_snapshot, one_line_error
) -> None:
    before = db_snapshot(sample_db)
    moved = write_csv(f"{SAMPLE_HEADER}\nT1,P02,B,S-BL,BL,0,M2,99\n", "b.csv")
    result = run_cli("import", moved, "--db", sample_db)
    one_line_error(
        result,
        "b.csv: row 2, column 'patient_id'",
        "sample 'S-BL' belongs to patient 'P01' in the database but 'P02' here",
    )
    assert db_snapshot(sample_db) == before


def test_a_sample_id_of_another_patient_with_a_known_biomarker_is_refused_clearly(
    sample_db: Path, write_csv, run_cli, db_snapshot, one_line_error
) -> None:
    before = db_snapshot(sample_db)
    moved = write_csv(f"{SAMPLE_HEADER}\nT1,P02,B,S-BL,BL,0,M1,99\n", "b.csv")
    result = run_cli("import", moved, "--db", sample_db)
    line = one_line_error(result, "b.csv: row 2, column 'patient_id'", "'P01'", "'P02'")
    assert "TransactionException" not in line and "internal error" not in line
    assert db_snapshot(sample_db) == before


def test_a_sample_cannot_move_to_another_timepoint(sample_db: Path, write_csv) -> None:
    moved = write_csv(
        f"{SAMPLE_HEADER}\nT1,P01,A,S-X,BL,0,M2,3\nT1,P01,A,S-BL,W4,28,M2,3\n", "b.csv"
    )
    with pytest.raises(InputError, match=r"b\.csv: row 3, column 'timepoint': sample 'S-BL' "):
        load(sample_db, moved)


def test_a_changed_collection_day_is_refused(sample_db: Path, write_csv) -> None:
    changed = write_csv(
        f"{SAMPLE_HEADER}\nT1,P01,A,S-BL,BL,0,M2,3\nT1,P01,A,S-W4,W4,30,M2,3\n", "b.csv"
    )
    with pytest.raises(
        InputError, match=r"row 3, column 'visit_day': sample 'S-W4' has visit_day '28.0'"
    ):
        load(sample_db, changed)


# ----------------------------------------------------------------------------- patients

PATIENT_HEADER = "study_id,patient_id,arm,timepoint,is_baseline,sex,age,response,biomarker,value"


@pytest.fixture
def patient_db(tmp_path: Path, write_csv) -> Path:
    db = tmp_path / "p.duckdb"
    load(
        db,
        write_csv(
            f"{PATIENT_HEADER}\nT1,P01,A,BL,true,F,61,PR,M1,5\nT1,P01,A,W4,false,F,61,PR,M1,7\n",
            "a.csv",
        ),
    )
    return db


@pytest.mark.parametrize(
    ("column", "row", "stored", "new"),
    [
        ("sex", "T1,P01,A,BL,true,M,61,PR,M2,1", "F", "M"),
        ("age", "T1,P01,A,BL,true,F,62,PR,M2,1", "61.0", "62.0"),
        ("response", "T1,P01,A,BL,true,F,61,PD,M2,1", "PR", "PD"),
    ],
)
def test_changed_subject_data_is_refused_without_the_option(
    patient_db: Path, write_csv, run_cli, db_snapshot, one_line_error, column, row, stored, new
) -> None:
    before = db_snapshot(patient_db)
    later = write_csv(f"{PATIENT_HEADER}\n{row}\n", "b.csv")
    result = run_cli("import", later, "--db", patient_db)
    one_line_error(
        result,
        f"b.csv: row 2, column '{column}'",
        f"patient 'P01' has {column} '{stored}' in the database but '{new}' here",
        "--update-subject-data",
    )
    assert db_snapshot(patient_db) == before


def test_update_subject_data_changes_and_audits(patient_db: Path, write_csv, run_cli) -> None:
    later = write_csv(f"{PATIENT_HEADER}\nT1,P01,A,BL,true,M,61,PD,M2,1\n", "b.csv")
    result = run_cli("import", later, "--db", patient_db, "--update-subject-data")
    assert result.returncode == 0, result.stderr
    assert query(patient_db, "SELECT sex, age, response FROM patients") == [("M", 61.0, "PD")]
    audit = query(patient_db, "SELECT message FROM imports WHERE import_id = 2")[0][0]
    assert "changed with --update-subject-data" in audit
    assert "patient 'P01' sex 'F' -> 'M'" in audit
    assert "patient 'P01' response 'PR' -> 'PD'" in audit
    assert "age" not in audit.split("changed with")[1]  # unchanged attributes not listed


def test_a_changed_arm_is_refused_even_with_the_option(patient_db: Path, write_csv) -> None:
    later = write_csv(f"{PATIENT_HEADER}\nT1,P01,B,BL,true,F,61,PR,M2,1\n", "b.csv")
    with pytest.raises(InputError, match="patient 'P01' is in arm 'A' in the database but 'B'"):
        load(patient_db, later, update_subject_data=True)


def test_missing_subject_data_is_filled_in_and_recorded(tmp_path: Path, write_csv) -> None:
    db = tmp_path / "f.duckdb"
    load(
        db,
        write_csv(
            "study_id,patient_id,arm,timepoint,is_baseline,biomarker,value\n"
            "T1,P01,A,BL,true,M1,5\n",
            "a.csv",
        ),
    )
    report = load(db, write_csv(f"{PATIENT_HEADER}\nT1,P01,A,BL,true,F,61,PR,M1,5\n", "b.csv"))
    assert report.files[0].status == "loaded"
    assert query(db, "SELECT sex, age, response FROM patients") == [("F", 61.0, "PR")]
    assert "filled in: patient 'P01' sex set to 'F'" in report.files[0].message


def test_a_restatement_without_the_attributes_is_fine(patient_db: Path, write_csv) -> None:
    later = write_csv(
        "study_id,patient_id,arm,timepoint,is_baseline,biomarker,value\nT1,P01,A,BL,true,M2,1\n",
        "b.csv",
    )
    assert load(patient_db, later).files[0].status == "loaded"
    assert query(patient_db, "SELECT sex, age, response FROM patients") == [("F", 61.0, "PR")]


# ----------------------------------------------------------------------------- biomarkers


def test_a_changed_lloq_is_refused(good_db: Path, write_csv, db_snapshot) -> None:
    before = db_snapshot(good_db)
    changed = write_csv(
        "study_id,patient_id,arm,timepoint,is_baseline,biomarker,lloq,value\n"
        "S1,P9,A,pre,true,CD8,2,10\n",
        "b.csv",
    )
    with pytest.raises(
        InputError, match=r"row 2, column 'lloq': biomarker 'CD8' has lloq '1.0' in the database"
    ):
        load(good_db, changed)
    assert db_snapshot(good_db) == before


# ----------------------------------------------------------------------------- unchanged


def _store_results(db: Path, run_cli) -> None:
    result = run_cli("stats", "--db", db, "--store")
    assert result.returncode == 0, result.stderr


def test_a_crlf_copy_changes_nothing_and_keeps_stored_results(
    good_db: Path, tmp_path: Path, run_cli, db_snapshot
) -> None:
    _store_results(good_db, run_cli)
    before = db_snapshot(good_db)
    results = query(good_db, "SELECT count(*) FROM derived_runs")
    crlf = tmp_path / "crlf.csv"
    crlf.write_bytes(GOOD_LONG_CSV.replace("\n", "\r\n").encode())
    result = run_cli("import", crlf, "--db", good_db)
    assert result.returncode == 0, result.stderr
    assert "unchanged" in result.stdout and "nothing changed" in result.stdout
    assert db_snapshot(good_db) == before
    assert query(good_db, "SELECT count(*) FROM derived_runs") == results != [(0,)]


def test_the_same_file_for_another_study_is_loaded(tmp_path: Path, write_csv) -> None:
    src = write_csv(
        "patient_id,arm,timepoint,is_baseline,biomarker,value\nP1,A,pre,true,CD8,1\n", "x.csv"
    )
    db = tmp_path / "s.duckdb"
    load(db, src, study="S1")
    report = load(db, src, study="S2")
    assert report.files[0].status == "loaded"
    assert query(db, "SELECT study_id FROM studies ORDER BY 1") == [("S1",), ("S2",)]
    assert load(db, shutil.copy(src, tmp_path / "y.csv"), study="S2").files[0].status == (
        "unchanged"
    )
    assert query(db, "SELECT count(*) FROM imports") == [(2,)]
