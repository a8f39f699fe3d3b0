"""Small helpers over DuckDB's Python API that always finish their result.

DuckDB refuses further work on a connection while a result from ``execute`` is unread, so
reads go through these helpers, which fetch every row.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator, Sequence
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


def release_memory(con: duckdb.DuckDBPyConnection) -> None:
    """Hand back the memory DuckDB's buffer pool keeps after a large query.

    The pool holds what a hash join or a scan used, for reuse, until the database closes:
    gigabytes after joining millions of rows. Lowering the memory limit makes it evict
    what it holds; the default limit is set again at once. Only for a connection no other thread
    is querying (an importer's): a query running meanwhile could meet the low limit. When
    the pool cannot shrink (for example, uncommitted rows it must keep) nothing changes.
    """
    try:
        con.execute("SET memory_limit = '64MB'")
    except duckdb.Error:
        return  # the pool could not shrink: the limit is unchanged
    con.execute("RESET memory_limit")  # trialtui never sets one: DuckDB's default


def fetch_frame(con: duckdb.DuckDBPyConnection, sql: str, params: Params = None) -> pl.DataFrame:
    """A query's result as a Polars frame.

    Read through the Arrow C stream interface, as ``relation.pl()`` reads it but without
    importing pyarrow (about 0.1 s before the first catalog facts could be shown).
    """
    relation = con.sql(sql, params=params or None)
    if relation is None:
        return pl.DataFrame()
    return pl.DataFrame(relation)


@contextlib.contextmanager
def interruptible(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Let Ctrl-C stop a statement running on ``con`` in the main thread.

    Python runs its SIGINT handler only between bytecodes, so a long DuckDB statement would
    not notice Ctrl-C until it finished. Here the signal's wakeup byte (written by the C-level
    handler, :func:`signal.set_wakeup_fd`) wakes a watcher thread that calls
    ``con.interrupt()``; the statement then raises and Python's own KeyboardInterrupt
    follows. Elsewhere than in the main thread this does nothing (use ``con.interrupt()``).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    try:
        previous = signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
    except ValueError:  # not the main interpreter
        os.close(read_end)
        os.close(write_end)
        yield
        return
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            data = os.read(read_end, 64)
            if done.is_set() or not data:
                return
            if signal.SIGINT in data:
                with contextlib.suppress(Exception):
                    con.interrupt()

    watcher = threading.Thread(target=watch, name="trialtui-sigint", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        signal.set_wakeup_fd(previous)
        done.set()
        os.write(write_end, b"\0")
        watcher.join(timeout=1)
        os.close(read_end)
        os.close(write_end)


def quoted_name(name: str) -> str:
    """``name`` as an SQL identifier: in double quotes, its own doubled."""
    return '"' + name.replace('"', '""') + '"'


# DuckDB types that Polars cannot hold or CSV cannot show; a query returns them as text.
_TEXT_TYPES = ("VARIANT", "BLOB", "BIT", "INTERVAL", "UNION", "GEOMETRY")


def plain_columns(relation: duckdb.DuckDBPyRelation) -> duckdb.DuckDBPyRelation:
    """The relation with columns of :data:`_TEXT_TYPES` cast to text."""
    types = [str(t).upper() for t in relation.types]
    if not any(t.startswith(_TEXT_TYPES) for t in types):
        return relation
    columns = []
    for name, kind in zip(relation.columns, types, strict=True):
        quoted = quoted_name(name)
        text = f"CAST({quoted} AS VARCHAR) AS {quoted}"
        columns.append(text if kind.startswith(_TEXT_TYPES) else quoted)
    return relation.project(", ".join(columns))
