"""The references trialtui is timed against, each a small command run as its own process.

Usage:
    python bench/baselines.py duckdb-parquet FILE.parquet DB   bare DuckDB load of a Parquet file
    python bench/baselines.py duckdb-csv FILE.csv DB           bare DuckDB ``read_csv`` load
    python bench/baselines.py naive-comparison FILE.parquet OUT.csv REFERENCE_ARM

The floors are what DuckDB itself needs to copy the file into a table, with no validation.
The naive comparison is what an analyst would write first: pivot the long file to one
column per (biomarker, timepoint), then loop over biomarkers calling SciPy for the Welch
t-test and the Mann-Whitney test of log2 fold-changes and taking the Hodges-Lehmann shift as
the median of all pairwise differences. Its p-values must equal trialtui's (the runner
checks), so the comparison is of the same result.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import polars as pl


def duckdb_load(source: Path, db: Path, reader: str) -> int:
    """``CREATE TABLE AS SELECT * FROM reader(source)`` in a new database; rows loaded."""
    import duckdb

    con = duckdb.connect(str(db))
    con.execute(f"CREATE TABLE measurements AS SELECT * FROM {reader}(?)", [str(source)])
    rows = con.execute("SELECT count(*) FROM measurements").fetchone()[0]
    con.close()
    return rows


def naive_comparison(measurements: pl.DataFrame, reference_arm: str) -> pl.DataFrame:
    """Per biomarker: p_welch, p_mannwhitney, hl_shift, gmfc_ratio of each arm vs reference.

    Parameters
    ----------
    measurements
        Long frame with patient_id, arm, timepoint, is_baseline, biomarker, value (the
        first timepoint after the baseline is the on-treatment one).
    reference_arm
        The arm every other arm is compared with.
    """
    from scipy import stats

    baseline = measurements.filter(pl.col("is_baseline"))["timepoint"][0]
    later = (
        measurements.filter(~pl.col("is_baseline"))
        .select("timepoint", "visit_day")
        .unique()
        .sort("visit_day")["timepoint"][0]
    )
    wide = (
        measurements.filter(pl.col("timepoint").is_in([baseline, later]))
        .with_columns(pl.format("{}|{}", "biomarker", "timepoint").alias("column"))
        .pivot(on="column", index=["patient_id", "arm"], values="value")
    )
    biomarkers = sorted(measurements["biomarker"].unique().to_list())
    arms = wide["arm"].to_numpy()
    rows = []
    for biomarker in biomarkers:
        pre = wide[f"{biomarker}|{baseline}"].to_numpy()
        post = wide[f"{biomarker}|{later}"].to_numpy()
        log2fc = np.log2(post) - np.log2(pre)
        ok = ~np.isnan(log2fc)
        y = log2fc[ok & (arms == reference_arm)]
        for arm in sorted(set(arms) - {reference_arm}):
            x = log2fc[ok & (arms == arm)]
            welch = stats.ttest_ind(x, y, equal_var=False)
            mw = stats.mannwhitneyu(x, y, use_continuity=True, method="asymptotic")
            rows.append(
                {
                    "biomarker": biomarker,
                    "arm": arm,
                    "n": len(x),
                    "n_reference": len(y),
                    "gmfc_ratio": float(2 ** (x.mean() - y.mean())),
                    "hl_shift": float(np.median(np.subtract.outer(x, y))),
                    "p_welch": float(welch.pvalue),
                    "p_mannwhitney": float(mw.pvalue),
                }
            )
    frame = pl.DataFrame(rows)
    return frame.with_columns(
        pl.Series("q_welch", stats.false_discovery_control(frame["p_welch"].to_numpy())),
        pl.Series(
            "q_mannwhitney", stats.false_discovery_control(frame["p_mannwhitney"].to_numpy())
        ),
    )


def main(argv: list[str]) -> int:
    command, *rest = argv
    if command == "duckdb-parquet":
        print(duckdb_load(Path(rest[0]), Path(rest[1]), "read_parquet"))
    elif command == "duckdb-csv":
        print(duckdb_load(Path(rest[0]), Path(rest[1]), "read_csv"))
    elif command == "naive-comparison":
        naive_comparison(pl.read_parquet(rest[0]), rest[2]).write_csv(rest[1])
    else:
        print(f"unknown baseline {command!r}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
