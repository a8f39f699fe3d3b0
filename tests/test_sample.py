"""The bundled synthetic sample trial: a deterministic generator and its calibration.

The calibration figures are computed here straight from the DuckDB tables with SQL and
Polars, independently of ``trialtui.analysis``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest
from conftest import REPO
from scipy.stats import spearmanr

from trialtui.errors import UsageError
from trialtui.resources import sample_data_dir
from trialtui.store.sample import SAMPLE_FILES, build_sample_database

COMBO = "Defactinib + Pembrolizumab"
PEMBRO = "Pembrolizumab"
GENERATED = (*SAMPLE_FILES, "studies.json")


@pytest.fixture(scope="module")
def con(sample_db: Path):
    connection = duckdb.connect(str(sample_db), read_only=True)
    yield connection
    connection.close()


def values(con: duckdb.DuckDBPyConnection, study_id: str) -> pl.DataFrame:
    """Every measurement of a study; below-LLOQ values as LLOQ/2."""
    return con.sql(
        """
        SELECT s.patient_id, p.arm_id AS arm, s.timepoint, t.is_baseline,
               m.biomarker_id AS biomarker,
               CASE WHEN m.below_lloq THEN coalesce(m.lloq, b.lloq) / 2 ELSE m.value END AS v
        FROM measurements m
        JOIN samples s USING (study_id, sample_id)
        JOIN patients p ON p.study_id = s.study_id AND p.patient_id = s.patient_id
        JOIN timepoints t ON t.study_id = s.study_id AND t.timepoint = s.timepoint
        JOIN biomarkers b ON b.study_id = m.study_id AND b.biomarker_id = m.biomarker_id
        WHERE m.study_id = ?
        """,
        params=[study_id],
    ).pl()


def pairs(con: duckdb.DuckDBPyConnection, study_id: str, post: str) -> pl.DataFrame:
    """One row per patient and biomarker with both a baseline and a ``post`` value.

    Columns: patient_id, arm, biomarker, pre, post, fc, log2fc.
    """
    frame = values(con, study_id)
    pre = frame.filter(pl.col("is_baseline")).select(
        "patient_id", "arm", "biomarker", pl.col("v").alias("pre")
    )
    after = frame.filter(pl.col("timepoint") == post).select(
        "patient_id", "biomarker", pl.col("v").alias("post")
    )
    return pre.join(after, on=["patient_id", "biomarker"], how="inner").with_columns(
        (pl.col("post") / pl.col("pre")).alias("fc"),
        (pl.col("post").log(2) - pl.col("pre").log(2)).alias("log2fc"),
    )


def arm_means(frame: pl.DataFrame, biomarker: str, column: str) -> dict[str, float]:
    return dict(
        frame.filter(pl.col("biomarker") == biomarker)
        .group_by("arm")
        .agg(pl.col(column).mean())
        .iter_rows()
    )


# ----------------------------------------------------------------------------- generator


def test_generator_is_deterministic(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "sample_data" / "generate.py"),
            "--out",
            str(tmp_path),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(GENERATED)
    for name in GENERATED:
        fresh = (tmp_path / name).read_bytes()
        assert fresh == (REPO / "sample_data" / name).read_bytes(), name
        assert fresh == (sample_data_dir() / name).read_bytes(), name


def test_sample_readme_says_synthetic() -> None:
    text = (REPO / "sample_data" / "README.md").read_text(encoding="utf-8")
    assert "synthetic" in text.lower()
    assert "5.44" in text and "2.01" in text


def test_build_refuses_to_overwrite(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    db.write_bytes(b"keep")
    with pytest.raises(UsageError, match="already exists"):
        build_sample_database(db)
    assert db.read_bytes() == b"keep"
    build_sample_database(db, force=True)
    assert db.read_bytes() != b"keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.duckdb"]


# ----------------------------------------------------------------------------- content


def test_two_studies_with_metadata(con) -> None:
    rows = con.execute("SELECT study_id, title, source FROM studies ORDER BY 1").fetchall()
    assert [r[0] for r in rows] == ["PDAC-DEF-1", "PDAC-DEF-2"]
    for _, title, source in rows:
        assert title and "synthetic" in title.lower()
        assert "synthetic" in source
    reference = con.execute(
        "SELECT arm_id FROM arms WHERE study_id = 'PDAC-DEF-2' AND is_reference"
    ).fetchall()
    assert reference == [(PEMBRO,)]


def test_randomized_study_arms_have_at_least_18_patients(con) -> None:
    counts = dict(
        con.execute(
            "SELECT arm_id, count(*) FROM patients WHERE study_id = 'PDAC-DEF-2' GROUP BY 1"
        ).fetchall()
    )
    assert set(counts) == {COMBO, PEMBRO}
    assert all(n >= 18 for n in counts.values()), counts


def test_at_least_ten_biomarkers_with_units_assays_lloqs(con) -> None:
    rows = con.execute(
        """
        SELECT b.biomarker_id, b.unit, b.assay, b.lloq FROM biomarkers b
        WHERE b.biomarker_id IN (SELECT biomarker_id FROM measurements
                                 WHERE study_id = 'PDAC-DEF-2')
        """
    ).fetchall()
    assert len(rows) >= 10
    for marker, unit, assay, lloq in rows:
        assert unit and assay and lloq is not None and lloq > 0, marker
    ids = {r[0] for r in rows}
    assert {
        "CD8",
        "FAP",
        "CD68",
        "CD206",
        "CD86",
        "TREG",
        "CD15",
        "MDSC",
        "COLLAGEN",
        "PFAK",
    } <= ids


def test_about_ten_percent_of_post_biopsies_missing(con) -> None:
    [(patients, with_post)] = con.execute(
        """
        SELECT count(*),
               count_if(EXISTS (SELECT 1 FROM samples s
                                WHERE s.study_id = p.study_id AND s.patient_id = p.patient_id
                                  AND s.timepoint = 'Surgery'))
        FROM patients p WHERE p.study_id = 'PDAC-DEF-2'
        """
    ).fetchall()
    missing = 1 - with_post / patients
    assert 0.05 <= missing <= 0.15, (patients, with_post)


def test_some_values_below_lloq(con) -> None:
    rows = con.execute(
        "SELECT study_id, value, lloq, raw_value FROM measurements WHERE below_lloq"
    ).fetchall()
    assert {r[0] for r in rows} == {"PDAC-DEF-1", "PDAC-DEF-2"}
    for _, value, lloq, raw in rows:
        assert value is None and lloq > 0 and raw.startswith("<")
    total = con.execute("SELECT count(*) FROM measurements").fetchall()[0][0]
    assert 0 < len(rows) < 0.05 * total


def test_every_patient_has_a_response(con) -> None:
    responses = con.execute("SELECT response, count(*) FROM patients GROUP BY 1").fetchall()
    assert {r for r, _ in responses} <= {"CR", "PR", "SD", "PD", "NE"}
    assert None not in {r for r, _ in responses}
    assert sum(n for _, n in responses) == 54


# ----------------------------------------------------------------------------- calibration


@pytest.fixture(scope="module")
def def2(con) -> pl.DataFrame:
    return pairs(con, "PDAC-DEF-2", "Surgery")


def test_cd8_arithmetic_mean_fold_change(def2: pl.DataFrame) -> None:
    cd8 = def2.filter(pl.col("biomarker") == "CD8")
    assert dict(cd8.group_by("arm").len().iter_rows()) == {COMBO: 18, PEMBRO: 18}
    means = arm_means(def2, "CD8", "fc")
    assert means[COMBO] == pytest.approx(5.44, abs=0.05)
    assert means[PEMBRO] == pytest.approx(2.01, abs=0.05)


def test_fap_falls_more_with_the_combination(def2: pl.DataFrame) -> None:
    fap = arm_means(def2, "FAP", "log2fc")
    assert fap[COMBO] < 0
    assert fap[COMBO] < fap[PEMBRO] - 0.5


def test_fap_change_correlates_negatively_with_cd8_change(def2: pl.DataFrame) -> None:
    wide = (
        def2.filter(pl.col("biomarker").is_in(["CD8", "FAP"]))
        .pivot(on="biomarker", index=["patient_id", "arm"], values="log2fc")
        .drop_nulls()
    )
    pooled = spearmanr(wide["FAP"], wide["CD8"])
    assert pooled.statistic < 0 and pooled.pvalue < 0.05
    combo = wide.filter(pl.col("arm") == COMBO)
    assert spearmanr(combo["FAP"], combo["CD8"]).statistic < 0


def test_macrophages_fall_and_m1_rises_with_the_combination(def2: pl.DataFrame) -> None:
    for marker in ("CD68", "CD206"):
        means = arm_means(def2, marker, "log2fc")
        assert means[COMBO] < 0, marker
        assert means[COMBO] < means[PEMBRO], marker
    cd86 = arm_means(def2, "CD86", "log2fc")
    assert cd86[COMBO] > cd86[PEMBRO]


def test_single_arm_study_has_three_timepoints_and_macrophages_fall(con) -> None:
    timepoints = con.execute(
        "SELECT timepoint, is_baseline FROM timepoints WHERE study_id = 'PDAC-DEF-1' "
        "ORDER BY ordinal"
    ).fetchall()
    assert timepoints == [("Baseline", True), ("C2D1", False), ("Surgery", False)]
    arms = con.execute("SELECT count(*) FROM arms WHERE study_id = 'PDAC-DEF-1'").fetchall()
    assert arms == [(1,)]
    change = {
        post: pairs(con, "PDAC-DEF-1", post).filter(pl.col("biomarker") == "CD68")["log2fc"].mean()
        for post in ("C2D1", "Surgery")
    }
    assert change["C2D1"] < 0
    assert change["Surgery"] < change["C2D1"]
