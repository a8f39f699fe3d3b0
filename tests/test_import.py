"""Importing good files: long and wide, CSV and Parquet; LLOQ, missing values, baselines,
idempotence, all-or-nothing and dry runs."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest
from conftest import GOOD_LONG_CSV

from trialtui.errors import InputError
from trialtui.store.connection import connect
from trialtui.store.importer import ImportReport, import_files


def load(db: Path, *paths: Path, **options) -> ImportReport:
    """Import through the store API into a real database file."""
    con = connect(db, read_only=False)
    try:
        return import_files(con, list(paths), **options)
    finally:
        con.close()


def query(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def measurements(db: Path) -> list[tuple]:
    """(study, patient, timepoint, biomarker, value, below_lloq, lloq), sorted."""
    return query(
        db,
        """
        SELECT m.study_id, s.patient_id, s.timepoint, m.biomarker_id, m.value, m.below_lloq,
               m.lloq
        FROM measurements m JOIN samples s USING (study_id, sample_id)
        ORDER BY ALL
        """,
    )


def without_imports(snapshot: dict[str, list[tuple]]) -> dict[str, list[tuple]]:
    """A snapshot without the audit trail and the per-measurement import details."""
    out = {k: v for k, v in snapshot.items() if k not in ("imports", "studies")}
    # measurements: drop raw_value (text as written differs between CSV and Parquet) and
    # import_id
    out["measurements"] = sorted((r[:6] for r in snapshot["measurements"]), key=repr)
    return out


# ----------------------------------------------------------------------------- long CSV


def test_long_csv_rows_land_in_the_right_tables(tmp_path: Path, write_csv) -> None:
    src = write_csv(GOOD_LONG_CSV, "good.csv")
    db = tmp_path / "t.duckdb"
    report = load(db, src)

    [result] = report.files
    assert result.status == "loaded"
    assert result.rows_read == 8 and result.rows_loaded == 8 and result.rows_skipped == 0
    assert query(db, "SELECT study_id, source FROM studies") == [("S1", "good.csv")]
    assert query(db, "SELECT study_id, arm_id, label FROM arms ORDER BY ALL") == [
        ("S1", "A", "A"),
        ("S1", "B", "B"),
    ]
    assert query(db, "SELECT study_id, patient_id, arm_id, response FROM patients ORDER BY 2") == [
        ("S1", "P1", "A", "PR"),
        ("S1", "P2", "B", "SD"),
    ]
    assert query(db, "SELECT biomarker_id, unit, lloq FROM biomarkers ORDER BY 1") == [
        ("CD8", "cells/mm2", 1.0),
        ("FAP", "% area", 0.1),
    ]
    assert query(db, "SELECT * FROM timepoints ORDER BY ordinal") == [
        ("S1", "pre", 0, True, 0.0),
        ("S1", "post", 1, False, 30.0),
    ]
    assert query(db, "SELECT patient_id, timepoint, collection_day FROM samples ORDER BY ALL") == [
        ("P1", "post", 30.0),
        ("P1", "pre", 0.0),
        ("P2", "post", 30.0),
        ("P2", "pre", 0.0),
    ]
    assert measurements(db) == [
        ("S1", "P1", "post", "CD8", 40.0, False, 1.0),
        ("S1", "P1", "post", "FAP", 5.0, False, 0.1),
        ("S1", "P1", "pre", "CD8", 10.0, False, 1.0),
        ("S1", "P1", "pre", "FAP", 20.0, False, 0.1),
        ("S1", "P2", "post", "CD8", 12.0, False, 1.0),
        ("S1", "P2", "post", "FAP", 22.0, False, 0.1),
        ("S1", "P2", "pre", "CD8", 8.0, False, 1.0),
        ("S1", "P2", "pre", "FAP", 25.0, False, 0.1),
    ]
    [audit] = query(
        db,
        "SELECT source_file, sha256, format, study_id, rows_read, rows_loaded, rows_rejected, "
        "status, started_at <= finished_at FROM imports",
    )
    assert audit == (
        str(src.resolve()),
        hashlib.sha256(src.read_bytes()).hexdigest(),
        "long",
        "S1",
        8,
        8,
        0,
        "loaded",
        True,
    )
    assert query(db, "SELECT DISTINCT import_id FROM measurements") == [(1,)]


def test_sample_id_column_is_used_when_given(tmp_path: Path, write_csv) -> None:
    src = write_csv(
        """\
        study_id,patient_id,arm,sample_id,timepoint,is_baseline,biomarker,value
        S1,P1,A,BX-001,pre,true,CD8,1
        S1,P1,A,BX-002,post,false,CD8,2
        """
    )
    db = tmp_path / "t.duckdb"
    load(db, src)
    assert query(db, "SELECT sample_id, patient_id, timepoint FROM samples ORDER BY 1") == [
        ("BX-001", "P1", "pre"),
        ("BX-002", "P1", "post"),
    ]


def test_import_summary_counts_in_words(tmp_path: Path, write_csv) -> None:
    src = write_csv(
        """\
        study_id,patient_id,arm,sample_id,timepoint,is_baseline,biomarker,value
        S1,P1,A,BX-001,pre,true,CD8,1
        S1,P1,A,BX-002,post,false,CD8,2
        """
    )
    message = load(tmp_path / "t.duckdb", src).files[0].message
    assert message == (
        "2 rows read (long format); 2 measurements loaded; "
        "new: 1 study, 1 arm, 1 patient, 1 biomarker, 2 timepoints, 2 samples"
    )


def test_utf8_bom_and_padded_header_are_accepted(tmp_path: Path, write_csv) -> None:
    text = GOOD_LONG_CSV.replace("study_id,patient_id", "study_id , patient_id", 1)
    src = write_csv(b"\xef\xbb\xbf" + text.encode("utf-8"))
    db = tmp_path / "t.duckdb"
    load(db, src)
    assert len(measurements(db)) == 8


# ----------------------------------------------------------------------------- LLOQ


def test_less_than_value_is_below_lloq_with_null_value(tmp_path: Path, write_csv) -> None:
    src = write_csv(
        """\
        study_id,patient_id,arm,timepoint,is_baseline,biomarker,value
        S1,P1,A,pre,true,TREG,<0.5
        S1,P1,A,post,false,TREG,< 2
        S1,P2,A,pre,true,TREG,0.7
        """
    )
    db = tmp_path / "t.duckdb"
    load(db, src)
    assert query(
        db,
        "SELECT sample_id, value, below_lloq, lloq, raw_value FROM measurements ORDER BY 1",
    ) == [
        ("P1@post", None, True, 2.0, "< 2"),
        ("P1@pre", None, True, 0.5, "<0.5"),
        ("P2@pre", 0.7, False, None, "0.7"),
    ]


def test_below_lloq_column(tmp_path: Path, write_csv) -> None:
    src = write_csv(
        """\
        study_id,patient_id,arm,timepoint,is_baseline,biomarker,lloq,below_lloq,value
        S1,P1,A,pre,true,PFAK,5,true,2
        S1,P1,A,post,false,PFAK,5,false,40
        S1,P2,A,pre,true,PFAK,,TRUE,5
        S1,P2,A,post,false,PFAK,5,no,6
        """
    )
    db = tmp_path / "t.duckdb"
    load(db, src)
    assert query(db, "SELECT sample_id, value, below_lloq, lloq FROM measurements ORDER BY 1") == [
        ("P1@post", 40.0, False, 5.0),
        ("P1@pre", None, True, 5.0),
        ("P2@post", 6.0, False, 5.0),
        ("P2@pre", None, True, 5.0),  # no lloq given: the value is the limit
    ]
    assert query(db, "SELECT lloq FROM biomarkers") == [(5.0,)]


# ----------------------------------------------------------------------------- missing values


def test_missing_values_are_skipped_and_counted(tmp_path: Path, write_csv, run_cli) -> None:
    src = write_csv(
        """\
        study_id,patient_id,arm,timepoint,is_baseline,biomarker,value
        S1,P1,A,pre,true,CD8,1
        S1,P1,A,post,false,CD8,
        S1,P2,A,pre,true,CD8,NA
        S1,P2,A,post,false,CD8,n/a
        S1,P3,A,pre,true,CD8,3
        """
    )
    db = tmp_path / "t.duckdb"
    result = run_cli("import", src, "--db", db)
    assert result.returncode == 0, result.stderr
    assert "3 without a value skipped" in result.stdout
    assert "2 measurements loaded" in result.stdout
    assert query(db, "SELECT sample_id, value FROM measurements ORDER BY 1") == [
        ("P1@pre", 1.0),
        ("P3@pre", 3.0),
    ]
    assert query(db, "SELECT rows_read, rows_loaded FROM imports") == [(5, 2)]


# ----------------------------------------------------------------------------- baseline


def test_baseline_from_is_baseline_wins_over_visit_day(tmp_path: Path, write_csv) -> None:
    src = write_csv(
        """\
        study_id,patient_id,arm,timepoint,visit_day,is_baseline,biomarker,value
        S1,P1,A,C1D1,0,false,CD8,5
        S1,P1,A,SCREEN,10,true,CD8,1
        """
    )
    db = tmp_path / "t.duckdb"
    load(db, src)
    assert query(db, "SELECT timepoint, ordinal, is_baseline FROM timepoints ORDER BY 2") == [
        ("SCREEN", 0, True),
        ("C1D1", 1, False),
    ]


def test_baseline_from_smallest_visit_day(tmp_path: Path, write_csv) -> None:
    src = write_csv(
        """\
        study_id,patient_id,arm,timepoint,visit_day,biomarker,value
        S1,P1,A,Surgery,40,CD8,9
        S1,P1,A,C2D1,21,CD8,5
        S1,P1,A,Biopsy,-3,CD8,1
        S1,P2,A,Biopsy,-1,CD8,2
        """
    )
    db = tmp_path / "t.duckdb"
    load(db, src)
    assert query(
        db, "SELECT timepoint, ordinal, is_baseline, nominal_day FROM timepoints ORDER BY ordinal"
    ) == [
        ("Biopsy", 0, True, -2.0),
        ("C2D1", 1, False, 21.0),
        ("Surgery", 2, False, 40.0),
    ]


def test_known_baseline_is_reused_for_later_files(good_db: Path, write_csv) -> None:
    later = write_csv(
        """\
        study_id,patient_id,arm,timepoint,biomarker,value
        S1,P3,A,pre,CD8,3
        S1,P3,A,post,CD8,9
        """
    )
    load(good_db, later)
    assert query(good_db, "SELECT timepoint, ordinal, is_baseline FROM timepoints ORDER BY 2") == [
        ("pre", 0, True),
        ("post", 1, False),
    ]
    assert ("S1", "P3", "post", "CD8", 9.0, False, None) in measurements(good_db)


def test_new_timepoint_of_known_study_gets_next_ordinal(good_db: Path, write_csv) -> None:
    later = write_csv(
        """\
        study_id,patient_id,arm,timepoint,visit_day,biomarker,value
        S1,P1,A,pre,0,CD8,10
        S1,P1,A,followup,90,CD8,30
        """
    )
    load(good_db, later)
    assert query(good_db, "SELECT timepoint, ordinal, is_baseline FROM timepoints ORDER BY 2") == [
        ("pre", 0, True),
        ("post", 1, False),
        ("followup", 2, False),
    ]


# ----------------------------------------------------------------------------- --study


def test_study_option_names_files_without_study_id(
    tmp_path: Path, write_csv, run_cli, one_line_error
) -> None:
    src = write_csv(
        """\
        patient_id,arm,timepoint,is_baseline,biomarker,value
        P1,A,pre,true,CD8,1
        P1,A,post,false,CD8,2
        """
    )
    db = tmp_path / "t.duckdb"
    refused = run_cli("import", src, "--db", db)
    one_line_error(refused, str(src), "row 1", "--study")
    result = run_cli("import", src, "--db", db, "--study", "S9")
    assert result.returncode == 0, result.stderr
    assert query(db, "SELECT study_id FROM studies") == [("S9",)]
    assert query(db, "SELECT DISTINCT study_id FROM measurements") == [("S9",)]
    assert query(db, "SELECT study_id FROM imports") == [("S9",)]


def test_study_column_wins_over_study_option(tmp_path: Path, write_csv) -> None:
    db = tmp_path / "t.duckdb"
    load(db, write_csv(GOOD_LONG_CSV), study="OTHER")
    assert query(db, "SELECT study_id FROM studies") == [("S1",)]


# ----------------------------------------------------------------------------- Parquet and wide

LONG_FRAME = pl.DataFrame(
    {
        "study_id": ["S1"] * 8,
        "patient_id": ["P1", "P1", "P1", "P1", "P2", "P2", "P2", "P2"],
        "arm": ["A", "A", "A", "A", "B", "B", "B", "B"],
        "timepoint": ["pre", "post"] * 4,
        "visit_day": [0, 30] * 4,
        "is_baseline": [True, False] * 4,
        "biomarker": ["CD8", "CD8", "FAP", "FAP"] * 2,
        "unit": ["cells/mm2", "cells/mm2", "% area", "% area"] * 2,
        "lloq": [1.0, 1.0, 0.1, 0.1] * 2,
        "response": ["PR"] * 4 + ["SD"] * 4,
        "value": [10.0, 40.0, 20.0, 5.0, 8.0, 12.0, 25.0, 22.0],
    },
    schema_overrides={"visit_day": pl.Int32},
)

WIDE_CSV = """\
study_id,patient_id,arm,timepoint,visit_day,is_baseline,response,CD8,FAP
S1,P1,A,pre,0,true,PR,10,20
S1,P1,A,post,30,false,PR,40,5
S1,P2,B,pre,0,true,SD,8,25
S1,P2,B,post,30,false,SD,12,22
"""


def test_long_parquet_matches_long_csv(tmp_path: Path, write_csv, db_snapshot) -> None:
    csv_db, pq_db = tmp_path / "csv.duckdb", tmp_path / "pq.duckdb"
    load(csv_db, write_csv(GOOD_LONG_CSV))
    parquet = tmp_path / "long.parquet"
    LONG_FRAME.write_parquet(parquet)
    report = load(pq_db, parquet)
    assert report.files[0].format == "long" and report.files[0].rows_loaded == 8
    assert without_imports(db_snapshot(pq_db)) == without_imports(db_snapshot(csv_db))
    assert query(pq_db, "SELECT format, rows_read FROM imports") == [("long", 8)]


def test_long_parquet_with_nulls_and_below_lloq(tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {
            "study_id": ["S1"] * 4,
            "patient_id": ["P1", "P1", "P2", "P2"],
            "arm": ["A"] * 4,
            "timepoint": ["pre", "post"] * 2,
            "is_baseline": [True, False] * 2,
            "biomarker": ["TREG"] * 4,
            "lloq": [2.0] * 4,
            "below_lloq": [False, True, False, None],
            "value": [5.0, 1.0, None, 3.0],
        }
    )
    parquet = tmp_path / "long.parquet"
    frame.write_parquet(parquet)
    db = tmp_path / "t.duckdb"
    report = load(db, parquet)
    assert report.files[0].rows_skipped == 1
    assert measurements(db) == [
        ("S1", "P1", "post", "TREG", None, True, 2.0),
        ("S1", "P1", "pre", "TREG", 5.0, False, 2.0),
        ("S1", "P2", "post", "TREG", 3.0, False, 2.0),
    ]


def test_wide_csv_matches_long_csv(tmp_path: Path, write_csv) -> None:
    long_db, wide_db = tmp_path / "long.duckdb", tmp_path / "wide.duckdb"
    load(long_db, write_csv(GOOD_LONG_CSV, "long.csv"))
    report = load(wide_db, write_csv(WIDE_CSV, "wide.csv"))
    assert report.files[0].format == "wide"
    assert report.files[0].rows_read == 4 and report.files[0].rows_loaded == 8
    # The wide file carries no units or LLOQs; everything else must agree.
    long_rows = [r[:5] for r in measurements(long_db)]
    assert [r[:5] for r in measurements(wide_db)] == long_rows
    assert query(wide_db, "SELECT * FROM patients ORDER BY ALL") == query(
        long_db, "SELECT * FROM patients ORDER BY ALL"
    )
    assert query(wide_db, "SELECT * FROM timepoints ORDER BY ALL") == query(
        long_db, "SELECT * FROM timepoints ORDER BY ALL"
    )
    assert query(wide_db, "SELECT biomarker_id FROM biomarkers ORDER BY 1") == [("CD8",), ("FAP",)]


def test_wide_parquet_matches_wide_csv(tmp_path: Path, write_csv, db_snapshot) -> None:
    csv_db, pq_db = tmp_path / "csv.duckdb", tmp_path / "pq.duckdb"
    csv_path = write_csv(WIDE_CSV, "wide.csv")
    load(csv_db, csv_path)
    frame = pl.read_csv(csv_path, schema_overrides={"is_baseline": pl.Boolean})
    assert frame.schema["CD8"].is_numeric()  # typed columns, not text
    parquet = tmp_path / "wide.parquet"
    frame.write_parquet(parquet)
    report = load(pq_db, parquet)
    assert report.files[0].format == "wide"
    assert without_imports(db_snapshot(pq_db)) == without_imports(db_snapshot(csv_db))


def test_wide_csv_with_censored_and_missing_cells(tmp_path: Path, write_csv) -> None:
    src = write_csv(
        """\
        patient_id,arm,timepoint,visit_day,CD8,TREG
        P1,A,surgery,40,20,<2
        P1,A,biopsy,-3,10,NA
        P2,B,biopsy,-2,,4
        """
    )
    db = tmp_path / "t.duckdb"
    report = load(db, src, study="S9")
    assert report.files[0].rows_skipped == 2
    assert measurements(db) == [
        ("S9", "P1", "biopsy", "CD8", 10.0, False, None),
        ("S9", "P1", "surgery", "CD8", 20.0, False, None),
        ("S9", "P1", "surgery", "TREG", None, True, 2.0),
        ("S9", "P2", "biopsy", "TREG", 4.0, False, None),
    ]
    assert query(db, "SELECT timepoint FROM timepoints WHERE is_baseline") == [("biopsy",)]


def test_format_option_overrides_detection(tmp_path: Path, write_csv) -> None:
    src = write_csv(WIDE_CSV)
    db = tmp_path / "t.duckdb"
    with pytest.raises(InputError, match=r"missing required column.*'biomarker', 'value'"):
        load(db, src, fmt="long")
    assert load(db, src, fmt="wide").files[0].format == "wide"
    assert len(measurements(db)) == 8


# ----------------------------------------------------------------------------- duplicates


def test_exact_duplicate_rows_are_accepted_once(tmp_path: Path, write_csv, run_cli) -> None:
    src = write_csv(
        """\
        study_id,patient_id,arm,timepoint,is_baseline,biomarker,value
        S1,P1,A,pre,true,CD8,1.5
        S1,P1,A,pre,true,CD8,1.5
        S1,P1,A,post,false,CD8,3
        """
    )
    db = tmp_path / "t.duckdb"
    result = run_cli("import", src, "--db", db)
    assert result.returncode == 0, result.stderr
    assert "1 exact duplicates collapsed" in result.stdout
    assert measurements(db) == [
        ("S1", "P1", "post", "CD8", 3.0, False, None),
        ("S1", "P1", "pre", "CD8", 1.5, False, None),
    ]


# ----------------------------------------------------------------------------- idempotence


def test_reimporting_the_same_file_changes_nothing_and_says_so(
    good_db: Path, tmp_path: Path, run_cli, db_snapshot
) -> None:
    src = tmp_path / "again.csv"
    src.write_text(GOOD_LONG_CSV, encoding="utf-8")  # same bytes as the earlier import
    before = db_snapshot(good_db)
    result = run_cli("import", src, "--db", good_db)
    assert result.returncode == 0, result.stderr
    assert "unchanged" in result.stdout
    assert "already imported as import #1" in result.stdout
    assert "nothing changed" in result.stdout
    assert db_snapshot(good_db) == before


def test_reimport_after_a_different_file_is_idempotent(
    tmp_path: Path, write_csv, db_snapshot
) -> None:
    first = write_csv(GOOD_LONG_CSV, "first.csv")
    second = write_csv(
        """\
        study_id,patient_id,arm,timepoint,is_baseline,biomarker,value
        S1,P3,A,pre,true,CD8,3
        S1,P3,A,post,false,CD8,6
        """,
        "second.csv",
    )
    db = tmp_path / "t.duckdb"
    load(db, first)
    load(db, second)
    after_both = db_snapshot(db)
    report = load(db, first)
    assert [f.status for f in report.files] == ["unchanged"]
    assert report.files[0].import_id == 1
    copy = tmp_path / "renamed_copy.csv"
    shutil.copy(first, copy)
    assert [f.status for f in load(db, copy).files] == ["unchanged"]
    assert db_snapshot(db) == after_both
    assert len(after_both["measurements"]) == 10
    assert [r[0] for r in after_both["imports"]] == [1, 2]


def test_same_rows_in_different_bytes_change_nothing(good_db: Path, write_csv, db_snapshot):
    # Same measurements, other column order: a new file (new sha256) but no new rows, so
    # no import record either.
    frame = pl.read_csv(GOOD_LONG_CSV.encode(), infer_schema=False)
    src = write_csv(frame.select(reversed(frame.columns)).write_csv(), "reordered.csv")
    before = db_snapshot(good_db)
    report = load(good_db, src)
    assert report.files[0].status == "unchanged" and report.files[0].rows_loaded == 0
    assert "already imported as import #1" in report.files[0].message
    assert db_snapshot(good_db) == before


# ----------------------------------------------------------------------------- all or nothing


def test_two_files_in_one_command_all_or_nothing(
    good_db: Path, write_csv, run_cli, db_snapshot, one_line_error
) -> None:
    fine = write_csv(
        """\
        study_id,patient_id,arm,timepoint,is_baseline,biomarker,value
        S2,Q1,A,pre,true,CD8,1
        S2,Q1,A,post,false,CD8,2
        """,
        "fine.csv",
    )
    broken = write_csv(
        """\
        study_id,patient_id,arm,timepoint,is_baseline,biomarker,value
        S3,R1,A,pre,true,CD8,1
        S3,R1,A,post,false,CD8,lots
        """,
        "broken.csv",
    )
    before = db_snapshot(good_db)
    result = run_cli("import", fine, broken, "--db", good_db)
    one_line_error(result, str(broken), "row 3", "column 'value'", "'lots'")
    assert db_snapshot(good_db) == before
    # Each file alone: the fine one loads, so the rollback above was not a fluke.
    ok = run_cli("import", fine, "--db", good_db)
    assert ok.returncode == 0, ok.stderr
    assert ("S2",) in query(good_db, "SELECT study_id FROM studies")


def test_two_good_files_in_one_command(tmp_path: Path, write_csv, run_cli) -> None:
    a = write_csv(GOOD_LONG_CSV, "a.csv")
    b = write_csv(WIDE_CSV.replace("S1", "S2"), "b.csv")
    db = tmp_path / "t.duckdb"
    result = run_cli("import", a, b, "--db", db)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count(": imported: ") == 2
    assert query(db, "SELECT study_id, count(*) FROM measurements GROUP BY 1 ORDER BY 1") == [
        ("S1", 8),
        ("S2", 8),
    ]
    assert query(db, "SELECT import_id, format FROM imports ORDER BY 1") == [
        (1, "long"),
        (2, "wide"),
    ]


def test_api_failure_rolls_back_earlier_files(tmp_path: Path, write_csv, db_snapshot) -> None:
    db = tmp_path / "t.duckdb"
    connect(db, read_only=False).close()
    before = db_snapshot(db)
    good = write_csv(GOOD_LONG_CSV, "good.csv")
    bad = write_csv(b"", "empty.csv")
    with pytest.raises(InputError, match="empty"):
        load(db, good, bad)
    assert db_snapshot(db) == before


# ----------------------------------------------------------------------------- dry run


def test_dry_run_writes_nothing(good_db: Path, write_csv, run_cli, db_snapshot) -> None:
    src = write_csv(
        """\
        study_id,patient_id,arm,timepoint,is_baseline,biomarker,value
        S2,Q1,A,pre,true,CD8,1
        S2,Q1,A,post,false,CD8,2
        """
    )
    before = db_snapshot(good_db)
    result = run_cli("import", src, "--db", good_db, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "dry run" in result.stdout and "nothing written" in result.stdout
    assert db_snapshot(good_db) == before
    # and the same command without --dry-run does write
    assert run_cli("import", src, "--db", good_db).returncode == 0
    assert db_snapshot(good_db) != before


def test_dry_run_reports_problems_without_writing(
    good_db: Path, write_csv, run_cli, db_snapshot, one_line_error
) -> None:
    src = write_csv(
        """\
        study_id,patient_id,arm,timepoint,is_baseline,biomarker,value
        S1,P1,A,pre,true,CD8,11
        """
    )
    before = db_snapshot(good_db)
    result = run_cli("import", src, "--db", good_db, "--dry-run")
    one_line_error(result, str(src), "row 2", "column 'value'", "import #1")
    assert db_snapshot(good_db) == before


def test_dry_run_does_not_create_a_database(tmp_path: Path, write_csv, run_cli) -> None:
    db = tmp_path / "new.duckdb"
    result = run_cli("import", write_csv(GOOD_LONG_CSV), "--db", db, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "dry run" in result.stdout
    assert not db.exists()
    assert not Path(f"{db}.wal").exists()


def test_failed_import_into_a_new_database_leaves_no_file(
    tmp_path: Path, write_csv, run_cli, one_line_error
) -> None:
    db = tmp_path / "new.duckdb"
    result = run_cli("import", write_csv(b"", "empty.csv"), "--db", db)
    one_line_error(result, "empty.csv", "empty")
    assert not db.exists()


def test_files_of_one_command_are_checked_against_each_other(
    tmp_path: Path, write_csv, db_snapshot
) -> None:
    db = tmp_path / "t.duckdb"
    connect(db, read_only=False).close()
    before = db_snapshot(db)
    first = write_csv(GOOD_LONG_CSV, "first.csv")
    moved = write_csv(
        """\
        study_id,patient_id,arm,timepoint,is_baseline,biomarker,value
        S1,P1,B,pre,true,TREG,3
        """,
        "moved.csv",
    )
    with pytest.raises(InputError, match=r"moved\.csv: row 2, column 'arm': patient 'P1'"):
        load(db, first, moved)
    assert db_snapshot(db) == before
    report = load(db, first, first)
    assert [f.status for f in report.files] == ["loaded", "unchanged"]
