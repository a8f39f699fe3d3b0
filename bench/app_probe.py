"""Time the app on a database: first content, statistics ready, a screen switch.

Usage: python bench/app_probe.py DB OUT.json

Times count from this process's start, as a user's would from pressing Enter: importing
the app is part of them; the probe's own query for the facts to look for is not. "First
content" is the first frame showing the study's id, every arm and every timepoint (the
Overview's catalog facts); "statistics ready" is when the analysis worker has delivered
every eagerly computed level.

A screen switch is timed from the key ``4`` to the Statistics screen painted with its
table: ``screen_switch`` the first time the screen is shown, ``screen_switch_again`` when
it is shown again after the Overview. ``screen_switch_settled`` is a switch to it timed as
the test pilot sees it, until the process has been idle for 20 ms (``press`` then
``pause``); ``idle_key`` is the same for a key that does nothing (pressing ``4`` on the
Statistics screen): the floor of that way of timing, its reference in the same run.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import asyncio  # noqa: E402
import html  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import duckdb  # noqa: E402


def catalog_facts(db: Path) -> list[str]:
    """The strings the first screen must show: study id, arm ids, timepoints."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        study = con.execute(
            "SELECT study_id FROM patients GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
        ).fetchone()[0]
        arms = con.execute("SELECT arm_id FROM arms WHERE study_id = ?", [study]).fetchall()
        points = con.execute(
            "SELECT timepoint FROM timepoints WHERE study_id = ?", [study]
        ).fetchall()
    finally:
        con.close()
    return [study, *(r[0] for r in arms), *(r[0] for r in points)]


def screen_text(app) -> str:
    """The characters on screen (the SVG screenshot without markup)."""
    svg = app.export_screenshot()
    return html.unescape(svg).replace("\xa0", " ")


async def probe(db: Path) -> dict[str, float]:
    from trialtui.tui.app import TrialApp

    asked = time.perf_counter()
    facts = catalog_facts(db)
    # the probe's own look into the database is no part of the app's start: not counted
    started = STARTED + (time.perf_counter() - asked)
    app = TrialApp(db)
    async with app.run_test(size=(160, 48)) as pilot:
        first = None
        while True:
            now = time.perf_counter() - started
            # screenshots are costly (tens of ms): look only once the facts can be on
            # screen, and once the Overview says it painted them if it is the first
            drawn = app.catalog is not None and app.catalog.drawn.is_set()
            shown = drawn or app.results is not None
            if first is None and shown and all(f in screen_text(app) for f in facts):
                first = now
            if app.results is not None and not app.computing:
                ready = time.perf_counter() - started
                break
            if app.last_error is not None:
                raise RuntimeError(app.last_error)
            if first is None:
                await pilot.pause(0.01)
            else:
                # from first content on, only wait: forcing a repaint every 10 ms (as
                # pilot.pause does) would take the interpreter from the analysis worker,
                # work a user's app does not do
                await asyncio.sleep(0.01)
        if first is None:
            first = ready
        switch = await timed_switch(app, "4")
        await pilot.pause()
        await pilot.press("1")
        await pilot.pause()
        again = await timed_switch(app, "4")
        await pilot.pause()
        await pilot.press("1")
        await pilot.pause()
        start = time.perf_counter()
        await pilot.press("4")
        await pilot.pause()
        settled = time.perf_counter() - start
        start = time.perf_counter()
        await pilot.press("4")
        await pilot.pause()
        idle = time.perf_counter() - start
    return {
        "first_content": first,
        "statistics_ready": ready,
        "screen_switch": switch,
        "screen_switch_again": again,
        "screen_switch_settled": settled,
        "idle_key": idle,
    }


async def timed_switch(app, key: str) -> float:
    """Seconds from ``key`` to the Statistics screen painted with its table's rows."""
    from textual import events

    from trialtui.tui.screens.statistics import StatisticsScreen
    from trialtui.tui.widgets.frame_table import FrameTable

    def shown() -> bool:
        screen = app.screen
        if not isinstance(screen, StatisticsScreen) or not screen.is_mounted:
            return False
        return screen.query_one("#comparison-table", FrameTable).row_count > 0

    start = time.perf_counter()
    app.post_message(events.Key(key, key))
    while not shown():
        await asyncio.sleep(0.001)
    app.screen._on_timer_update()  # paint now what is pending (as the test pilot does)
    return time.perf_counter() - start


def main() -> None:
    db, out = Path(sys.argv[1]), Path(sys.argv[2])
    out.write_text(json.dumps(asyncio.run(probe(db))))


if __name__ == "__main__":
    main()
