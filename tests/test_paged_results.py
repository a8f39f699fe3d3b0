"""Query results kept in DuckDB and read a page at a time (``PagedResult``): every page,
row, CSV byte and decimal choice equals what the whole result as one Polars frame gives."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from trialtui.errors import StoreError
from trialtui.store import paged
from trialtui.store.connection import connect
from trialtui.store.paged import PagedResult
from trialtui.store.queryfiles import QueryRefused, open_query_connection, run_query
from trialtui.tui.widgets.frame_table import _decimal_basis

ORDERED = "SELECT * FROM measurements ORDER BY value DESC, sample_id, biomarker_id"
GROUPED = (
    "SELECT sample_id, count(*) AS n, avg(value) AS mean, "
    "to_seconds(count(*)) AS span FROM measurements GROUP BY ALL ORDER BY mean"
)


@pytest.fixture
def con(sample_db: Path):
    connection = open_query_connection(sample_db, memory_limit="64MB")
    yield connection
    connection.close()


def both(sample_db: Path, sql: str, keep_above: int = 10) -> tuple[PagedResult, pl.DataFrame]:
    """The query kept (on a connection the result owns) and as one frame."""
    kept = run_query(open_query_connection(sample_db), sql, keep_above=keep_above)
    assert isinstance(kept, PagedResult)
    whole = open_query_connection(sample_db)
    try:
        return kept, run_query(whole, sql)
    finally:
        whole.close()


# a column named like the row ids pages are read by, and two of one name
SHADOWING = "SELECT 1000 - i AS rowid, i AS x, i * 2 AS x FROM range(500) t(i) ORDER BY i DESC"


@pytest.mark.parametrize("sql", [ORDERED, GROUPED, SHADOWING])
def test_pages_rows_and_shape_equal_the_frame(sample_db: Path, sql: str) -> None:
    kept, frame = both(sample_db, sql)
    try:
        assert kept.height == frame.height > 10
        assert kept.columns == frame.columns
        assert kept.schema == frame.schema  # the interval column comes as text in both
        n = frame.height
        for offset, length in [(0, 7), (3, 100), (n - 5, 100), (n - 1, 1), (n, 10), (0, None)]:
            assert_frame_equal(kept.slice(offset, length), frame.slice(offset, length))
        for index in (0, 1, n // 2, n - 1, -1, -n):
            assert kept.row(index, named=True) == frame.row(index, named=True)
            assert kept.row(index) == frame.row(index)
        with pytest.raises(IndexError):
            kept.row(n)
        column = frame.columns[0]
        assert kept.unique(column) == frame[column].unique(maintain_order=True).to_list()
    finally:
        kept.close()


def test_csv_is_the_frames_csv_byte_for_byte(
    sample_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kept, frame = both(sample_db, ORDERED)
    monkeypatch.setattr(paged, "CSV_BATCH", 333)  # several batches, the last one short
    try:
        kept.write_csv(tmp_path / "kept.csv")
        frame.write_csv(tmp_path / "frame.csv")
        assert frame.height > 3 * 333
        assert (tmp_path / "kept.csv").read_bytes() == (tmp_path / "frame.csv").read_bytes()
    finally:
        kept.close()


def test_empty_result_is_a_frame_and_csv_keeps_the_header(sample_db: Path, tmp_path: Path) -> None:
    con = open_query_connection(sample_db)
    empty = run_query(con, "SELECT * FROM measurements WHERE false", keep_above=0)
    con.close()
    assert isinstance(empty, pl.DataFrame) and empty.height == 0
    assert empty.columns[:3] == ["study_id", "sample_id", "biomarker_id"]


# Float columns whose decimals a table view chooses: every value up to 1,000 of them, else
# the middle magnitude (of an even and an odd count, ties at the middle) and the largest;
# NaN, infinities, zeros and nulls as they come.
DECIMAL_CASES = [
    "SELECT (i * 0.37)::DOUBLE AS x FROM range(1000) t(i)",  # 1,000: all of them
    "SELECT (i * 0.37)::DOUBLE AS x FROM range(1001) t(i)",  # odd count beyond
    "SELECT (i * 0.37)::DOUBLE AS x FROM range(1002) t(i)",  # even count beyond
    "SELECT (i // 10)::DOUBLE / 7 AS x FROM range(4000) t(i)",  # ties at the middle
    "SELECT CASE WHEN i % 5 = 0 THEN NULL WHEN i % 7 = 0 THEN 'NaN'::DOUBLE "
    "WHEN i % 11 = 0 THEN 'inf'::DOUBLE WHEN i % 13 = 0 THEN 0 "
    "ELSE (i - 2000) * 1e-3 END AS x FROM range(4001) t(i)",
    "SELECT CASE WHEN i % 2 = 0 THEN 0 ELSE 'NaN'::DOUBLE END AS x FROM range(3000) t(i)",
    "SELECT NULL::DOUBLE AS x FROM range(3000) t(i)",
    "SELECT CASE WHEN i < 900 THEN NULL ELSE (i * 1.5)::DOUBLE END AS x FROM range(1500) t(i)",
]


@pytest.mark.parametrize("sql", DECIMAL_CASES)
def test_decimal_basis_equals_the_frame_path(sample_db: Path, sql: str) -> None:
    kept, frame = both(sample_db, sql, keep_above=0)
    try:
        want = _decimal_basis(frame, ["x"])
        got = kept.decimal_basis(["x"])
        assert len(got) == len(want)
        assert [repr(v) for v in got] == [repr(v) for v in want]  # NaN equal to NaN
    finally:
        kept.close()


def test_decimal_basis_of_an_estimate_with_its_bounds(sample_db: Path) -> None:
    sql = "SELECT i / 100 AS est, i / 100 - 1.25 AS lo, i / 50 + 3 AS hi FROM range(700) t(i)"
    kept, frame = both(sample_db, sql, keep_above=0)
    try:
        names = ["est", "lo", "hi"]
        assert kept.decimal_basis(names) == _decimal_basis(frame, names)
        assert len(kept.decimal_basis(names)) == 3  # 2,100 values: not every one
    finally:
        kept.close()


def test_small_results_stay_frames_and_other_statements_too(sample_db: Path) -> None:
    con = open_query_connection(sample_db)
    try:
        small = run_query(con, "SELECT * FROM arms ORDER BY arm_id", keep_above=100)
        assert isinstance(small, pl.DataFrame)
        assert_frame_equal(small, run_query(con, "SELECT * FROM arms ORDER BY arm_id"))
        pragma = run_query(con, "PRAGMA database_list", keep_above=0)
        assert isinstance(pragma, pl.DataFrame) and pragma.height >= 1
        explain = run_query(con, "EXPLAIN SELECT * FROM arms", keep_above=0)
        assert isinstance(explain, pl.DataFrame)
    finally:
        con.close()


def test_memory_limit_is_set_and_locked(con) -> None:
    setting = run_query(con, "SELECT current_setting('memory_limit') AS m")["m"][0]
    assert setting.replace(" ", "") in ("61.0MiB", "64.0MB", "61.0MB")
    with pytest.raises(QueryRefused, match="refused"):
        run_query(con, "SET memory_limit = '10GB'")
    with pytest.raises(duckdb.Error, match="locked"):  # DuckDB's own lock, under the check
        con.execute("SET memory_limit = '10GB'")


def test_a_closed_result_says_so(sample_db: Path, tmp_path: Path) -> None:
    kept, _ = both(sample_db, ORDERED)
    kept.close()
    kept.close()  # again: nothing
    with pytest.raises(StoreError, match="closed: run the query again"):
        kept.slice(0, 5)
    with pytest.raises(StoreError, match="closed"):
        kept.write_csv(tmp_path / "x.csv")


def test_a_kept_result_holds_no_lock_on_the_database(sample_db: Path, tmp_path: Path) -> None:
    """While a large result is browsed, the app's own writer and other processes can write
    to the database (an import, an Apply): the kept rows live in memory only."""
    path = Path(shutil.copy(sample_db, tmp_path / "trial.duckdb"))
    kept = run_query(open_query_connection(path), ORDERED, keep_above=10)
    try:
        assert isinstance(kept, PagedResult)
        writer = connect(path, read_only=False)  # the app's writer, in this process
        try:
            writer.execute("CREATE TABLE scratch AS SELECT 1 AS a")
        finally:
            writer.close()
        code = (
            "import duckdb, sys; c = duckdb.connect(sys.argv[1]); "
            "c.execute('DROP TABLE scratch'); c.close()"
        )
        done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True)
        assert done.returncode == 0, done.stderr.decode()[-300:]
        assert kept.slice(0, 3).height == 3  # and the rows are still there
    finally:
        kept.close()


@pytest.mark.parametrize("descending", [False, True])
def test_sorted_copies_order_as_polars_and_keep_ties_in_place(
    sample_db: Path, descending: bool
) -> None:
    sql = "SELECT sample_id, biomarker_id, lloq, value FROM measurements ORDER BY sample_id"
    kept, frame = both(sample_db, sql)
    try:
        ordered = kept.sorted("lloq", descending=descending)  # many ties, some nulls
        want = frame.with_row_index("place").sort(
            ["lloq", "place"], descending=[descending, False], nulls_last=True
        )
        assert_frame_equal(ordered.slice(0), want.drop("place"))
        assert ordered.schema == kept.schema and ordered.height == kept.height
        again = kept.sorted("value")
        ordered.close()  # drops its table only
        assert kept.slice(0, 3).height == 3 and again.slice(0, 3).height == 3
        with pytest.raises(StoreError, match="closed"):
            ordered.slice(0, 1)
    finally:
        kept.close()
    assert again.closed  # closing the result closes its copies
