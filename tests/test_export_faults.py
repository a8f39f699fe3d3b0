"""Exports under faults: a CSV and its provenance are published together or not at all,
derived tables change only after the files are written, no race replaces a file without
--force, files get the umask's mode, and write failures are one line naming the file."""

from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest
from conftest import CLI_TIMEOUT

from trialtui.choices import LEVELS
from trialtui.errors import UsageError
from trialtui.export import export_csv, publish

STUDY = "PDAC-DEF-1"


@pytest.fixture
def db(sample_db: Path, tmp_path: Path) -> Path:
    path = tmp_path / "trial.duckdb"
    shutil.copy(sample_db, path)
    return path


def derived_runs(db: Path) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT * FROM derived_runs ORDER BY ALL").fetchall()
    finally:
        con.close()


def run_limited(
    tmp_path: Path, cli_env: dict[str, str], max_bytes: int, *args: str | os.PathLike
) -> subprocess.CompletedProcess:
    """Run the CLI with files limited to ``max_bytes`` (writes beyond fail as on a full disk)."""

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # fail the write instead of killing
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))

    return subprocess.run(
        [sys.executable, "-m", "trialtui", *map(str, args)],
        env={**cli_env, "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=CLI_TIMEOUT,
        check=False,
        preexec_fn=limit,
    )


def folder_state(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_a_failed_write_keeps_the_old_pair_and_the_derived_tables(
    db: Path, tmp_path: Path, run_cli, cli_env, one_line_error
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    target = out / "arm.csv"
    first = run_cli("stats", "--db", db, "--study", STUDY, "--lloq", "exclude", "-o", target)
    assert first.returncode == 0, first.stderr
    before_files = folder_state(out)
    before_runs = derived_runs(db)
    # The provenance (about 1 kB) fits under the limit, the CSV (about 3 kB) does not.
    result = run_limited(
        tmp_path, cli_env, 2000, "stats", "--db", db, "--study", STUDY, "-o", target, "--force"
    )
    line = one_line_error(result, "arm.csv", "cannot write", "nothing was exported")
    assert "internal error" not in line
    assert folder_state(out) == before_files  # the old pair, no temporary files
    assert derived_runs(db) == before_runs


def test_export_of_every_level_is_all_or_nothing(
    db: Path, tmp_path: Path, run_cli, cli_env, one_line_error
) -> None:
    out = tmp_path / "levels"
    out.mkdir()
    before_runs = derived_runs(db)
    result = run_limited(tmp_path, cli_env, 4000, "export", "--db", db, "--study", STUDY, "-o", out)
    one_line_error(result, "cannot write", "nothing was exported")
    assert folder_state(out) == {}
    assert derived_runs(db) == before_runs
    complete = run_cli("export", "--db", db, "--study", STUDY, "-o", out)
    assert complete.returncode == 0, complete.stderr
    assert len(folder_state(out)) == 2 * len(LEVELS)  # every CSV with its provenance


def test_provenance_names_the_csv_by_sha256(db: Path, tmp_path: Path, run_cli) -> None:
    target = tmp_path / "arm.csv"
    assert run_cli("stats", "--db", db, "--study", STUDY, "-o", target).returncode == 0
    record = json.loads(Path(f"{target}.provenance.json").read_text(encoding="utf-8"))
    data = target.read_bytes()
    assert record["file"] == {
        "name": "arm.csv",
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_export_files_take_their_mode_from_the_umask(tmp_path: Path, umask: int, mode: int):
    old = os.umask(umask)
    try:
        target = export_csv(pl.DataFrame({"a": [1]}), tmp_path / "t.csv", {"row_count": 1})
    finally:
        os.umask(old)
    assert target.stat().st_mode & 0o777 == mode
    assert Path(f"{target}.provenance.json").stat().st_mode & 0o777 == mode


def test_a_file_created_meanwhile_is_not_replaced_without_force(tmp_path: Path) -> None:
    staged = tmp_path / ".staged.tmp"
    staged.write_text("new\n", encoding="utf-8")
    target = tmp_path / "t.csv"
    target.write_text("someone else's\n", encoding="utf-8")  # appeared after the check
    with pytest.raises(UsageError, match="already exists"):
        publish(staged, target, force=False)
    assert target.read_text(encoding="utf-8") == "someone else's\n"
    publish(staged, target, force=True)
    assert target.read_text(encoding="utf-8") == "new\n"


def test_output_naming_a_folder_is_refused(db: Path, tmp_path: Path, run_cli) -> None:
    result = run_cli("stats", "--db", db, "--study", STUDY, "-o", "newdir/")
    assert result.returncode == 2 and "names a folder" in result.stderr, result.stderr
    assert not (tmp_path / "newdir").exists()
    (tmp_path / "existing").mkdir()
    result = run_cli("stats", "--db", db, "--study", STUDY, "-o", "existing", "--force")
    assert result.returncode == 2 and "is a folder" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert (tmp_path / "existing").is_dir()


@pytest.mark.parametrize("command", [("query", "patient_listing"), ("stats", "--study", STUDY)])
def test_an_export_never_replaces_the_database(db: Path, run_cli, command) -> None:
    before = db.read_bytes()
    result = run_cli(*command, "--db", db, "-o", db, "--force")
    assert result.returncode == 2 and "is the database" in result.stderr, result.stderr
    assert db.read_bytes() == before


def test_an_unwritable_folder_is_one_line(db: Path, run_cli, one_line_error) -> None:
    result = run_cli("stats", "--db", db, "--study", STUDY, "-o", "/proc/arm.csv")
    one_line_error(result, "/proc/arm.csv")


# ----------------------------------------------------------------------------- formulas


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("patient_id", '=HYPERLINK("http://x","y")'),
        ("arm", "+A"),
        ("biomarker", "@SUM(A1)"),
        ("timepoint", "-pre"),
    ],
)
def test_ids_that_start_like_a_formula_are_refused_at_import(
    tmp_path: Path, write_csv, run_cli, one_line_error, column: str, value: str
) -> None:
    row = {
        "study_id": "S1",
        "patient_id": "P1",
        "arm": "A",
        "timepoint": "pre",
        "is_baseline": "true",
        "biomarker": "CD8",
        "value": "1",
    }
    row[column] = value
    frame = pl.DataFrame({k: [v] for k, v in row.items()})
    result = run_cli("import", write_csv(frame.write_csv()), "--db", tmp_path / "t.duckdb")
    one_line_error(result, f"row 2, column '{column}'", "formula")


def test_negative_numbers_are_not_formulas(tmp_path: Path, write_csv, run_cli) -> None:
    content = (
        "study_id,patient_id,arm,timepoint,visit_day,biomarker,value\n"
        "S1,P1,A,pre,-3,CD8,1\nS1,P1,A,post,28,CD8,2\n"
    )
    result = run_cli("import", write_csv(content), "--db", tmp_path / "t.duckdb")
    assert result.returncode == 0, result.stderr
