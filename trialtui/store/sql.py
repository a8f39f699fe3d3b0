"""Small helpers over DuckDB's Python API that always finish their result.

DuckDB refuses further work on a connection while a result from ``execute`` is unread, so
reads go through these helpers, which fetch every row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb
import polars as pl

Params = Sequence[Any] | dict[str, Any] | None


def fetch_row(con: duckdb.DuckDBPyConnection, sql: str, params: Params = None) -> tuple | None:
    """The first row of a query, or None."""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0] if rows else None


def fetch_value(con: duckdb.DuckDBPyConnection, sql: str, params: Params = None) -> Any:
    """The first column of the first row, or None."""
    row = fetch_row(con, sql, params)
    return row[0] if row else None


def fetch_frame(con: duckdb.DuckDBPyConnection, sql: str, params: Params = None) -> pl.DataFrame:
    """A query's result as a Polars frame (through Arrow)."""
    relation = con.sql(sql, params=params or None)
    if relation is None:
        return pl.DataFrame()
    return relation.pl()
