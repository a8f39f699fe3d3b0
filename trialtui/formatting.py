"""Render Polars frames for the terminal and for machine-readable output."""

from __future__ import annotations

import json
import math

import polars as pl


def format_cell(value: object, *, digits: int = 4) -> str:
    """Text for one cell: floats to ``digits`` significant digits, missing as ``NA``."""
    if value is None:
        return "NA"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if value == 0:
            return "0"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        magnitude = abs(value)
        if magnitude < 1e-3 or magnitude >= 1e6:
            return f"{value:.{digits - 1}e}"
        return f"{value:.{digits}g}" if magnitude >= 10 ** (digits - 1) else _fixed(value, digits)
    return str(value)


def _fixed(value: float, digits: int) -> str:
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(value))))
    return f"{value:.{decimals}f}"


# what str.rstrip() strips: every character for which str.isspace() is true
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004"
    "\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def render_table(frame: pl.DataFrame, *, max_rows: int | None = None) -> str:
    """A plain aligned text table (numbers right-aligned), every cell as :func:`format_cell`
    writes it. Columns are formatted a kind of value at a time and padded and joined by
    Polars, so a table of millions of rows takes seconds, not minutes."""
    shown = frame if max_rows is None else frame.head(max_rows)
    columns = shown.columns
    numeric = [shown.schema[c].is_numeric() for c in columns]
    texts = [_column_text(shown.get_column(c)) for c in columns]
    widths = [
        max(len(c), t.str.len_chars().max() or 0) for c, t in zip(columns, texts, strict=True)
    ]

    def line(cells: list[str]) -> str:
        parts = [
            cell.rjust(width) if is_num else cell.ljust(width)
            for cell, width, is_num in zip(cells, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    out = [line(list(columns)), line(["-" * w for w in widths])]
    if shown.height and columns:
        padded = [
            t.str.pad_start(w) if is_num else t.str.pad_end(w)
            for t, w, is_num in zip(texts, widths, numeric, strict=True)
        ]
        body = pl.select(pl.concat_str(padded, separator="  ").str.strip_chars_end(WHITESPACE))
        out.append("\n".join(body.to_series()))
    elif shown.height:  # rows without columns: an empty line each
        out.extend([""] * shown.height)
    if max_rows is not None and frame.height > max_rows:
        out.append(f"... {frame.height - max_rows} more rows")
    return "\n".join(out)


def _column_text(column: pl.Series, digits: int = 4) -> pl.Series:
    """:func:`format_cell` of every value of ``column``, one kind of value at a time."""
    dtype = column.dtype
    if dtype.is_float():
        return _float_text(column, digits)
    if dtype == pl.Boolean:
        return column.replace_strict(
            {True: "true", False: "false"}, return_dtype=pl.String
        ).fill_null("NA")
    if dtype.is_integer() or dtype == pl.String:
        return column.cast(pl.String).fill_null("NA")
    return pl.Series([format_cell(v, digits=digits) for v in column.to_list()], dtype=pl.String)


def _float_text(column: pl.Series, digits: int) -> pl.Series:
    """:func:`format_cell` of a float column: the values that share a format (scientific,
    so many decimals, ...) are written together with one format string."""
    import numpy as np

    values = column.fill_null(0.0).cast(pl.Float64).to_numpy()
    text = np.full(len(values), "0", dtype=object)
    magnitude = np.abs(values)
    finite = np.isfinite(values) & (values != 0)
    text[np.isnan(values)] = "NaN"
    text[np.isposinf(values)] = "inf"
    text[np.isneginf(values)] = "-inf"
    scientific = finite & ((magnitude < 1e-3) | (magnitude >= 1e6))
    general = finite & ~scientific & (magnitude >= 10 ** (digits - 1))
    fixed = finite & ~scientific & ~general
    with np.errstate(divide="ignore", invalid="ignore"):
        decimals = np.where(fixed, digits - 1 - np.floor(np.log10(magnitude)), -1)
    formats = [(scientific, f"{{:.{digits - 1}e}}"), (general, f"{{:.{digits}g}}")]
    formats += [(decimals == d, f"{{:.{int(d)}f}}") for d in np.unique(decimals[fixed])]
    for where, spec in formats:
        at = np.flatnonzero(where)
        if len(at):
            text[at] = list(map(spec.format, values[at].tolist()))
    text[column.is_null().to_numpy()] = "NA"
    return pl.Series(column.name, text.tolist(), dtype=pl.String)


def to_text(frame: pl.DataFrame, fmt: str) -> str:
    """The frame as ``table``, ``csv`` or ``json`` (records) text."""
    if fmt == "csv":
        return frame.write_csv()
    if fmt == "json":
        return frame.write_json() + "\n"
    return render_table(frame) + "\n"


# ---------------------------------------------------------------------- per-column text

P_VALUE_FLOOR = "<1e-308"


def flatten_nested(frame: pl.DataFrame) -> pl.DataFrame:
    """Nested columns (lists, structs) as JSON text, so that they fit a CSV or a table (a
    row's JSON is its own: a frame flattened in parts gives the rows of it flattened
    whole)."""
    nested = [name for name, dtype in frame.schema.items() if dtype.is_nested()]
    if not nested:
        return frame
    return frame.with_columns(
        pl.Series(
            name,
            [None if v is None else json.dumps(v, default=str) for v in frame[name].to_list()],
            dtype=pl.String,
        )
        for name in nested
    )


def format_p(value: float | None) -> str:
    """A p- or q-value: 3 significant digits from 0.001 up, else scientific (2 digits).

    Examples
    --------
    >>> [format_p(v) for v in (0.5, 0.0123, 1.0, 2.5e-7, 0.0)]
    ['0.500', '0.0123', '1.00', '2.5e-07', '<1e-308']
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "NA"
    if value == 0:
        return P_VALUE_FLOOR  # underflow: smaller than the smallest double, not zero
    if value >= 1e-3:
        return _fixed(float(value), 3)
    return f"{value:.1e}"


def column_decimals(values: list[float], digits: int = 4) -> int | None:
    """Decimals that give a typical value of the column ``digits`` significant digits.

    Returns None when the column spans too many orders of magnitude for one fixed
    format (then every value is written in scientific notation).
    """
    finite = [abs(v) for v in values if v is not None and math.isfinite(v) and v != 0]
    if not finite:
        return 0
    finite.sort()
    largest, typical = finite[-1], finite[len(finite) // 2]
    if largest >= 1e7 or typical < 1e-3:
        return None
    return min(6, max(0, digits - 1 - math.floor(math.log10(typical))))


def format_fixed(value: float | None, decimals: int | None) -> str:
    """One float with the column's ``decimals`` (None: scientific); tiny values stay visible."""
    if value is None:
        return "NA"
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if decimals is None:
        return "0" if value == 0 else f"{value:.3e}"
    if value != 0 and abs(value) < 0.5 * 10.0**-decimals:
        return f"{value:.2e}"  # would print as 0.000: show the magnitude instead
    return f"{value:.{decimals}f}"


def format_column(values: list, kind: str = "auto", *, digits: int = 4) -> list[str]:
    """Text for every value of one column, with one format for the whole column.

    Parameters
    ----------
    values
        The column's values (ints, floats, strings, booleans or None).
    kind
        ``"p"`` for p- and q-values (:func:`format_p`), ``"int"`` for counts (thousands
        separators), ``"auto"``: floats with the same number of decimals throughout,
        chosen so that a typical value has ``digits`` significant digits.

    Examples
    --------
    >>> format_column([-6.2713, -0.958, 1.16642])
    ['-6.271', '-0.958', '1.166']
    >>> format_column([0.04, 3e-9], "p")
    ['0.0400', '3.0e-09']
    """
    if kind == "p":
        return [format_p(v) for v in values]
    floats = [v for v in values if isinstance(v, float)]
    if not floats:
        return [format_cell(v) for v in values]
    decimals = column_decimals(floats, digits)
    return [format_fixed(v, decimals) if isinstance(v, float) else format_cell(v) for v in values]


def format_count(n: int) -> str:
    """A count with thousands separators: ``3,000``."""
    return f"{n:,}"


def format_rows(n: int) -> str:
    """``1 row``, ``3,000 rows``."""
    return f"{format_count(n)} {'row' if n == 1 else 'rows'}"


# ---------------------------------------------------------------------- arm codes

ARM_CODE_LIMIT = 14  # names longer than this are shown as codes with a legend


def arm_codes(names: list[str], limit: int = ARM_CODE_LIMIT) -> dict[str, str]:
    """Short codes for long arm names, e.g. "Defactinib + Pembrolizumab" -> "D+P".

    Codes are the initials of the words (``+`` and ``/`` kept); if two arms would share
    a code, or a code is not shorter than its name, arms get letters A, B, C... in the
    given order. Returns ``{}`` when every name is at most ``limit`` characters.

    Examples
    --------
    >>> arm_codes(["Defactinib + Pembrolizumab", "Pembrolizumab"])
    {'Defactinib + Pembrolizumab': 'D+P', 'Pembrolizumab': 'P'}
    >>> arm_codes(["Placebo", "Drug"])
    {}
    """
    unique = list(dict.fromkeys(n for n in names if n is not None))
    if all(len(n) <= limit for n in unique):
        return {}
    codes = {name: _initials(name) for name in unique}
    clash = len(set(codes.values())) < len(codes)
    if clash or any(not c or len(c) >= len(n) for n, c in codes.items()):
        letters = [_letters(i) for i in range(len(unique))]
        codes = dict(zip(unique, letters, strict=True))
    return codes


def _initials(name: str) -> str:
    out = []
    for word in name.replace("+", " + ").replace("/", " / ").split():
        if word in ("+", "/"):
            out.append(word)
        elif word[0].isalnum():
            out.append(word[0].upper() if word[0].isalpha() else word)
    return "".join(out)[:8]


def _letters(i: int) -> str:
    return chr(ord("A") + i) if i < 26 else f"A{i}"


def arm_legend(codes: dict[str, str]) -> str:
    """``"D+P = Defactinib + Pembrolizumab · P = Pembrolizumab"`` (empty without codes)."""
    return " · ".join(f"{code} = {name}" for name, code in codes.items())
