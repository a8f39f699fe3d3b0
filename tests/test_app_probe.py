"""bench/app_probe.py runs on a real database and reports every figure it promises."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_app_probe_reports_its_figures(sample_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "probe.json"
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / "app_probe.py"), str(sample_db), str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    figures = json.loads(out.read_text(encoding="utf-8"))
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
