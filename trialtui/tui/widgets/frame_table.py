"""A DataTable that shows a Polars frame one page at a time, sortable by column."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from trialtui.formatting import format_cell

PAGE_SIZE = 500
MAX_COLUMN_WIDTH = 40


@dataclass(frozen=True)
class Column:
    """One shown column: frame column name and header label."""

    name: str
    label: str


class FrameTable(DataTable):
    """Shows at most :data:`PAGE_SIZE` rows of a frame; ``[`` and ``]`` page through it.

    Large frames are never loaded into the widget at once: only the current page is.
    Selecting a header sorts by that column (again: reverse).
    """

    BINDINGS = [
        Binding("right_square_bracket", "page(1)", "Next page", show=False),
        Binding("left_square_bracket", "page(-1)", "Prev page", show=False),
    ]

    @dataclass
    class RowChosen(Message):
        """Enter on a row: ``row`` is the frame row as a dict."""

        table: FrameTable
        row: dict

        @property
        def control(self) -> FrameTable:
            return self.table

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=True)
        self.frame = pl.DataFrame()
        self.columns_shown: list[Column] = []
        self.page = 0
        self.sort_column: str | None = None
        self.sort_descending = False

    @property
    def page_count(self) -> int:
        return max(1, -(-self.frame.height // PAGE_SIZE))

    def show(
        self,
        frame: pl.DataFrame,
        columns: list[Column] | None = None,
        *,
        keep_position: bool = False,
    ) -> None:
        """Display ``frame`` (sorted as currently chosen)."""
        self.columns_shown = columns or [Column(c, c) for c in frame.columns]
        self.frame = frame
        if self.sort_column in frame.columns:
            self.frame = frame.sort(
                self.sort_column, descending=self.sort_descending, nulls_last=True
            )
        if not keep_position:
            self.page = 0
        self.page = min(self.page, self.page_count - 1)
        self._render_page()

    def sort_by(self, column: str, *, descending: bool | None = None) -> None:
        """Sort by ``column``; without ``descending``, toggles when already sorted by it."""
        if descending is None:
            descending = not self.sort_descending if self.sort_column == column else False
        self.sort_column, self.sort_descending = column, descending
        self.show(self.frame, self.columns_shown)

    def current_page(self) -> pl.DataFrame:
        return self.frame.slice(self.page * PAGE_SIZE, PAGE_SIZE)

    def _render_page(self) -> None:
        row = self.cursor_row
        self.clear(columns=True)
        page = self.current_page()
        shown = [c for c in self.columns_shown if c.name in page.columns]
        numeric = [page.schema[c.name].is_numeric() for c in shown]
        texts = [
            [format_cell(v) for v in values]
            for values in page.select([c.name for c in shown]).iter_rows()
        ]
        for i, col in enumerate(shown):
            arrow = ""
            if col.name == self.sort_column:
                arrow = " ▼" if self.sort_descending else " ▲"
            label = col.label + arrow
            # Explicit widths: measured here from the formatted page, so the table never
            # renders with widths from before its rows were measured.
            width = max([len(label), *(len(r[i]) for r in texts)])
            self.add_column(label, key=col.name, width=min(width, MAX_COLUMN_WIDTH))
        self.add_rows(
            [
                Text(cell, justify="right" if is_num else "left")
                for cell, is_num in zip(cells, numeric, strict=True)
            ]
            for cells in texts
        )
        if texts:
            self.move_cursor(row=min(row, len(texts) - 1))
        start = self.page * PAGE_SIZE
        self.border_subtitle = (
            f"rows {start + 1}-{start + len(texts)} of {self.frame.height}"
            if self.frame.height > PAGE_SIZE
            else f"{self.frame.height} rows"
        )

    def action_page(self, step: int) -> None:
        new = min(max(0, self.page + step), self.page_count - 1)
        if new != self.page:
            self.page = new
            self._render_page()
            self.move_cursor(row=0)

    def selected(self) -> dict | None:
        """The frame row under the cursor, or None."""
        if self.row_count == 0:
            return None
        index = self.page * PAGE_SIZE + self.cursor_row
        if index >= self.frame.height:
            return None
        return self.frame.row(index, named=True)

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        if event.column_key.value is not None:
            self.sort_by(event.column_key.value)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        row = self.selected()
        if row is not None:
            self.post_message(self.RowChosen(self, row))
