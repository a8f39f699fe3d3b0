"""The key footer of the main screens, rebuilt only when its keys change."""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer


class KeyFooter(Footer):
    """Textual's footer, without the rebuild on every focus change or screen switch.

    The footer is one widget per key, each styled when mounted: rebuilding it cost most
    of a screen switch. It is rebuilt when the keys it would show (or their state) differ
    from those it shows.
    """

    def __init__(self) -> None:
        super().__init__()
        self._shown: tuple | None = None

    def bindings_changed(self, screen: Screen) -> None:
        will_rebuild = screen.app.app_focus and self.is_attached and screen is self.screen
        if not will_rebuild:
            super().bindings_changed(screen)
            return
        keys = tuple(
            (key, active.binding, active.enabled, active.tooltip)
            for key, active in screen.active_bindings.items()
        )
        if keys == self._shown and self._bindings_ready:
            return
        self._shown = keys
        super().bindings_changed(screen)
