"""Read input files into Polars frames with the source row number of each record.

Every value is read as text so that validation, not the reader, decides what is wrong and
can name the row and column. ``_row`` is the line number in a CSV file (the header is line 1)
and the 1-based record number in a Parquet or SAS transport (XPT) file.

A Parquet file's double, integer and boolean columns are also kept in their own type
(:attr:`SourceTable.data`): validation checks those without a round trip through text, with
the same outcome and messages (the text of such a value is what casting it gives).
"""

from __future__ import annotations

import csv
import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import polars as pl

from trialtui.errors import InputError, first_line, printable

ROW = "_row"
PARQUET_SUFFIXES = {".parquet", ".pq"}
XPT_SUFFIXES = {".xpt", ".xport"}
CSV_SUFFIXES = {".csv", ".txt", ".tsv"}


# Parquet column types validation reads as they are (see :func:`native_type`).
NATIVE_NUMBERS = (
    pl.Float64,
    pl.Int8,
    pl.Int16,
    pl.Int32,
    pl.Int64,
    pl.UInt8,
    pl.UInt16,
    pl.UInt32,
    pl.UInt64,
)


def native_type(dtype: pl.DataType) -> str | None:
    """``"number"`` or ``"bool"`` for a column type whose values need no parsing, else None.

    Only types whose conversion gives exactly what parsing their text would: a float32
    value is not (its shortest text, read as a double, is not the value widened).
    """
    if any(dtype == t for t in NATIVE_NUMBERS):
        return "number"
    if dtype == pl.Boolean:
        return "bool"
    return None


@dataclass(frozen=True)
class SourceTable:
    """One input file: its columns as read (:attr:`data`) and as text (:attr:`frame`)."""

    path: Path
    sha256: str
    data: pl.DataFrame  # String columns, Parquet numbers and booleans as typed, plus ROW
    kind: str  # "csv", "parquet" or "xpt"

    @cached_property
    def frame(self) -> pl.DataFrame:
        """All columns as text (String), plus ROW (UInt32)."""
        typed = [c for c, t in self.data.schema.items() if c != ROW and t != pl.String]
        if not typed:
            return self.data
        return self.data.with_columns(pl.col(typed).cast(pl.String))


def _decode_error(path: Path, data: bytes, exc: UnicodeDecodeError, separator: str) -> InputError:
    line = data.count(b"\n", 0, exc.start) + 1
    where = f"row {line}"
    if line > 1:  # name the column: the field of that line holding the bad bytes
        start = data.rfind(b"\n", 0, exc.start) + 1
        end = data.find(b"\n", exc.start)
        text = data[start : end if end >= 0 else None].decode("utf-8", errors="replace")
        header = data.split(b"\n", 1)[0].decode("utf-8-sig", errors="replace").rstrip("\r")
        try:
            names = next(csv.reader([header], delimiter=separator))
            fields = next(csv.reader([text.rstrip("\r")], delimiter=separator), [])
        except csv.Error:
            names, fields = [], []
        bad = next((i for i, f in enumerate(fields) if "\ufffd" in f), None)
        if bad is not None and len(fields) == len(names):  # not inside a multi-line field
            where += f", column '{names[bad].strip()}'"
    return InputError(
        f"{path}: {where}: undecodable bytes at byte {exc.start} "
        "(the file must be UTF-8 text; re-save it as UTF-8 CSV)"
    )


def read_source(path: str | Path) -> SourceTable:
    """Read a CSV or Parquet file as text columns.

    Raises
    ------
    InputError
        The file is missing, empty, not UTF-8, or cannot be parsed.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    data = path.read_bytes()
    if not data or data.isspace():
        raise InputError(f"{path}: the file is empty")
    # hashed in a thread while the file is parsed (hashlib lets go of the GIL)
    with ThreadPoolExecutor(max_workers=1) as pool:
        digest = pool.submit(lambda: hashlib.sha256(data).hexdigest())
        suffix = path.suffix.lower()
        if suffix in PARQUET_SUFFIXES or data[:4] == b"PAR1":
            frame, kind = _read_parquet(path), "parquet"
        elif suffix in XPT_SUFFIXES or data.startswith(b"HEADER RECORD*******LIBRARY HEADER"):
            frame, kind = _read_xpt(path), "xpt"
        else:
            separator = "\t" if suffix == ".tsv" else ","
            frame, kind = _read_csv(path, data, separator=separator), "csv"
        if frame.height == 0:
            raise InputError(f"{path}: the file has a header but no data rows")
        return SourceTable(path=path, sha256=digest.result(), data=frame, kind=kind)


def _read_csv(path: Path, data: bytes, *, separator: str) -> pl.DataFrame:
    if not data.isascii():  # ASCII is UTF-8; anything else is decoded to be sure
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _decode_error(path, data, exc, separator) from None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if b"\r" in data and b"\n" not in data:  # classic Mac line endings (CR only)
        data = data.replace(b"\r", b"\n")
    end = data.find(b"\n")
    header_line = data[: end if end >= 0 else None].decode("utf-8").rstrip("\r")
    try:
        header = next(csv.reader([header_line], delimiter=separator))
    except csv.Error as exc:  # e.g. a stray carriage return inside the header
        raise InputError(f"{path}: row 1: cannot read the header: {exc}") from None
    _check_header(path, header)
    try:
        frame = pl.read_csv(
            data,
            infer_schema=False,
            separator=separator,
            null_values=[""],
            truncate_ragged_lines=False,
        )
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError) as exc:
        raise InputError(f"{path}: cannot parse CSV: {first_line(exc)}") from None
    frame = frame.rename({c: c.strip() for c in frame.columns})
    frame = frame.with_row_index(ROW, offset=2)
    return _drop_blank_lines(path, frame, data, separator, len(header))


def _drop_blank_lines(
    path: Path, frame: pl.DataFrame, data: bytes, separator: str, expected: int
) -> pl.DataFrame:
    """Drop blank lines; refuse a short row (fewer fields than the header).

    The CSV parser fills the missing fields of a short row with nulls, as it does for a blank
    line, so rows whose last field is empty are looked at as lines of the file.
    """
    last = frame.columns[-2]  # the last column of the file (ROW comes last)
    candidates = frame.filter(pl.col(last).is_null())[ROW]
    if candidates.is_empty():
        return frame
    texts = pl.DataFrame(
        {ROW: candidates, "_line": _lines(data, candidates.to_list())}
    ).with_columns(
        (pl.col("_line").str.strip_chars() == "").alias("_blank"),
        pl.col("_line").str.contains('"', literal=True).alias("_quoted"),
        (pl.col("_line").str.count_matches(separator, literal=True) + 1).alias("_fields"),
    )
    short = texts.filter(~pl.col("_blank") & ~pl.col("_quoted") & (pl.col("_fields") < expected))
    quoted = texts.filter(~pl.col("_blank") & pl.col("_quoted"))
    for row, line in quoted.select(ROW, "_line").iter_rows():
        try:
            fields = len(next(csv.reader([line], delimiter=separator), []))
        except csv.Error as exc:
            raise InputError(f"{path}: row {row}: cannot read the line: {exc}") from None
        if fields < expected and (short.is_empty() or row < short[ROW][0]):
            short = pl.DataFrame({ROW: [row], "_fields": [fields]})
            break
    if not short.is_empty():
        row, fields = int(short[ROW][0]), int(short["_fields"][0])
        raise InputError(
            f"{path}: row {row}: {fields} field(s) but the header has {expected} "
            "(a short row: a separator or a value is missing)"
        )
    blank = texts.filter(pl.col("_blank"))[ROW]
    return frame.filter(~pl.col(ROW).is_in(blank.implode()))


def _lines(data: bytes, rows: list[int]) -> list[str]:
    """Lines ``rows`` (numbered from 1) of ``data``, without their line ends.

    Only the start of every line is kept (found a block at a time), not the file as text.
    """
    newline = ord("\n")
    view = np.frombuffer(data, dtype=np.uint8)
    block = 1 << 24
    starts = np.concatenate(
        [np.zeros(1, dtype=np.int64)]
        + [
            np.flatnonzero(view[at : at + block] == newline) + (at + 1)
            for at in range(0, len(view), block)
        ]
    )
    out = []
    for row in rows:
        start = int(starts[row - 1])
        end = int(starts[row]) - 1 if row < len(starts) else len(data)
        out.append(data[start:end].decode("utf-8").rstrip("\r"))
    return out


def _read_parquet(path: Path) -> pl.DataFrame:
    try:
        frame = pl.read_parquet(path)
    except Exception as exc:  # polars raises several types for corrupt files
        raise InputError(f"{path}: cannot read Parquet: {first_line(exc)}") from None
    _check_header(path, frame.columns)
    for name, dtype in frame.schema.items():
        if dtype.is_nested() or dtype == pl.Binary or dtype == pl.Object:
            raise InputError(
                f"{path}: column '{name.strip()}': type {dtype} cannot be imported "
                "(columns must hold text, numbers, booleans or dates)"
            )
    text = [c for c, t in frame.schema.items() if t != pl.String and native_type(t) is None]
    if text:
        frame = frame.with_columns(pl.col(text).cast(pl.String))
    return frame.with_row_index(ROW, offset=1)


def _read_xpt(path: Path) -> pl.DataFrame:
    """A SAS transport file (CDISC ADaM datasets are shipped as XPT v5)."""
    import pyreadstat

    try:
        frame, _meta = pyreadstat.read_xport(str(path), output_format="polars")
    except Exception as exc:  # pyreadstat raises its own error types for corrupt files
        raise InputError(
            f"{path}: cannot read SAS transport (XPT) file: {first_line(exc)}"
        ) from None
    _check_header(path, frame.columns)
    # SAS stores numbers as doubles: write whole numbers without ".0" so that ids and
    # visit days read back as typed.
    frame = frame.select(
        pl.when(
            pl.col(c).is_finite()
            & (pl.col(c) == pl.col(c).round(0))
            & (pl.col(c).abs() < 1e15)  # exactly representable as an integer
        )
        .then(pl.col(c).cast(pl.Int64, strict=False).cast(pl.String))
        .otherwise(pl.col(c).cast(pl.String))
        .alias(c)
        if frame.schema[c].is_float()
        else pl.col(c).cast(pl.String).replace("", None)
        for c in frame.columns
    )
    return frame.with_row_index(ROW, offset=1)


def _check_header(path: Path, columns: list[str]) -> None:
    seen: set[str] = set()
    for name in (c.strip() for c in columns):
        if not name:
            raise InputError(f"{path}: row 1: a column has an empty name")
        if printable(name) != name:  # a NUL or other control character in a column name
            raise InputError(
                f"{path}: row 1, column '{printable(name, limit=200)}': the column name holds "
                "a control character"
            )
        if name in seen:
            raise InputError(f"{path}: row 1, column '{name}': duplicate column name")
        seen.add(name)
