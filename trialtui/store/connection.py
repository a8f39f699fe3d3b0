"""Open trialtui databases read-only or read-write, with one-line errors."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from trialtui.errors import StoreError, first_line
from trialtui.store.schema import SCHEMA_VERSION, create_schema, migrate, schema_version


def _describe(exc: duckdb.Error, path: Path) -> str:
    text = first_line(exc)
    if "lock" in text.lower():
        return (
            f"{path}: the database is locked by another process "
            "(close the other trialtui or DuckDB session and try again)"
        )
    return f"{path}: cannot open database: {text}"


_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:")  # md:, s3://, https:// (not C:)


def special_database_name(text: str) -> str | None:
    """Why ``text`` is not a local database file (DuckDB reads some names specially), or None.

    ``:memory:`` would hold the data only until the command ends; ``md:``, ``s3://`` and
    other prefixes make DuckDB reach the network or install extensions.
    """
    if text.startswith(":memory:") or text == ":memory":
        return "an in-memory database keeps nothing; give a database file"
    if _SCHEME.match(text):
        return "not a local file (remote and extension databases are not supported)"
    return None


def connect(path: str | Path, *, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """Open the trialtui database at ``path``.

    Read-write connections create the file and its schema if needed and migrate older schema
    versions; read-only connections require an existing trialtui database.

    Raises
    ------
    StoreError
        The file is missing (read-only), locked by another process, not a DuckDB file, not a
        trialtui database, or written by a newer trialtui.
    """
    if str(path) != ":memory:":  # only an explicit in-memory database (dry runs)
        problem = special_database_name(str(path))
        if problem:
            raise StoreError(f"{path}: {problem}")
    path = Path(path)
    if read_only and not path.exists():
        raise StoreError(f"{path}: no such database (create one with `trialtui sample` or import)")
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.Error as exc:
        raise StoreError(_describe(exc, path)) from None
    try:
        _check_schema(con, path, read_only=read_only)
    except duckdb.Error as exc:  # a damaged file can open and fail on the first read
        con.close()
        raise StoreError(_describe(exc, path)) from None
    except BaseException:
        con.close()
        raise
    return con


def _check_schema(con: duckdb.DuckDBPyConnection, path: Path, *, read_only: bool) -> None:
    try:
        version = schema_version(con)
    except ValueError:
        raise StoreError(
            f"{path}: not a trialtui database (its schema version is not a number)"
        ) from None
    if version is None:
        has_tables = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main'"
        ).fetchall()
        if read_only or has_tables[0][0] > 0:
            raise StoreError(f"{path}: not a trialtui database")
        create_schema(con)
        return
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{path}: written by a newer trialtui "
            f"(schema {version}; this version reads {SCHEMA_VERSION})"
        )
    if version < SCHEMA_VERSION:
        if read_only:
            raise StoreError(
                f"{path}: schema {version} needs an upgrade; open it once read-write "
                "(e.g. `trialtui info --db` after an import) to migrate"
            )
        migrate(con, version)
