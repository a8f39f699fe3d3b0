"""Shared fixtures: real DuckDB files in tmp_path and the real CLI in a subprocess.

Nothing here mocks DuckDB, Polars or Textual. The fixtures are:

- ``sample_db`` (session): the bundled sample trial built once into a temporary folder.
  Treat it as read-only; copy it (``shutil.copy``) before writing to it.
- ``cli_env``: environment for CLI subprocesses, with ``XDG_DATA_HOME`` and
  ``XDG_CONFIG_HOME`` inside ``tmp_path`` and ``TRIALTUI_DB`` unset, so the default
  database lands in the test's temporary folder.
- ``run_cli(*args, env=None, input=None)``: runs ``python -m trialtui ARGS`` in
  ``tmp_path`` and returns the ``CompletedProcess`` (text mode, output captured).
- ``write_csv(text, name="data.csv")``: writes a small file into ``tmp_path`` (``str`` is
  dedented and written as UTF-8; ``bytes`` are written as they are) and returns its path.
- ``db_snapshot(path)``: every row of every data table, for "database unchanged" checks
  (also importable as :func:`snapshot_tables`).
- ``good_db``: a fresh database holding one good import of :data:`GOOD_LONG_CSV`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import duckdb
import polars as pl
import pytest

from trialtui.store.connection import connect
from trialtui.store.importer import import_files
from trialtui.store.sample import build_sample_database

REPO = Path(__file__).resolve().parents[1]

DATA_TABLES = (
    "studies",
    "arms",
    "patients",
    "biomarkers",
    "timepoints",
    "samples",
    "measurements",
    "imports",
)

# A small valid long-format file: study S1, arms A and B, two timepoints, two biomarkers.
GOOD_LONG_CSV = """\
study_id,patient_id,arm,timepoint,visit_day,is_baseline,biomarker,unit,lloq,response,value
S1,P1,A,pre,0,true,CD8,cells/mm2,1,PR,10
S1,P1,A,post,30,false,CD8,cells/mm2,1,PR,40
S1,P1,A,pre,0,true,FAP,% area,0.1,PR,20
S1,P1,A,post,30,false,FAP,% area,0.1,PR,5
S1,P2,B,pre,0,true,CD8,cells/mm2,1,SD,8
S1,P2,B,post,30,false,CD8,cells/mm2,1,SD,12
S1,P2,B,pre,0,true,FAP,% area,0.1,SD,25
S1,P2,B,post,30,false,FAP,% area,0.1,SD,22
"""

CLI_TIMEOUT = 180


def imported(folder: Path, name: str, table: str | pl.DataFrame) -> Path:
    """A new database ``folder/name.duckdb`` holding one import of ``table`` (CSV text, or
    a frame), written first to ``folder/name.csv``."""
    source = folder / f"{name}.csv"
    if isinstance(table, str):
        source.write_text(table, encoding="utf-8")
    else:
        table.write_csv(source)
    return build_good_db(folder / f"{name}.duckdb", source)


def loaded_modules(statement: str) -> list[str]:
    """Names in ``sys.modules`` after running ``statement`` in a fresh interpreter."""
    code = f"import json, sys\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def snapshot_tables(path: str | Path) -> dict[str, list[tuple]]:
    """The full content of every data table of the database at ``path``, rows sorted.

    Opens the file read-only with plain DuckDB so that the helper does not depend on the
    code under test.
    """
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {
            table: sorted(con.execute(f"SELECT * FROM {table}").fetchall(), key=repr)
            for table in DATA_TABLES
        }
    finally:
        con.close()


def build_good_db(path: Path, csv_path: Path) -> Path:
    """``csv_path`` imported into the database at ``path`` (made if absent), checkpointed."""
    con = connect(path, read_only=False)
    try:
        import_files(con, [csv_path])
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return path


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled sample trial, built once per session. Do not write to it."""
    path = tmp_path_factory.mktemp("sample") / "sample.duckdb"
    return build_sample_database(path)


@pytest.fixture(scope="session")
def _good_db_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("good")
    csv_path = folder / "good.csv"
    csv_path.write_text(GOOD_LONG_CSV, encoding="utf-8")
    return build_good_db(folder / "good.duckdb", csv_path)


@pytest.fixture
def good_db(tmp_path: Path, _good_db_template: Path) -> Path:
    """A private copy of a database that already holds one good import (study S1)."""
    path = tmp_path / "good.duckdb"
    shutil.copy(_good_db_template, path)
    return path


@pytest.fixture
def private_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """User folders (SQL history, query files) in tmp_path, never the real home: for the
    app's tests (``pytestmark = pytest.mark.usefixtures("private_dirs")``)."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    """Environment for CLI subprocesses: user folders in tmp_path, no TRIALTUI_DB."""
    env = dict(os.environ)
    for name in ("TRIALTUI_DB", "TRIALTUI_DEBUG"):
        env.pop(name, None)
    env["XDG_DATA_HOME"] = str(tmp_path / "xdg-data")
    env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg-config")
    env["PYTHONIOENCODING"] = "utf-8"
    return env


RunCli = Callable[..., subprocess.CompletedProcess]


@pytest.fixture
def run_cli(tmp_path: Path, cli_env: dict[str, str]) -> RunCli:
    """Run ``python -m trialtui *args`` in tmp_path; ``env`` entries override ``cli_env``."""

    def run(
        *args: str | os.PathLike, env: dict[str, str] | None = None, input: str | None = None
    ) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "trialtui", *map(str, args)],
            env={**cli_env, **(env or {})},
            input=input,
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=CLI_TIMEOUT,
            check=False,
        )

    return run


@pytest.fixture
def write_csv(tmp_path: Path) -> Callable[..., Path]:
    """Write a small input file into tmp_path and return its path."""

    def write(content: str | bytes, name: str = "data.csv") -> Path:
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_bytes(textwrap.dedent(content).lstrip("\n").encode("utf-8"))
        return path

    return write


@pytest.fixture
def db_snapshot() -> Callable[[str | Path], dict[str, list[tuple]]]:
    """:func:`snapshot_tables` as a fixture."""
    return snapshot_tables


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> str:
    """Check a failed CLI run: exit 1, one line on stderr holding ``fragments``, no traceback.

    Returns the error line.
    """
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert result.returncode == 1, output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


@pytest.fixture
def one_line_error() -> Callable[..., str]:
    """:func:`assert_one_line_error` as a fixture."""
    return assert_one_line_error
