"""A query's result kept in DuckDB and read a page at a time.

A result of millions of rows (``SELECT * FROM measurements`` on an omics panel) would take
gigabytes as a Polars frame; kept as a table of the query connection's in-memory catalog
(spilled to the connection's private temporary folder beyond its memory limit) it takes a
fraction of that, and a page of rows is read by row id in milliseconds.
:class:`PagedResult` offers what a table view reads of a frame (``height``, ``columns``,
``schema``, ``slice``, ``row``), sorts in DuckDB (:meth:`PagedResult.sorted`) and writes
the whole result as CSV batch by batch, the same bytes as the frame's ``write_csv``.

This module knows nothing of the TUI.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import duckdb
import polars as pl

from trialtui.errors import StoreError
from trialtui.formatting import flatten_nested
from trialtui.store.sql import plain_columns, quoted_name

# Rows written to CSV at a time (at most).
CSV_BATCH = 1_000_000
# Rows whose values decide a column's decimals in full; beyond, the typical (median) and
# the largest magnitude (as the table view does for a frame).
DECIMAL_SAMPLE = 1000


class PagedResult:
    """The rows of table ``table`` of ``con``, in the query's order (row ids 0 .. n - 1),
    its columns stored as ``c0``, ``c1``, ... and shown under ``names``: a column of the
    query named ``rowid`` would otherwise hide the row ids pages are read by.

    The result owns the connection: :meth:`close` closes it. Reads run on the calling
    thread (a page takes a few milliseconds); :meth:`write_csv` reads through a cursor of
    its own, so an export may run in a worker while pages are read. Make one with
    :meth:`keep`.
    """

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        table: str,
        height: int,
        names: list[str],
        *,
        parent: PagedResult | None = None,
    ) -> None:
        self._con = con
        self._table = table
        self.height = height
        self._closed = False
        self._parent = parent  # a sorted copy's: it owns the connection
        self._sorts = 0
        self._stored = {name: f"c{i}" for i, name in enumerate(names)}
        self._select = ", ".join(f"c{i} AS {quoted_name(name)}" for i, name in enumerate(names))
        if parent is None:
            self.schema = self._read("WHERE false").schema
            self._bases: dict[tuple[str, ...], list[float]] = {}
        else:  # the same columns and values: what was read of them holds
            self.schema = parent.schema
            self._bases = parent._bases
        self.columns = list(self.schema.names())

    @property
    def closed(self) -> bool:
        return self._closed or (self._parent is not None and self._parent.closed)

    @classmethod
    def keep(
        cls, con: duckdb.DuckDBPyConnection, relation: duckdb.DuckDBPyRelation, table: str
    ) -> PagedResult:
        """Write the relation's rows to ``table`` (replaced if it exists) in its order."""
        # the names (duplicates renamed) the relation's rows get as a frame
        names = plain_columns(relation.limit(0)).pl().columns
        positional = ", ".join(f"#{i + 1} AS c{i}" for i in range(len(names)))
        con.execute(f"DROP TABLE IF EXISTS {table}")
        relation.project(positional).to_table(table)
        (height,) = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0]
        return cls(con, table, height, names)

    def prepare(self) -> None:
        """Read what showing the rows needs besides pages (each float column's decimal
        basis), so that a table view never waits for a scan of millions of rows: call it
        where waiting does no harm (a worker)."""
        for name, dtype in self.schema.items():
            if dtype.is_float():
                self.decimal_basis([name])

    def drop(self) -> None:
        """Drop the rows (the connection stays open)."""
        self._con.execute(f"DROP TABLE IF EXISTS {self._table}")

    # ------------------------------------------------------------------ reading

    def _check_open(self) -> None:
        if self.closed:
            raise StoreError("the query's result is closed: run the query again")

    def _read(
        self, where: str, params: list | None = None, con: duckdb.DuckDBPyConnection | None = None
    ) -> pl.DataFrame:
        self._check_open()
        relation = (con or self._con).sql(
            f"SELECT {self._select} FROM {self._table} {where} ORDER BY rowid", params=params
        )
        return plain_columns(relation).pl()

    def slice(self, offset: int, length: int | None = None) -> pl.DataFrame:
        """Rows ``offset`` .. ``offset + length - 1`` (fewer at the end), as a frame."""
        start = max(0, offset)
        stop = self.height if length is None else min(self.height, start + max(0, length))
        if stop <= start:
            return self._read("WHERE false")
        return self._read("WHERE rowid BETWEEN ? AND ?", [start, stop - 1])

    def row(self, index: int, *, named: bool = False) -> dict | tuple:
        """Row ``index`` (negative: from the end), as a frame's ``row`` gives it."""
        if index < 0:
            index += self.height
        if not 0 <= index < self.height:
            raise IndexError(f"row {index} of a result of {self.height:,} rows")
        return self.slice(index, 1).row(0, named=named)

    def batches(self, size: int | None = None) -> Iterator[pl.DataFrame]:
        """Every row in order, up to ``size`` (default :data:`CSV_BATCH`) at a time, read
        through a cursor of their own in one scan of the table (a scan keeps the rows'
        order: the connection keeps DuckDB's ``preserve_insertion_order``, as the table
        was written by it)."""
        self._check_open()
        cursor = self._con.cursor()
        try:
            relation = cursor.sql(f"SELECT {self._select} FROM {self._table}")
            for batch in plain_columns(relation).to_arrow_reader(size or CSV_BATCH):
                yield pl.from_arrow(batch)
        finally:
            cursor.close()

    def write_csv(self, target: str | Path | BinaryIO) -> None:
        """The result as CSV at ``target`` (a path, or a binary file such as stdout's
        buffer): the bytes ``write_csv`` of it as one frame gives (lists and structs as
        JSON text, as :func:`~trialtui.formatting.flatten_nested` writes them)."""
        if isinstance(target, str | Path):
            with open(target, "wb") as handle:
                self.write_csv(handle)
            return
        wrote = False
        for batch in self.batches():
            flatten_nested(batch).write_csv(target, include_header=not wrote)
            wrote = True
        if not wrote:
            self._read("WHERE false").write_csv(target)

    def unique(self, column: str, limit: int = 1000) -> list:
        """Up to ``limit`` distinct values of ``column`` in order of first appearance."""
        name = self._stored[column]
        relation = self._con.sql(
            f"SELECT {name} FROM {self._table} GROUP BY {name} ORDER BY min(rowid) LIMIT ?",
            params=[limit],
        )
        return plain_columns(relation).pl().to_series().to_list()

    def decimal_basis(self, columns: list[str]) -> list[float]:
        """The values a table view chooses a float column's decimals from: every value of
        ``columns`` together when they hold :data:`DECIMAL_SAMPLE` or fewer (NaN counted),
        else the median magnitude (twice) and the largest of the finite non-zero values,
        the median taken as the frame path takes it: the middle (index n // 2) of the
        sorted magnitudes. A float column's own is read when the result is made."""
        key = tuple(columns)
        if key not in self._bases:
            self._bases[key] = self._decimal_basis(columns)
        return self._bases[key]

    def _decimal_basis(self, columns: list[str]) -> list[float]:
        union = " UNION ALL ".join(
            f"SELECT CAST({self._stored[c]} AS DOUBLE) AS x FROM {self._table}" for c in columns
        )
        values = f"(SELECT x FROM ({union}) WHERE x IS NOT NULL)"
        sizes = f"(SELECT abs(x) AS a FROM {values} WHERE isfinite(x) AND x <> 0)"
        count, n, near, largest = self._con.execute(
            f"SELECT (SELECT count(*) FROM {values}), count(*), quantile_disc(a, 0.5), max(a) "
            f"FROM {sizes}"
        ).fetchall()[0]
        if count <= DECIMAL_SAMPLE:
            return [x for (x,) in self._con.execute(f"SELECT x FROM {values}").fetchall()]
        if n == 0:
            return []
        # the discrete median is the middle or the one below it: check which, by counts
        k = n // 2
        below, up_to, above = self._con.execute(
            f"SELECT count(*) FILTER (a < ?), count(*) FILTER (a <= ?), min(a) FILTER (a > ?) "
            f"FROM {sizes}",
            [near, near, near],
        ).fetchall()[0]
        if below <= k < up_to:
            middle = near
        elif k == up_to:
            middle = above
        else:
            (middle,) = self._con.execute(
                f"SELECT a FROM {sizes} ORDER BY a LIMIT 1 OFFSET ?", [k]
            ).fetchall()[0]
        return [middle, middle, largest]

    # ------------------------------------------------------------------ lifetime

    def sorted(self, column: str, *, descending: bool = False) -> PagedResult:
        """The rows ordered by ``column`` (nulls last; equal values in their order here), a
        copy in a table of their own on the same connection, made through a cursor (so a
        worker can sort while pages of this result are read). Close the copy when it is
        no longer shown: that drops its table; closing this result closes both."""
        self._check_open()
        owner = self._parent or self
        owner._sorts += 1
        table = f"{owner._table}_sorted_{owner._sorts}"
        direction = "DESC" if descending else "ASC"
        cursor = self._con.cursor()
        try:
            cursor.execute(
                f"CREATE TABLE {table} AS SELECT * FROM {self._table} "
                f"ORDER BY {self._stored[column]} {direction} NULLS LAST, rowid"
            )
        finally:
            cursor.close()
        return PagedResult(self._con, table, self.height, list(self._stored), parent=owner)

    def close(self) -> None:
        """Close the connection (a sorted copy: drop its table); again: nothing."""
        if self._closed:
            return
        self._closed = True
        if self._parent is None:
            self._con.close()
        elif not self._parent.closed:
            self._con.execute(f"DROP TABLE IF EXISTS {self._table}")

    def __repr__(self) -> str:
        return f"PagedResult({self.height:,} rows x {len(self.columns)} columns)"
