"""Start-up: catalog facts on screen before any statistic; no scipy.stats where not needed."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
from conftest import loaded_modules
from textual.widgets import Static

from trialtui.tui.app import TrialApp
from trialtui.tui.screens.overview import OverviewScreen
from trialtui.tui.widgets.frame_table import FrameTable

STUDY = "PDAC-DEF-2"


def test_app_and_every_eager_level_need_no_scipy_stats(sample_db: Path) -> None:
    """``scipy.stats`` takes over half a second to import; the app's start and the levels
    it computes at once use ``scipy.special`` only,
    and the sample's small arms never load numba (the compiled counts are for large
    samples)."""
    modules = loaded_modules(
        "import trialtui.tui.app\n"
        "from trialtui.store.connection import connect\n"
        "from trialtui.study import compute, load_study\n"
        "from trialtui.analysis import AnalysisSettings\n"
        f"con = connect({str(sample_db)!r}, read_only=True)\n"
        f"data = load_study(con, {STUDY!r})\n"
        "compute(data, AnalysisSettings(), "
        "levels=('patient', 'arm', 'comparison', 'response'))\n"
    )
    assert "trialtui.tui.app" in modules and "scipy.special" in modules
    assert "scipy.stats" not in modules
    assert "numba" not in modules and "trialtui.analysis.shiftcounts" not in modules


async def test_overview_shows_catalog_facts_without_waiting_for_statistics(
    sample_db: Path, tmp_path: Path
) -> None:
    """With measurements that cannot be analysed the statistics never arrive; the study,
    its arms and timepoints, which the catalog gives, are on screen all the same."""
    db = Path(shutil.copy(sample_db, tmp_path / "sample.duckdb"))
    con = duckdb.connect(str(db))
    con.execute("DELETE FROM measurements WHERE study_id = ?", [STUDY])
    con.close()
    app = TrialApp(db, study=STUDY)
    async with app.run_test(size=(120, 36)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.results is None and app.last_error is not None  # no statistics
        assert isinstance(app.screen, OverviewScreen)
        title = str(app.screen.query_one("#study-title", Static).render())
        assert STUDY in title
        arms = app.screen.query_one("#arms-table", FrameTable).frame
        assert sorted(arms["arm"]) == ["Defactinib + Pembrolizumab", "Pembrolizumab"]
        timepoints = app.screen.query_one("#timepoints-table", FrameTable).frame
        assert timepoints.height >= 2 and timepoints["is_baseline"].any()


def test_statistics_read_a_study_without_the_completeness_listing(sample_db: Path) -> None:
    """``stats`` and ``export`` skip the paired-completeness query (as costly as reading
    the measurements on large studies); the numbers are the same."""
    from polars.testing import assert_frame_equal

    from trialtui.analysis import AnalysisSettings
    from trialtui.store.connection import connect
    from trialtui.study import compute, load_study

    con = connect(sample_db, read_only=True)
    try:
        full = load_study(con, STUDY)
        lean = load_study(con, STUDY, completeness=False)
    finally:
        con.close()
    assert full.completeness.height > 0
    assert lean.completeness.is_empty()
    assert lean.completeness.columns == full.completeness.columns
    settings = AnalysisSettings()
    assert_frame_equal(
        compute(lean, settings).level("comparison"), compute(full, settings).level("comparison")
    )
