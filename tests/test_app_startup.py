"""The app's start-up imports what its first frame needs, and a screen switch reuses what
was built: the analysis (SciPy), the plots and the screens not yet shown come later."""

from __future__ import annotations

import asyncio
from pathlib import Path

from conftest import loaded_modules
from textual.widgets._footer import FooterKey

from trialtui.tui.app import TrialApp
from trialtui.tui.screens.overview import OverviewScreen
from trialtui.tui.screens.statistics import StatisticsScreen

STUDY = "PDAC-DEF-2"


def test_importing_the_app_leaves_analysis_plots_and_other_screens_for_later() -> None:
    modules = set(loaded_modules("import trialtui.tui.app"))
    assert "trialtui.tui.app" in modules and "textual.app" in modules
    late = {
        "scipy",
        "trialtui.analysis",
        "trialtui.study",
        "trialtui.export",
        "plotext",
        "textual_plotext",
        "trialtui.tui.screens.overview",
        "trialtui.tui.screens.statistics",
        "trialtui.tui.screens.console",
        "trialtui.tui.screens.help",
    }
    assert sorted(late & modules) == []


async def test_first_screen_and_results_with_the_late_imports(sample_db: Path) -> None:
    """The worker imports the analysis once the catalog facts are drawn; the modes'
    screens are imported in a thread then, or when first shown."""
    app = TrialApp(sample_db, study=STUDY)
    async with app.run_test(size=(120, 36)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, OverviewScreen)
        assert app.results is not None and app.results.study_id == STUDY
        assert app.catalog is not None and app.catalog.drawn.is_set()
        await pilot.press("4")
        await pilot.pause()
        assert isinstance(app.screen, StatisticsScreen)


async def test_screen_switch_keeps_the_footer_it_built(sample_db: Path) -> None:
    """Back on a screen, its footer's keys are the widgets built on the first visit (the
    footer used to be rebuilt, a widget per key, on every switch)."""
    app = TrialApp(sample_db, study=STUDY)
    async with app.run_test(size=(120, 36)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("4")
        await pilot.pause()
        statistics = app.screen
        keys = list(statistics.query(FooterKey))
        labels = [key.description for key in keys]
        assert "Sort" in labels and "Statistics" in labels
        await pilot.press("1")
        await pilot.pause()
        await pilot.press("4")
        await pilot.pause()
        assert app.screen is statistics
        assert list(statistics.query(FooterKey)) == keys  # the same widgets
        await pilot.press("v")  # the keys still work
        await pilot.pause()
        assert statistics.query_one("#statistics").has_class("-volcano")


async def test_quitting_right_after_the_first_frame(sample_db: Path) -> None:
    """Quitting as soon as the catalog facts are painted (the worker goes on, the main
    screens' modules are being imported in a thread) ends the app without an error."""
    for pauses in range(6):
        app = TrialApp(sample_db, study=STUDY)
        async with app.run_test(size=(120, 36)) as pilot:
            while not (app.catalog is not None and app.catalog.drawn.is_set()):
                await pilot.pause(0.001)
            for _ in range(pauses):
                await asyncio.sleep(0)
            await pilot.press("q")
        assert app.return_code in (0, None)


async def test_results_on_screen_freeze_what_stays_out_of_the_garbage_collector(
    sample_db: Path,
) -> None:
    """Once results are shown, what computing left behind is collected and the rest frozen
    (later keys do not pay a full collection over every object the analysis made); a new
    computation unfreezes, so what its results replace can be collected; so does the
    app's exit."""
    import gc

    app = TrialApp(sample_db, study=STUDY)
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            await pilot.pause()
            assert app.results is not None and not app.computing
            assert gc.get_freeze_count() > 10_000
            app.ensure_level("correlation")
            assert app.computing and gc.get_freeze_count() == 0
            app._settle_memory()  # still pending from the results before: nothing frozen
            assert gc.get_freeze_count() == 0
            await app.workers.wait_for_complete()
            await pilot.pause()
            await pilot.pause()
            assert "correlation" in app.results.frames
            assert gc.get_freeze_count() > 10_000
        assert gc.get_freeze_count() == 0
    finally:
        gc.unfreeze()
