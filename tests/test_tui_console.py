"""Pilot tests of the SQL console screen: query files, parameters, results, history."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from textual.widgets import Input, OptionList, Static, TextArea

from trialtui.store.catalog import completeness
from trialtui.store.connection import connect
from trialtui.tui.app import TrialApp
from trialtui.tui.screens.console import ConsoleScreen, search_history
from trialtui.tui.widgets.frame_table import FrameTable

SIZE = (120, 36)


@pytest.fixture(autouse=True)
def private_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """History and user queries go to tmp, never to the real home."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path


async def open_console(app: TrialApp, pilot) -> ConsoleScreen:
    await app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.press("6")
    await pilot.pause()
    assert isinstance(app.screen, ConsoleScreen)
    return app.screen


async def run_and_wait(app: TrialApp, pilot) -> None:
    await pilot.press("ctrl+r")
    await app.workers.wait_for_complete()
    await pilot.pause()


def choose(screen: ConsoleScreen, name: str) -> None:
    options = screen.query_one("#query-list", OptionList)
    index = next(
        i for i in range(options.option_count) if options.get_option_at_index(i).id == name
    )
    options.highlighted = index
    options.action_select()


async def test_query_file_with_parameter_matches_catalog(sample_db: Path) -> None:
    app = TrialApp(sample_db, study="PDAC-DEF-2")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_console(app, pilot)
        choose(screen, "paired_completeness")
        await pilot.pause()
        assert "name: paired_completeness" in screen.query_one("#sql-editor", TextArea).text
        screen.query_one("#param-study", Input).value = "PDAC-DEF-2"
        await run_and_wait(app, pilot)
        shown = screen.query_one("#sql-results", FrameTable).frame
        status = str(screen.query_one("#sql-status").render())
        assert status.startswith(f"{shown.height} rows in ")
    con = connect(sample_db, read_only=True)
    try:
        want = completeness(con, "PDAC-DEF-2")
    finally:
        con.close()
    got = shown.select("biomarker", "arm", "n_paired").sort("biomarker", "arm")
    assert_frame_equal(got, want.select("biomarker", "arm", "n_paired"), check_dtypes=False)


async def test_free_sql_history_and_export(sample_db: Path, tmp_path: Path) -> None:
    app = TrialApp(sample_db, study="PDAC-DEF-2")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_console(app, pilot)
        editor = screen.query_one("#sql-editor", TextArea)
        editor.text = "SELECT arm_id, count(*) AS n FROM patients GROUP BY 1 ORDER BY 1"
        await run_and_wait(app, pilot)
        result = screen.query_one("#sql-results", FrameTable).frame
        assert result["n"].to_list() == [20, 14, 20]
        history_file = tmp_path / "data" / "trialtui" / "query_history.jsonl"
        entries = [json.loads(line) for line in history_file.read_text().splitlines()]
        assert entries[-1]["sql"].startswith("SELECT arm_id")
        await pilot.press("f8")
        await pilot.pause()
        assert app.focused is screen.query_one("#history-search", Input)
        screen.query_one("#history-search", Input).value = "arm_id"
        await pilot.pause()
        assert screen.query_one("#history-list", OptionList).option_count == 1
        screen.query_one("#history-search", Input).value = "no such text"
        await pilot.pause()
        assert screen.query_one("#history-list", OptionList).option_count == 0
        target = tmp_path / "query.csv"
        await pilot.press("ctrl+e")
        await pilot.pause()
        app.screen.query_one("#export-path", Input).value = str(target)
        await pilot.click("#export-ok")
        await pilot.pause()
    assert pl.read_csv(target)["n"].to_list() == [20, 14, 20]
    provenance = json.loads((tmp_path / "query.csv.provenance.json").read_text())
    assert provenance["level"] == "query:untitled"
    assert provenance["query"]["sql"].startswith("SELECT arm_id, count(*) AS n FROM patients")
    assert provenance["row_count"] == 3


async def test_write_attempt_is_refused_and_database_unchanged(sample_db: Path) -> None:
    app = TrialApp(sample_db, study="PDAC-DEF-2")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_console(app, pilot)
        screen.query_one("#sql-editor", TextArea).text = "DELETE FROM measurements"
        await run_and_wait(app, pilot)
        status = str(screen.query_one("#sql-status").render())
        assert "refused" in status and "DELETE" in status
    con = connect(sample_db, read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM measurements").fetchall()[0][0] > 0
    finally:
        con.close()


async def test_bad_parameter_value_is_reported(sample_db: Path) -> None:
    app = TrialApp(sample_db, study="PDAC-DEF-2")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_console(app, pilot)
        choose(screen, "top_changers")
        await pilot.pause()
        screen.query_one("#param-n", Input).value = "ten"
        await run_and_wait(app, pilot)
        status = str(screen.query_one("#sql-status").render())
        assert "n" in status and "integer" in status


def test_search_history_is_case_insensitive() -> None:
    entries = [{"name": "a", "sql": "SELECT 1"}, {"name": "top_changers", "sql": "SELECT 2"}]
    assert search_history(entries, "TOP") == [entries[1]]
    assert search_history(entries, "") == entries


async def test_keys_tab_moves_focus_and_ctrl_s_saves_a_query_file(
    sample_db: Path, tmp_path: Path
) -> None:
    app = TrialApp(sample_db, study="PDAC-DEF-2")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_console(app, pilot)
        editor = screen.query_one("#sql-editor", TextArea)
        editor.focus()
        editor.text = "SELECT count(*) AS n FROM patients"
        await pilot.pause()
        assert "untitled" in str(screen.query_one("#sql-status").render())
        await pilot.press("tab")
        assert app.focused is not editor
        assert editor.text == "SELECT count(*) AS n FROM patients"  # no indent typed
        await pilot.press("ctrl+s")
        await pilot.pause()
        saved = tmp_path / "config" / "trialtui" / "queries" / "query.sql"
        text = saved.read_text(encoding="utf-8")
        assert text.startswith("-- name: query\n-- description:")
        assert "SELECT count(*) AS n FROM patients" in text
        assert "query" in [q.name for q in screen.queries]
        assert screen.current is not None and screen.current.name == "query"
        await run_and_wait(app, pilot)
        assert screen.last_run is not None and screen.last_run["name"] == "query"


async def test_cancel_key_interrupts_a_running_query(sample_db: Path) -> None:
    """ctrl+k stops a query that would run for hours; the console then runs the next one."""
    app = TrialApp(sample_db, study="PDAC-DEF-2")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_console(app, pilot)
        editor = screen.query_one("#sql-editor", TextArea)
        editor.text = "SELECT count(*) AS n FROM range(1000000000000) t(i) WHERE i % 7 = 3"
        await pilot.press("f5")
        for _ in range(200):  # until the worker has its connection and DuckDB is running
            if screen._con is not None:
                break
            await pilot.pause(0.05)
        assert screen._con is not None, "the query never started"
        await pilot.pause(0.3)
        await pilot.press("ctrl+k")
        await asyncio.wait_for(app.workers.wait_for_complete(), timeout=30)
        await pilot.pause()
        assert "cancelled" in str(screen.query_one("#sql-status", Static).render())
        assert screen._con is None
        editor.text = "SELECT 42 AS answer"
        await run_and_wait(app, pilot)
        assert screen.query_one("#sql-results", FrameTable).frame["answer"].to_list() == [42]


async def test_query_status_counts_rows_as_the_tables_do(sample_db: Path) -> None:
    """The status line after a query: one row is "1 row", thousands have separators."""
    app = TrialApp(sample_db, study="PDAC-DEF-2")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_console(app, pilot)
        for sql, expected in (
            ("SELECT 1 AS x", "1 row in "),
            ("SELECT * FROM range(12345)", "12,345 rows in "),
        ):
            screen.query_one("#sql-editor", TextArea).text = sql
            await run_and_wait(app, pilot)
            assert str(screen.query_one("#sql-status").render()).startswith(expected), sql


async def export_to(app: TrialApp, pilot, target: Path) -> None:
    """Export the console's result to ``target`` with the dialog, and wait for the file."""
    await pilot.press("ctrl+e")
    await pilot.pause()
    app.screen.query_one("#export-path", Input).value = str(target)
    await pilot.click("#export-ok")
    await app.workers.wait_for_complete()
    await pilot.pause()


def cells(table: FrameTable, rows: int) -> list[list[str]]:
    """The text of the first ``rows`` rows of the table as drawn."""
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(rows)]


async def test_a_large_result_is_read_a_page_at_a_time(sample_db: Path, tmp_path: Path) -> None:
    """A result of more rows than the console keeps in memory stays in DuckDB: the same
    cells, every row reachable, sorted by DuckDB, the whole result exported, filters sent
    to the SQL."""
    from trialtui.store.paged import PagedResult

    app = TrialApp(sample_db, study="PDAC-DEF-2")
    sql = "SELECT * FROM measurements ORDER BY value DESC, sample_id, biomarker_id"
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_console(app, pilot)
        screen.query_one("#sql-editor", TextArea).text = sql
        await run_and_wait(app, pilot)
        frame = screen.result
        assert isinstance(frame, pl.DataFrame) and frame.height > 1000
        table = screen.query_one("#sql-results", FrameTable)
        drawn = cells(table, 5)

        screen.keep_rows = 50
        await run_and_wait(app, pilot)
        kept = screen.result
        assert isinstance(kept, PagedResult) and kept.height == frame.height
        status = str(screen.query_one("#sql-status", Static).render())
        assert f"{frame.height:,} rows" in status and "read a page at a time" in status
        assert cells(table, 5) == drawn  # the same values, the same decimals
        table.focus()
        await pilot.press("end")
        await pilot.pause()
        assert table.selected() == frame.row(-1, named=True)
        assert f"of {frame.height:,}" in table.border_subtitle
        await pilot.press("home")
        await pilot.pause()
        assert table.selected() == frame.row(0, named=True)

        # a filter is said to belong to the SQL, the rows left as they are
        await pilot.press("slash")
        await pilot.pause()
        assert not screen.query("FilterInput")
        assert cells(table, 5) == drawn
        notes = [n.message for n in app._notifications]
        assert len(notes) == 1 and "filter them in the SQL (WHERE)" in notes[0]
        # a sort is DuckDB's, in a worker: the order the frame sorted by Polars has
        for descending in (False, True):
            table.sort_by("value")
            await app.workers.wait_for_complete()
            await pilot.pause()
            want = frame.sort("value", descending=descending, nulls_last=True)
            shown = table.frame
            assert isinstance(shown, PagedResult) and shown.height == frame.height
            assert shown.slice(0, 200)["value"].to_list() == want["value"].head(200).to_list()
            assert shown.row(-1, named=True)["value"] == want["value"][-1]
            first = "largest" if descending else "smallest"
            assert f"sorted by value, {first} first" in table.border_title
            assert table.selected()["value"] == want["value"][0]
        assert sorted(shown.slice(0)["sample_id"]) == sorted(frame["sample_id"])  # every row

        target = tmp_path / "all.csv"
        await export_to(app, pilot, target)
        assert target.read_bytes() == frame.write_csv().encode()
        provenance = json.loads(target.with_name("all.csv.provenance.json").read_text())
        assert provenance["row_count"] == frame.height

        await run_and_wait(app, pilot)  # the next result replaces this one
        assert kept.closed and shown.closed and screen.result is not kept
    assert screen.result.closed  # leaving the app lets go of the last one


async def test_exporting_a_result_closed_under_it_says_so(sample_db: Path, tmp_path: Path) -> None:
    """A large result replaced (closed) while its export dialog is open: one line in the
    dialog, no file, the dialog usable again."""
    app = TrialApp(sample_db, study="PDAC-DEF-2")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_console(app, pilot)
        screen.keep_rows = 50
        screen.query_one("#sql-editor", TextArea).text = "SELECT * FROM measurements"
        await run_and_wait(app, pilot)
        target = tmp_path / "gone.csv"
        await pilot.press("ctrl+e")
        await pilot.pause()
        dialog = app.screen
        dialog.query_one("#export-path", Input).value = str(target)
        screen.result.close()  # as the next query's result would
        await pilot.click("#export-ok")
        await app.workers.wait_for_complete()
        await pilot.pause()
        error = str(dialog.query_one("#export-error", Static).render())
        assert "closed: run the query again" in error
        assert not dialog.query_one("#export-ok").disabled
    assert not target.exists() and not list(tmp_path.glob(".gone.csv*"))


@pytest.mark.parametrize("keep_rows", [1_000_000, 50])
async def test_nested_columns_export_as_the_command_line_writes_them(
    sample_db: Path, tmp_path: Path, keep_rows: int
) -> None:
    """Lists and structs, which CSV cannot hold, are written as JSON text: the console's
    export (a frame or a result read a page at a time) equals ``trialtui query -o``'s."""
    sql = "SELECT i, [i, i + 1] AS pair, {'id': i, 'name': 'x' || i} AS info FROM range(120) t(i)"
    query_file = tmp_path / "nested.sql"
    query_file.write_text(sql + "\n", encoding="utf-8")
    by_cli = tmp_path / "cli.csv"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "trialtui",
            "query",
            str(query_file),
            "--db",
            str(sample_db),
            "-o",
            str(by_cli),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    app = TrialApp(sample_db, study="PDAC-DEF-2")
    target = tmp_path / "tui.csv"
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_console(app, pilot)
        screen.keep_rows = keep_rows
        screen.query_one("#sql-editor", TextArea).text = sql
        await run_and_wait(app, pilot)
        await export_to(app, pilot, target)
        assert app.is_running
    assert target.read_bytes() == by_cli.read_bytes()
    assert '"[0, 1]"' in target.read_text(encoding="utf-8")
