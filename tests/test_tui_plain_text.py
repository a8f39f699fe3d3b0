"""Names, paths, filters and SQL on screen as they are: Textual reads ``[...]`` in a string
as markup, so ``IL-6 [serum]`` showed as ``IL-6`` and ``SELECT x[i]`` as ``SELECT x`` in
headers, edges, status lines and notifications. The real app on a study whose biomarker,
label and unit carry brackets."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from conftest import GOOD_LONG_CSV, imported
from textual.content import Content
from textual.widgets import Static, TextArea

from trialtui.tui.app import TrialApp
from trialtui.tui.screens.biomarker_detail import BiomarkerDetailScreen
from trialtui.tui.screens.console import ConsoleScreen
from trialtui.tui.widgets.frame_table import FrameTable

BRACKETED = "IL-6 [serum]"
UNIT = "pg/mL [i]"


pytestmark = pytest.mark.usefixtures("private_dirs")  # user folders in tmp_path


@pytest.fixture
def db(tmp_path: Path) -> Path:
    text = GOOD_LONG_CSV.replace(",CD8,cells/mm2,", f',"{BRACKETED}","{UNIT}",')
    assert BRACKETED in text
    return imported(tmp_path, "brackets", text)


async def settled(app: TrialApp, pilot) -> None:
    for _ in range(200):
        if app.results is not None and not app.computing:
            break
        await asyncio.sleep(0.05)
    await app.workers.wait_for_complete()
    await pilot.pause()


def shown(widget) -> str:
    return str(widget.render())


async def on_screen(app: TrialApp, pilot, key: str) -> None:
    """The app settled on the screen of ``key``."""
    await settled(app, pilot)
    await pilot.press(key)
    await settled(app, pilot)


async def sql_status(app: TrialApp, pilot, query: str) -> Static:
    """The SQL console's status line after running ``query``."""
    await on_screen(app, pilot, "6")
    assert isinstance(app.screen, ConsoleScreen)
    app.screen.query_one("#sql-editor", TextArea).text = query
    await pilot.press("ctrl+r")
    await app.workers.wait_for_complete()
    await pilot.pause()
    return app.screen.query_one("#sql-status", Static)


async def test_a_bracketed_biomarker_name_and_unit_are_shown_whole(db: Path) -> None:
    app = TrialApp(db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settled(app, pilot)
        app.push_screen(BiomarkerDetailScreen(BRACKETED))
        await settled(app, pilot)
        assert isinstance(app.screen, BiomarkerDetailScreen)
        header = shown(app.screen.query_one("#biomarker-header", Static))
        assert header.startswith(BRACKETED) and UNIT in header


async def test_a_filter_with_brackets_is_shown_on_the_table_edge(db: Path) -> None:
    app = TrialApp(db)
    async with app.run_test(size=(120, 36)) as pilot:
        await on_screen(app, pilot, "3")
        table = app.screen.query_one(FrameTable)
        table.apply_filter("[serum]")
        await pilot.pause()
        assert "filter: [serum]" in Content.from_markup(table.border_title).plain


async def test_an_sql_error_quotes_the_query_as_written(db: Path) -> None:
    app = TrialApp(db)
    async with app.run_test(size=(120, 36)) as pilot:
        status = shown(await sql_status(app, pilot, 'SELECT "x[i]" FROM (SELECT 1 AS y)'))
        assert "x[i]" in status, status


async def test_notifications_show_their_text_as_it_is(db: Path) -> None:
    app = TrialApp(db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settled(app, pilot)
        app.notify(f"cannot read {BRACKETED} in /data/[b]/trial.duckdb", title="x")
        await pilot.pause()
        (note,) = list(app._notifications)
        assert note.message == f"cannot read {BRACKETED} in /data/[b]/trial.duckdb"
        assert not note.markup


async def test_a_bracketed_biomarker_names_its_column_whole(db: Path) -> None:
    """The Patients table's columns of key changes are named by their biomarkers."""
    app = TrialApp(db)
    async with app.run_test(size=(160, 36)) as pilot:
        await on_screen(app, pilot, "2")
        table = app.screen.query_one(FrameTable)
        labels = [column.label.plain for column in table.columns.values()]
        assert f"log2FC {BRACKETED}" in labels, labels


@pytest.fixture
def arm_db(tmp_path: Path) -> Path:
    return imported(tmp_path, "arm", GOOD_LONG_CSV.replace(",A,", ",Arm [i] x,"))


async def test_a_bracketed_arm_is_named_whole_in_choices_and_the_status_bar(arm_db: Path) -> None:
    """An arm "Arm [i] x" is chosen by that name in the Patients filter and shown so in
    the status bar (the reference arm, chosen by name, is the first in order)."""
    from textual.widgets import Label, Select

    app = TrialApp(arm_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await on_screen(app, pilot, "2")
        choice = app.screen.query_one("#arm-filter", Select)
        choice.value = "Arm [i] x"
        await pilot.pause()
        assert shown(choice.query_one("SelectCurrent").query_one(Static)) == "Arm [i] x"
        status = shown(app.screen.query_one("#status-text", Label))
        assert "ref Arm [i] x" in status, status


async def test_a_long_sql_error_is_shown_whole(db: Path) -> None:
    """At 80x24 the status under the editor is 48 columns wide: an error of a hundred and
    more characters wraps onto the lines it needs (up to four), not cut at the edge."""
    app = TrialApp(db)
    async with app.run_test(size=(80, 24)) as pilot:
        query = 'SELECT "a_column_name_that_does_not_exist_anywhere" FROM (SELECT 1 AS y)'
        status = await sql_status(app, pilot, query)
        text = shown(status)
        assert len(text) > 2 * status.size.width  # it needs three lines at least
        assert status.size.height >= 3
        assert "a_column_name_that_does_not_exist_anywhere" in text
