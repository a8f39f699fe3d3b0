"""SVG snapshots of each screen at a fixed size (pytest-textual-snapshot).

Review a failing snapshot in the HTML report; accept an intended change with
``pytest tests/test_tui_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from trialtui.tui.app import TrialApp

SIZE = (100, 30)


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
    "overview": (),
    "patients": ("2",),
    "patient_detail": ("2", "enter"),
    "arms": ("3",),
    "statistics": ("4",),
    "statistics_volcano": ("4", "v"),
    "biomarker_numbers": ("4", "enter"),
    "biomarker_strip": ("4", "enter", "b"),
    "biomarker_slope": ("4", "enter", "l"),
    "biomarker_waterfall": ("4", "enter", "w"),
    "correlations": ("5",),
    "console": ("6",),
    "settings": ("7",),
    "help": ("question_mark",),
}


@pytest.mark.parametrize("name", list(SCREENS))
def test_screen_snapshot(name: str, snap_compare, sample_db: Path) -> None:
    app = TrialApp(sample_db, study="PDAC-DEF-2")
    app.animation_level = "none"  # tab underlines animate; freeze them for stable pictures
    assert snap_compare(app, terminal_size=SIZE, run_before=keys_then_settle(*SCREENS[name]))


SINGLE_ARM_SCREENS = {
    "single_arm_overview": (),
    "single_arm_statistics_volcano": ("4", "v"),
    "single_arm_correlations": ("5",),
}


@pytest.mark.parametrize("name", list(SINGLE_ARM_SCREENS))
def test_single_arm_snapshot(name: str, snap_compare, sample_db: Path) -> None:
    app = TrialApp(sample_db, study="PDAC-DEF-1")
    app.animation_level = "none"
    assert snap_compare(
        app, terminal_size=SIZE, run_before=keys_then_settle(*SINGLE_ARM_SCREENS[name])
    )


def test_timecourse_snapshot(snap_compare, sample_db: Path) -> None:
    """The three-timepoint study: GM FC with CI over visit days and Friedman's test."""
    app = TrialApp(sample_db, study="PDAC-DEF-1")
    app.animation_level = "none"
    assert snap_compare(app, terminal_size=SIZE, run_before=keys_then_settle("8"))
