"""Write analysis results back into DuckDB so SQL query files can read them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import duckdb
import polars as pl

from trialtui.store.sql import fetch_value


def write_derived(
    con: duckdb.DuckDBPyConnection,
    table: str,
    study_id: str,
    frame: pl.DataFrame,
    settings: dict[str, Any],
    version: str,
) -> None:
    """Replace ``study_id``'s rows of ``table`` with ``frame`` and record the settings used.

    The table is created from the frame's columns on first use (and recreated if the
    columns changed). Runs in one transaction.
    """
    con.execute("BEGIN TRANSACTION")
    try:
        con.register("derived_rows", frame.to_arrow())
        exists = fetch_value(
            con,
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = 'main' AND table_name = ?",
            [table],
        )
        if exists:
            columns = [
                r[0]
                for r in con.execute(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_name = ? ORDER BY ordinal_position",
                    [table],
                ).fetchall()
            ]
            if columns != frame.columns:
                # the other studies' rows go with the old columns: forget their runs too
                con.execute(f'DROP TABLE "{table}"')
                con.execute("DELETE FROM derived_runs WHERE table_name = ?", [table])
                exists = 0
        if not exists:
            con.execute(f'CREATE TABLE "{table}" AS SELECT * FROM derived_rows LIMIT 0')
        con.execute(f'DELETE FROM "{table}" WHERE study_id = ?', [study_id])
        con.execute(f'INSERT INTO "{table}" SELECT * FROM derived_rows')
        con.execute(
            "INSERT OR REPLACE INTO derived_runs VALUES (?, ?, ?, ?, ?, ?)",
            [
                table,
                study_id,
                json.dumps(settings, sort_keys=True),
                version,
                datetime.now(UTC).replace(tzinfo=None),
                frame.height,
            ],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.unregister("derived_rows")


def drop_derived(con: duckdb.DuckDBPyConnection, study_id: str) -> None:
    """Forget derived results of a study (its data changed)."""
    tables = [
        r[0]
        for r in con.execute(
            "SELECT table_name FROM derived_runs WHERE study_id = ?", [study_id]
        ).fetchall()
    ]
    for table in tables:
        con.execute(f'DELETE FROM "{table}" WHERE study_id = ?', [study_id])
    con.execute("DELETE FROM derived_runs WHERE study_id = ?", [study_id])
