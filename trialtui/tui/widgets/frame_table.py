"""The table every screen uses: a Polars frame with every row reachable and key columns pinned.

Only a window of rows (:data:`WINDOW` rows around the cursor) is loaded into the
DataTable; the cursor keys move the window along, so ``G``/``End`` reach the last row of a
table of any length. The columns that do not fit the width are not cut: they wait to the
right (``→`` brings them in) while the key columns (biomarker, arm, patient) stay put.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl
from rich.text import Text
from textual import events, work
from textual.binding import Binding
from textual.markup import escape
from textual.message import Message
from textual.widgets import DataTable, Input

from trialtui.errors import first_line
from trialtui.formatting import (
    arm_codes,
    arm_legend,
    column_decimals,
    format_cell,
    format_count,
    format_fixed,
    format_p,
    format_rows,
)
from trialtui.store.paged import DECIMAL_SAMPLE, PagedResult
from trialtui.tui.widgets.table_filter import FilterError, parse_filter

WINDOW = 100  # a few pages: filling the widget costs in proportion to the rows loaded
MAX_COLUMN_WIDTH = 40
KEY_COLUMNS = frozenset({"biomarker", "arm", "patient_id", "biomarker_x", "biomarker_y"})
ARM_COLUMNS = frozenset({"arm", "reference_arm"})
_P_COLUMN = re.compile(r"^[pq](_.*)?$")


@dataclass(frozen=True)
class Column:
    """One shown column.

    Attributes
    ----------
    name
        Frame column (for a ``ci`` column: the estimate; sorting uses it).
    label
        Header text, with units or the CI level where they apply.
    kind
        ``"auto"`` (from the name and type), ``"p"`` (p/q-values), ``"int"``, ``"text"``.
    ci
        Lower and upper bound columns: the cell reads ``estimate (lo–hi)``.
    pinned
        Stays at the left while scrolling right; default: key columns (biomarker, arm,
        patient).
    """

    name: str
    label: str
    kind: str = "auto"
    ci: tuple[str, str] | None = None
    pinned: bool | None = None

    @property
    def is_pinned(self) -> bool:
        return self.name in KEY_COLUMNS if self.pinned is None else self.pinned


class FilterInput(Input):
    """The one-line filter box a table opens with ``/``."""

    DEFAULT_CSS = """
    FilterInput { height: 1; border: none; padding: 0 1; background: $boost; }
    FilterInput:focus { border: none; background: $primary 20%; }
    """
    BINDINGS = [Binding("escape", "clear_filter", "Clear filter")]

    def __init__(self, table: FrameTable, value: str) -> None:
        super().__init__(
            value,
            placeholder="filter: text, or q < 0.05, n >= 10, arm = P (and …) · enter keeps",
            classes="frame-filter",
        )
        self.table = table

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.table.apply_filter(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.table.close_filter()

    def action_clear_filter(self) -> None:
        self.value = ""
        self.table.apply_filter("")
        self.table.close_filter()


class FrameTable(DataTable):
    """A sortable, filterable Polars frame of any length, numbers never cut.

    Keys: arrows, PgUp/PgDn, ``g``/Home (first row), ``G``/End (last row), ``←``/``→``
    (more columns), ``/`` (filter), Enter (open the row). Selecting a header sorts by it.
    """

    DEFAULT_CSS = """
    FrameTable { border: round $primary 50%; border-subtitle-align: left; }
    FrameTable:focus { border: round $accent; }
    """
    BINDINGS = [
        Binding("g,home,ctrl+home", "first_row", "First row", show=False),
        Binding("G,end,ctrl+end", "last_row", "Last row", show=False),
        Binding("slash", "open_filter", "Filter"),
    ]

    @dataclass
    class RowChosen(Message):
        """Enter on a row: ``row`` is the frame row as a dict."""

        table: FrameTable
        row: dict

        @property
        def control(self) -> FrameTable:
            return self.table

    @dataclass
    class CursorMoved(Message):
        """The cursor is on another row: ``row`` as a dict (None: empty table)."""

        table: FrameTable
        row: dict | None

        @property
        def control(self) -> FrameTable:
            return self.table

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=True)
        self.source = pl.DataFrame()
        self.frame = pl.DataFrame()
        self.columns_shown: list[Column] = []
        self.window_start = 0
        self.first_column = 0
        self.visible_columns: list[Column] = []
        self.sort_column: str | None = None
        self.sort_descending = False
        self.sorted_by: str | None = None
        self.caption = ""
        self.filter_text = ""
        self.filter_error = ""
        self.aliases: dict[str, str] = {}
        self.codes: dict[str, str] = {}
        self._decimals: dict[str, int | None] = {}
        self._widths: dict[str, int] = {}
        self._fitted_width = -1
        self._hidden_right = 0
        self._text_columns: set[str] = set()
        self._cut_widths: dict[str, int] = {}
        # rows not loaded yet: the table has no width to fit the columns to before its
        # first layout; they are loaded then, the cursor at this position
        self._pending: int | None = None
        # rows kept in the database: their sorted copy shown, the sort asked for last,
        # and what the top edge says while DuckDB sorts
        self._ordered: PagedResult | None = None
        self._sort_request: tuple | None = None
        self._sorting = ""

    # ------------------------------------------------------------------ data

    @property
    def position(self) -> int:
        """Index of the cursor's row in :attr:`frame` (0 when empty)."""
        if self._pending is not None:
            return self._pending
        return self.window_start + self.cursor_row if self.row_count else 0

    def show(
        self,
        frame: pl.DataFrame | PagedResult,
        columns: list[Column] | None = None,
        *,
        keep_position: bool = False,
        caption: str | None = None,
        sorted_by: str | None = None,
        aliases: dict[str, str] | None = None,
        codes: dict[str, str] | None = None,
    ) -> None:
        """Display ``frame`` (sorted as currently chosen, filtered by the filter box).

        Parameters
        ----------
        frame
            The rows, already in the order the screen wants unless a header was chosen;
            a :class:`PagedResult` (rows kept in the database) is shown in its order,
            read a page at a time; a header sorts it in DuckDB (in a worker), and it is
            not filtered here.
        columns
            Shown columns in priority order (the first that fit are shown).
        keep_position
            Keep the cursor on the same row number (e.g. after recomputing).
        caption
            What the table is, shown on its top edge.
        sorted_by
            How ``frame`` is ordered ("q (Welch), smallest first"), stated on the top edge.
        aliases
            Extra names the filter accepts for columns (``{"q": "q_welch"}``).
        codes
            Arm name -> short code; default: codes for arm names longer than 14 characters.
        """
        position = self.position if keep_position else 0
        self.columns_shown = columns or [Column(c, c) for c in frame.columns]
        if frame is not self.source:
            if not isinstance(frame, pl.DataFrame):
                # rows kept in the database come in their query's order, unfiltered
                self.sort_column = None
                self.filter_text = ""
                box = self._filter_box()
                if box is not None:
                    box.remove()
            if self._ordered is not None:  # the sorted copy of the rows shown before
                self._ordered.close()
                self._ordered = None
            self._sorting = ""
        self.source = frame
        if caption is not None:
            self.caption = caption
        if sorted_by is not None or not keep_position:
            self.sorted_by = sorted_by
            if sorted_by is not None:
                self.sort_column = None
        if aliases is not None:
            self.aliases = aliases
        arms = [
            v
            for c in self.columns_shown
            if c.name in ARM_COLUMNS and c.name in frame.columns
            for v in (
                frame[c.name].unique(maintain_order=True).to_list()
                if isinstance(frame, pl.DataFrame)
                else frame.unique(c.name)
            )
        ]
        self.codes = codes if codes is not None else arm_codes(sorted(set(arms) - {None}))
        self._refilter(position)

    def _refilter(self, position: int = 0) -> None:
        frame = self.source
        self.filter_error = ""
        if not isinstance(frame, pl.DataFrame):  # kept in the database: sorted there
            if self._ordered is not None:
                frame = self._ordered
        elif self.sort_column in frame.columns:
            frame = frame.sort(self.sort_column, descending=self.sort_descending, nulls_last=True)
        if self.filter_text:
            try:
                expr = parse_filter(
                    self.filter_text, frame.schema, self._filter_names(), self.codes
                )
                if expr is not None:
                    frame = frame.filter(expr)
            except FilterError as exc:
                self.filter_error = str(exc)
            except pl.exceptions.PolarsError as exc:
                self.filter_error = str(exc).splitlines()[0]
        self.frame = frame
        self._decimals = {}
        for col in self.columns_shown:
            names = [col.name, *(col.ci or ())]
            if all(n in frame.columns for n in names) and frame.schema[col.name].is_float():
                self._decimals[col.name] = column_decimals(
                    _decimal_basis(frame, names), 3 if col.ci else 4
                )
        position = min(position, max(0, frame.height - 1))
        self.window_start = self._window_start(position)
        self._render_window()
        self._move_to(position)

    def _filter_names(self) -> dict[str, str]:
        names: dict[str, str] = {}
        for col in self.columns_shown:
            label = col.label.lower()
            names.setdefault(label, col.name)
            names.setdefault(re.sub(r"\s*\(.*\)", "", label).strip(), col.name)
        names.update(self.aliases)
        return names

    def sort_by(self, column: str, *, descending: bool | None = None) -> None:
        """Sort by ``column``; without ``descending``, toggles when already sorted by it."""
        if descending is None:
            descending = not self.sort_descending if self.sort_column == column else False
        if not isinstance(self.source, pl.DataFrame):
            self._sort_kept(self.source, column, descending)
            return
        self.sort_column, self.sort_descending = column, descending
        self.sorted_by = None
        self._refilter(0)

    def apply_filter(self, text: str) -> None:
        """Keep the rows matching ``text`` (see :func:`parse_filter`); empty: all rows."""
        self.filter_text = text.strip()
        self._refilter(0)

    def current_page(self) -> pl.DataFrame:
        """The rows loaded into the widget now."""
        return self.frame.slice(self.window_start, WINDOW)

    def selected(self) -> dict | None:
        """The frame row under the cursor, or None."""
        if self.frame.height == 0 or (self.row_count == 0 and self._pending is None):
            return None
        if self.position >= self.frame.height:
            return None
        return self.frame.row(self.position, named=True)

    # ------------------------------------------------------------------ rendering

    def _window_start(self, position: int) -> int:
        if self.frame.height <= WINDOW:
            return 0
        return max(0, min(position - WINDOW // 2, self.frame.height - WINDOW))

    def _cells(self, page: pl.DataFrame, col: Column) -> list[str]:
        values = page[col.name].to_list()
        kind = col.kind
        if kind == "auto":
            dtype = page.schema[col.name]
            kind = "p" if _P_COLUMN.match(col.name) and dtype.is_float() else "auto"
            kind = "int" if dtype.is_integer() else kind
        if kind == "p":
            return [format_p(v) for v in values]
        if kind == "int":
            return [format_cell(v) if v is None else format_count(v) for v in values]
        if col.name in self._decimals:
            decimals = self._decimals[col.name]
            texts = [format_fixed(v, decimals) for v in values]
            if col.ci is not None:
                lo = [format_fixed(v, decimals) for v in page[col.ci[0]].to_list()]
                hi = [format_fixed(v, decimals) for v in page[col.ci[1]].to_list()]
                texts = [
                    t if t == "NA" else f"{t} ({a}, {b})"
                    for t, a, b in zip(texts, lo, hi, strict=True)
                ]
            return texts
        if col.name in ARM_COLUMNS and self.codes:
            return [self.codes.get(v, format_cell(v)) for v in values]
        return [format_cell(v) for v in values]

    def _label(self, col: Column) -> str:
        if col.name == self.sort_column:
            return col.label + (" ▼" if self.sort_descending else " ▲")
        return col.label

    def _fit(self, widths: dict[str, int]) -> list[Column]:
        """Pinned columns, then as many of the others from :attr:`first_column` as fit."""
        available = self.size.width - self.styles.scrollbar_size_vertical - 1
        if available <= 0:
            available = 10_000  # not laid out yet: show all, re-fit on resize
        pad = 2 * self.cell_padding
        pinned = [c for c in self.columns_shown if c.is_pinned and c.name in widths]
        others = [c for c in self.columns_shown if not c.is_pinned and c.name in widths]
        self.first_column = min(self.first_column, max(0, len(others) - 1))
        used = sum(widths[c.name] + pad for c in pinned)
        chosen = []
        self._cut_widths: dict[str, int] = {}
        for col in others[self.first_column :]:
            if used + widths[col.name] + pad > available and (chosen or pinned):
                room = available - used - pad
                if col.name in self._text_columns and room >= 12:
                    chosen.append(col)  # text may be shortened (with …); numbers never
                    self._cut_widths[col.name] = room
                break
            chosen.append(col)
            used += widths[col.name] + pad
        self._hidden_right = len(others) - self.first_column - len(chosen)
        self._other_count = len(others)
        return pinned + chosen

    def _render_window(self) -> None:
        if not self.size.width:  # before the first layout: load the rows on the first resize
            self._pending = self.position
            self.clear(columns=True)
            return
        self._pending = None
        self.clear(columns=True)
        page = self.current_page()
        available = [c for c in self.columns_shown if c.name in page.columns]
        texts = {c.name: self._cells(page, c) for c in available}
        widths = {
            c.name: min(
                MAX_COLUMN_WIDTH
                if c.kind == "text" or not page.schema[c.name].is_numeric()
                else 80,
                max([len(self._label(c)), *(len(t) for t in texts[c.name])]),
            )
            for c in available
        }
        self._widths = widths
        self._text_columns = {
            c.name for c in available if c.kind == "text" or not page.schema[c.name].is_numeric()
        }
        self._fitted_width = self.size.width
        self.visible_columns = self._fit(widths)
        for col in self.visible_columns:
            width = self._cut_widths.get(col.name, widths[col.name])
            self.add_column(Text(self._label(col)), key=col.name, width=width)  # no markup
        numeric = [page.schema[c.name].is_numeric() for c in self.visible_columns]
        rows = zip(*(texts[c.name] for c in self.visible_columns), strict=True)
        self.add_rows(
            [
                Text(cell, justify="right" if is_num else "left", no_wrap=True)
                for cell, is_num in zip(cells, numeric, strict=True)
            ]
            for cells in rows
        )
        self._update_edges()

    def _move_to(self, position: int) -> None:
        if self._pending is not None:
            self._pending = position
        elif self.row_count:
            self.move_cursor(row=position - self.window_start, animate=False)
        self._update_edges()

    def _update_edges(self) -> None:
        """Top edge: what the table is and how it is sorted; bottom: position, legend."""
        sort = self.sorted_by
        if self.sort_column is not None:
            label = next((c.label for c in self.columns_shown if c.name == self.sort_column), "")
            sort = f"{label}, {'largest' if self.sort_descending else 'smallest'} first"
        title = [t for t in (self.caption, f"sorted by {sort}" if sort else "") if t]
        if self._sorting:
            title.append(self._sorting)
        if self.filter_text:
            title.append(f"filter: {self.filter_text}")
        if self.first_column or self._hidden_right:
            more = ("← " if self.first_column else "") + ("→ " if self._hidden_right else "")
            title.append(f"{more}more columns")
        # edges are markup: names, captions and filters are shown as they are
        self.border_title = escape(" · ".join(title))
        bottom = [self.position_text()]
        if self.filter_error:
            bottom = [f"filter: {self.filter_error}"]
        if self.codes:
            bottom.append(arm_legend(self.codes))
        self.border_subtitle = escape(" · ".join(bottom))

    def position_text(self) -> str:
        """``rows 2,401-2,440 of 3,000`` (the rows in view), or ``40 rows``."""
        total = self.frame.height
        if self.filter_text and total != self.source.height:
            of = f"{format_count(total)} of {format_count(self.source.height)} rows"
        else:
            of = format_rows(total)
        height = self.scrollable_content_region.height - (
            self.header_height if self.show_header else 0
        )
        if total == 0 or height <= 0 or total <= height:
            return of
        first = self.window_start + round(self.scroll_y) + 1
        last = min(total, first + height - 1)
        return f"rows {format_count(first)}-{format_count(last)} of {of.removesuffix(' rows')}"

    # ------------------------------------------------------------------ navigation

    def go_to(self, position: int) -> None:
        """Move the cursor to row ``position`` of :attr:`frame`, loading its window."""
        if self.frame.height == 0:
            return
        position = max(0, min(position, self.frame.height - 1))
        if not self.window_start <= position < self.window_start + self.row_count:
            self.window_start = self._window_start(position)
            self._render_window()
        self._move_to(position)

    def _visible_rows(self) -> int:
        height = self.scrollable_content_region.height - (
            self.header_height if self.show_header else 0
        )
        return max(1, height)

    def action_first_row(self) -> None:
        self.go_to(0)

    def action_last_row(self) -> None:
        self.go_to(self.frame.height - 1)

    def action_cursor_down(self) -> None:
        if self.row_count and self.cursor_row >= self.row_count - 1:
            self.go_to(self.position + 1)
        else:
            super().action_cursor_down()

    def action_cursor_up(self) -> None:
        if self.row_count and self.cursor_row == 0 and self.window_start > 0:
            self.go_to(self.position - 1)
        else:
            super().action_cursor_up()

    def action_page_down(self) -> None:
        target = self.position + self._visible_rows()
        if (
            target >= self.window_start + self.row_count
            and self.window_start + self.row_count < self.frame.height
        ):
            self.go_to(target)
        else:
            super().action_page_down()

    def action_page_up(self) -> None:
        target = self.position - self._visible_rows()
        if target < self.window_start and self.window_start > 0:
            self.go_to(target)
        else:
            super().action_page_up()

    def action_cursor_right(self) -> None:
        if self._hidden_right:
            self._shift_columns(1)

    def action_cursor_left(self) -> None:
        if self.first_column:
            self._shift_columns(-1)

    def _shift_columns(self, step: int) -> None:
        position = self.position
        self.first_column = max(0, self.first_column + step)
        self._render_window()
        self._move_to(position)

    def _tell_paged(self) -> bool:
        """For rows kept in the database (read a page at a time, never all in memory):
        say that they are filtered in their SQL; True if so."""
        if isinstance(self.source, pl.DataFrame):
            return False
        self.app.notify(
            f"These {format_count(self.source.height)} rows stay in the database and are "
            "read a page at a time: filter them in the SQL (WHERE)",
            title="Filter",
            severity="warning",
        )
        return True

    def _sort_kept(self, source: PagedResult, column: str, descending: bool) -> None:
        """Sort rows kept in the database there, in a worker; the table shows them sorted
        when DuckDB is done (the last request wins)."""
        label = next((c.label for c in self.columns_shown if c.name == column), column)
        self._sort_request = (source, column, descending)
        self._sorting = f"sorting by {label}…"
        self._update_edges()
        self._sort_in_worker(source, column, descending)

    @work(thread=True, group="frame-sort", exit_on_error=False)
    def _sort_in_worker(self, source: PagedResult, column: str, descending: bool) -> None:
        try:
            ordered = source.sorted(column, descending=descending)
        except Exception as exc:  # e.g. the result closed under the sort
            self.app.call_from_thread(self._sort_failed, source, first_line(exc))
            return
        self.app.call_from_thread(self._sorted, ordered, (source, column, descending))

    def _sorted(self, ordered: PagedResult, request: tuple) -> None:
        if request != self._sort_request or request[0] is not self.source:
            ordered.close()  # a later sort, or another result, came first
            return
        _, column, descending = request
        if self._ordered is not None:
            self._ordered.close()
        self._ordered = ordered
        self._sorting = ""
        self.sort_column, self.sort_descending = column, descending
        self.sorted_by = None
        self._refilter(0)

    def _sort_failed(self, source: PagedResult, error: str) -> None:
        if source is self.source:
            self._sorting = ""
            self._update_edges()
            self.app.notify(f"sort: {error}", title="Sort", severity="error")

    def action_open_filter(self) -> None:
        if self._tell_paged():
            return
        existing = self._filter_box()
        if existing is None and self.parent is not None:
            existing = FilterInput(self, self.filter_text)
            self.parent.mount(existing, before=self)
        if existing is not None:
            existing.focus()

    def close_filter(self) -> None:
        box = self._filter_box()
        self.focus()
        if box is not None:
            box.remove()

    def _filter_box(self) -> FilterInput | None:
        if self.parent is None:
            return None
        for child in self.parent.children:
            if isinstance(child, FilterInput) and child.table is self:
                return child
        return None

    # ------------------------------------------------------------------ events

    def on_resize(self, event: events.Resize) -> None:
        """Re-fit the columns to the new width (only re-render when the fit changes)."""
        self.call_after_refresh(self._update_edges)  # the rows in view changed
        if self._pending is not None and self.size.width:
            position = self._pending
            self._render_window()
            self._move_to(position)
            return
        if not self.columns_shown or self.size.width == self._fitted_width:
            return
        first, hidden = self.first_column, self._hidden_right
        fitted = [c.name for c in self._fit(self._widths)]
        self._fitted_width = self.size.width
        if fitted != [c.name for c in self.visible_columns]:
            position = self.position
            self._render_window()
            self._move_to(position)
        else:
            self.first_column, self._hidden_right = first, hidden

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self._update_edges()

    def _on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        """The wheel moves the loaded window along at its end, as keys do."""
        loaded_end = self.window_start + self.row_count
        if self.scroll_y >= self.max_scroll_y and loaded_end < self.frame.height:
            self._slide_window(WINDOW // 2)
        else:
            super()._on_mouse_scroll_down(event)

    def _on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        if self.scroll_y <= 0 and self.window_start > 0:
            self._slide_window(-(WINDOW // 2))
        else:
            super()._on_mouse_scroll_up(event)

    def _slide_window(self, step: int) -> None:
        """Load the rows ``step`` further on, keeping the rows in view where they are."""
        top = self.window_start + round(self.scroll_y)
        position = self.position
        start = max(0, min(self.window_start + step, self.frame.height - WINDOW))
        self.window_start = start
        self._render_window()
        position = min(max(position, start), start + self.row_count - 1)
        self.move_cursor(row=position - start, animate=False, scroll=False)
        self.call_after_refresh(self.scroll_to, y=top - start, animate=False)
        self.call_after_refresh(self._update_edges)

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        if event.column_key.value is not None:
            self.sort_by(event.column_key.value)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        row = self.selected()
        if row is not None:
            self.post_message(self.RowChosen(self, row))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._update_edges()
        self.post_message(self.CursorMoved(self, self.selected()))


def _decimal_basis(frame: pl.DataFrame | PagedResult, names: list[str]) -> list:
    """The values a float column's decimals are chosen from: all of ``names`` together
    when they hold 1,000 or fewer, else the typical (median) and largest magnitudes."""
    if not isinstance(frame, pl.DataFrame):
        return frame.decimal_basis(names)
    values = pl.concat([frame[n] for n in names]).drop_nulls()
    if values.len() > DECIMAL_SAMPLE:
        size = values.abs().filter(values.is_finite() & (values != 0)).sort()
        middle, last = len(size) // 2, len(size) - 1
        values = size.gather([middle, middle, last]) if len(size) else size
    return values.to_list()
