"""``stats`` and ``export`` tell their progress on stderr when it is a terminal, wipe it
when done, and print nothing of it when stderr is a pipe or a file."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

from trialtui.cli_stats import TerminalProgress


def run_on_a_terminal(args: list[str], env: dict[str, str], cwd: Path) -> tuple[bytes, str]:
    """Run the CLI with stderr on a pseudo-terminal: what the terminal showed, and stdout."""
    master, slave = pty.openpty()
    out_path = cwd / "stdout.txt"
    with open(out_path, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "trialtui", *args],
            stdout=out,
            stderr=slave,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=cwd,
        )
        os.close(slave)
        shown = bytearray()
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            shown += data
        assert proc.wait(timeout=120) == 0, shown.decode(errors="replace")
    os.close(master)
    return bytes(shown), out_path.read_text()


def test_stats_tells_its_progress_on_a_terminal_and_wipes_it(
    sample_db: Path, tmp_path: Path, cli_env: dict[str, str], run_cli
) -> None:
    args = ["stats", "--db", str(sample_db), "--study", "PDAC-DEF-2", "--level", "correlation"]
    args += ["--format", "csv"]
    shown, stdout = run_on_a_terminal(args, cli_env, tmp_path)
    text = shown.decode()
    assert "reading the study" in text and "%" in text
    # the last thing on the terminal wipes the progress line and returns to its start
    last = text.rsplit("\r", 2)
    assert last[-1] == "" and last[-2].strip() == ""
    piped = run_cli(*args)
    assert piped.returncode == 0 and piped.stderr == ""  # no progress off a terminal
    assert stdout == piped.stdout  # the results are the same either way


def test_progress_line_is_rewritten_in_place_and_throttled() -> None:
    class Terminal:
        def __init__(self) -> None:
            self.text = ""

        def write(self, text: str) -> int:
            self.text += text
            return len(text)

        def flush(self) -> None:
            pass

    terminal = Terminal()
    progress = TerminalProgress(terminal, interval=3600)
    progress("computing correlation results", 0.25)
    progress("computing correlation results", 0.5)  # within the interval: not shown
    assert terminal.text == "\rcomputing correlation results  25%"
    progress.interval = 0
    progress("done", 1.0)
    assert terminal.text.endswith(
        "\rdone 100%" + " " * (len("computing correlation results  25%") - 9)
    )
    progress.clear()
    assert terminal.text.endswith("\r" + " " * 9 + "\r")
    progress.clear()  # nothing shown since: nothing written
    assert terminal.text.count("\r") == 4
