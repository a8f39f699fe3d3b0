"""Every on-treatment timepoint (``timepoint="all"``) and the Friedman level against R's
``t.test``, ``lm`` and ``friedman.test`` (tests/r/make_timecourse_reference.R), on a real
DuckDB file imported from CSV."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from conftest import imported, loaded_modules
from r_timecourse_reference import (
    ARM_BY_TIMEPOINT,
    ARM_R_CODE,
    COMPARISON_BY_TIMEPOINT,
    COMPARISON_R_CODE,
    DATA,
    FRIEDMAN,
    FRIEDMAN_R_CODE,
)

from trialtui.analysis import AnalysisSettings
from trialtui.analysis.friedman import FRIEDMAN_COLUMNS, _ranks_within_rows
from trialtui.errors import UsageError
from trialtui.store.connection import connect
from trialtui.study import StudyResults, compute, load_study

REL = 1e-9
DAYS = {"BL": 0, "C2": 21, "C4": 63}


@pytest.fixture(scope="module")
def timecourse_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("timecourse")
    frame = pl.DataFrame(DATA).with_columns(
        pl.lit("TC").alias("study_id"),
        pl.col("timepoint").replace_strict(DAYS, return_dtype=pl.Int64).alias("visit_day"),
        (pl.col("timepoint") == "BL").alias("is_baseline"),
        pl.lit(0.1).alias("lloq"),
        pl.lit("SD").alias("response"),
    )
    return imported(folder, "timecourse", frame)


def results_of(path: Path, settings: AnalysisSettings, levels: tuple[str, ...]) -> StudyResults:
    con = connect(path, read_only=True)
    try:
        return compute(load_study(con, "TC"), settings, levels=levels)
    finally:
        con.close()


def check_rows(frame: pl.DataFrame, expected_rows: list[dict], keys: tuple[str, ...]) -> None:
    assert frame.height == len(expected_rows)
    for expected in expected_rows:
        hit = frame.filter(*[pl.col(k) == expected[k] for k in keys])
        assert hit.height == 1, {k: expected[k] for k in keys}
        row = hit.row(0, named=True)
        for column, value in expected.items():
            assert column in row, f"reference column {column} missing from the output"
            if column in keys:
                continue
            assert row[column] == pytest.approx(value, rel=REL), (expected, column)


def test_arm_level_every_timepoint_matches_r(timecourse_db: Path) -> None:
    assert ARM_R_CODE
    results = results_of(timecourse_db, AnalysisSettings(timepoint="all"), ("arm",))
    frame = results.level("arm")
    assert frame["timepoint"].unique(maintain_order=True).to_list() == ["C2", "C4"]
    check_rows(frame, ARM_BY_TIMEPOINT, ("timepoint", "biomarker", "arm"))
    assert results.settings_used()["timepoint"] == "all"


def test_comparison_level_every_timepoint_matches_r(timecourse_db: Path) -> None:
    assert COMPARISON_R_CODE
    settings = AnalysisSettings(timepoint="all", reference_arm="Control")
    frame = results_of(timecourse_db, settings, ("comparison",)).level("comparison")
    check_rows(frame, COMPARISON_BY_TIMEPOINT, ("timepoint", "biomarker", "arm"))


def test_one_timepoint_equals_its_block_of_all(timecourse_db: Path) -> None:
    every = results_of(timecourse_db, AnalysisSettings(timepoint="all"), ("arm",)).level("arm")
    one = results_of(timecourse_db, AnalysisSettings(timepoint="C4"), ("arm",)).level("arm")
    assert every.filter(pl.col("timepoint") == "C4").equals(one)


def test_patient_level_every_timepoint_keeps_the_timepoint(timecourse_db: Path) -> None:
    frame = results_of(timecourse_db, AnalysisSettings(timepoint="all"), ("patient",))
    fc = frame.level("patient")
    # 37 baseline-C2 pairs and 35 baseline-C4 pairs of the 111 values
    assert fc.group_by("post_timepoint").len().sort("post_timepoint")["len"].to_list() == [37, 35]


def test_friedman_matches_r(timecourse_db: Path) -> None:
    assert FRIEDMAN_R_CODE
    frame = results_of(timecourse_db, AnalysisSettings(), ("friedman",)).level("friedman")
    assert frame.columns[: len(FRIEDMAN_COLUMNS)] == list(FRIEDMAN_COLUMNS)
    check_rows(frame, FRIEDMAN, ("biomarker", "arm"))
    assert set(frame["timepoint"].to_list()) == {"all"}


@pytest.mark.parametrize("k", [2, 3, 4, 7])
def test_ranks_within_patients_equal_scipy_rankdata(k: int) -> None:
    """Average ranks within each row, ties, infinities and NaN as SciPy's ``rankdata``
    gives them (an independent implementation), and each cell's count of equal values."""
    from scipy import stats

    rng = np.random.default_rng(k)
    matrix = rng.integers(0, 4, (5000, k)).astype(float)  # many ties
    for value, share in ((np.nan, 0.01), (-np.inf, 0.02), (np.inf, 0.02), (0.5, 0.1)):
        matrix[rng.random(matrix.shape) < share] = value
    ranks, tied = _ranks_within_rows(matrix)
    expected = stats.rankdata(matrix, axis=1)
    assert np.array_equal(ranks, expected, equal_nan=True)
    assert np.isnan(ranks).any()
    for row in range(0, 5000, 97):
        values = matrix[row]
        assert tied[row].tolist() == [int((values == v).sum()) for v in values]


def test_every_level_loads_no_scipy_stats(timecourse_db: Path) -> None:
    """``scipy.stats`` takes over half a second to import and no level needs it: Friedman
    ranks within patients itself."""
    modules = loaded_modules(
        "from trialtui.store.connection import connect\n"
        "from trialtui.study import compute, load_study\n"
        "from trialtui.analysis import AnalysisSettings\n"
        "from trialtui.choices import LEVELS\n"
        f"con = connect({str(timecourse_db)!r}, read_only=True)\n"
        "data = load_study(con, 'TC')\n"
        "results = compute(data, AnalysisSettings(), levels=LEVELS)\n"
        "assert results.level('friedman').height > 0\n"
    )
    assert "trialtui.analysis.friedman" in modules and "scipy.special" in modules
    assert "scipy.stats" not in modules


def test_friedman_with_fewer_than_three_complete_patients_has_no_p(timecourse_db: Path) -> None:
    con = connect(timecourse_db, read_only=True)
    try:
        data = load_study(con, "TC", measurements=True)
    finally:
        con.close()
    keep = pl.col("patient_id").is_in(["C01", "C02"]) | (pl.col("arm") == "Treated")
    small = type(data)(
        **{**data.__dict__, "measurements": data.measurements.filter(keep), "raw_pairs": {}}
    )
    frame = compute(small, AnalysisSettings(), levels=("friedman",)).level("friedman")
    control = frame.filter(pl.col("arm") == "Control")
    assert control["n_complete"].to_list() == [2, 2, 2]
    assert control["p_friedman"].null_count() == 3
    assert control["q_friedman"].null_count() == 3


def test_unknown_timepoint_is_a_usage_error(timecourse_db: Path) -> None:
    with pytest.raises(UsageError, match="unknown timepoint"):
        results_of(timecourse_db, AnalysisSettings(timepoint="C9"), ("arm",))


def test_cli_every_timepoint_and_friedman(timecourse_db: Path, run_cli) -> None:
    done = run_cli("stats", "--db", timecourse_db, "--timepoint", "all", "--level", "comparison")
    assert done.returncode == 0, done.stderr
    header = done.stdout.splitlines()[0].split()
    assert header[-1] == "timepoint"
    assert sum(" C2 " in f" {line} " for line in done.stdout.splitlines()) == 3
    done = run_cli("stats", "--db", timecourse_db, "--level", "friedman", "--format", "csv")
    assert done.returncode == 0, done.stderr
    frame = pl.read_csv(done.stdout.encode())
    check_rows(frame.select(FRIEDMAN_COLUMNS), FRIEDMAN, ("biomarker", "arm"))
    for level, column in (("patient", "post_timepoint"), ("correlation", "timepoint")):
        done = run_cli("stats", "--db", timecourse_db, "--timepoint", "all", "--level", level)
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines()[0].split()[-1] == column
