"""The benchmark's generator and a CI-sized regression alarm for the comparison level.

The alarm times ``stats --level comparison``'s code path (pairing and every between-arm
test, from a study loaded out of a real DuckDB file) against the naive pivot and
per-biomarker SciPy loop of ``bench/baselines.py`` on the same data, in one process, and
fails when trialtui is less than 5x faster. Both must give the same p-values.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path
from types import ModuleType

import numpy as np
import polars as pl
import pytest
from conftest import REPO

from trialtui.analysis import AnalysisSettings
from trialtui.store.connection import connect
from trialtui.store.importer import import_files
from trialtui.study import compute, load_study

MIN_RATIO = 5.0


def bench_module(name: str) -> ModuleType:
    """A module of ``bench/`` (not a package), loaded from its file."""
    if str(REPO / "bench") not in sys.path:
        sys.path.insert(0, str(REPO / "bench"))
    spec = importlib.util.spec_from_file_location(f"bench_{name}", REPO / "bench" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generator_sizes_missing_fraction_and_determinism() -> None:
    generate = bench_module("generate")
    frame = generate.synthetic_trial(40, 25, timepoints=3, arms=3, missing=0.2, seed=1)
    cells = 40 * 25 * 3
    assert 0.7 * cells < frame.height < 0.9 * cells
    assert frame.columns == [
        "study_id",
        "patient_id",
        "arm",
        "timepoint",
        "visit_day",
        "is_baseline",
        "biomarker",
        "value",
    ]
    assert sorted(frame["arm"].unique()) == ["Drug A", "Drug B", "Placebo"]
    assert sorted(frame["timepoint"].unique()) == ["BL", "W4", "W8"]
    assert frame["biomarker"].n_unique() == 25 and frame["patient_id"].n_unique() == 40
    # one arm per patient, one baseline timepoint
    assert frame.group_by("patient_id").agg(pl.col("arm").n_unique())["arm"].max() == 1
    assert frame.filter(pl.col("is_baseline"))["timepoint"].unique().to_list() == ["BL"]
    assert (frame["value"] > 0).all()
    again = generate.synthetic_trial(40, 25, timepoints=3, arms=3, missing=0.2, seed=1)
    assert frame.equals(again)
    full = generate.synthetic_trial(10, 5, missing=0.0)
    assert full.height == 10 * 5 * 2


def test_generator_writes_csv_and_parquet_that_import(tmp_path: Path) -> None:
    generate = bench_module("generate")
    frame = generate.synthetic_trial(30, 12, seed=3)
    files = [
        generate.write_trial(frame, tmp_path / "t.csv"),
        generate.write_trial(frame, tmp_path / "t.parquet"),
    ]
    for i, path in enumerate(files):
        con = connect(tmp_path / f"t{i}.duckdb", read_only=False)
        try:
            report = import_files(con, [path])
        finally:
            con.close()
        assert report.files[0].rows_loaded == frame.height
    with pytest.raises(ValueError, match=r"\.csv or \.parquet"):
        generate.write_trial(frame, tmp_path / "t.json")


def best_of(repeat: int, fn) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def test_comparison_is_at_least_5x_faster_than_the_naive_baseline(tmp_path: Path) -> None:
    generate = bench_module("generate")
    baselines = bench_module("baselines")
    # The headline trial's arm sizes (2,500 patients per arm), few biomarkers: seconds.
    frame = generate.synthetic_trial(5000, 10, seed=11)
    path = generate.write_trial(frame, tmp_path / "trial.parquet")
    con = connect(tmp_path / "trial.duckdb", read_only=False)
    try:
        import_files(con, [path])
        data = load_study(con, None)
    finally:
        con.close()
    settings = AnalysisSettings(reference_arm="Placebo")

    def ours() -> pl.DataFrame:
        return compute(data, settings, levels=("comparison",)).level("comparison")

    ours()  # warm caches and lazy imports on both sides before timing
    baselines.naive_comparison(frame.filter(pl.col("biomarker") < "M0002"), "Placebo")
    t_ours, result = best_of(3, ours)
    t_naive, naive = best_of(2, lambda: baselines.naive_comparison(frame, "Placebo"))

    joined = result.join(naive, on=["biomarker", "arm"], suffix="_naive")
    assert joined.height == result.height == naive.height == 10
    for column in ("p_welch", "p_mannwhitney", "q_welch", "q_mannwhitney"):
        np.testing.assert_allclose(joined[column], joined[f"{column}_naive"], rtol=1e-9)
    ratio = t_naive / t_ours
    assert ratio >= MIN_RATIO, (
        f"comparison {t_ours:.3f} s vs naive {t_naive:.3f} s: only {ratio:.1f}x faster"
    )
