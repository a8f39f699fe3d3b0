"""The R verification script of ``--emit-r``: written by the real CLI, run under Rscript."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from pathlib import Path

import polars as pl
import pytest
from conftest import imported
from r_ancova_reference import ANCOVA_CASES
from test_timecourse import timecourse_db  # noqa: F401  (fixture)

RSCRIPT = shutil.which("Rscript")
needs_r = pytest.mark.skipif(
    RSCRIPT is None,
    reason="Rscript is not installed, so the emitted R script cannot be run "
    "(Debian: apt-get install r-base-core)",
)


def rscript(script: Path) -> subprocess.CompletedProcess:
    assert RSCRIPT is not None
    return subprocess.run(
        [RSCRIPT, str(script)], capture_output=True, text=True, timeout=300, check=False
    )


def differing(output: str) -> list[str]:
    """The `table column` pairs the script reports as DIFFERS."""
    return [" ".join(line.split()[:2]) for line in output.splitlines() if "DIFFERS" in line]


def alter_one_value(path: Path, column: str, factor: float = 1 + 1e-6) -> None:
    """Multiply the first non-empty value of ``column`` in the CSV at ``path``."""
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    index = rows[0].index(column)
    row = next(r for r in rows[1:] if r[index] != "")
    row[index] = repr(float(row[index]) * factor)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")


@pytest.fixture(scope="module")
def three_arm_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three arms, one with only two pairs of CD8 (from the ANCOVA reference data)."""
    case = next(c for c in ANCOVA_CASES if c["name"] == "three_arms_one_with_two_pairs")
    rows = []
    for i, (biomarker, arm, pre, post) in enumerate(
        zip(case["biomarker"], case["arm"], case["pre"], case["post"], strict=True)
    ):
        for timepoint, day, value in (("BL", 0, pre), ("W8", 56, post)):
            rows.append(
                {
                    "study_id": "T3",
                    "patient_id": f"{arm[0]}{i:03d}",
                    "arm": arm,
                    "timepoint": timepoint,
                    "visit_day": day,
                    "biomarker": biomarker,
                    "response": ("PR", "SD", "PD", "CR")[i % 4],
                    "value": value,
                }
            )
    return imported(tmp_path_factory.mktemp("three_arms"), "three_arms", pl.DataFrame(rows))


@pytest.fixture
def db(sample_db: Path, tmp_path: Path) -> Path:
    """A copy of the sample: ``-o`` and ``export`` store derived tables."""
    return Path(shutil.copy(sample_db, tmp_path / "trial.duckdb"))


def test_emit_r_needs_an_output_file(db: Path, run_cli) -> None:
    done = run_cli("stats", "--db", db, "--level", "arm", "--emit-r", "check.R")
    assert done.returncode == 2
    assert "--emit-r needs -o" in done.stderr


def test_emit_r_writes_script_and_data_and_refuses_to_overwrite(
    db: Path, run_cli, tmp_path: Path
) -> None:
    args = ("stats", "--db", db, "--study", "PDAC-DEF-2", "--level", "comparison")
    done = run_cli(*args, "-o", "cmp.csv", "--emit-r", "check.R")
    assert done.returncode == 0, done.stderr
    script = (tmp_path / "check.R").read_text(encoding="utf-8")
    assert 'REFERENCE_ARM <- "Pembrolizumab"' in script
    assert "lm(log2(value_post) ~ log2(value_pre) + arm" in script
    assert 'read_table("cmp.csv")' in script
    data = pl.read_csv(tmp_path / "check.data.csv")
    assert data.columns == [
        "study_id",
        "patient_id",
        "arm",
        "response",
        "timepoint",
        "biomarker",
        "value",
        "imputed",
        "excluded",
    ]
    assert data.height > 0
    again = run_cli(*args, "-o", "other.csv", "--emit-r", "check.R")
    assert again.returncode == 2
    assert "check.R: already exists" in again.stderr
    assert not (tmp_path / "other.csv").exists()  # refused before anything was written


@needs_r
def test_export_of_every_level_agrees_with_r(db: Path, run_cli, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    done = run_cli(
        "export",
        "--db",
        db,
        "--study",
        "PDAC-DEF-2",
        "-o",
        "out",
        "--emit-r",
        "out/check.R",
    )
    assert done.returncode == 0, done.stderr
    result = rscript(tmp_path / "out" / "check.R")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "every column agrees with R within 1e-09" in result.stdout
    for level in ("patient", "arm", "comparison", "correlation", "response", "friedman"):
        assert f"PDAC-DEF-2_{level}.csv" in result.stdout


@needs_r
def test_altered_value_makes_the_script_fail(db: Path, run_cli, tmp_path: Path) -> None:
    done = run_cli(
        "stats",
        "--db",
        db,
        "--study",
        "PDAC-DEF-2",
        "--level",
        "comparison",
        "-o",
        "cmp.csv",
        "--emit-r",
        "check.R",
    )
    assert done.returncode == 0, done.stderr
    assert rscript(tmp_path / "check.R").returncode == 0
    alter_one_value(tmp_path / "cmp.csv", "ancova_ratio")
    result = rscript(tmp_path / "check.R")
    assert result.returncode == 1
    assert differing(result.stdout) == ["cmp.csv ancova_ratio"]


@needs_r
def test_three_arms_with_a_small_arm_agree_with_r(three_arm_db: Path, run_cli, tmp_path) -> None:
    (tmp_path / "out").mkdir()
    done = run_cli(
        "export",
        "--db",
        three_arm_db,
        "--reference-arm",
        "Placebo",
        "--fdr",
        "holm",
        "--conf-level",
        "0.9",
        "-o",
        "out",
        "--emit-r",
        "out/check.R",
    )
    assert done.returncode == 0, done.stderr
    comparison = pl.read_csv(tmp_path / "out" / "T3_comparison.csv")
    assert comparison["p_ancova_overall"].null_count() == 1  # CD8 LowDose: 2 pairs
    result = rscript(tmp_path / "out" / "check.R")
    assert result.returncode == 0, result.stdout + result.stderr


@needs_r
def test_every_timepoint_and_friedman_agree_with_r(
    timecourse_db: Path,  # noqa: F811
    run_cli,
    tmp_path: Path,
) -> None:
    (tmp_path / "out").mkdir()
    done = run_cli(
        "export",
        "--db",
        timecourse_db,
        "--timepoint",
        "all",
        "--reference-arm",
        "Control",
        "-o",
        "out",
        "--emit-r",
        "out/check.R",
    )
    assert done.returncode == 0, done.stderr
    result = rscript(tmp_path / "out" / "check.R")
    assert result.returncode == 0, result.stdout + result.stderr
    alter_one_value(tmp_path / "out" / "TC_friedman.csv", "friedman_chisq", 1 + 1e-8)
    result = rscript(tmp_path / "out" / "check.R")
    assert result.returncode == 1
    assert differing(result.stdout) == ["TC_friedman.csv friedman_chisq"]
