"""The app probes of bench/ run on a real database and report every figure they promise."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def probe(script: str, db: Path, out: Path, *options: str) -> dict:
    """Run ``bench/script DB OUT [options]``; the figures it wrote."""
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / script), str(db), str(out), *options],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(out.read_text(encoding="utf-8"))


def test_app_probe_reports_its_figures(sample_db: Path, tmp_path: Path) -> None:
    figures = probe("app_probe.py", sample_db, tmp_path / "probe.json")
    assert set(figures) == {
        "first_content",
        "statistics_ready",
        "screen_switch",
        "screen_switch_again",
        "screen_switch_settled",
        "idle_key",
    }
    assert all(isinstance(v, float) and v > 0 for v in figures.values())
    assert figures["first_content"] <= figures["statistics_ready"]


def test_console_probe_reports_its_figures(sample_db: Path, tmp_path: Path) -> None:
    figures = probe("console_probe.py", sample_db, tmp_path / "console.json", "--keep-rows", "50")
    times = ("query", "last_row", "export")
    memory = ("rss_statistics", "rss_query", "rss_export", "rss_peak")
    assert set(figures) == {*times, *memory, "rows", "paged", "export_bytes"}
    assert figures["paged"] is True and figures["rows"] > 50
    assert figures["export_bytes"] > figures["rows"] * 20  # every row written
    assert all(figures[k] > 0 for k in (*times, *memory))


def test_textual_floor_shows_the_facts_and_reports_its_time(
    sample_db: Path, tmp_path: Path
) -> None:
    figures = probe("textual_floor.py", sample_db, tmp_path / "floor.json")
    assert set(figures) == {"first_content"}
    assert 0 < figures["first_content"] < 60
