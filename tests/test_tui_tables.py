"""The table widget and plots at scale: every row reachable, filters, nothing cut, no freeze.

A 3,000-patient study is generated into a real DuckDB file; the app runs under Pilot.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import polars as pl
import pytest
from conftest import build_good_db
from textual import events
from textual.widgets import TabbedContent

from trialtui.formatting import arm_codes, format_column, format_p
from trialtui.tui.app import TrialApp
from trialtui.tui.screens.biomarker_detail import BiomarkerDetailScreen
from trialtui.tui.screens.patients import PatientsScreen
from trialtui.tui.screens.statistics import StatisticsScreen
from trialtui.tui.widgets.frame_table import WINDOW, FrameTable
from trialtui.tui.widgets.plots import SAMPLE_LINES, log_ticks, nice_ticks, slope_series
from trialtui.tui.widgets.table_filter import FilterError, parse_filter

N_PATIENTS = 3000
BIG_STUDY = "BIG"


@pytest.fixture(scope="module")
def big_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3,000 patients in two arms, baseline and on-treatment values of two biomarkers."""
    folder = tmp_path_factory.mktemp("big")
    rows = ["study_id,patient_id,arm,timepoint,visit_day,is_baseline,biomarker,unit,value"]
    for i in range(N_PATIENTS):
        arm = "Experimental drug plus standard care" if i % 2 else "Standard care"
        for marker, scale in (("CD8", 50.0), ("FAP", 20.0)):
            pre = scale * (1 + (i * 37 % 101) / 50)
            post = pre * 2 ** (((i * 53 % 89) - 44) / 30 + (0.8 if i % 2 else 0))
            rows.append(f"BIG,P{i:05d},{arm},pre,0,true,{marker},cells/mm2,{pre:.4f}")
            rows.append(f"BIG,P{i:05d},{arm},post,28,false,{marker},cells/mm2,{post:.4f}")
    csv_path = folder / "big.csv"
    csv_path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return build_good_db(folder / "big.duckdb", csv_path)


async def settle(app: TrialApp, pilot) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


def cell_texts(table: FrameTable, name: str) -> list[str]:
    index = [c.name for c in table.visible_columns].index(name)
    return [str(table.get_row_at(i)[index]) for i in range(table.row_count)]


async def test_last_row_of_3000_is_reachable(big_db: Path) -> None:
    app = TrialApp(big_db, study=BIG_STUDY)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("2")
        await settle(app, pilot)
        assert isinstance(app.screen, PatientsScreen)
        table = app.screen.query_one("#patients-table", FrameTable)
        assert table.frame.height == N_PATIENTS
        assert str(table.border_subtitle).startswith("rows 1-")
        assert "of 3,000" in str(table.border_subtitle)
        await pilot.press("G")
        await pilot.pause()
        assert table.position == N_PATIENTS - 1
        assert table.selected()["patient_id"] == "P02999"
        assert "-3,000 of 3,000" in str(table.border_subtitle)
        await pilot.press("g")
        await pilot.pause()
        assert table.selected()["patient_id"] == "P00000"
        # walk across the loaded window's edge with the arrow key: no hidden page break
        table.go_to(998)
        edge = table.window_start + table.row_count  # the first row not loaded
        assert table.row_count == WINDOW < N_PATIENTS
        table.go_to(edge - 2)
        for expected in (edge - 1, edge, edge + 1):
            await pilot.press("down")
            assert table.position == expected
            assert table.selected()["patient_id"] == f"P{expected:05d}"
        await pilot.press("pagedown")
        await pilot.pause()
        assert table.position > edge + 1
        for _ in range(4):
            await pilot.press("end")
            await pilot.press("pageup")
        await pilot.pause()
        assert table.position < N_PATIENTS - 1


async def test_filter_by_condition(sample_db: Path) -> None:
    app = TrialApp(sample_db, study="PDAC-DEF-2")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("4")
        await settle(app, pilot)
        assert isinstance(app.screen, StatisticsScreen)
        table = app.screen.query_one("#comparison-table", FrameTable)
        everything = table.source
        await pilot.press("slash", *"q < 1e-6")
        await pilot.pause()
        want = everything.filter(pl.col("q_welch") < 1e-6)
        assert 0 < table.frame.height == want.height < everything.height
        assert sorted(table.frame["biomarker"]) == sorted(want["biomarker"])
        assert f"{want.height} of {everything.height} rows" in str(table.border_subtitle)
        await pilot.press("enter")  # keep the filter, back to the table
        await pilot.pause()
        assert app.focused is table
        assert "filter: q < 1e-6" in str(table.border_title)
        await pilot.press("slash", "ctrl+u", *"n >= 18 and biomarker ~ cd")
        await pilot.pause()
        assert set(table.frame["biomarker"]) == {"CD8", "CD86", "CD206", "CD68", "CD15"}
        await pilot.press("ctrl+u", *"arm = D+P")
        await pilot.pause()
        assert table.frame.height == everything.height
        await pilot.press("ctrl+u", *"nonsense < 1")
        await pilot.pause()
        assert "no column 'nonsense'" in str(table.border_subtitle)
        await pilot.press("escape")
        await pilot.pause()
        assert table.frame.height == everything.height
        assert app.focused is table


def test_parse_filter_conditions() -> None:
    frame = pl.DataFrame(
        {
            "biomarker": ["CD8", "FAP", "PFAK"],
            "arm": ["Drug A", "Drug A", "Placebo"],
            "n": [10, 3, 12],
            "q": [0.01, None, 0.2],
            "flag": [True, False, True],
        }
    )

    def kept(text: str, **kw) -> list[str]:
        return frame.filter(parse_filter(text, frame.schema, **kw))["biomarker"].to_list()

    assert kept("q < 0.05") == ["CD8"]
    assert kept("n >= 10") == ["CD8", "PFAK"]
    assert kept("arm = drug a") == ["CD8", "FAP"]
    assert kept("arm != 'Drug A'") == ["PFAK"]
    assert kept("arm = P", codes={"Placebo": "P"}) == ["PFAK"]
    assert kept("n > 5 and q >= 0.1") == ["PFAK"]
    assert kept("count > 5", aliases={"count": "n"}) == ["CD8", "PFAK"]
    assert kept("flag = false") == ["FAP"]
    assert kept("fa") == ["FAP", "PFAK"]
    for bad, message in (
        ("q < abc", "not a number"),
        ("zz = 1", "no column 'zz'"),
        ("q <", "value is missing"),
        ("n ~ 3", "text columns"),
    ):
        with pytest.raises(FilterError, match=message):
            parse_filter(bad, frame.schema)


def test_column_formats() -> None:
    assert format_column([-6.2713, -0.958, 1.16642]) == ["-6.271", "-0.958", "1.166"]
    assert format_column([0.5, 0.0123, 2.5e-7, 0.0], "p") == [
        "0.500",
        "0.0123",
        "2.5e-07",
        "<1e-308",
    ]
    assert format_p(None) == "NA"
    assert arm_codes(["Defactinib + Pembrolizumab", "Pembrolizumab"]) == {
        "Defactinib + Pembrolizumab": "D+P",
        "Pembrolizumab": "P",
    }
    assert arm_codes(["Standard care one", "Standard care other"]) == {
        "Standard care one": "A",
        "Standard care other": "B",
    }


async def test_slope_plot_of_3000_patients_does_not_block(big_db: Path) -> None:
    app = TrialApp(big_db, study=BIG_STUDY)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("4")
        await settle(app, pilot)
        await pilot.press("enter", "l")  # open the biomarker, go to its slope plot
        started = time.perf_counter()
        await pilot.press("w")  # the app answers a key while the slope plot is prepared
        answered = time.perf_counter() - started
        assert isinstance(app.screen, BiomarkerDetailScreen)
        assert app.screen.query_one(TabbedContent).active == "waterfall"
        assert answered < 2.0, answered
        await settle(app, pilot)
        await pilot.press("l")
        await pilot.pause()
        plot = app.screen.query_one("#slope-plot")
        drawn = time.perf_counter()
        plot.render()  # plotext builds the picture here, on the UI thread
        assert time.perf_counter() - drawn < 1.0
        assert app.screen.slope_generation >= 1


SIZES = ((120, 36), (80, 24))
SCREEN_KEYS = {
    "overview": (),
    "patients": ("2",),
    "patient_detail": ("2", "enter"),
    "arms": ("3",),
    "statistics": ("4",),
    "biomarker": ("4", "enter"),
    "correlations": ("5",),
    "console": ("6",),
}


@pytest.mark.parametrize("size", SIZES, ids=["120x36", "80x24"])
async def test_no_number_is_cut(sample_db: Path, size: tuple[int, int]) -> None:
    """Every shown table fits its widget, and every numeric cell fits its column."""
    app = TrialApp(sample_db, study="PDAC-DEF-2")
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        checked = 0
        for keys in SCREEN_KEYS.values():
            await pilot.press("escape", "escape", "1")
            for key in keys:
                await pilot.press(key)
                await settle(app, pilot)
            for table in app.screen.query(FrameTable):
                if not table.display or table.row_count == 0 or not table.size.width:
                    continue
                content = table.size.width - table.styles.scrollbar_size_vertical
                assert table.virtual_size.width <= content + 1, (keys, table.id)
                for col in table.visible_columns:
                    if not table.frame.schema[col.name].is_numeric():
                        continue
                    width = table.columns[col.name].width  # type: ignore[index]
                    for text in cell_texts(table, col.name):
                        assert len(text) <= width, (keys, table.id, col.name, text)
                        if text not in ("NA", "NaN", "<1e-308"):
                            float(text.split(" (")[0].replace(",", ""))  # a whole number
                checked += 1
        assert checked >= 8


async def test_mouse_wheel_passes_the_loaded_rows(big_db: Path) -> None:
    app = TrialApp(big_db, study=BIG_STUDY)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("2")
        await settle(app, pilot)
        table = app.screen.query_one("#patients-table", FrameTable)
        table.go_to(WINDOW - 5)
        await pilot.pause()
        for _ in range(20):
            table.post_message(events.MouseScrollDown(table, 5, 5, 0, 1, 0, False, False, False))
            await pilot.pause()
        await pilot.pause()
        first = int(str(table.border_subtitle).split()[1].split("-")[0].replace(",", ""))
        assert first > WINDOW  # rows beyond the first loaded window came into view
        assert table.window_start > 0


async def test_overview_scrolls_with_the_keyboard_at_80x24(sample_db: Path) -> None:
    app = TrialApp(sample_db, study="PDAC-DEF-2")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        page = app.screen.query_one("#overview")
        table = app.screen.query_one("#completeness-table", FrameTable)
        while app.focused is not table:
            await pilot.press("tab")
        await pilot.press("G")
        await pilot.pause()
        assert page.scroll_y > 0
        assert table.position == table.frame.height - 1 == 19
        # the cursor's row is on the screen: the table lies within the page's view
        assert table.region.y >= page.region.y
        assert table.region.bottom <= page.region.bottom
        assert f"of {table.frame.height}" in str(table.border_subtitle)


def test_slope_series_summarises_large_arms() -> None:
    n = 450
    fc = pl.DataFrame(
        {
            "arm": ["A"] * n + ["B"] * 20,
            "pre": [10.0 + (i * 7 % 31) for i in range(n + 20)],
            "post": [5.0 + (i * 11 % 43) for i in range(n + 20)],
        }
    ).with_columns((pl.col("post") / pl.col("pre")).log(2).alias("log2fc"))
    series = slope_series(fc, ["A", "B"])
    assert series.summarised and series.n == {"A": n, "B": 20}
    assert sum(1 for arm, _, _ in series.lines if arm == "A") == SAMPLE_LINES
    assert sum(1 for arm, _, _ in series.lines if arm == "B") == 20  # small arm: every line
    pre = sorted(math.log10(v) for v in fc["pre"][:n])
    median_pre = (pre[n // 2 - 1] + pre[n // 2]) / 2  # n even: mean of the middle two
    assert series.summaries["A"][1] == pytest.approx(10**median_pre)
    assert "B" not in series.summaries


def test_axis_ticks_are_round_numbers() -> None:
    assert nice_ticks(-4.3, 0.8) == [-4.0, -2.0, 0.0]
    assert nice_ticks(0, 1, 4) == [0.0, 0.25, 0.5, 0.75, 1.0]
    positions, labels = log_ticks(3.0, 400.0)
    assert labels == ["5", "10", "20", "50", "100", "200"]
    assert positions == pytest.approx([math.log10(float(v)) for v in labels])


def test_help_lists_every_binding() -> None:
    from trialtui.tui.screens.biomarker_detail import BiomarkerDetailScreen
    from trialtui.tui.screens.console import ConsoleScreen
    from trialtui.tui.screens.help import HELP

    names = {"question_mark": "?", "slash": "/", "escape": "escape"}
    classes = (TrialApp, FrameTable, StatisticsScreen, BiomarkerDetailScreen, ConsoleScreen)
    missing = []
    for cls in classes:
        for binding in cls.BINDINGS:
            keys = binding.key if hasattr(binding, "key") else binding[0]
            for key in keys.split(","):
                shown = names.get(key, key)
                if f"`{shown}`".lower() not in HELP.lower() and not (
                    key.isdigit() and "`1` … `7`" in HELP
                ):
                    missing.append(f"{cls.__name__}: {key}")
    assert missing == []


def test_correlation_pairs_of_equal_strength_are_listed_by_name() -> None:
    """Strongest |rho| first; ties (exactly equal |rho|, signs apart) by biomarker names,
    so the order never depends on the last bit of a computation."""
    from trialtui.tui.screens.correlations import correlations_for

    corr = pl.DataFrame(
        {
            "arm": ["A"] * 5 + ["B"],
            "biomarker_x": ["FAP", "CD8", "CD8", "ALPHA", "ZED", "AAA"],
            "biomarker_y": ["KI67", "PFAK", "FAP", "OMEGA", "ZZZ", "BBB"],
            "spearman_rho": [0.5, -0.5, 0.5, None, 0.9, 1.0],
        }
    )
    listed = correlations_for(corr, "A").select("biomarker_x", "biomarker_y").rows()
    assert listed == [
        ("ZED", "ZZZ"),
        ("CD8", "FAP"),
        ("CD8", "PFAK"),
        ("FAP", "KI67"),
        ("ALPHA", "OMEGA"),
    ]
