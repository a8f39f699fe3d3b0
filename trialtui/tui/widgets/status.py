"""Status line: study, settings in force, and progress of the analysis worker."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label, ProgressBar

from trialtui.formatting import arm_codes


class StatusBar(Horizontal):
    """One line under each screen's content."""

    DEFAULT_CSS = """
    StatusBar { height: 1; background: $panel; }
    StatusBar > Label { width: 1fr; padding: 0 1; }
    StatusBar > ProgressBar { width: 30; display: none; }
    StatusBar.-busy > ProgressBar { display: block; }
    """

    def compose(self) -> ComposeResult:
        yield Label("", id="status-text")
        yield ProgressBar(total=100, show_eta=False, id="status-progress")

    def set_text(self, text: str) -> None:
        """Show ``text``; when it is too wide, long arm names become their short codes."""
        width = (self.size.width or self.app.size.width) - 2
        width -= 30 if self.has_class("-busy") else 0
        data = getattr(self.app, "data", None)
        if width > 0 and len(text) > width and data is not None:
            for name, code in arm_codes(data.arm_names).items():
                text = text.replace(name, code)
        self.query_one("#status-text", Label).update(text)

    def set_progress(self, fraction: float | None) -> None:
        """Show progress (0..1), or hide the bar with None."""
        bar = self.query_one("#status-progress", ProgressBar)
        if fraction is None:
            self.remove_class("-busy")
            return
        self.add_class("-busy")
        bar.update(progress=round(100 * fraction))
