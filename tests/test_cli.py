"""The ``trialtui`` command line, run as a real subprocess."""

from __future__ import annotations

import argparse
import itertools
import os
import re
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import duckdb
import pytest
from conftest import GOOD_LONG_CSV

from trialtui import cli
from trialtui.store.connection import connect


def _subcommands() -> list[str]:
    parser = cli.build_parser()
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return sorted(actions[0].choices)


SUBCOMMANDS = _subcommands()


def sections(output: str) -> dict[str, str]:
    """``trialtui info`` output split into one text block per study."""
    parts = re.split(r"^study (\S+?):.*$", output, flags=re.MULTILINE)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts), 2)}


def table_rows(block: str, first_column: str) -> list[list[str]]:
    """Rows (cells split on runs of 2+ spaces) of the table in ``block`` whose header starts
    with ``first_column``."""
    lines = block.splitlines()
    for i, (line, rule) in enumerate(itertools.pairwise(lines)):
        is_header = re.split(r"\s{2,}", line.strip())[0] == first_column
        if is_header and set(rule.replace(" ", "")) == {"-"}:
            rows = []
            for row in lines[i + 2 :]:
                if not row.strip():
                    break
                rows.append(re.split(r"\s{2,}", row.strip()))
            return rows
    raise AssertionError(f"no table starting with {first_column!r} in:\n{block}")


def assert_usage_error(result, *fragments: str) -> None:
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "Traceback" not in output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


# ----------------------------------------------------------------------------- basics


def test_version(run_cli) -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"trialtui {version('trialtui')}"


def test_help_lists_every_command(run_cli) -> None:
    result = run_cli("--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: trialtui")
    for command in SUBCOMMANDS:
        assert re.search(rf"^\s+{command}\s", result.stdout, flags=re.MULTILINE), command
    assert {"import", "validate", "sample", "info"} <= set(SUBCOMMANDS)


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_help_of_each_command(run_cli, command: str) -> None:
    result = run_cli(command, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: trialtui {command}")
    assert "--db" in result.stdout
    assert result.stderr == ""


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--bogus"], ["unrecognized arguments: --bogus"]),
        (["frobnicate"], ["invalid choice: 'frobnicate'"]),
        (["import"], ["required: FILE"]),
        (["import", "x.csv", "--format", "xml"], ["invalid choice: 'xml'"]),
        (["info", "--no-such-option"], ["unrecognized arguments"]),
        (["validate", "x.csv", "--limit", "many"], ["invalid int value: 'many'"]),
    ],
)
def test_usage_errors_exit_2_with_one_line(run_cli, args: list[str], fragments) -> None:
    assert_usage_error(run_cli(*args), *fragments)


def test_unknown_study_is_a_usage_error(run_cli, sample_db: Path) -> None:
    assert_usage_error(
        run_cli("info", "--db", sample_db, "--study", "NOPE"),
        "unknown study 'NOPE'",
        "PDAC-DEF-1",
        "PDAC-DEF-2",
    )


# ----------------------------------------------------------------------------- sample


def test_sample_writes_and_refuses_to_overwrite(run_cli, tmp_path: Path, db_snapshot) -> None:
    db = tmp_path / "out" / "trial.duckdb"
    result = run_cli("sample", "--db", db)
    assert result.returncode == 0, result.stderr
    assert str(db) in result.stdout
    snapshot = db_snapshot(db)
    assert {r[0] for r in snapshot["studies"]} == {"PDAC-DEF-1", "PDAC-DEF-2"}
    assert list(db.parent.iterdir()) == [db]  # no temporary files left behind

    before = db.read_bytes()
    refused = run_cli("sample", "--db", db)
    assert_usage_error(refused, str(db), "already exists", "--force")
    assert db.read_bytes() == before

    forced = run_cli("sample", "--db", db, "--force")
    assert forced.returncode == 0, forced.stderr
    assert db_snapshot(db)["measurements"] == snapshot["measurements"]


def test_sample_refuses_to_overwrite_other_files(run_cli, tmp_path: Path) -> None:
    precious = tmp_path / "notes.txt"
    precious.write_text("keep me\n")
    assert_usage_error(run_cli("sample", "--db", precious), "already exists")
    assert precious.read_text() == "keep me\n"


# ----------------------------------------------------------------------------- info


@pytest.fixture(scope="module")
def sample_info(sample_db: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """``trialtui info --db SAMPLE`` output (run once for the module)."""
    env = {k: v for k, v in os.environ.items() if k != "TRIALTUI_DB"}
    home = tmp_path_factory.mktemp("info-home")
    env.update(XDG_DATA_HOME=str(home / "data"), XDG_CONFIG_HOME=str(home / "config"))
    result = subprocess.run(
        [sys.executable, "-m", "trialtui", "info", "--db", str(sample_db)],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def test_info_lists_both_studies(sample_info: str, sample_db: Path) -> None:
    assert sample_info.startswith(f"database: {sample_db}")
    assert set(sections(sample_info)) == {"PDAC-DEF-1", "PDAC-DEF-2"}


def test_info_arms_with_patient_counts(sample_info: str) -> None:
    arms = table_rows(sections(sample_info)["PDAC-DEF-2"], "arm")
    counts = {row[0]: int(row[-1]) for row in arms}
    assert counts == {"Defactinib + Pembrolizumab": 20, "Pembrolizumab": 20}
    single = table_rows(sections(sample_info)["PDAC-DEF-1"], "arm")
    assert {row[0]: int(row[-1]) for row in single} == {
        "Defactinib + Pembrolizumab + Gemcitabine": 14
    }


def test_info_biomarkers(sample_info: str) -> None:
    markers = table_rows(sections(sample_info)["PDAC-DEF-2"], "biomarker")
    by_id = {row[0]: row for row in markers}
    assert len(by_id) == 10
    assert {
        "CD8",
        "FAP",
        "CD68",
        "CD206",
        "CD86",
        "TREG",
        "CD15",
        "MDSC",
        "COLLAGEN",
        "PFAK",
    } == set(by_id)
    assert "cells/mm2" in by_id["CD8"] and "mIF" in by_id["CD8"]
    assert "H-score" in by_id["PFAK"]


def test_info_paired_completeness(sample_info: str) -> None:
    block = sections(sample_info)["PDAC-DEF-2"]
    header = re.split(r"\s{2,}", block.split("paired completeness")[1].splitlines()[1].strip())
    rows = table_rows(block.split("paired completeness")[1], "biomarker")
    cd8 = {row[header.index("arm")]: row for row in rows if row[0] == "CD8"}
    assert set(cd8) == {"Defactinib + Pembrolizumab", "Pembrolizumab"}
    for row in cd8.values():
        assert int(row[header.index("n_paired")]) == 18
        assert int(row[header.index("n_patients")]) == 20
        assert row[header.index("post_timepoint")] == "Surgery"
    timepoints = table_rows(sections(sample_info)["PDAC-DEF-1"], "timepoint")
    assert [row[0] for row in timepoints] == ["Baseline", "C2D1", "Surgery"]


def test_info_one_study(run_cli, sample_db: Path) -> None:
    result = run_cli("info", "--db", sample_db, "--study", "PDAC-DEF-1")
    assert result.returncode == 0, result.stderr
    assert set(sections(result.stdout)) == {"PDAC-DEF-1"}


def test_info_without_db_creates_the_default_database(run_cli, tmp_path: Path) -> None:
    default = tmp_path / "xdg-data" / "trialtui" / "trialtui.duckdb"
    assert not default.exists()
    first = run_cli("info")
    assert first.returncode == 0, first.stderr
    assert default.is_file()
    assert "creating" in first.stderr and str(default) in first.stderr
    assert first.stdout.startswith(f"database: {default}")
    assert set(sections(first.stdout)) == {"PDAC-DEF-1", "PDAC-DEF-2"}
    con = duckdb.connect(str(default), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM patients").fetchall() == [(54,)]
    finally:
        con.close()

    second = run_cli("info")
    assert second.returncode == 0, second.stderr
    assert "creating" not in second.stderr
    assert second.stdout == first.stdout


def test_trialtui_db_variable_names_the_default(run_cli, good_db: Path, tmp_path: Path) -> None:
    result = run_cli("info", env={"TRIALTUI_DB": str(good_db)})
    assert result.returncode == 0, result.stderr
    assert set(sections(result.stdout)) == {"S1"}
    assert not (tmp_path / "xdg-data").exists()


@pytest.mark.parametrize("where", ["before", "after"])
def test_db_before_or_after_the_command_names_the_same_file(
    run_cli, tmp_path: Path, write_csv, where: str
) -> None:
    """`trialtui --db X import F` writes X, exactly as `trialtui import F --db X`; the
    default database is neither created nor touched."""
    db = tmp_path / "chosen.duckdb"
    src = write_csv(GOOD_LONG_CSV)
    args = ["--db", db, "import", src] if where == "before" else ["import", src, "--db", db]
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "xdg-data").exists()
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute("SELECT DISTINCT study_id FROM patients").fetchall() == [("S1",)]
    finally:
        con.close()
    info = run_cli("--db", db, "info") if where == "before" else run_cli("info", "--db", db)
    assert info.returncode == 0, info.stderr
    assert set(sections(info.stdout)) == {"S1"}
    assert not (tmp_path / "xdg-data").exists()


def test_db_given_twice_with_different_files_is_refused(run_cli, tmp_path: Path) -> None:
    result = run_cli("--db", tmp_path / "a.duckdb", "info", "--db", tmp_path / "b.duckdb")
    assert result.returncode == 2
    assert "two databases" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    same = run_cli("--db", tmp_path / "a.duckdb", "info", "--db", tmp_path / "a.duckdb")
    assert "no such database" in same.stderr


def test_info_on_an_empty_trialtui_database(run_cli, tmp_path: Path) -> None:
    db = tmp_path / "empty.duckdb"
    connect(db, read_only=False).close()
    result = run_cli("info", "--db", db)
    assert result.returncode == 0, result.stderr
    assert sections(result.stdout) == {}


# ----------------------------------------------------------------------------- bad databases


def test_info_missing_database(run_cli, tmp_path: Path, one_line_error) -> None:
    db = tmp_path / "missing.duckdb"
    one_line_error(run_cli("info", "--db", db), str(db), "no such database")
    assert not db.exists()


def test_foreign_duckdb_file(run_cli, tmp_path: Path, write_csv, one_line_error) -> None:
    db = tmp_path / "other.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE lab (x INTEGER)")
    con.close()
    one_line_error(run_cli("info", "--db", db), str(db), "not a trialtui database")
    src = write_csv(GOOD_LONG_CSV)
    one_line_error(run_cli("import", src, "--db", db), str(db), "not a trialtui database")
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    finally:
        con.close()
    assert tables == [("lab",)]


def test_not_a_duckdb_file(run_cli, tmp_path: Path, one_line_error) -> None:
    db = tmp_path / "trial.duckdb"
    db.write_text("patient,value\nP1,1\n" * 50)
    before = db.read_bytes()
    one_line_error(run_cli("info", "--db", db), str(db))
    assert db.read_bytes() == before


def test_import_into_copy_of_sample(run_cli, sample_db: Path, tmp_path: Path, write_csv):
    db = tmp_path / "trial.duckdb"
    shutil.copy(sample_db, db)
    result = run_cli("import", write_csv(GOOD_LONG_CSV), "--db", db)
    assert result.returncode == 0, result.stderr
    info = run_cli("info", "--db", db)
    assert set(sections(info.stdout)) == {"PDAC-DEF-1", "PDAC-DEF-2", "S1"}
