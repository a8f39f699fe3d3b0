"""``release_memory``: DuckDB hands back what its buffer pool holds after a large query,
keeps every row, and is left with its default memory limit."""

from __future__ import annotations

from pathlib import Path

import duckdb

from trialtui.store.sql import release_memory


def held(con: duckdb.DuckDBPyConnection) -> int:
    """Bytes DuckDB's buffer pool holds for tables (read blocks kept for reuse)."""
    return con.execute(
        "SELECT coalesce(sum(memory_usage_bytes), 0) FROM duckdb_memory() WHERE tag = 'BASE_TABLE'"
    ).fetchone()[0]


def test_release_hands_back_read_blocks_and_restores_the_default_limit(tmp_path: Path) -> None:
    db = tmp_path / "t.duckdb"
    con = duckdb.connect(str(db))
    default = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    con.execute("CREATE TABLE t AS SELECT range AS i, md5(range::VARCHAR) AS s FROM range(8000000)")
    con.execute("CHECKPOINT")
    con.close()
    con = duckdb.connect(str(db))
    assert con.execute("SELECT count(DISTINCT s) FROM t").fetchone()[0] == 8_000_000
    before = held(con)
    assert before > 96 * 2**20  # the scan left more than the lowered limit in the pool
    release_memory(con)
    assert held(con) <= 64 * 2**20
    assert con.execute("SELECT current_setting('memory_limit')").fetchone()[0] == default
    assert con.execute("SELECT count(*), sum(i) FROM t").fetchone() == (
        8_000_000,
        8_000_000 * 7_999_999 // 2,
    )
    assert not (tmp_path / "t.duckdb.tmp").exists()  # nothing was moved to disk


def test_release_with_uncommitted_rows_changes_nothing(tmp_path: Path) -> None:
    """Rows of an open transaction cannot leave memory: the limit stays, the rows stay."""
    con = duckdb.connect(str(tmp_path / "u.duckdb"))
    default = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    con.execute("CREATE TABLE t (i BIGINT, s VARCHAR)")
    con.execute("BEGIN")
    con.execute("INSERT INTO t SELECT range, md5(range::VARCHAR) FROM range(2000000)")
    release_memory(con)
    assert con.execute("SELECT current_setting('memory_limit')").fetchone()[0] == default
    con.execute("COMMIT")
    assert con.execute("SELECT count(*) FROM t").fetchone()[0] == 2_000_000
