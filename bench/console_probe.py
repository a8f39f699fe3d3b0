"""Time the SQL console on a database: a query's result on screen, its last row, its export,
and the app's memory before and after.

Usage: python bench/console_probe.py DB OUT.json [--sql SQL] [--keep-rows N]

The real app at 120x36 opens DB and computes its statistics; then the console runs SQL
(default ``SELECT * FROM measurements``), and the probe records the seconds from ``F5`` to
the rows on screen (``query``), from ``End`` to the last row (``last_row``), from the
export's button to the file written (``export``, in a folder of its own), and resident
memory (MB) after the statistics, after the query and after the export, with the peak.
``--keep-rows``: the console's threshold for reading a result a page at a time (default:
the app's). Compare the figures with those of other code on the same database, alternating.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import tempfile
import time
from pathlib import Path


def resident_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def probe(db: Path, sql: str, keep_rows: int | None) -> dict[str, float | int | bool]:
    import polars as pl
    from textual.widgets import Input, TextArea

    from trialtui.tui.app import TrialApp
    from trialtui.tui.widgets.frame_table import FrameTable

    app = TrialApp(db)
    figures: dict[str, float | int | bool] = {}
    async with app.run_test(size=(120, 36)) as pilot:
        while app.results is None or app.computing:
            if app.last_error is not None:
                raise RuntimeError(app.last_error)
            await asyncio.sleep(0.05)
        await app.workers.wait_for_complete()
        await pilot.pause()
        figures["rss_statistics"] = resident_mb()
        await pilot.press("6")
        await pilot.pause()
        console = app.screen
        if keep_rows is not None:
            console.keep_rows = keep_rows
        console.query_one("#sql-editor", TextArea).text = sql
        start = time.perf_counter()
        await pilot.press("f5")
        await app.workers.wait_for_complete()
        await pilot.pause()
        figures["query"] = time.perf_counter() - start
        figures["rss_query"] = resident_mb()
        table = console.query_one("#sql-results", FrameTable)
        figures["rows"] = table.frame.height
        figures["paged"] = not isinstance(table.frame, pl.DataFrame)
        table.focus()
        await pilot.pause()
        start = time.perf_counter()
        await pilot.press("end")
        await pilot.pause()
        figures["last_row"] = time.perf_counter() - start
        with tempfile.TemporaryDirectory() as folder:
            target = Path(folder) / "result.csv"
            await pilot.press("ctrl+e")
            await pilot.pause()
            app.screen.query_one("#export-path", Input).value = str(target)
            start = time.perf_counter()
            await pilot.click("#export-ok")
            await app.workers.wait_for_complete()
            await pilot.pause()
            figures["export"] = time.perf_counter() - start
            figures["export_bytes"] = target.stat().st_size if target.exists() else 0
        figures["rss_export"] = resident_mb()
        figures["rss_peak"] = peak_mb()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--sql", default="SELECT * FROM measurements")
    parser.add_argument("--keep-rows", type=int, default=None)
    args = parser.parse_args()
    figures = asyncio.run(probe(args.db, args.sql, args.keep_rows))
    args.out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
