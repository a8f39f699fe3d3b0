"""The text table of ``stats``/``info``/``query``: every cell as ``format_cell`` writes it,
whatever the kind of column and however many rows."""

from __future__ import annotations

import datetime
import math

import numpy as np
import polars as pl
import pytest

from trialtui.formatting import format_cell, render_table


def cell_by_cell(frame: pl.DataFrame) -> str:
    """The table as documented, one cell at a time: cells by ``format_cell``, columns as
    wide as their widest cell or name, numbers right-aligned, two spaces between columns,
    no trailing blanks."""
    columns = frame.columns
    cells = [[format_cell(v) for v in row] for row in frame.iter_rows()]
    widths = [max([len(c)] + [len(row[k]) for row in cells]) for k, c in enumerate(columns)]
    numeric = [frame.schema[c].is_numeric() for c in columns]

    def line(row: list[str]) -> str:
        padded = [
            text.rjust(w) if num else text.ljust(w)
            for text, w, num in zip(row, widths, numeric, strict=True)
        ]
        return "  ".join(padded).rstrip()

    return "\n".join([line(columns), line(["-" * w for w in widths])] + [line(r) for r in cells])


EDGES = [
    0.0,
    -0.0,
    math.nan,
    math.inf,
    -math.inf,
    5e-324,
    1.7e308,
    0.001,
    0.00099999,
    1e-3 - 1e-19,
    0.0099999,
    9.9999,
    99.99999999999999,
    999.95,
    999.99999,
    1000.0,
    999999.9,
    1e6,
    -123.456,
    0.5,
]


def mixed_frame(rows: int, seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    spread = rng.normal(size=rows) * 10.0 ** rng.integers(-8, 9, rows)
    values = np.concatenate([spread, EDGES])
    n = len(values)
    return pl.DataFrame(
        {
            "label": [f"B{i}" if i % 7 else None for i in range(n)],
            "x": values,
            "count": pl.Series(rng.integers(-5, 10**6, n)),
            "flag": [None if i % 11 == 0 else bool(i % 2) for i in range(n)],
            "single": pl.Series(values, dtype=pl.Float32),
            "with_nulls": [None if i % 5 == 0 else v for i, v in enumerate(values.tolist())],
        }
    )


def test_every_cell_is_written_as_format_cell_writes_it() -> None:
    frame = mixed_frame(20_000)
    assert render_table(frame) == cell_by_cell(frame)


@pytest.mark.parametrize("value", EDGES)
def test_edge_values_alone(value: float) -> None:
    frame = pl.DataFrame({"v": [value], "name": ["a"]})
    rendered = render_table(frame).splitlines()
    assert rendered[-1].split()[0] == format_cell(value)
    assert render_table(frame) == cell_by_cell(frame)


def test_columns_of_other_kinds_and_empty_frames() -> None:
    other = pl.DataFrame(
        {
            "day": [datetime.date(2024, 1, 2), None],
            "at": [datetime.datetime(2024, 1, 2, 3, 4), None],
            "values": [[1, 2], None],
            "all_null": pl.Series([None, None], dtype=pl.Float64),
        }
    )
    assert render_table(other) == cell_by_cell(other)
    assert render_table(pl.DataFrame({"a": []})) == "a\n-"
    assert render_table(pl.DataFrame()) == "\n"
    no_columns = pl.DataFrame({"a": [1, 2]}).drop("a")
    assert render_table(no_columns) == cell_by_cell(no_columns) == "\n\n\n"


def test_trailing_blanks_are_those_str_rstrip_takes_away() -> None:
    """Text from a query may end in any character Python calls whitespace (the ASCII
    separators \\x1c-\\x1f among them): the line ends as ``str.rstrip`` would end it."""
    from trialtui.formatting import WHITESPACE

    assert "".join(c for c in map(chr, range(0x110000)) if c.isspace()) == WHITESPACE
    frame = pl.DataFrame({"n": [1, 2, 3], "text": ["a\x1f", "b\u3000 ", "c\x85\t"]})
    assert render_table(frame) == cell_by_cell(frame)
    assert render_table(frame).splitlines()[-1] == "3  c"


def test_max_rows_shows_the_first_rows_and_counts_the_rest() -> None:
    frame = mixed_frame(50)
    lines = render_table(frame, max_rows=3).splitlines()
    assert lines[:-1] == cell_by_cell(frame.head(3)).splitlines()
    assert lines[-1] == f"... {frame.height - 3} more rows"


def test_a_long_table_is_written_whole() -> None:
    """A million rows: the last row is there and correct (no row dropped or cut)."""
    frame = pl.DataFrame(
        {"pair": [f"P{i}" for i in range(1_000_000)], "rho": np.linspace(-1, 1, 1_000_000)}
    )
    lines = render_table(frame).splitlines()
    assert len(lines) == 2 + frame.height
    assert lines[-1].split() == ["P999999", format_cell(1.0)]
    assert lines[500_001].split() == ["P499999", format_cell(float(frame["rho"][499_999]))]
