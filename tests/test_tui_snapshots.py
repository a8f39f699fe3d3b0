"""SVG snapshots of every screen and plot at 120x36 and 80x24 (pytest-textual-snapshot).

Review a failing snapshot in the HTML report; accept an intended change with
``pytest tests/test_tui_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from trialtui.tui.app import TrialApp

SIZES = {"120x36": (120, 36), "80x24": (80, 24)}
TWO_ARMS = "PDAC-DEF-2"
THREE_VISITS = "PDAC-DEF-1"  # single arm, three timepoints


def keys_then_settle(*keys: str):
    async def run_before(pilot) -> None:
        app = pilot.app
        await app.workers.wait_for_complete()
        await pilot.pause()
        for key in keys:
            await pilot.press(key)
            await app.workers.wait_for_complete()
            await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()

    return run_before


SCREENS = {
    "overview": (TWO_ARMS, ()),
    "overview_single_arm": (THREE_VISITS, ()),
    "patients": (TWO_ARMS, ("2",)),
    "patient_detail": (TWO_ARMS, ("2", "enter")),
    "patient_detail_unpaired": (TWO_ARMS, ("2", "down", "enter")),
    "patient_detail_three_visits": (THREE_VISITS, ("2", "enter")),
    "arms": (TWO_ARMS, ("3",)),
    "statistics": (TWO_ARMS, ("4",)),
    "statistics_filtered": (TWO_ARMS, ("4", "slash", *"q < 1e-6", "enter")),
    "statistics_mann_whitney": (TWO_ARMS, ("4", "e")),
    "statistics_single_arm": (THREE_VISITS, ("4",)),
    "statistics_volcano": (TWO_ARMS, ("4", "v", "down")),
    "biomarker_numbers": (TWO_ARMS, ("4", "enter")),
    "biomarker_strip": (TWO_ARMS, ("4", "enter", "b")),
    "biomarker_slope": (TWO_ARMS, ("4", "enter", "l")),
    "biomarker_waterfall": (TWO_ARMS, ("4", "enter", "w")),
    "biomarker_trajectory": (THREE_VISITS, ("4", "enter", "t")),
    "correlations": (TWO_ARMS, ("5",)),
    "correlations_scatter": (TWO_ARMS, ("5", "down")),
    "console": (TWO_ARMS, ("6",)),
    "settings": (TWO_ARMS, ("7",)),
    "help": (TWO_ARMS, ("question_mark",)),
    "statistics_ancova": (TWO_ARMS, ("4", "e", "e")),
    "statistics_volcano_single_arm": (THREE_VISITS, ("4", "v")),
    "correlations_single_arm": (THREE_VISITS, ("5",)),
    "timecourse": (THREE_VISITS, ("8",)),
}


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("name", list(SCREENS))
def test_screen_snapshot(name: str, size: str, snap_compare, sample_db: Path) -> None:
    study, keys = SCREENS[name]
    app = TrialApp(sample_db, study=study)
    app.animation_level = "none"  # tab underlines animate; freeze them for stable pictures
    assert snap_compare(app, terminal_size=SIZES[size], run_before=keys_then_settle(*keys))
