"""trialtui at omics scale: each step against its floor or naive baseline, in one run.

Usage: python bench/run.py [--sizes 1,2.5,5,10] [--biomarkers 1000] [--timepoints 2]
       [--arms 2] [--missing 0.05] [--json FILE] [--workdir DIR] [--naive-up-to M]

For every size (millions of measurement rows; patients = rows / (biomarkers x timepoints))
the runner generates a trial as Parquet and CSV (``bench/generate.py``) and runs each step
as its own process, as a user would, recording wall time and peak resident memory:

- ``import parquet`` / ``import csv``: ``trialtui import`` into a new database, against
  the bare DuckDB load of the same file (``CREATE TABLE AS SELECT * FROM read_parquet`` or
  ``read_csv``, no validation);
- ``stats comparison``: ``trialtui stats --level comparison``, against the naive pivot and
  per-biomarker SciPy loop of ``bench/baselines.py``, whose p-values must agree;
- ``export (all but correlation)``, ``stats correlation``, ``trialtui --version``;
- ``app``: time to the study's name, arms and timepoints on screen and to the statistics
  being ready (``bench/app_probe.py``; the median of three runs), the first against a bare
  Textual app showing the same facts (``bench/textual_floor.py``, the median of three).

It prints the table at the largest size, the growth per doubling of rows across sizes and
the peak memory, and writes every figure as JSON with ``--json``. Ratios measured in one
run are what to compare: the machine's load changes the seconds.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import polars as pl

BENCH = Path(__file__).resolve().parent


REFERENCE_ARM = "Placebo"


# The app's times are the shortest and the noisiest: each is the median of this many runs
# of the probe (each run listed in the JSON), its peak memory the largest.
APP_RUNS = 3


@dataclass
class Step:
    """One timed process."""

    name: str
    seconds: float
    peak_rss_mb: float
    command: list[str]


def run_timed(name: str, command: list[str], *, stdout: Path | None = None) -> Step:
    """Run ``command`` to completion; its wall time and peak RSS (of it and its children)."""
    out = stdout.open("wb") if stdout is not None else subprocess.DEVNULL
    try:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        stderr = process.stderr.read().decode() if process.stderr else ""
        process.stderr.close()
    finally:
        if stdout is not None:
            out.close()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise RuntimeError(f"{name} failed ({code}): {' '.join(command)}\n{stderr.strip()}")
    return Step(name, seconds, usage.ru_maxrss / 1024, command)


def trialtui(*args: str) -> list[str]:
    return [sys.executable, "-m", "trialtui", *args]


def check_agreement(ours: Path, naive: Path) -> float:
    """Largest relative difference of the p-values of trialtui and the naive baseline."""
    a = pl.read_csv(ours).select("biomarker", "arm", "p_welch", "p_mannwhitney", "n")
    b = pl.read_csv(naive).select("biomarker", "arm", "p_welch", "p_mannwhitney", "n")
    joined = a.join(b, on=["biomarker", "arm"], suffix="_naive")
    if joined.height != a.height or joined.height != b.height:
        raise RuntimeError("trialtui and the naive baseline give different biomarkers")
    if (joined["n"] != joined["n_naive"]).any():
        raise RuntimeError("trialtui and the naive baseline pair different patients")
    worst = 0.0
    for column in ("p_welch", "p_mannwhitney"):
        rel = ((joined[column] - joined[f"{column}_naive"]).abs() / joined[column]).max()
        worst = max(worst, float(rel or 0.0))
    if worst > 1e-9:
        raise RuntimeError(f"p-values differ from the naive baseline (relative {worst:.2e})")
    return worst


def run_size(
    rows_m: float, args: argparse.Namespace, folder: Path, *, naive: bool
) -> dict[str, object]:
    """Every step at one size; a dict of Step records and the size's facts."""
    patients = max(4, round(rows_m * 1e6 / (args.biomarkers * args.timepoints)))
    # generated in a child process: this one stays small, so that the peak memory of each
    # step (whose count starts from a fork of this process) is the step's own
    parquet, csv = folder / "trial.parquet", folder / "trial.csv"
    written = subprocess.run(
        [
            sys.executable,
            str(BENCH / "generate.py"),
            str(parquet),
            str(csv),
            *("--patients", str(patients), "--biomarkers", str(args.biomarkers)),
            *("--timepoints", str(args.timepoints), "--arms", str(args.arms)),
            *("--missing", str(args.missing), "--seed", str(args.seed)),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = int(written.stdout.split(": ")[1].split()[0])
    db = folder / "trial.duckdb"
    for leftover in folder.glob("*.duckdb*"):
        leftover.unlink()
    baselines = str(BENCH / "baselines.py")
    settings = ["--reference-arm", REFERENCE_ARM]
    steps: list[Step] = []

    def add(step: Step) -> None:
        steps.append(step)
        print(f"  {rows_m:g} M  {step.name:<30} {step.seconds:8.2f} s {step.peak_rss_mb:8.0f} MB")

    add(
        run_timed(
            "duckdb load parquet",
            [
                sys.executable,
                baselines,
                "duckdb-parquet",
                str(parquet),
                str(folder / "floor_p.duckdb"),
            ],
        )
    )
    add(run_timed("import parquet", trialtui("import", str(parquet), "--db", str(db))))
    add(
        run_timed(
            "duckdb read_csv",
            [sys.executable, baselines, "duckdb-csv", str(csv), str(folder / "floor_c.duckdb")],
        )
    )
    add(run_timed("import csv", trialtui("import", str(csv), "--db", str(folder / "csv.duckdb"))))
    ours = folder / "comparison.csv"
    add(
        run_timed(
            "stats comparison",
            trialtui(
                "stats", "--db", str(db), "--level", "comparison", "--format", "csv", *settings
            ),
            stdout=ours,
        )
    )
    agreement = None
    if naive:
        naive_out = folder / "naive.csv"
        add(
            run_timed(
                "naive comparison",
                [
                    sys.executable,
                    baselines,
                    "naive-comparison",
                    str(parquet),
                    str(naive_out),
                    REFERENCE_ARM,
                ],
            )
        )
        agreement = check_agreement(ours, naive_out)
    out = folder / "export"
    out.mkdir(exist_ok=True)
    levels = [a for lvl in ("patient", "arm", "comparison", "response") for a in ("--level", lvl)]
    add(
        run_timed(
            "export (all but correlation)",
            trialtui("export", "--db", str(db), "-o", str(out), "--force", *levels, *settings),
        )
    )
    if rows_m <= args.correlation_up_to:
        add(
            run_timed(
                "stats correlation",
                trialtui(
                    "stats", "--db", str(db), "--level", "correlation", "--format", "csv", *settings
                ),
            )
        )
    add(run_timed("--version", trialtui("--version")))
    probe = folder / "probe.json"
    runs, timed = [], []
    for _ in range(APP_RUNS):
        timed.append(
            run_timed("app", [sys.executable, str(BENCH / "app_probe.py"), str(db), str(probe)])
        )
        runs.append(json.loads(probe.read_text()))
    app = {field: statistics.median(run[field] for run in runs) for field in runs[0]}
    app["runs"] = runs
    floors = []
    for _ in range(APP_RUNS):  # the same facts in a bare Textual app: the first frame's floor
        run_timed(
            "textual floor", [sys.executable, str(BENCH / "textual_floor.py"), str(db), str(probe)]
        )
        floors.append(json.loads(probe.read_text())["first_content"])
    app["floor_first_content"] = statistics.median(floors)
    app["floor_runs"] = floors
    add(
        Step(
            "app",
            statistics.median(step.seconds for step in timed),
            max(step.peak_rss_mb for step in timed),
            timed[0].command,
        )
    )
    for leftover in folder.iterdir():
        if leftover.is_file():
            leftover.unlink()
    return {
        "rows_millions": rows_m,
        "rows": rows,
        "patients": patients,
        "steps": {s.name: asdict(s) for s in steps},
        "app": app,
        "p_value_agreement": agreement,
    }


def seconds(size: dict, name: str) -> float | None:
    step = size["steps"].get(name)
    return step["seconds"] if step else None


def print_table(size: dict) -> None:
    """The headline table at one size."""
    app = size["app"]
    pairs = [  # (label, step, reference step, reference label, reference is a floor)
        ("import (Parquet)", "import parquet", "duckdb load parquet", "bare DuckDB load", True),
        ("import (CSV)", "import csv", "duckdb read_csv", "bare DuckDB read_csv", True),
        (
            "stats --level comparison",
            "stats comparison",
            "naive comparison",
            "naive pivot + SciPy loop",
            False,
        ),
        ("export, every level but correlation", "export (all but correlation)", None, "", False),
        ("stats --level correlation", "stats correlation", None, "", False),
        ("--version", "--version", None, "", False),
    ]
    print(
        f"\n{size['rows']:,} rows ({size['patients']:,} patients); seconds, same run\n"
        f"| step | trialtui | reference | ratio |\n|---|---|---|---|"
    )
    for label, ours_name, ref_name, ref_label, floor in pairs:
        ours = seconds(size, ours_name)
        ref = seconds(size, ref_name) if ref_name else None
        if ours is None:
            print(f"| {label} | not run at this size | | |")
        elif ref is None:
            print(f"| {label} | {ours:.2f} | | |")
        elif floor:
            print(f"| {label} | {ours:.2f} | {ref_label} {ref:.2f} | {ours / ref:.1f}x the floor |")
        else:
            print(f"| {label} | {ours:.2f} | {ref_label} {ref:.2f} | {ref / ours:.1f}x faster |")
    first, floor = app["first_content"], app.get("floor_first_content")
    reference = (
        f"bare Textual app showing them {floor:.2f} | {first / floor:.1f}x the floor"
        if floor
        else " |"
    )
    print(
        f"| app: study, arms, timepoints on screen | {first:.2f} | {reference} |\n"
        f"| app: statistics ready | {app['statistics_ready']:.2f} | | |\n"
        f"| app: screen switch | {app['screen_switch']:.3f} | | |"
    )


def print_growth(sizes: list[dict]) -> None:
    """Seconds per size and the slow-down per doubling of rows between neighbours."""
    names = list(sizes[-1]["steps"])
    header = " | ".join(f"{s['rows_millions']:g} M" for s in sizes)
    print(f"\ngrowth (seconds)\n| step | {header} | worst x per doubling |")
    print("|---" * (len(sizes) + 2) + "|")
    for name in names:
        times = [seconds(s, name) for s in sizes]
        worst = per_doubling(sizes, times)
        cells = " | ".join("" if t is None else f"{t:.2f}" for t in times)
        print(f"| {name} | {cells} | {'' if worst is None else f'{worst:.2f}'} |")


def per_doubling(sizes: list[dict], times: list[float | None]) -> float | None:
    """The largest factor by which time grows when the rows double, between neighbours."""
    factors = []
    for (a, ta), (b, tb) in zip(
        zip(sizes, times, strict=True), zip(sizes[1:], times[1:], strict=True), strict=False
    ):
        if ta and tb:
            factors.append((tb / ta) ** (math.log(2) / math.log(b["rows"] / a["rows"])))
    return max(factors) if factors else None


def print_memory(size: dict) -> None:
    print("\npeak resident memory (MB)")
    for name, step in size["steps"].items():
        print(f"  {name:<32} {step['peak_rss_mb']:8.0f}")


def machine() -> dict[str, object]:
    load = os.getloadavg()
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "load_average_at_start": [round(x, 2) for x in load],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,2.5,5,10", help="millions of rows, comma-separated")
    parser.add_argument("--biomarkers", type=int, default=1000)
    parser.add_argument("--timepoints", type=int, default=2)
    parser.add_argument("--arms", type=int, default=2)
    parser.add_argument("--missing", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--naive-up-to", type=float, default=math.inf, help="run the naive baseline up to M rows"
    )
    parser.add_argument(
        "--correlation-up-to",
        type=float,
        default=math.inf,
        help="time the correlation level up to M rows",
    )
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    parser.add_argument("--workdir", type=Path, help="folder for the generated files")
    args = parser.parse_args()
    sizes = sorted(float(s) for s in args.sizes.split(","))
    info = machine()
    print(f"machine: {info}")
    results = []
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        for rows_m in sizes:
            results.append(run_size(rows_m, args, Path(tmp), naive=rows_m <= args.naive_up_to))
    info["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print_table(results[-1])
    if len(results) > 1:
        print_growth(results)
    print_memory(results[-1])
    print(
        f"\nload average at start {info['load_average_at_start']}, "
        f"end {info['load_average_at_end']}"
    )
    if args.json:
        args.json.write_text(json.dumps({"machine": info, "sizes": results}, indent=2))


if __name__ == "__main__":
    main()
