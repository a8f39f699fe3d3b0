"""Benchmarks: trialtui's code against naive baselines, in one process, reported as ratios.

Usage: python bench/run.py [--patients N] [--biomarkers B] [--quick]

Each benchmark times the real code path and a straightforward baseline computing the same
thing (and checks that both agree), then prints seconds and the speed-up ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
from scipy import stats

from trialtui.analysis import AnalysisSettings, pair_samples, summarise_arms
from trialtui.analysis.correlation import spearman_matrix
from trialtui.store.connection import connect
from trialtui.store.importer import import_files
from trialtui.store.sample import build_sample_database


def timed(fn: Callable[[], object], repeat: int = 1) -> tuple[float, object]:
    best, result = math.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def report(name: str, ours: float, naive: float, note: str = "") -> None:
    ratio = naive / ours if ours > 0 else math.inf
    print(f"{name:<38} trialtui {ours:8.3f} s   naive {naive:8.3f} s   x{ratio:7.1f}  {note}")


def synthetic_measurements(
    patients: int, biomarkers: int, seed: int = 7, *, by_sample: bool = False
) -> pl.DataFrame:
    """A study frame like trialtui.store.catalog.measurements returns (2 arms, 2 timepoints).

    5% of values are missing: single values at random, or (``by_sample``) whole biopsies,
    the usual case, where every biomarker of a patient's sample is missing together.
    """
    rng = np.random.default_rng(seed)
    pid = np.repeat(np.arange(patients), biomarkers * 2)
    marker = np.tile(np.repeat(np.arange(biomarkers), 2), patients)
    tp = np.tile([0, 1], patients * biomarkers)
    base = rng.lognormal(4, 1, patients * biomarkers)
    change = rng.lognormal(0.3, 0.8, patients * biomarkers)
    values = np.empty(patients * biomarkers * 2)
    values[0::2] = base
    values[1::2] = base * change
    if by_sample:
        sample_kept = rng.random(patients * 2) > 0.05
        keep = sample_kept[pid * 2 + tp]
    else:
        keep = rng.random(values.size) > 0.05
    return pl.DataFrame(
        {
            "study_id": "BENCH",
            "patient_id": [f"P{p:05d}" for p in pid[keep]],
            "arm": np.where(pid[keep] % 2 == 0, "A", "B"),
            "response": "PR",
            "timepoint": np.where(tp[keep] == 0, "BL", "W4"),
            "ordinal": tp[keep].astype(np.int32),
            "is_baseline": tp[keep] == 0,
            "biomarker": [f"M{m:04d}" for m in marker[keep]],
            "value": values[keep],
            "below_lloq": False,
            "lloq": 0.01,
        }
    )


def naive_arm_summary(measurements: pl.DataFrame) -> dict[tuple[str, str], tuple[float, float]]:
    """Per (biomarker, arm): mean FC and Wilcoxon p, by looping over rows in Python."""
    pre: dict[tuple[str, str, str], float] = {}
    post: dict[tuple[str, str, str], float] = {}
    for row in measurements.iter_rows(named=True):
        key = (row["biomarker"], row["arm"], row["patient_id"])
        (pre if row["is_baseline"] else post)[key] = row["value"]
    groups: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for key, before in pre.items():
        if key in post:
            groups.setdefault(key[:2], []).append((before, post[key]))
    out = {}
    for key, pairs in groups.items():
        fc = [b / a for a, b in pairs]
        logs = [math.log2(b) - math.log2(a) for a, b in pairs]
        p = stats.wilcoxon(logs, method="approx", correction=True).pvalue
        out[key] = (sum(fc) / len(fc), float(p))
    return out


def bench_analysis(patients: int, biomarkers: int) -> None:
    m = synthetic_measurements(patients, biomarkers)
    settings = AnalysisSettings()

    def ours() -> pl.DataFrame:
        return summarise_arms(pair_samples(m, settings), settings)

    t_ours, frame = timed(ours, repeat=2)
    t_naive, naive = timed(lambda: naive_arm_summary(m))
    row = frame.row(0, named=True)
    mean_fc, p = naive[(row["biomarker"], row["arm"])]
    assert abs(mean_fc - row["mean_fc"]) < 1e-9 * mean_fc
    assert abs(p - row["p_wilcoxon"]) < 1e-9
    report(f"arm summary {patients}x{biomarkers} ({m.height} rows)", t_ours, t_naive)


def bench_correlation(patients: int, biomarkers: int) -> None:
    """Pairwise-complete Spearman of every pair against SciPy pair by pair, for the two
    shapes missing values take: whole patients (columns sharing a pattern, ranked as
    blocks) and single values (a pattern per column, ranked pair by pair)."""
    rng = np.random.default_rng(3)
    for shape in ("whole patients", "single values"):
        matrix = rng.normal(size=(patients, biomarkers))
        if shape == "whole patients":
            matrix[rng.random(patients) < 0.05] = np.nan
        else:
            matrix[rng.random(matrix.shape) < 0.05] = np.nan
        t_ours, (rho, _n, _k) = timed(lambda m=matrix: spearman_matrix(m))

        def naive(m: np.ndarray = matrix) -> np.ndarray:
            out = np.full((biomarkers, biomarkers), np.nan)
            for i in range(biomarkers):
                for j in range(i + 1, biomarkers):
                    ok = ~np.isnan(m[:, i]) & ~np.isnan(m[:, j])
                    out[i, j] = stats.spearmanr(m[ok, i], m[ok, j]).statistic
            return out

        t_naive, ref = timed(naive)
        iu = np.triu_indices(biomarkers, 1)
        assert np.allclose(rho[iu], ref[iu], rtol=1e-12, atol=1e-14)
        report(
            f"spearman {biomarkers} biomarkers x {patients} pts, {shape} missing",
            t_ours,
            t_naive,
        )


def bench_import(rows_per_marker: int, folder: Path) -> None:
    m = synthetic_measurements(rows_per_marker, 50)
    csv = folder / "bench_long.csv"
    m.select(
        "study_id",
        "patient_id",
        "arm",
        "timepoint",
        "biomarker",
        "value",
        pl.col("is_baseline").cast(pl.String).str.to_lowercase(),
    ).write_csv(csv)
    db = folder / "bench.duckdb"

    def ours() -> int:
        db.unlink(missing_ok=True)
        con = connect(db, read_only=False)
        try:
            return import_files(con, [csv]).files[0].rows_loaded
        finally:
            con.close()

    t_ours, loaded = timed(ours)

    def naive() -> int:
        path = folder / "naive.duckdb"
        path.unlink(missing_ok=True)
        con = duckdb.connect(str(path))
        con.execute(
            "CREATE TABLE m (study_id VARCHAR, patient_id VARCHAR, arm VARCHAR, "
            "timepoint VARCHAR, biomarker VARCHAR, value DOUBLE, "
            "PRIMARY KEY (study_id, patient_id, timepoint, biomarker))"
        )
        import csv as csvmod

        with csv.open() as handle:
            reader = csvmod.DictReader(handle)
            con.execute("BEGIN")
            for r in reader:  # row-by-row validation and insert
                value = float(r["value"])
                if not math.isfinite(value) or value < 0:
                    raise ValueError("bad value")
                con.execute(
                    "INSERT INTO m VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        r["study_id"],
                        r["patient_id"],
                        r["arm"],
                        r["timepoint"],
                        r["biomarker"],
                        value,
                    ],
                )
            con.execute("COMMIT")
        count = con.execute("SELECT count(*) FROM m").fetchall()[0][0]
        con.close()
        return count

    t_naive, count = timed(naive)
    assert loaded == count
    report(f"import long CSV ({loaded} rows)", t_ours, t_naive, "validated + keyed")


def bench_table(rows: int) -> None:
    from textual.app import App, ComposeResult
    from textual.widgets import DataTable

    from trialtui.tui.widgets.frame_table import FrameTable

    frame = pl.DataFrame(
        {"patient": [f"P{i}" for i in range(rows)], "value": np.arange(rows, dtype=float)}
    )

    class Paged(App):
        def compose(self) -> ComposeResult:
            yield FrameTable()

    class Naive(App):
        def compose(self) -> ComposeResult:
            yield DataTable()

    async def show_paged() -> None:
        app = Paged()
        async with app.run_test(size=(100, 30)) as pilot:
            app.query_one(FrameTable).show(frame)
            await pilot.pause()

    async def show_naive() -> None:
        app = Naive()
        async with app.run_test(size=(100, 30)) as pilot:
            table = app.query_one(DataTable)
            table.add_columns(*frame.columns)
            table.add_rows(frame.iter_rows())
            await pilot.pause()

    t_ours, _ = timed(lambda: asyncio.run(show_paged()))
    t_naive, _ = timed(lambda: asyncio.run(show_naive()))
    report(f"show a {rows}-row table", t_ours, t_naive, "paged vs all rows")


def bench_first_paint(folder: Path) -> None:
    from trialtui.tui.app import TrialApp

    db = build_sample_database(folder / "sample.duckdb", force=True)

    async def launch() -> tuple[float, float]:
        start = time.perf_counter()
        app = TrialApp(db)
        async with app.run_test(size=(120, 36)) as pilot:
            painted = time.perf_counter() - start  # first screen composed and shown
            while app.results is None and app.last_error is None:
                await pilot.pause(0.01)
            return painted, time.perf_counter() - start

    painted, ready = asyncio.run(launch())
    print(f"{'sample: launch to first screen':<38} trialtui {painted:8.3f} s")
    print(f"{'sample: launch to first results':<38} trialtui {ready:8.3f} s")


def bench_scale(patients: int, biomarkers: int) -> None:
    """All result levels of a large study through trialtui.study.compute (no baseline)."""
    from trialtui.study import StudyData, compute

    m = synthetic_measurements(patients, biomarkers, by_sample=True)
    arms = pl.DataFrame({"arm": ["A", "B"], "is_reference": [False, True]})
    data = StudyData(
        "BENCH", {}, arms, pl.DataFrame(), pl.DataFrame(), pl.DataFrame(), pl.DataFrame(), m
    )
    for level in ("arm", "comparison", "correlation"):
        seconds, _ = timed(lambda level=level: compute(data, AnalysisSettings(), levels=(level,)))
        print(
            f"{f'{level} level {patients}x{biomarkers} ({m.height} rows)':<38} "
            f"trialtui {seconds:8.3f} s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--biomarkers", type=int, default=100)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument(
        "--scale",
        action="store_true",
        help="also time every level on 5,000 patients x 500 biomarkers",
    )
    args = parser.parse_args()
    patients, biomarkers = (200, 20) if args.quick else (args.patients, args.biomarkers)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        bench_first_paint(folder)
        bench_analysis(patients, biomarkers)
        bench_correlation(min(patients, 300), min(biomarkers, 100))
        bench_import(min(patients, 300), folder)
        bench_table(20_000 if args.quick else 200_000)
        if args.scale:
            bench_scale(5000, 500)


if __name__ == "__main__":
    main()
