"""Layering and project hygiene: the core imports no UI, analysis no DuckDB; README's
commands are the ones CI runs."""

from __future__ import annotations

import re

import pytest
from conftest import REPO, loaded_modules

UI_PREFIXES = ("textual", "plotext")


def test_store_and_analysis_load_no_ui() -> None:
    if not (REPO / "trialtui" / "analysis" / "__init__.py").exists():
        pytest.fail("trialtui/analysis/__init__.py is missing")
    modules = loaded_modules(
        "import trialtui.store.importer, trialtui.store.catalog, trialtui.analysis"
    )
    assert "trialtui.store.importer" in modules and "trialtui.analysis" in modules
    ui = [m for m in modules if m.startswith(UI_PREFIXES)]
    assert ui == []
    assert not [m for m in modules if m.startswith(("trialtui.tui", "trialtui.cli"))]


def test_analysis_loads_no_duckdb_and_no_store() -> None:
    modules = loaded_modules("import trialtui.analysis")
    assert "trialtui.analysis" in modules
    assert not [m for m in modules if m == "duckdb" or m.startswith(("duckdb.", "_duckdb"))]
    assert not [m for m in modules if m.startswith(("trialtui.store", *UI_PREFIXES))]


def test_store_does_not_depend_on_analysis() -> None:
    modules = loaded_modules("import trialtui.store")
    assert not [m for m in modules if m.startswith("trialtui.analysis")]


# ----------------------------------------------------------------------------- README and CI

FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", flags=re.MULTILINE | re.DOTALL)
# The first README command ends by opening the TUI, which needs a terminal: CI runs its
# install part verbatim and smoke-tests the installed `trialtui` separately.
OPEN_TUI = " && trialtui"


def readme_commands() -> list[str]:
    """Command lines of README's first two fenced code blocks (comments dropped)."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = FENCE.findall(text)[:2]
    assert len(blocks) == 2, "README.md must open with two fenced command blocks"
    commands = []
    for block in blocks:
        lines = [line.strip() for line in block.splitlines()]
        commands.append(" ".join(line for line in lines if line and not line.startswith("#")))
    return commands


def test_readme_commands_are_what_ci_runs() -> None:
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    ci_lines = [line.strip() for line in ci.splitlines()]
    install_and_open, install_and_test = readme_commands()
    assert "pip install" in install_and_open
    assert "[test]" in install_and_test and "pytest" in install_and_test
    assert install_and_test in ci_lines, install_and_test
    if install_and_open.endswith(OPEN_TUI):
        install = install_and_open.removesuffix(OPEN_TUI)
        assert install in ci_lines, install
        assert any(re.match(r"trialtui(\s|$)", line) for line in ci_lines), "no trialtui run"
    else:
        assert install_and_open in ci_lines, install_and_open


def test_ci_fails_when_pytest_collects_nothing() -> None:
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "set -euo pipefail" in ci
    assert re.search(r'"\$status"\s+-eq\s+5', ci), "pytest exit status 5 not handled"


def test_contributing_states_layers_tests_and_sample() -> None:
    text = (REPO / "CONTRIBUTING.md").read_text(encoding="utf-8")
    for needle in ("store", "analysis", "tui", "pytest", "sample_data/generate.py"):
        assert needle in text, needle


def test_ruff_is_configured() -> None:
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert "[tool.ruff]" in text and "[tool.ruff.lint]" in text
