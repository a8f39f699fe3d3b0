"""Import at omics scale: memory held per row, and the shortcuts that buy the speed.

The memory test imports a benchmark-shaped trial (``bench/generate.py``) with the real CLI
in a subprocess and compares its peak resident memory, beyond that of importing a tiny
file (the process's own libraries), with the size of the trial as CSV text measured in the
same run: a ratio, not a figure that depends on the machine.

The other tests hold each shortcut to the result of the plain way: Parquet numbers and
booleans checked in their own type against the same file read as text, the integer row
key against comparing rows, the median of day counts against the median of every day.
"""

from __future__ import annotations

import importlib.util
import math
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import polars as pl
import pytest
from conftest import REPO

from trialtui.store.crossimport import grouped, row_key
from trialtui.store.readers import ROW, SourceTable, read_source
from trialtui.store.validate import _median_days, _repeats, validate_source

# Peak memory of an import beyond a tiny import's, per byte of the trial as CSV text. Before
# the Parquet columns were checked in their own type and the group-bys streamed, the
# Parquet file of this 950,000-row trial took 10.6 bytes per byte of CSV; now 4.3-4.8.
MAX_MEMORY_PER_CSV_BYTE = 7.5


def _generator() -> ModuleType:
    """``bench/generate.py``, loaded from its file (``bench/`` is not a package)."""
    spec = importlib.util.spec_from_file_location("bench_generate", REPO / "bench" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _measured(args: list[str], env: dict[str, str], cwd: Path) -> float:
    """Peak resident memory (MB) of ``python -m trialtui ARGS``, which must succeed."""
    process = subprocess.Popen(
        [sys.executable, "-m", "trialtui", *args],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(process.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, f"trialtui {' '.join(args)} failed"
    return usage.ru_maxrss / 1024  # kilobytes on Linux


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ru_maxrss in kilobytes")
def test_import_memory_per_row_is_bounded(tmp_path: Path, cli_env: dict[str, str]) -> None:
    generate = _generator()
    trial = generate.synthetic_trial(500, 1000, seed=3)
    tiny = generate.write_trial(generate.synthetic_trial(10, 5, seed=3), tmp_path / "tiny.parquet")
    parquet = generate.write_trial(trial, tmp_path / "trial.parquet")
    csv = generate.write_trial(trial, tmp_path / "trial.csv")
    del trial
    csv_mb = csv.stat().st_size / 2**20

    base = _measured(["import", str(tiny), "--db", "tiny.duckdb"], cli_env, tmp_path)
    for source in (parquet, csv):
        peak = _measured(
            ["import", str(source), "--db", f"{source.suffix[1:]}.duckdb"], cli_env, tmp_path
        )
        ratio = (peak - base) / csv_mb
        assert ratio <= MAX_MEMORY_PER_CSV_BYTE, (
            f"{source.name}: {peak:.0f} MB peak, {base:.0f} MB for a tiny file: "
            f"{ratio:.1f} bytes per byte of CSV (at most {MAX_MEMORY_PER_CSV_BYTE})"
        )


def _as_text(source: SourceTable) -> SourceTable:
    """The same file as the all-text reader sees it."""
    return SourceTable(source.path, source.sha256, source.frame, source.kind)


def _same_plan(path: Path) -> None:
    """Validating ``path`` as typed and as text gives the same problems and rows."""
    source = read_source(path)
    typed = validate_source(source, study="S1")
    text = validate_source(_as_text(source), study="S1")
    assert [str(p) for p in typed.problems] == [str(p) for p in text.problems]
    assert typed.rows_skipped == text.rows_skipped
    if typed.ok:
        assert typed.measurements is not None and text.measurements is not None
        assert typed.measurements.equals(text.measurements)
        assert typed.timepoints is not None and text.timepoints is not None
        assert typed.timepoints.equals(text.timepoints)
        for name, frame in typed.entities.items():
            assert frame.equals(text.entities[name]), name


def _long(**columns: pl.Series | list) -> pl.DataFrame:
    rows = len(next(iter(columns.values())))
    base = {
        "patient_id": [f"P{i % 3}" for i in range(rows)],
        "arm": [("A", "B", "A")[i % 3] for i in range(rows)],
        "timepoint": [("pre", "post")[i // 3 % 2] for i in range(rows)],
        "biomarker": [f"M{i // 6}" for i in range(rows)],
    }
    return pl.DataFrame({**base, **columns})


TYPED_CASES = {
    "clean doubles and flags": _long(
        value=[1.5, 2.0, 3.25, 0.0, 1e-300, 7e12],
        visit_day=pl.Series([0, 0, 0, 28, 28, 28], dtype=pl.Int32),
        is_baseline=[True, True, True, False, False, False],
        age=[50.0, 61.0, 70.0, 50.0, 61.0, 70.0],
    ),
    "bad doubles": _long(
        value=[float("nan"), -1.0, float("inf"), None, 2.0, -0.0],
        visit_day=[0.0, 0.0, float("nan"), 28.0, 28.0, 28.0],
        is_baseline=[True, True, True, False, False, False],
    ),
    "integers": _long(
        value=pl.Series([0, 1, 2**53 + 1, 4, 5, 2**62], dtype=pl.Int64),
        visit_day=pl.Series([0, 0, 0, 28, 28, 28], dtype=pl.UInt8),
        is_baseline=pl.Series([1, 1, 1, 0, 0, 0], dtype=pl.Int64),  # read as text: '1'
    ),
    "float32 read as text": _long(
        value=pl.Series([0.1, 0.2, 0.3, 0.4, 0.5, 0.6], dtype=pl.Float32),
        visit_day=pl.Series([0.0, 0.0, 0.0, 28.5, 28.5, 28.5], dtype=pl.Float32),
        is_baseline=[True, True, True, False, False, False],
    ),
    "censoring flags and limits": _long(
        value=[0.5, 2.0, 3.0, 0.2, 5.0, 6.0],
        below_lloq=[True, False, None, True, False, False],
        lloq=[1.0, 1.0, 1.0, 0.0, 1.0, 1.0],
        visit_day=pl.Series([0, 0, 0, 28, 28, 28], dtype=pl.Int64),
        is_baseline=[True, True, True, False, False, False],
    ),
    "numbers where text belongs": _long(
        value=[1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        patient_id=pl.Series([-1, 2, 3, -1, 2, 3], dtype=pl.Int64),
        response=pl.Series([1, 1, 1, 1, 1, 1], dtype=pl.Int64),
        below_lloq=pl.Series([0.0, 0.0, 0.0, 0.0, 0.0, 0.0]),
        is_baseline=[True, True, True, False, False, False],
    ),
    "repeated and conflicting": _long(
        value=[1.0, 1.0, 3.0, 4.0, 5.0, 6.0],
        patient_id=["P1", "P1", "P2", "P1", "P1", "P2"],
        age=pl.Series([40, 40, 50, 41, 40, 50], dtype=pl.Int16),
        is_baseline=[True, True, True, False, False, False],
    ),
}


@pytest.mark.parametrize("case", TYPED_CASES)
def test_typed_parquet_columns_validate_as_their_text(tmp_path: Path, case: str) -> None:
    path = tmp_path / "typed.parquet"
    TYPED_CASES[case].write_parquet(path)
    _same_plan(path)


def test_typed_parquet_keeps_numbers_and_booleans(tmp_path: Path) -> None:
    path = tmp_path / "typed.parquet"
    TYPED_CASES["clean doubles and flags"].write_parquet(path)
    source = read_source(path)
    assert source.data.schema["value"] == pl.Float64
    assert source.data.schema["is_baseline"] == pl.Boolean
    assert source.frame.schema["value"] == pl.String
    assert source.frame["value"].to_list() == [
        str(v) for v in source.data["value"].cast(pl.String).to_list()
    ]


@pytest.mark.parametrize("seed", range(6))
def test_row_key_repeats_agree_with_comparing_rows(seed: int) -> None:
    rng = np.random.default_rng(seed)
    rows = int(rng.integers(1, 400))
    width = int(rng.integers(2, 40))
    frame = pl.DataFrame(
        {
            name: [f"{name}{v}" for v in rng.integers(0, width, rows)]
            for name in ("study_id", "patient_id", "timepoint", "biomarker")
        }
    ).with_row_index(ROW)
    key = ["study_id", "patient_id", "timepoint", "biomarker"]
    expected = frame.select(pl.struct(key).is_duplicated().any()).item()
    assert _repeats(frame, key) == expected
    codes = row_key(frame, key)
    assert codes is not None
    # equal integers exactly for equal rows
    pairs = frame.with_columns(pl.Series("_k", codes))
    assert pairs.select(pl.struct(key).n_unique()).item() == pairs["_k"].n_unique()


def test_row_key_declines_missing_values() -> None:
    frame = pl.DataFrame({"a": ["x", None], "b": ["y", "y"]})
    assert row_key(frame, ["a", "b"]) is None
    assert _repeats(frame, ["a", "b"]) is False


@pytest.mark.parametrize("seed", range(6))
def test_median_of_day_counts_is_the_median_of_days(seed: int) -> None:
    rng = np.random.default_rng(seed)
    rows = int(rng.integers(1, 300))
    days = rng.choice([-3.0, 0.0, 0.5, 1.0, 7.0, 28.0, 29.0, None], rows).tolist()
    frame = pl.DataFrame(
        {
            "study_id": rng.choice(["S1", "S2"], rows).tolist(),
            "timepoint": rng.choice(["pre", "post", "late"], rows).tolist(),
            "visit_day": pl.Series(days, dtype=pl.Float64),
        }
    )
    key = ("study_id", "timepoint")
    counts = frame.group_by(*key, "visit_day").agg(pl.len().alias("_n"))
    got = {(s, t): d for s, t, d in _median_days(counts, key).iter_rows()}
    want = frame.group_by(key).agg(pl.col("visit_day").median())
    for study_id, timepoint, median in want.iter_rows():
        found = got.get((study_id, timepoint))
        if median is None:
            assert found is None
        else:
            assert found is not None and math.isclose(found, median, rel_tol=0, abs_tol=0)


def test_entity_frames_match_ordered_eager_group_by() -> None:
    """The streaming group-bys take each group's first value and row in file order, as
    an eager group-by keeping the order does (over enough rows for several batches)."""
    rng = np.random.default_rng(5)
    rows = 400_000
    sparse = rng.random(rows) < 0.9  # most rows without the attribute
    frame = pl.DataFrame(
        {
            "study_id": "S1",
            "patient_id": [f"P{v}" for v in rng.integers(0, 3000, rows)],
            "tissue": pl.Series(
                np.where(sparse, None, rng.choice(["skin", "gut"], rows)).tolist(), dtype=pl.String
            ),
        }
    ).with_row_index(ROW)
    first_row = pl.col(ROW).filter(pl.col("tissue").is_not_null()).first().alias("tissue_row")
    aggs = [pl.col(ROW).first(), pl.col("tissue").drop_nulls().first(), first_row]
    eager = frame.group_by("study_id", "patient_id", maintain_order=True).agg(aggs)
    streamed = grouped(frame, ("study_id", "patient_id"), *aggs).sort(ROW)
    assert streamed.equals(eager)
