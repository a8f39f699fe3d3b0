"""The installed ``trialtui`` in a real terminal (tmux): start, open a biomarker's plots, quit."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.tmux

TMUX = shutil.which("tmux")


def trialtui_command() -> str:
    """The console script installed beside this Python (what a user runs)."""
    script = Path(sys.executable).with_name("trialtui")
    assert script.exists(), f"trialtui console script not installed at {script}"
    return str(script)


class Terminal:
    def __init__(self, session: str, env: dict[str, str]) -> None:
        self.session = session
        self.env = env

    def tmux(self, *args: str) -> str:
        return subprocess.run(
            [TMUX, *args], capture_output=True, text=True, env=self.env, check=False
        ).stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", self.session)

    def keys(self, *keys: str) -> None:
        for key in keys:
            self.tmux("send-keys", "-t", self.session, key)
            time.sleep(0.2)

    def wait_for(self, text: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            shown = self.screen()
            if text in shown:
                return shown
            time.sleep(0.2)
        raise AssertionError(f"{text!r} did not appear; screen was:\n{self.screen()}")


@pytest.mark.skipif(TMUX is None, reason="tmux is not installed (.ci/run installs it)")
def test_real_terminal_session(sample_db: Path, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "TERM": "xterm-256color",
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "TMUX_TMPDIR": str(tmp_path),
    }
    env.pop("TMUX", None)
    exit_file = tmp_path / "exit_status"
    session = f"trialtui-test-{os.getpid()}"
    command = f"{trialtui_command()} --db {sample_db}; echo $? > {exit_file}"
    term = Terminal(session, env)
    term.tmux("new-session", "-d", "-s", session, "-x", "110", "-y", "32", command)
    try:
        started = time.monotonic()
        first = term.wait_for("Baseline → Surgery")  # status line once results are in
        assert "PDAC-DEF-2" in first and "Arms" in first
        assert time.monotonic() - started < 15
        term.keys("4")
        shown = term.wait_for("GMFC ratio")
        assert "Defactinib + Pembrolizumab" in shown
        term.keys("Enter")
        term.wait_for("Between arms")
        term.keys("b")
        plot = term.wait_for("log2FC Surgery vs Baseline by arm")
        assert "Pembrolizumab" in plot
        term.keys("l")
        term.wait_for("pre → post by arm")
        term.keys("Escape", "q")
        deadline = time.monotonic() + 15
        while not exit_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert exit_file.exists(), f"trialtui did not exit; screen:\n{term.screen()}"
        assert exit_file.read_text().strip() == "0"
    finally:
        term.tmux("kill-session", "-t", session)
