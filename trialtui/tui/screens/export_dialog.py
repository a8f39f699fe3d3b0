"""Export dialog: write the table in view to CSV with provenance (shared export code)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Static

from trialtui.choices import LEVELS
from trialtui.errors import TrialtuiError, first_line
from trialtui.export import (
    build_provenance,
    export_csv,
    imported_sources,
    results_provenance,
)
from trialtui.formatting import format_rows
from trialtui.store.paged import PagedResult


class ExportDialog(ModalScreen[Path | None]):
    """Ask for a file name; write CSV + ``.provenance.json``; dismiss with the path."""

    DEFAULT_CSS = """
    ExportDialog { align: center middle; }
    ExportDialog > Vertical { width: 80%; height: auto; border: thick $accent;
                              background: $surface; padding: 1 2; }
    ExportDialog Horizontal { height: auto; margin-top: 1; }
    ExportDialog #export-error { color: $error; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self,
        frame: pl.DataFrame | PagedResult,
        level: str,
        suggested: Path,
        extra: dict | None = None,
    ) -> None:
        super().__init__()
        self.frame = frame
        self.level = level
        self.suggested = suggested
        self.extra = extra

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"Export {format_rows(self.frame.height)} ({self.level}) to CSV")
            yield Input(str(self.suggested), id="export-path")
            yield Checkbox("Overwrite existing files", id="export-force")
            yield Static("", id="export-error", markup=False)
            with Horizontal():
                yield Button("Export", id="export-ok", variant="primary")
                yield Button("Cancel", id="export-cancel")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "export-ok":
            self.export()
        else:
            self.dismiss(None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.export()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def provenance(self) -> dict:
        app = self.app
        results = getattr(app, "results", None)
        db_path = app.db_path  # type: ignore[attr-defined]
        if self.extra is not None and "trialtui_version" in self.extra:
            return self.extra  # the screen built the whole record (e.g. the SQL console)
        if results is not None and self.level in LEVELS:
            return results_provenance(db_path, results, self.level, frame=self.frame)
        study_id = getattr(app, "study_id", None)
        sources = results.sources if results is not None else None
        return build_provenance(
            db_path=db_path,
            study_id=study_id,
            level=self.level,
            settings=results.settings_used() if results is not None else {},
            source_files=sources if sources is not None else imported_sources(db_path, study_id),
            row_count=self.frame.height,
            command=["trialtui", "(interactive export)"],
            extra=self.extra,
        )

    def export(self) -> None:
        path = Path(self.query_one("#export-path", Input).value.strip()).expanduser()
        force = self.query_one("#export-force", Checkbox).value
        provenance = self.provenance()
        if isinstance(self.frame, PagedResult):  # millions of rows: written in a worker
            self.query_one("#export-ok", Button).disabled = True
            self.query_one("#export-error", Static).update(
                f"writing {format_rows(self.frame.height)}…"
            )
            self._write_in_worker(path, provenance, force)
            return
        self._done(path, *self._write(path, provenance, force))

    def _write(self, path: Path, provenance: dict, force: bool) -> tuple[Path | None, str]:
        """The file written, or None and why not."""
        try:
            return export_csv(self.frame, path, provenance, force=force), ""
        except TrialtuiError as exc:
            # the command line's advice, said in this dialog's terms
            text = str(exc).replace("(use --force to overwrite)", "(tick Overwrite to replace it)")
            return None, text
        except OSError as exc:
            return None, f"{path}: {exc.strerror or exc}"
        except Exception as exc:  # e.g. a large result replaced by the next query's
            return None, f"{path}: not written: {first_line(exc)}"

    @work(thread=True, exclusive=True, exit_on_error=False, group="export")
    def _write_in_worker(self, path: Path, provenance: dict, force: bool) -> None:
        written, error = self._write(path, provenance, force)
        self.app.call_from_thread(self._done, path, written, error)

    def _done(self, path: Path, written: Path | None, error: str) -> None:
        if written is None:
            self.query_one("#export-ok", Button).disabled = False
            self.query_one("#export-error", Static).update(error)
            return
        self.app.notify(f"Wrote {written} (+ provenance)", title="Exported")
        self.dismiss(written)
