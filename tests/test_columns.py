"""The column dictionary documents every output column, and README shows it."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from trialtui.analysis import AnalysisSettings
from trialtui.choices import LEVELS
from trialtui.columns import LEVEL_COLUMNS, SETTINGS, readme_section, undocumented
from trialtui.store.connection import connect
from trialtui.study import compute, load_study

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.fixture(scope="module")
def every_level(sample_db: Path) -> dict[str, list[pl.DataFrame]]:
    """Every level of both sample studies: default settings, and every timepoint."""
    con = connect(sample_db, read_only=True)
    try:
        studies = [load_study(con, s) for s in ("PDAC-DEF-1", "PDAC-DEF-2")]
    finally:
        con.close()
    runs = [compute(data, AnalysisSettings()) for data in studies]
    runs.append(compute(studies[0], AnalysisSettings(timepoint="all")))
    runs.append(compute(studies[1], AnalysisSettings(pseudocount=0.5, fdr="holm")))
    return {level: [r.level(level) for r in runs] for level in LEVELS}


def test_every_level_has_a_dictionary() -> None:
    assert set(LEVEL_COLUMNS) == set(LEVELS)


@pytest.mark.parametrize("level", LEVELS)
def test_no_output_column_is_undocumented(every_level, level: str) -> None:
    for frame in every_level[level]:
        assert undocumented(level, frame.columns) == [], level


@pytest.mark.parametrize("level", LEVELS)
def test_no_documented_column_is_missing(every_level, level: str) -> None:
    """The dictionary describes what the output holds, in the output's order."""
    frame = every_level[level][0]
    assert [d.name for d in LEVEL_COLUMNS[level]] == frame.columns


@pytest.mark.parametrize("level", LEVELS)
def test_every_level_ends_with_its_settings(every_level, level: str) -> None:
    names = [d.name for d in SETTINGS]
    for frame in every_level[level]:
        assert frame.columns[-len(names) :] == names


def test_patient_level_records_its_settings(every_level) -> None:
    default, _, _, holm = every_level["patient"]
    assert set(default["lloq_policy"]) == {"half"}
    assert default["pseudocount"].null_count() == default.height
    assert set(holm["pseudocount"]) == {0.5} and set(holm["fdr_method"]) == {"holm"}
    assert (default["baseline_timepoint"] == default["pre_timepoint"]).all()
    assert (default["timepoint"] == default["post_timepoint"]).all()


def test_every_column_says_what_it_is() -> None:
    for level, docs in LEVEL_COLUMNS.items():
        names = [d.name for d in docs]
        assert len(names) == len(set(names)), level
        for doc in docs:
            assert doc.meaning.strip(), (level, doc.name)
            if doc.name.startswith(("p_", "q_")) or doc.name in ("p", "q"):
                assert doc.r, (level, doc.name)  # every test names its R equivalent


def test_readme_section_is_generated_from_the_dictionary() -> None:
    text = README.read_text(encoding="utf-8")
    assert readme_section() in text, (
        "README's output columns are out of date: run `python -m trialtui.columns README.md`"
    )


def test_describe_columns_cli(run_cli) -> None:
    result = run_cli("stats", "--describe-columns", "--format", "json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert {(r["level"], r["column"]) for r in rows} == {
        (level, d.name) for level, docs in LEVEL_COLUMNS.items() for d in docs
    }
    one = run_cli("stats", "--describe-columns", "--level", "comparison")
    assert one.returncode == 0, one.stderr
    assert one.stdout.startswith("comparison level (--level comparison):")
    assert "  hl_shift: Hodges-Lehmann shift of log2FC" in one.stdout
    assert "sign: arm minus reference_arm" in one.stdout
    assert "arm level" not in one.stdout
