"""CDISC ADaM BDS datasets (SAS XPT or CSV): mapping, derived records, errors."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pyreadstat
import pytest

PILOT = Path(__file__).resolve().parents[2] / "shared" / "data" / "cdisc_pilot" / "adqscibc.xpt"


def bds(rows: list[tuple]) -> pl.DataFrame:
    """A small BDS dataset: USUBJID, TRTP, AVISIT, ADY, PARAMCD, PARAM, AVAL, ABLFL, DTYPE."""
    return pl.DataFrame(
        rows,
        schema={
            "STUDYID": pl.String,
            "USUBJID": pl.String,
            "TRTP": pl.String,
            "AVISIT": pl.String,
            "ADY": pl.Float64,
            "PARAMCD": pl.String,
            "PARAM": pl.String,
            "AVAL": pl.Float64,
            "ABLFL": pl.String,
            "DTYPE": pl.String,
        },
        orient="row",
    )


GOOD = [
    ("S1", "S1-001", "Drug", "Screening", -5.0, "CD8", "CD8+ T cells", 100.0, "Y", ""),
    ("S1", "S1-001", "Drug", "Week 4", 28.0, "CD8", "CD8+ T cells", 400.0, "", ""),
    ("S1", "S1-002", "Placebo", "Screening", -3.0, "CD8", "CD8+ T cells", 50.0, "Y", ""),
    ("S1", "S1-002", "Placebo", "Week 4", 29.0, "CD8", "CD8+ T cells", 60.0, "", ""),
    # an imputed record (last observation carried forward) is not an observation
    ("S1", "S1-003", "Placebo", "Screening", -2.0, "CD8", "CD8+ T cells", 70.0, "Y", ""),
    ("S1", "S1-003", "Placebo", "Week 4", -2.0, "CD8", "CD8+ T cells", 70.0, "", "LOCF"),
]


def measurements(db: Path) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(
            "SELECT s.patient_id, s.timepoint, m.biomarker_id, m.value FROM measurements m "
            "JOIN samples s USING (study_id, sample_id) ORDER BY 1, 2"
        ).fetchall()
    finally:
        con.close()


def test_xpt_import_maps_bds_variables(run_cli, tmp_path: Path) -> None:
    xpt = tmp_path / "adlb.xpt"
    pyreadstat.write_xport(bds(GOOD), str(xpt))
    db = tmp_path / "t.duckdb"
    result = run_cli("import", str(xpt), "--db", str(db))
    assert result.returncode == 0, result.stderr
    assert "adam format" in result.stdout
    assert "1 derived or non-analysis ADaM records left out" in result.stdout
    assert measurements(db) == [
        ("S1-001", "Screening", "CD8", 100.0),
        ("S1-001", "Week 4", "CD8", 400.0),
        ("S1-002", "Screening", "CD8", 50.0),
        ("S1-002", "Week 4", "CD8", 60.0),
        ("S1-003", "Screening", "CD8", 70.0),
    ]
    con = duckdb.connect(str(db), read_only=True)
    try:
        baseline = con.execute("SELECT timepoint FROM timepoints WHERE is_baseline").fetchall()
        arms = con.execute("SELECT arm_id FROM arms ORDER BY 1").fetchall()
        label = con.execute("SELECT label FROM biomarkers").fetchall()
    finally:
        con.close()
    assert baseline == [("Screening",)]
    assert arms == [("Drug",), ("Placebo",)]
    assert label == [("CD8+ T cells",)]
    stats = run_cli("stats", "--db", str(db), "--level", "patient", "--format", "csv")
    assert stats.returncode == 0, stats.stderr
    fc = pl.read_csv(stats.stdout.encode())
    assert fc.filter(pl.col("patient_id") == "S1-001")["fc"].to_list() == [4.0]


def test_adam_csv_is_detected(run_cli, tmp_path: Path) -> None:
    csv = tmp_path / "adlb.csv"
    bds(GOOD).write_csv(csv)
    result = run_cli("import", str(csv), "--db", str(tmp_path / "t.duckdb"))
    assert result.returncode == 0, result.stderr
    assert "adam format" in result.stdout


def test_adam_errors_name_the_source_variable(run_cli, one_line_error, tmp_path: Path) -> None:
    rows = [*GOOD[:2], ("S1", "S1-001", "Drug", "Week 4", 28.0, "CD8", "CD8+", 450.0, "", "")]
    xpt = tmp_path / "dup.xpt"
    pyreadstat.write_xport(bds(rows), str(xpt))
    db = tmp_path / "t.duckdb"
    result = run_cli("import", str(xpt), "--db", str(db))
    one_line_error(result, str(xpt), "row 3", "column 'AVAL'", "duplicate measurement")
    assert not db.exists()


def test_adam_missing_variable(run_cli, one_line_error, tmp_path: Path) -> None:
    xpt = tmp_path / "bad.xpt"
    pyreadstat.write_xport(bds(GOOD).drop("AVISIT"), str(xpt))
    result = run_cli("validate", str(xpt), "--format", "adam")
    assert result.returncode == 1
    assert "missing required ADaM variable(s) 'AVISIT'" in result.stdout


def test_corrupt_xpt_is_one_line_error(run_cli, one_line_error, tmp_path: Path) -> None:
    xpt = tmp_path / "broken.xpt"
    xpt.write_bytes(b"HEADER RECORD*******LIBRARY HEADER RECORD!!!!!!!" + b"\x00" * 40)
    result = run_cli("import", str(xpt), "--db", str(tmp_path / "t.duckdb"))
    one_line_error(result, str(xpt), "cannot read SAS transport")


@pytest.mark.skipif(not PILOT.exists(), reason="CDISC pilot data not beside the project")
def test_cdisc_pilot_adqscibc(run_cli, tmp_path: Path) -> None:
    db = tmp_path / "pilot.duckdb"
    result = run_cli("import", str(PILOT), "--db", str(db))
    assert result.returncode == 0, result.stderr
    # 730 records: 168 LOCF-derived and 25 without the analysis flag are left out.
    assert "193 derived or non-analysis ADaM records left out" in result.stdout
    assert "537 measurements loaded" in result.stdout
    source, _meta = pyreadstat.read_xport(str(PILOT), output_format="polars")
    observed = source.filter((pl.col("ANL01FL") == "Y") & (pl.col("DTYPE") == ""))
    assert len(measurements(db)) == observed.height
