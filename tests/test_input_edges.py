"""Small input cases and faults that used to end in exit 3 or were silently accepted: each
now either imports correctly or gives one line naming the file (and row and column)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest

HEADER = "study_id,patient_id,arm,timepoint,is_baseline,biomarker,value"
ROWS = ("S1,P1,A,pre,true,CD8,1", "S1,P1,A,post,false,CD8,2")


def measurement_count(db: Path) -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT count(*) FROM measurements").fetchall()[0][0]
    finally:
        con.close()


# ----------------------------------------------------------------------------- CSV shapes


@pytest.mark.parametrize(
    "content",
    [
        "\r".join([HEADER, *ROWS]) + "\r",  # classic Mac line endings
        "\n".join([HEADER, *ROWS]) + "\n\n\n",  # trailing blank lines
        "\n".join([HEADER, ROWS[0], "", ROWS[1]]) + "\n",  # a blank line inside
        "\r\n".join([HEADER, *ROWS]) + "\r\n\r\n",  # CRLF with a trailing blank line
    ],
    ids=["cr_only", "trailing_blank", "inner_blank", "crlf_blank"],
)
def test_line_ending_and_blank_line_variants_import(
    tmp_path: Path, write_csv, run_cli, content: str
) -> None:
    db = tmp_path / "t.duckdb"
    result = run_cli("import", write_csv(content.encode()), "--db", db)
    assert result.returncode == 0, result.stderr
    assert measurement_count(db) == 2


def test_a_short_row_is_refused_not_skipped(tmp_path: Path, write_csv, run_cli, one_line_error):
    db = tmp_path / "t.duckdb"
    content = "\n".join([HEADER, ROWS[0], "S1,P1,A,post,false"]) + "\n"
    result = run_cli("import", write_csv(content), "--db", db)
    one_line_error(result, "data.csv: row 3", "5 field(s) but the header has 7", "short row")
    assert not db.exists()


def test_a_short_row_with_quotes_is_refused(tmp_path: Path, write_csv, run_cli, one_line_error):
    content = "\n".join([HEADER, ROWS[0], '"S1","P1","A","post"']) + "\n"
    result = run_cli("import", write_csv(content), "--db", tmp_path / "t.duckdb")
    one_line_error(result, "data.csv: row 3", "4 field(s)")


def test_an_empty_last_value_is_still_a_skipped_value(tmp_path: Path, write_csv, run_cli):
    db = tmp_path / "t.duckdb"
    content = "\n".join([HEADER, *ROWS, "S1,P2,A,pre,true,CD8,"]) + "\n"
    result = run_cli("import", write_csv(content), "--db", db)
    assert result.returncode == 0, result.stderr
    assert "1 without a value skipped" in result.stdout


def test_a_value_that_underflows_to_zero_is_refused(tmp_path, write_csv, run_cli, one_line_error):
    content = "\n".join([HEADER, "S1,P1,A,pre,true,CD8,1e-400", ROWS[1]]) + "\n"
    result = run_cli("import", write_csv(content), "--db", tmp_path / "t.duckdb")
    one_line_error(result, "row 2, column 'value'", "'1e-400' is too small")


def test_zero_written_with_an_exponent_is_zero(tmp_path: Path, write_csv, run_cli) -> None:
    content = "\n".join([HEADER, "S1,P1,A,pre,true,CD8,0e-400", ROWS[1]]) + "\n"
    result = run_cli("import", write_csv(content), "--db", tmp_path / "t.duckdb")
    assert result.returncode == 0, result.stderr


def test_huge_values_and_nul_bytes_give_a_short_printable_line(
    tmp_path: Path, write_csv, run_cli, one_line_error
) -> None:
    huge = "x" * 10_000_000
    content = "\n".join([HEADER, f"S1,P1,A,pre,true,CD8,{huge}", "S1,P1,A,post,false,CD8,1\x00"])
    result = run_cli("import", write_csv(content + "\n"), "--db", tmp_path / "t.duckdb")
    line = one_line_error(result, "row 2, column 'value'", "not a number")
    assert len(line) < 2500
    assert "\x00" not in result.stderr


def test_a_control_character_in_a_column_name_is_one_line(
    tmp_path: Path, write_csv, run_cli, one_line_error
) -> None:
    header = HEADER.replace("biomarker", "bio\x00marker")
    content = "\n".join([header, "S1,P1,A,pre,true,CD8,1", "S1,P1,A,post,false,CD8,2"])
    result = run_cli("import", write_csv(content + "\n"), "--db", tmp_path / "t.duckdb")
    one_line_error(result, "row 1, column 'bio\\x00marker'", "control character")


# ----------------------------------------------------------------------------- Parquet, ADaM


@pytest.mark.parametrize(
    ("value", "kind"),
    [([[1.0, 2.0]], "List"), ([b"12"], "Binary"), ([{"a": 1}], "Struct")],
)
def test_parquet_columns_that_are_not_plain_values_are_refused(
    tmp_path: Path, run_cli, one_line_error, value, kind
) -> None:
    path = tmp_path / "nested.parquet"
    frame = pl.DataFrame(dict(zip(HEADER.split(",")[:-1], ROWS[0].split(",")[:-1], strict=True)))
    frame.with_columns(pl.Series("value", value)).write_parquet(path)
    result = run_cli("import", path, "--db", tmp_path / "t.duckdb")
    one_line_error(result, "nested.parquet: column 'value'", kind, "cannot be imported")


@pytest.mark.parametrize("missing", ["USUBJID", "AVAL"])
def test_adam_files_missing_a_key_variable_are_told_in_adam_terms(
    tmp_path: Path, write_csv, run_cli, one_line_error, missing: str
) -> None:
    columns = ["STUDYID", "USUBJID", "TRTP", "AVISIT", "ABLFL", "PARAMCD", "AVAL"]
    values = ["S1", "P1", "A", "BL", "Y", "CD8", "1"]
    keep = [i for i, c in enumerate(columns) if c != missing]
    content = ",".join(columns[i] for i in keep) + "\n" + ",".join(values[i] for i in keep)
    result = run_cli("import", write_csv(content + "\n"), "--db", tmp_path / "t.duckdb")
    line = one_line_error(result, f"missing required ADaM variable(s) '{missing}'")
    assert "wide" not in line


# ----------------------------------------------------------------------------- databases


@pytest.mark.parametrize("name", [":memory:", "md:foo", "s3://bucket/x.duckdb"])
def test_database_names_that_are_not_local_files_are_refused(write_csv, run_cli, name: str) -> None:
    src = write_csv("\n".join([HEADER, *ROWS]) + "\n")
    for args in (("import", src), ("info",), ("query", "patient_listing")):
        result = run_cli(*args, "--db", name)
        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stderr
        assert f"'{name}'" in result.stderr and "imported" not in result.stdout


def test_a_non_numeric_schema_version_is_one_line(good_db: Path, run_cli, one_line_error):
    con = duckdb.connect(str(good_db))
    con.execute("UPDATE meta SET value = 'two' WHERE key = 'schema_version'")
    con.close()
    for args in (("info",), ("stats",)):
        result = run_cli(*args, "--db", good_db)
        one_line_error(result, "good.duckdb", "schema version is not a number")


def _damage(path: Path) -> None:
    size = path.stat().st_size
    with path.open("r+b") as handle:
        handle.seek(size // 2)
        handle.write(bytes(range(256)) * (size // 3 // 256))


@pytest.mark.parametrize("damage", ["truncated", "overwritten"])
def test_a_damaged_database_is_one_line_for_every_command(
    sample_db: Path, tmp_path: Path, write_csv, run_cli, one_line_error, damage: str
) -> None:
    db = tmp_path / "damaged.duckdb"
    shutil.copy(sample_db, db)
    if damage == "truncated":
        os.truncate(db, 5000)
    else:
        _damage(db)
    src = write_csv("\n".join([HEADER, *ROWS]) + "\n")
    for args in (("info",), ("stats", "--study", "PDAC-DEF-1"), ("import", src)):
        result = run_cli(*args, "--db", db)
        line = one_line_error(result, "damaged.duckdb")
        assert "internal error" not in line and "TransactionException" not in line


def test_sample_into_an_unwritable_place_is_one_line(run_cli, one_line_error) -> None:
    result = run_cli("sample", "--db", "/proc/trialtui-test.duckdb")
    one_line_error(result, "/proc/")


# ----------------------------------------------------------------------------- parameters


def test_an_integer_parameter_takes_ascii_digits_only(sample_db: Path, run_cli) -> None:
    result = run_cli(
        "query", "top_changers", "--db", sample_db, "-p", "biomarker=CD8", "-p", "n=\u0663"
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "must be an integer" in result.stderr
