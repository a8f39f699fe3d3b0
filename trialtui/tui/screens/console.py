"""SQL console: the query files, an editor, a parameter form, paged results, history."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Input, Label, OptionList, Static, TextArea
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from trialtui.errors import TrialtuiError
from trialtui.export import query_command, query_provenance
from trialtui.formatting import format_rows
from trialtui.paths import history_path, user_queries_dir
from trialtui.store.derived import query_context
from trialtui.store.paged import PagedResult
from trialtui.store.queryfiles import (
    KEEP_ROWS,
    QUERY_MEMORY,
    QueryFile,
    bind_params,
    discover_queries,
    open_query_connection,
    parse_query_text,
    run_query,
)
from trialtui.tui.screens.base import ResultsScreen
from trialtui.tui.widgets.frame_table import FrameTable

HISTORY_LIMIT = 500


def load_history(path: Path) -> list[dict]:
    """Past runs, newest first (corrupt lines are skipped)."""
    if not path.exists():
        return []
    entries = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(entry, dict) and "sql" in entry:
            entries.append(entry)
    return entries[::-1][:HISTORY_LIMIT]


def append_history(path: Path, entry: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry) + "\n")


def search_history(entries: list[dict], text: str) -> list[dict]:
    """Entries whose SQL or query name contains ``text`` (case-insensitive)."""
    needle = text.lower().strip()
    if not needle:
        return entries
    return [e for e in entries if needle in (e.get("sql", "") + e.get("name", "")).lower()]


@dataclass
class QueryDone(Message, bubble=False):
    frame: pl.DataFrame | PagedResult
    seconds: float
    context: dict  # derived tables read, their derived_runs rows, source files


@dataclass
class QueryError(Message, bubble=False):
    error: str


class ConsoleScreen(ResultsScreen):
    SUB_TITLE = "SQL"
    AUTO_FOCUS = "#query-list"
    CSS_PATH = "console.tcss"
    # Keys terminals pass through (ctrl+h arrives as Backspace in most): F-keys as in
    # Harlequin, plus ctrl+letters that no terminal or the editor takes.
    BINDINGS = [
        Binding("f5,ctrl+enter,ctrl+r", "run", "Run", key_display="F5", priority=True),
        Binding("ctrl+k", "cancel", "Cancel", priority=True),
        Binding("f8", "toggle_history", "History", key_display="F8"),
        Binding("ctrl+s", "save_query", "Save", priority=True),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.queries: list[QueryFile] = []
        self.current: QueryFile | None = None
        self.result: pl.DataFrame | PagedResult = pl.DataFrame()
        self.last_run: dict | None = None  # name, SQL and parameters of the shown result
        self.last_context: dict = {}  # what the shown result was read from
        self._pending_run: dict | None = None
        self._con = None
        self.keep_rows = KEEP_ROWS  # a result of more rows is read a page at a time
        self.history: list[dict] = []
        self._loaded_sql = ""
        self._saved_path: Path | None = None

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="console"):
            with Vertical(id="query-pane"):
                yield Label("Query files", classes="section")
                yield OptionList(id="query-list")
                yield Static("", id="query-description", markup=False)
                with Vertical(id="history-pane"):
                    yield Input(placeholder="search history", id="history-search")
                    yield OptionList(id="history-list")
            with Vertical(id="editor-pane"):
                yield TextArea.code_editor(
                    "SELECT * FROM studies", language="sql", id="sql-editor", tab_behavior="focus"
                )
                yield Vertical(id="param-form")
                yield Static(
                    "untitled · F5 runs · ctrl+s saves · F8 history",
                    id="sql-status",
                    markup=False,  # errors quote SQL and paths: a[i] is no markup
                )
                yield Static("", id="stored-banner", markup=False)
                yield FrameTable(id="sql-results")

    def on_mount(self) -> None:
        super().on_mount()
        try:
            self.queries = discover_queries()
        except TrialtuiError as exc:
            self.notify(str(exc), severity="error")
            self.queries = []
        options = self.query_one("#query-list", OptionList)
        options.add_options([Option(q.name, id=q.name) for q in self.queries])
        self.history = load_history(history_path())
        self._fill_history("")

    # -------------------------------------------------------------- query files & params

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_list.id == "query-list":
            query = next((q for q in self.queries if q.name == event.option.id), None)
            if query is not None:
                self.query_one("#query-description", Static).update(query.description)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option_list.id == "query-list":
            query = next((q for q in self.queries if q.name == event.option.id), None)
            if query is not None:
                self.load_query(query)
        elif event.option_list.id == "history-list":
            index = int(event.option.id or 0)
            entry = self._history_shown[index]
            try:
                query = parse_query_text(entry["sql"], name=entry.get("name") or "editor")
            except TrialtuiError as exc:
                self.query_one("#sql-status", Static).update(Text(str(exc), style="red"))
                return
            self.load_query(query, entry.get("params", {}))

    def load_query(self, query: QueryFile, values: dict[str, str] | None = None) -> None:
        """Put a query file into the editor and build its parameter form."""
        self.current = query
        self._loaded_sql = query.sql
        self.query_one("#sql-editor", TextArea).text = query.sql
        self._build_form(query, values or {})
        self.query_one("#sql-status", Static).update(f"{query.name} · F5 runs")

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        """A typed query is untitled until it is saved (the query file stays as it was)."""
        if self.current is not None and event.text_area.text != self._loaded_sql:
            self.current = None
            self.query_one("#sql-status", Static).update("untitled (edited) · ctrl+s saves")

    def action_save_query(self) -> None:
        """Save the editor's query into the user's query folder, with a header."""
        sql = self.query_one("#sql-editor", TextArea).text
        status = self.query_one("#sql-status", Static)
        try:
            query = parse_query_text(sql, name="untitled")
        except TrialtuiError as exc:
            status.update(Text(str(exc), style="red"))
            return
        folder = user_queries_dir()
        name = query.name if query.name != "untitled" else "query"
        path = folder / f"{name}.sql"
        number = 1
        while path.exists() and (self._saved_path is None or path != self._saved_path):
            number += 1
            path = folder / f"{name}_{number}.sql"
        name = path.stem
        text = sql
        if not any(line.strip().startswith("-- name:") for line in sql.splitlines()):
            text = f"-- name: {name}\n-- description: saved from the SQL console\n{sql}"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
        except OSError as exc:
            status.update(Text(f"{path}: cannot save ({exc.strerror})", style="red"))
            return
        self._saved_path = path
        self.current = parse_query_text(text, path=path, origin="user")
        self._loaded_sql = text
        with self.prevent(TextArea.Changed):
            self.query_one("#sql-editor", TextArea).text = text
        self._reload_query_list()
        status.update(f"saved as {name} ({path})")

    def _reload_query_list(self) -> None:
        try:
            self.queries = discover_queries()
        except TrialtuiError as exc:
            self.notify(str(exc), severity="error")
            return
        options = self.query_one("#query-list", OptionList)
        options.clear_options()
        options.add_options([Option(q.name, id=q.name) for q in self.queries])

    def _build_form(self, query: QueryFile | None, values: dict) -> None:
        form = self.query_one("#param-form", Vertical)
        form.remove_children()
        if query is None:
            return
        widgets = []
        for param in query.params:
            default = "" if param.required or param.default is None else param.default_text
            value = str(values.get(param.name, default))
            row = Horizontal(
                Label(f"{param.name} ({param.type})", classes="param-label", markup=False),
                Input(
                    value,
                    placeholder=param.description or "",
                    id=f"param-{param.name}",
                    classes="param-input",
                ),
                classes="param-row",
            )
            widgets.append(row)
        form.mount(*widgets)

    def param_values(self) -> dict[str, str]:
        """Values typed into the parameter form (empty fields left out)."""
        values = {}
        for field in self.query("#param-form Input").results(Input):
            name = (field.id or "").removeprefix("param-")
            if name and field.value != "":
                values[name] = field.value
        return values

    # -------------------------------------------------------------- running

    def action_run(self) -> None:
        sql = self.query_one("#sql-editor", TextArea).text
        status = self.query_one("#sql-status", Static)
        name = self.current.name if self.current is not None else "untitled"
        typed = self.param_values()
        try:
            # The editor text is the query: its header declares the parameters, the form
            # supplies their values.
            query = parse_query_text(sql, name=name)
            params = bind_params(query, {k: v for k, v in typed.items() if k in query.param_names})
        except TrialtuiError as exc:
            status.update(Text(str(exc), style="red"))
            return
        status.update("running… (ctrl+k cancels)")
        append_history(
            history_path(), {"name": name, "sql": sql, "params": typed, "at": time.time()}
        )
        self.history = load_history(history_path())
        self._fill_history(self.query_one("#history-search", Input).value)
        self._pending_run = {
            "name": name,
            "sql": sql,
            "params": typed,
            "query_ref": _query_ref(self.current, sql),
        }
        self._run(query, params)

    @work(thread=True, exclusive=True, exit_on_error=False, group="sql")
    def _run(self, query: QueryFile, params: dict) -> None:
        worker = get_current_worker()
        started = time.perf_counter()
        frame: pl.DataFrame | PagedResult | None = None
        try:
            con = open_query_connection(self.trial.db_path, memory_limit=QUERY_MEMORY)
            self._con = con
            try:
                # what the query reads first: a kept result lets go of the database
                context = query_context(con, query.sql)
                frame = run_query(con, query, params, keep_above=self.keep_rows)
                if isinstance(frame, PagedResult):
                    frame.prepare()  # the table's decimals, read here, not on screen
            except BaseException:
                if isinstance(frame, PagedResult):
                    frame.close()
                frame = None
                raise
            finally:
                self._con = None
                if not isinstance(frame, PagedResult):
                    con.close()  # (a paged result owns its connection)
        except TrialtuiError as exc:
            if not worker.is_cancelled:
                self.post_message(QueryError(str(exc)))
            return
        except Exception as exc:
            if not worker.is_cancelled:
                self.post_message(QueryError(f"{type(exc).__name__}: {exc}".splitlines()[0]))
            return
        if worker.is_cancelled:
            if isinstance(frame, PagedResult):
                frame.close()
            return
        self.post_message(QueryDone(frame, time.perf_counter() - started, context))

    def action_cancel(self) -> None:
        con = self._con
        if con is not None:
            con.interrupt()
        self.workers.cancel_group(self, "sql")
        self.query_one("#sql-status", Static).update("cancelled")

    def on_query_done(self, message: QueryDone) -> None:
        if isinstance(self.result, PagedResult):
            self.result.close()
        self.result = message.frame
        self.last_run = self._pending_run
        self.last_context = message.context
        self._show_stored_banner()
        self.query_one("#sql-results", FrameTable).show(message.frame)
        kept = (
            " (kept in the database, read a page at a time)"
            if isinstance(message.frame, PagedResult)
            else ""
        )
        self.query_one("#sql-status", Static).update(
            f"{format_rows(message.frame.height)} in {message.seconds:.2f} s{kept}"
        )

    def on_unmount(self) -> None:
        if isinstance(self.result, PagedResult):
            self.result.close()

    def on_query_error(self, message: QueryError) -> None:
        self.query_one("#sql-status", Static).update(Text(str(message.error), style="red"))

    # -------------------------------------------------------------- history

    def action_toggle_history(self) -> None:
        self.query_one("#console").toggle_class("-history")
        if self.query_one("#console").has_class("-history"):
            self.query_one("#history-search", Input).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "history-search":
            self._fill_history(event.value)

    def _fill_history(self, text: str) -> None:
        self._history_shown = search_history(self.history, text)
        options = self.query_one("#history-list", OptionList)
        options.clear_options()
        options.add_options(
            [
                Option(f"{e.get('name', '')}: {' '.join(e['sql'].split())[:60]}", id=str(i))
                for i, e in enumerate(self._history_shown)
            ]
        )

    def export_view(self) -> tuple[pl.DataFrame | PagedResult, str] | None:
        name = self.last_run["name"] if self.last_run is not None else "untitled"
        return self.result, f"query:{name}"

    def show_results(self, data, results) -> None:  # type: ignore[no-untyped-def]
        self._show_stored_banner()

    def _show_stored_banner(self) -> None:
        """Above the results: why the last Apply could not store its results, and which
        settings the stored tables the query read hold when they differ from the screen's
        (or a table is not stored for the open study)."""
        results = self.trial.results
        banner = self.query_one("#stored-banner", Static)
        tables = self.last_context.get("derived_tables_read", [])
        text = ""
        if results is not None and tables:
            text = stored_settings_note(
                results.study_id,
                results.settings_used(),
                tables,
                self.last_context["derived_runs"],
            )
        if self.trial.store_error:
            text = f"{self.trial.store_error}\n{text}".strip()
        banner.update(text)
        banner.display = bool(text)

    def export_provenance(self) -> dict | None:
        if self.last_run is None:
            return None
        run = self.last_run
        return query_provenance(
            self.trial.db_path,
            name=run["query_ref"] or run["name"],
            sql=run["sql"],
            params=run["params"],
            context=self.last_context | {"is_query_file": run["query_ref"] is not None},
            row_count=self.result.height,
        )

    def command_line(self) -> list[str] | None:
        """The ``trialtui query`` command that reruns the shown result."""
        run = self.last_run
        if run is None or run["query_ref"] is None:
            return None
        return query_command(self.trial.db_path, run["query_ref"], run["params"])


def _query_ref(current: QueryFile | None, sql: str) -> str | None:
    """How ``trialtui query`` names the query file the editor holds unchanged, if any."""
    if current is None or current.sql != sql:
        return None
    if current.origin == "bundled":
        return current.name
    return str(current.path) if current.path is not None else None


def stored_settings_note(study_id: str, screen: dict, tables: list[str], runs: list[dict]) -> str:
    """One line per stored table of ``study_id`` whose settings differ from ``screen``'s.

    ``runs`` are ``derived_runs`` rows with the settings parsed into ``settings``.
    """
    lines = []
    stored = {r["table_name"]: r for r in runs if r["study_id"] == study_id}
    for table in tables:
        run = stored.get(table)
        if run is None:
            lines.append(f"{table}: no stored results for {study_id}")
            continue
        differ = [
            f"{key} {run['settings'][key]} (screen: {screen[key]})"
            for key in sorted(screen)
            if key in run["settings"] and run["settings"][key] != screen[key]
        ]
        if differ:
            lines.append(f"{table} holds other settings for {study_id}: " + "; ".join(differ))
    if lines:
        lines.append("Apply in Settings stores the screen's results.")
    return "\n".join(lines)
