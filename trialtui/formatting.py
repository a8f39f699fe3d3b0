"""Render Polars frames for the terminal and for machine-readable output."""

from __future__ import annotations

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


def render_table(frame: pl.DataFrame, *, max_rows: int | None = None) -> str:
    """A plain aligned text table (numbers right-aligned)."""
    shown = frame if max_rows is None else frame.head(max_rows)
    columns = shown.columns
    numeric = [shown.schema[c].is_numeric() for c in columns]
    rows = [[format_cell(v) for v in row] for row in shown.iter_rows()]
    widths = [max([len(c)] + [len(r[i]) for r in rows]) for i, c in enumerate(columns)]

    def line(cells: list[str]) -> str:
        parts = [
            cell.rjust(width) if is_num else cell.ljust(width)
            for cell, width, is_num in zip(cells, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    out = [line(list(columns)), line(["-" * w for w in widths])]
    out.extend(line(r) for r in rows)
    if max_rows is not None and frame.height > max_rows:
        out.append(f"... {frame.height - max_rows} more rows")
    return "\n".join(out)


def to_text(frame: pl.DataFrame, fmt: str) -> str:
    """The frame as ``table``, ``csv`` or ``json`` (records) text."""
    if fmt == "csv":
        return frame.write_csv()
    if fmt == "json":
        return frame.write_json() + "\n"
    return render_table(frame) + "\n"
