"""Import dialog: validate and load files into the open database in a worker."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, ProgressBar, Select, Static
from textual.worker import get_current_worker

from trialtui.errors import TrialtuiError
from trialtui.store.connection import connect
from trialtui.store.importer import ImportReport, import_files

FORMATS = [("detect", "auto"), ("long", "long"), ("wide", "wide"), ("CDISC ADaM", "adam")]
STEPS_PER_FILE = 3  # reading, validating, loading


@dataclass
class ImportProgress(Message, bubble=False):
    text: str
    fraction: float

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ImportProgress)


@dataclass
class ImportDone(Message, bubble=False):
    report: ImportReport


@dataclass
class ImportFailed(Message, bubble=False):
    error: str


def parse_paths(text: str) -> list[Path]:
    """File names separated by spaces (quote names that contain spaces)."""
    try:
        return [Path(p).expanduser() for p in shlex.split(text)]
    except ValueError as exc:
        raise TrialtuiError(f"cannot read the file names: {exc}") from None


class ImportDialog(ModalScreen[ImportReport | None]):
    """Ask for files; import them all or nothing; dismiss with the report."""

    DEFAULT_CSS = """
    ImportDialog { align: center middle; }
    ImportDialog > Vertical { width: 90%; height: auto; max-height: 90%;
                              border: thick $accent; background: $surface; padding: 1 2; }
    ImportDialog Horizontal { height: auto; margin-top: 1; }
    ImportDialog #import-study { width: 1fr; }
    ImportDialog #import-format { width: 24; }
    ImportDialog #import-result { height: auto; margin-top: 1; }
    """
    BINDINGS = [Binding("escape", "close", "Close")]

    def __init__(self, db_path: Path) -> None:
        super().__init__()
        self.db_path = db_path
        self.report: ImportReport | None = None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(
                f"Import into {self.db_path} (CSV, Parquet or SAS XPT; all or nothing)",
                markup=False,
            )
            yield Input(placeholder="files, separated by spaces", id="import-paths")
            with Horizontal():
                yield Input(placeholder="study id for files without study_id", id="import-study")
                yield Select(FORMATS, value="auto", allow_blank=False, id="import-format")
            yield Checkbox("Check only (dry run, nothing written)", id="import-dry-run")
            yield ProgressBar(total=100, show_eta=False, id="import-progress")
            yield Static("", id="import-result", markup=False)
            with Horizontal():
                yield Button("Import", id="import-ok", variant="primary")
                yield Button("Close", id="import-close")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "import-ok":
            self.start()
        else:
            self.action_close()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.start()

    def action_close(self) -> None:
        self.dismiss(self.report)

    def start(self) -> None:
        result = self.query_one("#import-result", Static)
        try:
            paths = parse_paths(self.query_one("#import-paths", Input).value)
        except TrialtuiError as exc:
            result.update(Text(str(exc), style="red"))
            return
        if not paths:
            result.update(Text("name at least one file", style="red"))
            return
        if getattr(self.app, "computing", False):
            result.update("the analysis is running; import when it has finished")
            return
        study = self.query_one("#import-study", Input).value.strip() or None
        fmt = str(self.query_one("#import-format", Select).value)
        dry_run = self.query_one("#import-dry-run", Checkbox).value
        self.query_one("#import-ok", Button).disabled = True
        result.update("importing…")
        self.query_one("#import-progress", ProgressBar).update(progress=0)
        self._import(paths, study, fmt, dry_run)

    @work(thread=True, exclusive=True, exit_on_error=False, group="import")
    def _import(self, paths: list[Path], study: str | None, fmt: str, dry_run: bool) -> None:
        worker = get_current_worker()
        total = STEPS_PER_FILE * len(paths)
        done = 0

        def progress(text: str) -> None:
            nonlocal done
            done += 1
            if not worker.is_cancelled:
                self.post_message(ImportProgress(text, min(1.0, done / total)))

        try:
            con = connect(self.db_path, read_only=False)
            try:
                report = import_files(
                    con, paths, fmt=fmt, study=study, dry_run=dry_run, progress=progress
                )
            finally:
                con.close()
        except TrialtuiError as exc:
            self.post_message(ImportFailed(str(exc)))
            return
        except Exception as exc:  # a bug: one line, the app stays up
            self.post_message(ImportFailed(f"{type(exc).__name__}: {exc}".splitlines()[0]))
            return
        self.post_message(ImportDone(report))

    def on_import_progress(self, message: ImportProgress) -> None:
        self.query_one("#import-progress", ProgressBar).update(
            progress=round(100 * message.fraction)
        )
        self.query_one("#import-result", Static).update(message.text)

    def on_import_done(self, message: ImportDone) -> None:
        self.report = message.report
        self.query_one("#import-progress", ProgressBar).update(progress=100)
        self.query_one("#import-ok", Button).disabled = False
        lines = [f"{r.path.name}: {r.status}: {r.message}" for r in message.report.files]
        self.query_one("#import-result", Static).update("\n".join(lines))
        if not message.report.dry_run and any(r.status == "loaded" for r in message.report.files):
            self.app.recompute()  # type: ignore[attr-defined]

    def on_import_failed(self, message: ImportFailed) -> None:
        # nothing was loaded: a bar stopped part-way would say otherwise
        self.query_one("#import-progress", ProgressBar).update(progress=0)
        self.query_one("#import-ok", Button).disabled = False
        self.query_one("#import-result", Static).update(
            Text.assemble((message.error, "red"), "\nNothing was written.")
        )
