"""Write analysis results back into DuckDB so SQL query files can read them."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import duckdb
import polars as pl

from trialtui.errors import StoreError
from trialtui.store.catalog import data_version as current_version
from trialtui.store.sql import fetch_frame, fetch_value

# The derived tables, as the analysis levels write them (see trialtui.study.DERIVED_TABLES).
DERIVED_TABLE_NAMES = (
    "fold_changes",
    "arm_summary",
    "arm_comparison",
    "change_correlation",
    "response_comparison",
    "timepoint_friedman",
)


def write_study_derived(
    con: duckdb.DuckDBPyConnection,
    study_id: str,
    frames: Mapping[str, pl.DataFrame],
    settings: dict[str, Any],
    version: str,
    *,
    commit: bool = True,
    data_version: tuple[int, int] | None = None,
) -> None:
    """Replace ``study_id``'s rows of every table of ``frames`` (table name -> rows) and
    record the settings in ``derived_runs``, all in one transaction: a reader sees either
    the old results or the new ones, never a mix. ``commit=False`` leaves the transaction
    open for the caller to commit or roll back (it is rolled back here on any error).

    ``data_version``: the database's version (:func:`trialtui.store.catalog.data_version`)
    the results were computed from; if an import has been recorded since, nothing is
    written (the import cleared the derived tables; results of the data before it must
    not come back).

    Raises
    ------
    StoreError
        The database changed since the results' data were read.
    """
    computed_at = datetime.now(UTC).replace(tzinfo=None)
    settings_json = json.dumps(settings, sort_keys=True)
    con.execute("BEGIN TRANSACTION")
    try:
        if data_version is not None and current_version(con) != tuple(data_version):
            raise StoreError(
                "the database changed while the results were computed (an import since "
                "their data were read); nothing stored: compute them again"
            )
        for table, frame in frames.items():
            _replace_rows(con, table, study_id, frame)
            con.execute(
                "INSERT OR REPLACE INTO derived_runs VALUES (?, ?, ?, ?, ?, ?)",
                [table, study_id, settings_json, version, computed_at, frame.height],
            )
        if commit:
            con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _replace_rows(
    con: duckdb.DuckDBPyConnection, table: str, study_id: str, frame: pl.DataFrame
) -> None:
    con.register("derived_rows", frame.to_arrow(compat_level=pl.CompatLevel.newest()))
    try:
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
    finally:
        con.unregister("derived_rows")


def derived_runs(
    con: duckdb.DuckDBPyConnection,
    tables: Iterable[str] | None = None,
    study_id: str | None = None,
) -> pl.DataFrame:
    """Rows of ``derived_runs`` (of ``tables``, of ``study_id``), settings as JSON text.

    Columns: table_name, study_id, settings_json, trialtui_version, computed_at (text),
    row_count.
    """
    names = None if tables is None else sorted(set(tables))
    return fetch_frame(
        con,
        """
        SELECT table_name, study_id, settings_json, trialtui_version,
               CAST(computed_at AS VARCHAR) AS computed_at, row_count
        FROM derived_runs
        WHERE (? IS NULL OR list_contains(?, table_name)) AND (? IS NULL OR study_id = ?)
        ORDER BY table_name, study_id
        """,
        [names, names, study_id, study_id],
    )


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


def tables_named(sql: str, tables: Iterable[str] = DERIVED_TABLE_NAMES) -> list[str]:
    """Which of ``tables`` the SQL text names as identifiers (DuckDB's tokenizer: names in
    comments and string literals do not count; a qualified ``trial.main.x`` does)."""
    wanted = {t.lower() for t in tables}
    tokens = duckdb.tokenize(sql)
    found = set()
    for i, (start, kind) in enumerate(tokens):
        if kind != duckdb.token_type.identifier:
            continue
        end = tokens[i + 1][0] if i + 1 < len(tokens) else len(sql)
        name = sql[start:end].strip().strip('"').lower()
        if name in wanted:
            found.add(name)
    return sorted(found)


def query_context(con: duckdb.DuckDBPyConnection, sql: str) -> dict[str, Any]:
    """What a SQL console result was made from, read on the connection that ran it: the
    derived tables the SQL names, their ``derived_runs`` rows (settings as parsed JSON)
    and the imported source files."""
    tables = tables_named(sql)
    runs = derived_runs(con, tables) if tables else pl.DataFrame()
    rows = [r | {"settings": json.loads(r.pop("settings_json"))} for r in runs.to_dicts()]
    sources = fetch_frame(
        con,
        "SELECT import_id, source_file, sha256, format, study_id, "
        "CAST(finished_at AS VARCHAR) AS imported_at FROM imports "
        "WHERE status = 'loaded' ORDER BY import_id",
    )
    return {"derived_tables_read": tables, "derived_runs": rows, "source_files": sources.to_dicts()}
