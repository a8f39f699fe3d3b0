"""What the measurements table's dropped keys protected, guaranteed by the importer.

``measurements`` declares no primary or foreign key (see ``trialtui/store/schema.py``): the
importer is its only writer and must keep (study_id, sample_id, biomarker_id) unique and
every row pointing at a stored sample and biomarker, through re-imports, overlapping files,
duplicate rows and several files in one call.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from trialtui.errors import InputError
from trialtui.store.connection import connect
from trialtui.store.importer import import_files

PATIENTS = [f"P{i}" for i in range(1, 7)]


def long_rows(biomarkers: list[str], *, patients: list[str] = PATIENTS, shift: float = 0.0):
    rows = []
    for i, patient in enumerate(patients):
        for t, (timepoint, day) in enumerate((("pre", 0), ("post", 28))):
            for b, biomarker in enumerate(biomarkers):
                rows.append(
                    {
                        "study_id": "S1",
                        "patient_id": patient,
                        "arm": "A" if i % 2 else "B",
                        "timepoint": timepoint,
                        "visit_day": day,
                        "biomarker": biomarker,
                        "value": 10.0 + i + 5 * t + b + shift,
                    }
                )
    return pl.DataFrame(rows)


def key_problems(db: Path) -> dict[str, int]:
    con = connect(db, read_only=True)
    try:
        row = con.execute(
            """
            SELECT
              (SELECT count(*) - count(DISTINCT (study_id, sample_id, biomarker_id))
               FROM measurements),
              (SELECT count(*) FROM measurements m
               WHERE NOT EXISTS (SELECT 1 FROM samples s
                                 WHERE s.study_id = m.study_id AND s.sample_id = m.sample_id)),
              (SELECT count(*) FROM measurements m
               WHERE NOT EXISTS (SELECT 1 FROM biomarkers b
                                 WHERE b.biomarker_id = m.biomarker_id)),
              (SELECT count(*) FROM measurements)
            """
        ).fetchone()
    finally:
        con.close()
    return dict(
        zip(("duplicates", "orphan_samples", "orphan_biomarkers", "rows"), row, strict=True)
    )


def load(db: Path, *paths: Path):
    con = connect(db, read_only=False)
    try:
        return import_files(con, list(paths))
    finally:
        con.close()


def test_reimports_and_overlapping_files_never_duplicate_or_orphan(tmp_path: Path) -> None:
    db = tmp_path / "t.duckdb"
    first = tmp_path / "first.csv"
    long_rows(["CD8", "FAP"]).write_csv(first)
    load(db, first)
    assert key_problems(db) == {
        "duplicates": 0,
        "orphan_samples": 0,
        "orphan_biomarkers": 0,
        "rows": 24,
    }
    assert load(db, first).files[0].status == "unchanged"  # the same file again
    # the same content as Parquet (another sha256), and a file overlapping the first
    # with the same values plus a new biomarker, in one call
    again = tmp_path / "again.parquet"
    long_rows(["CD8", "FAP"]).write_parquet(again)
    overlap = tmp_path / "overlap.csv"
    long_rows(["FAP", "KI67"]).with_columns(
        pl.when(pl.col("biomarker") == "KI67")
        .then(pl.col("value"))
        .otherwise(
            pl.col("value") + 1  # FAP is biomarker 0 here, 1 in the first file
        )
        .alias("value")
    ).write_csv(overlap)
    load(db, again, overlap)
    assert key_problems(db) == {
        "duplicates": 0,
        "orphan_samples": 0,
        "orphan_biomarkers": 0,
        "rows": 36,
    }


def test_duplicate_rows_within_a_file_load_once(tmp_path: Path) -> None:
    db = tmp_path / "t.duckdb"
    rows = long_rows(["CD8"])
    doubled = tmp_path / "doubled.csv"
    pl.concat([rows, rows.head(5)]).write_csv(doubled)
    result = load(db, doubled).files[0]
    assert result.rows_loaded == rows.height
    assert key_problems(db)["duplicates"] == 0


def test_conflicting_duplicates_and_sample_ids_are_refused_and_nothing_loads(
    tmp_path: Path,
) -> None:
    db = tmp_path / "t.duckdb"
    rows = long_rows(["CD8"])
    clash = tmp_path / "clash.csv"
    pl.concat([rows, rows.head(1).with_columns(pl.col("value") + 1)]).write_csv(clash)
    with pytest.raises(InputError, match="duplicate measurement"):
        load(db, clash)
    assert not db.exists() or key_problems(db)["rows"] == 0
    named = tmp_path / "named.csv"
    # one sample id for two patients: would break (study_id, sample_id) -> one patient
    rows.with_columns(pl.lit("S-1").alias("sample_id")).write_csv(named)
    with pytest.raises(InputError, match="sample"):
        load(db, named)
    assert key_problems(db)["rows"] == 0
