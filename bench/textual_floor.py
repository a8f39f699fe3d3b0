"""The floor of the app's first content: a bare Textual app showing the same catalog facts.

Usage: python bench/textual_floor.py DB OUT.json

Timed as ``app_probe.py`` times the app's first content, from this process's start: import
Textual and DuckDB, read the study's id, arms and timepoints from DB (one read-only
connection), and show them in a screen of a header, one text and a footer, until the first
frame with every fact is painted. No trialtui code runs: what the app takes beyond this is
its own (Polars, its screens and styles, its catalog queries).
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import asyncio  # noqa: E402
import html  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from app_probe import catalog_facts  # noqa: E402  (the same facts the app probe looks for)
from textual.app import App, ComposeResult  # noqa: E402
from textual.widgets import Footer, Header, Static  # noqa: E402


class Facts(App):
    def __init__(self, facts: list[str]) -> None:
        super().__init__()
        self.facts = facts

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("\n".join(self.facts), markup=False)
        yield Footer()


async def probe(db: Path) -> dict[str, float]:
    app = Facts(catalog_facts(db))
    async with app.run_test(size=(160, 48)) as pilot:
        while True:
            text = html.unescape(app.export_screenshot()).replace("\xa0", " ")
            if all(fact in text for fact in app.facts):
                return {"first_content": time.perf_counter() - STARTED}
            await pilot.pause(0.01)


def main() -> None:
    db, out = Path(sys.argv[1]), Path(sys.argv[2])
    out.write_text(json.dumps(asyncio.run(probe(db))))


if __name__ == "__main__":
    main()
