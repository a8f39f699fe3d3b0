"""Synthetic long-format trials at any scale, as CSV or Parquet, for the benchmarks.

Usage: python bench/generate.py OUT.parquet|OUT.csv [--patients N] [--biomarkers B]
       [--timepoints T] [--arms A] [--missing F] [--seed S]

One row per measurement: study_id, patient_id, arm, timepoint, visit_day, is_baseline,
biomarker, value. Patients are assigned to arms in turn; the first arm is named
``Placebo`` so that it is chosen as the reference. Baseline values are log-normal per
biomarker, each on-treatment value is the baseline times a log-normal change whose mean
differs between arms for one biomarker in ten. Values are rounded to four significant
digits, as a lab transfer would be, which gives the ties real data have (and with them
the normal-approximation path of the rank tests). ``missing`` is the fraction of
measurements left out: half of it as whole biopsies (every biomarker of a sample), half as
single values.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import polars as pl

STUDY_ID = "BENCH"


def arm_names(arms: int) -> list[str]:
    """``Placebo`` then ``Drug A``, ``Drug B``, ..."""
    return ["Placebo"] + [f"Drug {chr(ord('A') + i)}" for i in range(arms - 1)]


def timepoint_names(timepoints: int) -> list[str]:
    """``BL`` then ``W4``, ``W8``, ... (a visit every four weeks)."""
    return ["BL"] + [f"W{4 * i}" for i in range(1, timepoints)]


def synthetic_trial(
    patients: int,
    biomarkers: int,
    *,
    timepoints: int = 2,
    arms: int = 2,
    missing: float = 0.05,
    seed: int = 7,
) -> pl.DataFrame:
    """A long-format trial of ``patients`` x ``biomarkers`` x ``timepoints`` measurements.

    Parameters
    ----------
    patients, biomarkers, timepoints, arms
        Sizes; ``timepoints`` >= 2 and ``arms`` >= 1.
    missing
        Fraction of measurements left out (0 <= missing < 1).
    seed
        Seed of NumPy's default generator: the same arguments give the same frame.

    Returns
    -------
    polars.DataFrame
        Columns study_id, patient_id, arm, timepoint, visit_day, is_baseline, biomarker,
        value; about ``patients * biomarkers * timepoints * (1 - missing)`` rows, sorted
        by patient, timepoint and biomarker.
    """
    if timepoints < 2 or arms < 1 or patients < 1 or biomarkers < 1:
        raise ValueError("need patients, biomarkers, arms >= 1 and timepoints >= 2")
    if not 0 <= missing < 1:
        raise ValueError("missing must be in [0, 1)")
    rng = np.random.default_rng(seed)
    cells = patients * timepoints * biomarkers
    patient = np.repeat(np.arange(patients, dtype=np.int32), timepoints * biomarkers)
    visit = np.tile(np.repeat(np.arange(timepoints, dtype=np.int8), biomarkers), patients)
    marker = np.tile(np.arange(biomarkers, dtype=np.int32), patients * timepoints)
    arm = patient % arms

    level = rng.normal(4.0, 1.0, biomarkers)  # log scale of each biomarker
    effect = np.where(np.arange(biomarkers) % 10 == 0, 0.5, 0.0)  # arm effect per biomarker
    base = rng.lognormal(0.0, 0.8, (patients, biomarkers)) * np.exp(level)
    values = np.repeat(base, timepoints, axis=0).reshape(-1)
    later = visit > 0
    drift = 0.2 + effect[marker[later]] * arm[later]
    values[later] *= np.exp(rng.normal(drift, 0.6))
    scale = 10.0 ** (3 - np.floor(np.log10(values)))  # four significant digits
    values = np.round(values * scale) / scale

    keep = np.ones(cells, dtype=bool)
    if missing > 0:
        biopsy_kept = rng.random(patients * timepoints) >= missing / 2
        keep &= np.repeat(biopsy_kept, biomarkers)
        keep &= rng.random(cells) >= missing / 2

    arm_labels = pl.Series(arm_names(arms))
    visit_labels = pl.Series(timepoint_names(timepoints))
    frame = pl.DataFrame(
        {
            "patient": patient[keep],
            "visit": visit[keep],
            "marker": marker[keep],
            "value": values[keep],
        }
    )
    return frame.select(
        pl.lit(STUDY_ID).alias("study_id"),
        pl.format("P{}", pl.col("patient").cast(pl.String).str.zfill(5)).alias("patient_id"),
        arm_labels.gather(pl.Series(arm[keep])).alias("arm"),
        visit_labels.gather(pl.Series(visit[keep].astype(np.int32))).alias("timepoint"),
        (pl.col("visit").cast(pl.Int32) * 28 + 1).alias("visit_day"),
        (pl.col("visit") == 0).alias("is_baseline"),
        pl.format("M{}", pl.col("marker").cast(pl.String).str.zfill(4)).alias("biomarker"),
        "value",
    )


def write_trial(frame: pl.DataFrame, path: Path) -> Path:
    """Write ``frame`` as CSV or Parquet, chosen by the suffix of ``path``."""
    path = Path(path)
    if path.suffix == ".parquet":
        frame.write_parquet(path)
    elif path.suffix == ".csv":
        frame.write_csv(path)
    else:
        raise ValueError(f"{path}: the name must end in .csv or .parquet")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, nargs="+", help="files to write (.csv, .parquet)")
    parser.add_argument("--patients", type=int, default=5000)
    parser.add_argument("--biomarkers", type=int, default=1000)
    parser.add_argument("--timepoints", type=int, default=2)
    parser.add_argument("--arms", type=int, default=2)
    parser.add_argument("--missing", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    frame = synthetic_trial(
        args.patients,
        args.biomarkers,
        timepoints=args.timepoints,
        arms=args.arms,
        missing=args.missing,
        seed=args.seed,
    )
    for out in args.out:
        write_trial(frame, out)
        print(f"{out}: {frame.height} rows")


if __name__ == "__main__":
    main()
