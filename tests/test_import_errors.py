"""Bad input through the real CLI: one-line errors naming file, row and column; exit status 1;
no traceback; the database unchanged. And ``trialtui validate``."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from conftest import GOOD_LONG_CSV

HEADER = "study_id,patient_id,arm,timepoint,visit_day,is_baseline,biomarker,value"


def long_csv(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


# Each case: (file content, fragments the error line must hold besides the file name).
# The database already holds GOOD_LONG_CSV (study S1; P1 in arm A with CD8 pre = 10).
BAD_FILES: dict[str, tuple[str | bytes, tuple[str, ...]]] = {
    "missing_patient_id": (
        long_csv("S2,A,pre,0,true,CD8,1", header=HEADER.replace("patient_id,", "")),
        ("row 1", "missing required column(s) 'patient_id'"),
    ),
    "missing_value_column": (
        long_csv("S2,Q1,A,pre,0,true,CD8", header=HEADER.removesuffix(",value")),
        ("row 1", "missing required column(s) 'value'"),
    ),
    "missing_several_columns": (
        "study_id,patient_id,biomarker,value\nS2,Q1,CD8,1\n",
        ("row 1", "'arm', 'timepoint'"),
    ),
    "wide_missing_arm": (
        "study_id,patient_id,timepoint,CD8\nS2,Q1,pre,1\n",
        ("row 1", "missing required column(s) 'arm'", "wide format"),
    ),
    "non_numeric": (
        long_csv("S2,Q1,A,pre,0,true,CD8,1", "S2,Q1,A,post,30,false,CD8,12 cells"),
        ("row 3", "column 'value'", "not a number: '12 cells'"),
    ),
    "decimal_comma": (
        long_csv("S2,Q1,A,pre,0,true,CD8,1", 'S2,Q1,A,post,30,false,CD8,"1,5"'),
        ("row 3", "column 'value'", "not a number: '1,5'"),
    ),
    "nan": (
        long_csv("S2,Q1,A,pre,0,true,CD8,NaN", "S2,Q1,A,post,30,false,CD8,2"),
        ("row 2", "column 'value'", "not a finite number: 'NaN'"),
    ),
    "inf": (
        long_csv("S2,Q1,A,pre,0,true,CD8,1", "S2,Q1,A,post,30,false,CD8,inf"),
        ("row 3", "column 'value'", "not a finite number: 'inf'"),
    ),
    "negative": (
        long_csv("S2,Q1,A,pre,0,true,CD8,1", "S2,Q1,A,post,30,false,CD8,-0.5"),
        ("row 3", "column 'value'", "negative value -0.5"),
    ),
    "below_zero_lloq": (
        long_csv("S2,Q1,A,pre,0,true,CD8,<0", "S2,Q1,A,post,30,false,CD8,2"),
        ("row 2", "column 'value'", "needs a positive LLOQ"),
    ),
    "duplicate_different_value": (
        long_csv(
            "S2,Q1,A,pre,0,true,CD8,1",
            "S2,Q1,A,post,30,false,CD8,2",
            "S2,Q1,A,pre,0,true,CD8,1.1",
        ),
        (
            "row 4",
            "column 'value'",
            "duplicate measurement of 'CD8' for patient 'Q1' at 'pre'",
            "in row 2",
        ),
    ),
    "duplicate_censored_vs_value": (
        long_csv("S2,Q1,A,pre,0,true,CD8,<1", "S2,Q1,A,pre,0,true,CD8,1"),
        ("row 3", "column 'value'", "duplicate measurement"),
    ),
    "wide_duplicate_different_value": (
        "study_id,patient_id,arm,timepoint,is_baseline,CD8,FAP\n"
        "S2,Q1,A,pre,true,1,2\nS2,Q1,A,post,false,3,4\nS2,Q1,A,pre,true,1,2.5\n",
        ("row 4", "column 'FAP'", "duplicate measurement of 'FAP'"),
    ),
    "patient_in_two_arms_in_file": (
        long_csv("S2,Q1,A,pre,0,true,CD8,1", "S2,Q1,B,post,30,false,CD8,2"),
        ("row 3", "column 'arm'", "patient 'Q1' has arm 'B' here but 'A' in row 2"),
    ),
    "patient_in_two_arms_vs_database": (
        long_csv("S1,P1,B,pre,0,true,CD8,10", "S1,P1,B,post,30,false,CD8,40"),
        ("row 2", "column 'arm'", "patient 'P1' is in arm 'A' in the database but 'B' here"),
    ),
    "no_baseline": (
        "study_id,patient_id,arm,timepoint,biomarker,value\n"
        "S2,Q1,A,pre,CD8,1\nS2,Q1,A,post,CD8,2\n",
        ("row 2", "column 'timepoint'", "cannot tell which timepoint is the baseline"),
    ),
    "two_baselines": (
        long_csv("S2,Q1,A,pre,0,true,CD8,1", "S2,Q1,A,post,30,true,CD8,2"),
        ("row 2", "column 'is_baseline'", "exactly one timepoint", "found 'pre', 'post'"),
    ),
    "no_baseline_flagged": (
        long_csv("S2,Q1,A,pre,0,false,CD8,1", "S2,Q1,A,post,30,false,CD8,2"),
        ("row 2", "column 'is_baseline'", "exactly one timepoint", "found none"),
    ),
    "baseline_flag_differs_within_timepoint": (
        long_csv(
            "S2,Q1,A,pre,0,true,CD8,1",
            "S2,Q1,A,post,30,false,CD8,2",
            "S2,Q2,A,pre,0,false,CD8,3",
        ),
        ("row 4", "column 'is_baseline'", "timepoint 'pre' has is_baseline 'false' here"),
    ),
    "baseline_differs_from_database": (
        long_csv("S1,P3,A,pre,0,false,CD8,1", "S1,P3,A,post,30,true,CD8,2"),
        ("column 'timepoint'", "baseline is 'pre' in the database but 'post' in this file"),
    ),
    "unknown_timepoint_of_known_study": (
        "study_id,patient_id,arm,timepoint,biomarker,value\nS1,P3,A,pre,CD8,1\n"
        "S1,P3,A,week12,CD8,2\n",
        ("row 2", "column 'timepoint'", "unknown timepoint 'week12'"),
    ),
    "empty_file": (b"", ("the file is empty",)),
    "whitespace_only_file": (b"\n\n  \n", ("the file is empty",)),
    "header_only": (HEADER + "\n", ("header but no data rows",)),
    "undecodable_bytes": (
        (long_csv("S2,Q1,A,pre,0,true,CD8,1") + "S2,Q1,A,caf\xe9,30,false,CD8,2\n").encode(
            "latin-1"
        ),
        ("row 3", "column 'timepoint'", "undecodable bytes", "UTF-8"),
    ),
    "utf16_file": (
        long_csv("S2,Q1,A,pre,0,true,CD8,1").encode("utf-16"),
        ("row 1", "undecodable bytes"),
    ),
    "bad_is_baseline": (
        long_csv("S2,Q1,A,pre,0,yes please,CD8,1", "S2,Q1,A,post,30,false,CD8,2"),
        ("row 2", "column 'is_baseline'", "expected true or false, got 'yes please'"),
    ),
    "bad_below_lloq": (
        "study_id,patient_id,arm,timepoint,is_baseline,biomarker,below_lloq,value\n"
        "S2,Q1,A,pre,true,CD8,perhaps,1\n",
        ("row 2", "column 'below_lloq'", "expected true or false, got 'perhaps'"),
    ),
    "bad_lloq": (
        "study_id,patient_id,arm,timepoint,is_baseline,biomarker,lloq,value\n"
        "S2,Q1,A,pre,true,CD8,0,1\n",
        ("row 2", "column 'lloq'", "LLOQ must be a positive number, got '0'"),
    ),
    "bad_visit_day": (
        long_csv("S2,Q1,A,pre,day one,true,CD8,1"),
        ("row 2", "column 'visit_day'", "expected a day number, got 'day one'"),
    ),
    "bad_response": (
        "study_id,patient_id,arm,timepoint,is_baseline,response,biomarker,value\n"
        "S2,Q1,A,pre,true,PR,CD8,1\nS2,Q2,A,pre,true,great,CD8,2\n",
        ("row 3", "column 'response'", "expected one of CR, PR, SD, PD, NE, got 'great'"),
    ),
    "empty_patient_id": (
        long_csv("S2,,A,pre,0,true,CD8,1"),
        ("row 2", "column 'patient_id'", "empty value"),
    ),
    "conflicting_value_vs_earlier_import": (
        long_csv("S1,P1,A,pre,0,true,CD8,11"),
        (
            "row 2",
            "column 'value'",
            "'CD8' for patient 'P1' at 'pre' differs from the value '10'",
            "import #1",
        ),
    ),
    "unit_differs_from_database": (
        "study_id,patient_id,arm,timepoint,is_baseline,biomarker,unit,value\n"
        "S1,P1,A,pre,true,CD8,cells/mm3,10\n",
        ("row 2", "column 'unit'", "biomarker 'CD8' has unit 'cells/mm2' in the database"),
    ),
    "duplicate_column_name": (
        "study_id,patient_id,arm,arm,timepoint,is_baseline,biomarker,value\n"
        "S2,Q1,A,A,pre,true,CD8,1\n",
        ("row 1", "column 'arm'", "duplicate column name"),
    ),
    "ragged_row": (
        long_csv("S2,Q1,A,pre,0,true,CD8,1,extra"),
        ("cannot parse CSV",),
    ),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_input_is_rejected_with_one_line_and_nothing_changes(
    case: str, good_db: Path, write_csv, run_cli, db_snapshot, one_line_error
) -> None:
    content, fragments = BAD_FILES[case]
    src = write_csv(content, f"{case}.csv")
    before = db_snapshot(good_db)
    result = run_cli("import", src, "--db", good_db)
    line = one_line_error(result, *fragments)
    assert line.startswith(f"trialtui: error: {src}: "), line
    assert result.stdout == ""
    assert db_snapshot(good_db) == before


def test_validate_reports_every_bad_file_at_once(
    good_db: Path, write_csv, run_cli, db_snapshot
) -> None:
    paths = {case: write_csv(content, f"{case}.csv") for case, (content, _) in BAD_FILES.items()}
    before = db_snapshot(good_db)
    result = run_cli("validate", *paths.values(), "--db", good_db, "--limit", "1000")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    problems = result.stdout.strip().splitlines()
    for case, src in paths.items():
        mine = [p for p in problems if p.startswith(f"{src}: ")]
        fragments = BAD_FILES[case][1]
        assert any(all(f in p for f in fragments) for p in mine), (case, mine)
    assert db_snapshot(good_db) == before


def test_error_names_the_parquet_record(
    good_db: Path, tmp_path: Path, run_cli, db_snapshot, one_line_error
) -> None:
    frame = pl.DataFrame(
        {
            "study_id": ["S2"] * 3,
            "patient_id": ["Q1", "Q1", "Q2"],
            "arm": ["A"] * 3,
            "timepoint": ["pre", "post", "pre"],
            "is_baseline": [True, False, True],
            "biomarker": ["CD8"] * 3,
            "value": [1.0, 2.0, float("nan")],
        }
    )
    parquet = tmp_path / "bad.parquet"
    frame.write_parquet(parquet)
    before = db_snapshot(good_db)
    result = run_cli("import", parquet, "--db", good_db)
    one_line_error(result, str(parquet), "row 3", "column 'value'", "not a finite number")
    assert db_snapshot(good_db) == before


def test_corrupt_parquet_is_one_line(good_db: Path, write_csv, run_cli, one_line_error) -> None:
    src = write_csv(b"PAR1" + b"\x00garbage" * 20, "corrupt.parquet")
    one_line_error(run_cli("import", src, "--db", good_db), str(src), "cannot read Parquet")


def test_missing_input_file(good_db: Path, tmp_path: Path, run_cli, one_line_error) -> None:
    missing = tmp_path / "nope.csv"
    one_line_error(run_cli("import", missing, "--db", good_db), str(missing), "no such file")


def test_first_error_counts_the_others(good_db: Path, write_csv, run_cli, one_line_error):
    src = write_csv(
        long_csv(
            "S2,Q1,A,pre,0,true,CD8,x",
            "S2,Q1,A,post,30,false,CD8,y",
            "S2,Q2,A,pre,0,true,CD8,z",
        )
    )
    one_line_error(
        run_cli("import", src, "--db", good_db),
        "row 2",
        "not a number: 'x'",
        "and 2 more; `trialtui validate` lists them",
    )


# ----------------------------------------------------------------------------- validate


def test_validate_lists_several_problems_without_writing(
    good_db: Path, write_csv, run_cli, db_snapshot, tmp_path: Path
) -> None:
    src = write_csv(
        long_csv(
            "S2,Q1,A,pre,0,true,CD8,abc",
            "S2,Q1,A,post,30,false,CD8,NaN",
            "S2,Q2,A,pre,0,true,CD8,-1",
            "S2,Q2,A,post,30,sometimes,CD8,inf",
        )
    )
    before = db_snapshot(good_db)
    result = run_cli("validate", src, "--db", good_db)
    assert result.returncode == 1
    lines = result.stdout.strip().splitlines()
    expected = [
        "row 2, column 'value': not a number: 'abc'",
        "row 3, column 'value': not a finite number: 'NaN'",
        "row 4, column 'value': negative value -1",
        "row 5, column 'value': not a finite number: 'inf'",
        "row 5, column 'is_baseline': expected true or false, got 'sometimes'",
    ]
    assert len(lines) == len(expected), result.stdout
    for fragment in expected:
        assert sum(fragment in line for line in lines) == 1, (fragment, lines)
    assert all(line.startswith(f"{src}: ") for line in lines)
    assert "5 problem(s) found" in result.stderr
    assert "Traceback" not in result.stderr
    assert db_snapshot(good_db) == before
    # without --db nothing at all is written, not even the default database
    alone = run_cli("validate", src)
    assert alone.returncode == 1 and len(alone.stdout.strip().splitlines()) == 5
    assert not (tmp_path / "xdg-data").exists()


def test_validate_several_files_and_limit(write_csv, run_cli) -> None:
    bad = write_csv(long_csv(*(f"S2,Q{i},A,pre,0,true,CD8,bad{i}" for i in range(10))), "a.csv")
    empty = write_csv(b"", "b.csv")
    result = run_cli("validate", bad, empty)
    assert result.returncode == 1
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 11
    assert lines[-1] == f"{empty}: the file is empty"
    limited = run_cli("validate", bad, empty, "--limit", "3")
    assert limited.returncode == 1
    assert len(limited.stdout.strip().splitlines()) == 3
    assert "limit reached" in limited.stderr


def test_validate_good_file_exits_zero(write_csv, run_cli, tmp_path: Path) -> None:
    src = write_csv(GOOD_LONG_CSV)
    result = run_cli("validate", src)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == f"{src}: valid (long format, 8 rows, study S1)"
    assert not (tmp_path / "xdg-data").exists()


def test_validate_against_database_sees_conflicts(good_db: Path, write_csv, run_cli) -> None:
    src = write_csv(long_csv("S1,P1,A,pre,0,true,CD8,11"))
    assert run_cli("validate", src).returncode == 0  # fine on its own
    result = run_cli("validate", src, "--db", good_db)
    assert result.returncode == 1
    assert "differs from the value '10' loaded by import #1" in result.stdout
