"""Common frame of the main screens: header, content, status line, footer."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import polars as pl
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Header

from trialtui.tui.widgets.footer import KeyFooter
from trialtui.tui.widgets.status import StatusBar

if TYPE_CHECKING:
    from trialtui.study import StudyData, StudyResults
    from trialtui.tui.app import TrialApp
    from trialtui.tui.messages import CatalogReady


class ResultsScreen(Screen):
    """A screen that shows (part of) the current results and follows recomputation."""

    def __init__(self) -> None:
        super().__init__()
        # a screen made once the app shows one is styled as it mounts, with every
        # screen's styles (the app reads them all): Textual's restyling of the whole app
        # when a screen is first shown (about as long as the rest of a switch) would
        # change nothing. (The first screen is styled with the app's theme that way.)
        with contextlib.suppress(Exception):  # made outside a running app
            if self.app.screen_stack:
                self._css_update_count = self.app._css_update_count  # type: ignore[attr-defined]
        self._generation = -1
        self._catalog: object | None = None  # the catalog facts drawn last

    @property
    def trial(self) -> TrialApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        yield from self.compose_body()
        yield StatusBar()
        yield KeyFooter()

    def compose_body(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        self.sync()

    def on_screen_resume(self) -> None:
        self.sync()

    def sync(self) -> None:
        """Redraw from the app's results if they changed since this screen last drew."""
        app = self.trial
        if not app.is_running:
            return  # closing: a screen built off screen may mount as the app exits
        status = self.query_one(StatusBar)
        status.set_text(app.status_text())
        status.set_progress(app.progress if app.computing else None)
        if app.results is None and app.catalog is not None and self._catalog is not app.catalog:
            self._catalog = app.catalog
            self.show_catalog(app.catalog)
        if app.results is None or app.data is None or self._generation == app.generation:
            return
        self._generation = app.generation
        self.show_results(app.data, app.results)

    def show_catalog(self, facts: CatalogReady) -> None:
        """Draw what the catalog alone tells, while the statistics compute (override:
        set ``facts.drawn`` once they are on screen)."""
        facts.drawn.set()

    def show_results(self, data: StudyData, results: StudyResults) -> None:
        """Draw the screen's content (override)."""

    def export_view(self) -> tuple[pl.DataFrame, str] | None:
        """The table in view and its level name, for ctrl+e (override)."""
        return None

    def export_provenance(self) -> dict | None:
        """The provenance record of the exported table when the screen knows better than
        the default (e.g. the SQL console: the query and the stored runs it read), or extra
        keys for the default record (override)."""
        return None
