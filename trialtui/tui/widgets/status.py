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

    def __init__(self) -> None:
        super().__init__()
        self._text = ""
        self._progress: float | None = None

    def compose(self) -> ComposeResult:
        yield Label(self._text, id="status-text", markup=False)  # study, arm and error names
        yield ProgressBar(total=100, show_eta=False, id="status-progress")

    def on_mount(self) -> None:
        self._show()  # what was set before the label and the bar were mounted

    def set_text(self, text: str) -> None:
        """Show ``text``; when it is too wide, long arm names become their short codes."""
        width = (self.size.width or self.app.size.width) - 2
        width -= 30 if self.has_class("-busy") else 0
        data = getattr(self.app, "data", None)
        if width > 0 and len(text) > width and data is not None:
            for name, code in arm_codes(data.arm_names).items():
                text = text.replace(name, code)
        self._text = text
        self._show()

    def set_progress(self, fraction: float | None) -> None:
        """Show progress (0..1), or hide the bar with None."""
        self._progress = fraction
        self.set_class(fraction is not None, "-busy")
        self._show()

    def _show(self) -> None:
        labels, bars = self.query("#status-text"), self.query("#status-progress")
        if not labels or not bars:
            return  # not composed yet (a screen built before it is shown): on_mount shows
        labels.first(Label).update(self._text)
        if self._progress is not None:
            bars.first(ProgressBar).update(progress=round(100 * self._progress))
