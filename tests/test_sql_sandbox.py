"""The SQL sandbox of query files and the console: statement types judged by DuckDB's parser
(EXPLAIN variants included), DuckDB's temporary folder out of reach, local files only, a
time limit, and an interrupt that another thread can send."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from trialtui.store.queryfiles import (
    QueryInterrupted,
    QueryRefused,
    QueryTimeout,
    open_query_connection,
    run_query,
)

LONG_QUERY = "SELECT count(*) FROM range(1000000000000::BIGINT) t(i) WHERE i % 7 = 3"


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    """A file in ./.tmp of the working directory, DuckDB's default temporary folder."""
    folder = tmp_path / ".tmp"
    folder.mkdir()
    path = folder / "notes.txt"
    path.write_text("private notes\n", encoding="utf-8")
    (folder / "x.csv").write_text("a\n1\n", encoding="utf-8")
    return path


def run_sql(run_cli, tmp_path: Path, db: Path, sql: str, *options: str):
    query = tmp_path / "q.sql"
    query.write_text(sql + "\n", encoding="utf-8")
    return run_cli("query", query, "--db", db, *options)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT content FROM read_text('.tmp/notes.txt')",
        "SELECT * FROM '.tmp/x.csv'",
        "FROM '.tmp/x.csv'",
        "SELECT * FROM glob('.tmp/*')",
        "SELECT * FROM read_csv('.tmp/x.csv')",
    ],
)
def test_the_working_directory_temp_folder_is_out_of_reach(
    sample_db: Path, tmp_path: Path, notes: Path, run_cli, sql: str
) -> None:
    result = run_sql(run_cli, tmp_path, sample_db, sql, "--format", "csv")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "private notes" not in result.stdout and "x.csv" not in result.stdout
    assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    "sql",
    [
        "EXPLAIN ANALYZE COPY (SELECT 'x') TO '.tmp/notes.txt'",
        "EXPLAIN ANALYZE CREATE TABLE memory.main.x AS SELECT 1",
        "explain /* comment */ analyse COPY (SELECT 'x') TO '.tmp/notes.txt'",
        "EXPLAIN (FORMAT json) COPY (SELECT 'x') TO '.tmp/notes.txt'",
        "EXPLAIN ANALYZE INSERT INTO memory.main.y SELECT 1",
        "UPDATE EXTENSIONS",
        "EXPLAIN ANALYZE UPDATE EXTENSIONS",
    ],
)
def test_explain_and_unknown_statements_cannot_run_anything(
    sample_db: Path, tmp_path: Path, notes: Path, run_cli, sql: str
) -> None:
    result = run_sql(run_cli, tmp_path, sample_db, sql)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "refused" in result.stderr and "internal error" not in result.stderr
    assert notes.read_text(encoding="utf-8") == "private notes\n"


@pytest.mark.parametrize(
    "sql", ["EXPLAIN SELECT 1", "EXPLAIN ANALYZE SELECT count(*) FROM patients"]
)
def test_explain_of_a_select_is_allowed(sample_db: Path, tmp_path: Path, run_cli, sql) -> None:
    result = run_sql(run_cli, tmp_path, sample_db, sql, "--format", "csv")
    assert result.returncode == 0, result.stderr
    assert "plan" in result.stdout


def test_duckdb_settings_as_csv(sample_db: Path, tmp_path: Path, run_cli) -> None:
    result = run_sql(run_cli, tmp_path, sample_db, "CALL duckdb_settings()", "--format", "csv")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("name,value,")
    assert "shape:" not in result.stdout  # list columns as JSON, not a printed Series


def test_the_temp_folder_is_private(sample_db: Path, tmp_path: Path) -> None:
    con = open_query_connection(sample_db)
    try:
        folder = run_query(con, "SELECT current_setting('temp_directory') AS d")["d"][0]
    finally:
        con.close()
    assert Path(folder).is_absolute() and Path(folder).name.startswith("trialtui-duckdb-")
    assert Path(folder).stat().st_mode & 0o077 == 0


def test_a_long_query_stops_at_the_time_limit(sample_db: Path, tmp_path: Path, run_cli) -> None:
    started = time.monotonic()
    result = run_sql(run_cli, tmp_path, sample_db, LONG_QUERY, "--timeout", "1")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "time limit of 1 s" in result.stderr
    assert time.monotonic() - started < 30


def test_the_timeout_option_is_checked(sample_db: Path, tmp_path: Path, run_cli) -> None:
    result = run_sql(run_cli, tmp_path, sample_db, "SELECT 1", "--timeout", "-1")
    assert result.returncode == 2 and "seconds" in result.stderr


def test_run_query_times_out_and_can_be_interrupted(sample_db: Path) -> None:
    con = open_query_connection(sample_db)
    try:
        with pytest.raises(QueryTimeout):
            run_query(con, LONG_QUERY, timeout=0.5)
        timer = threading.Timer(0.5, con.interrupt)
        timer.start()
        with pytest.raises(QueryInterrupted):
            run_query(con, LONG_QUERY)
        timer.join()
        assert run_query(con, "SELECT 41 + 1 AS x")["x"][0] == 42  # still usable
    finally:
        con.close()


def test_a_refused_statement_never_reaches_duckdb(sample_db: Path) -> None:
    con = open_query_connection(sample_db)
    try:
        with pytest.raises(QueryRefused, match="EXPLAIN is allowed for SELECT"):
            run_query(con, "EXPLAIN ANALYZE CREATE TABLE memory.main.z AS SELECT 1")
        tables = run_query(con, "SELECT count(*) AS n FROM duckdb_tables() WHERE table_name='z'")
        assert tables["n"][0] == 0
    finally:
        con.close()
