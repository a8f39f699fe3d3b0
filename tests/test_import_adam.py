"""CDISC ADaM BDS datasets (SAS XPT, CSV or Parquet): mapping, ADSL merge, checks, errors.

The public CDISC pilot datasets the tests read are in ``tests/data/cdisc_pilot`` (see the
README there for their source).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import polars as pl
import pyreadstat
import pytest

PILOT_DIR = Path(__file__).parent / "data" / "cdisc_pilot"
PILOT_ADSL = PILOT_DIR / "adsl.xpt"
PILOT = PILOT_DIR / "adqscibc.xpt"
PILOT_SHA256 = {
    "adsl.xpt": "c5139f873a93ef6add77bc4297beb6460a398bbdd036874382a9f39dfc92091d",
    "adqscibc.xpt": "16e7118f606d907e817f0a5885d662c2e7177c430d2b3ec6c0ba9096cb3d7bc1",
}


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
    assert "1 ADaM records left out" in result.stdout
    assert "  records: 6 read, 5 kept; left out: 1 derived (DTYPE)" in result.stdout
    assert "  arms from TRTP in the dataset: Drug (1 subjects), Placebo (2 subjects)" in (
        result.stdout
    )
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


# ----------------------------------------------------------------------------- CDISC pilot


def adsl_frame() -> pl.DataFrame:
    """The pilot ADSL as read by pyreadstat (the reference for what the import stores)."""
    frame, _meta = pyreadstat.read_xport(str(PILOT_ADSL), output_format="polars")
    return frame


def db_rows(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def alt_bds(subjects: list[str], *, study: str = "CDISCPILOT01") -> pl.DataFrame:
    """A lab BDS for pilot subjects: ALT at Baseline (ABLFL) and Week 2, with BASE and CHG.

    It carries no treatment or subject-level variable: those come from ADSL.
    """
    rows = []
    for i, subject in enumerate(subjects):
        base = 20.0 + i % 17
        week2 = base + (i % 7) - 3
        for visit, day, value, flag in (("Baseline", -1, base, "Y"), ("Week 2", 14, week2, "")):
            rows.append(
                (
                    study,
                    subject,
                    "ALT",
                    "Alanine Aminotransferase (U/L)",
                    visit,
                    float(day),
                    value,
                    flag,
                    base,
                    value - base if visit != "Baseline" else None,
                )
            )
    return pl.DataFrame(
        rows,
        schema={
            "STUDYID": pl.String,
            "USUBJID": pl.String,
            "PARAMCD": pl.String,
            "PARAM": pl.String,
            "AVISIT": pl.String,
            "ADY": pl.Float64,
            "AVAL": pl.Float64,
            "ABLFL": pl.String,
            "BASE": pl.Float64,
            "CHG": pl.Float64,
        },
        orient="row",
    )


@pytest.fixture
def pilot_alt(tmp_path: Path) -> Path:
    xpt = tmp_path / "adlbalt.xpt"
    pyreadstat.write_xport(alt_bds(adsl_frame()["USUBJID"].to_list()), str(xpt))
    return xpt


def test_vendored_pilot_files_are_the_published_ones() -> None:
    for name, digest in PILOT_SHA256.items():
        assert hashlib.sha256((PILOT_DIR / name).read_bytes()).hexdigest() == digest, name


def test_pilot_bds_without_baseline_is_a_clear_error(
    run_cli, one_line_error, tmp_path: Path
) -> None:
    """CIBIC+ rates change itself: ADQSCIBC has no baseline record to pair with."""
    db = tmp_path / "pilot.duckdb"
    result = run_cli("import", PILOT, "--adsl", PILOT_ADSL, "--db", db)
    one_line_error(
        result,
        str(PILOT),
        "row 1",
        "parameter 'CIBICVAL' has no baseline record: the dataset has no ABLFL variable",
    )
    assert not db.exists()


def test_parameter_without_baseline_records_names_it(
    run_cli, one_line_error, tmp_path: Path
) -> None:
    subjects = adsl_frame()["USUBJID"].to_list()[:2]
    alt = alt_bds(subjects)
    # a second parameter measured at both visits but never flagged as baseline
    hgb = alt.with_columns(pl.lit("HGB").alias("PARAMCD"), pl.lit("").alias("ABLFL"))
    xpt = tmp_path / "adlb.xpt"
    pyreadstat.write_xport(pl.concat([alt, hgb]), str(xpt))
    result = run_cli("import", xpt, "--adsl", PILOT_ADSL, "--db", tmp_path / "t.duckdb")
    one_line_error(
        result,
        str(xpt),
        f"row {alt.height + 1}",
        "column 'ABLFL'",
        "parameter 'HGB' has no baseline record (ABLFL = 'Y')",
    )


def test_pilot_adsl_merge(run_cli, pilot_alt: Path, tmp_path: Path) -> None:
    db = tmp_path / "pilot.duckdb"
    result = run_cli("import", pilot_alt, "--adsl", PILOT_ADSL, "--db", db)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # BASE and CHG agree with AVAL and the baseline records
    adsl = adsl_frame()
    n = adsl.height
    lines = result.stdout.splitlines()
    assert f"  records: {2 * n} read, {2 * n} kept" in lines
    assert "  parameters: 1: ALT (U/L, 508)" in lines
    assert "  visits: Baseline, Week 2" in lines
    arms = adsl.group_by("TRT01P").len().sort("TRT01P")
    shown = ", ".join(f"{arm} ({k} subjects)" for arm, k in arms.iter_rows())
    assert f"  arms from TRT01P in ADSL: {shown}" in lines
    assert f"  subjects: {n} merged with ADSL ({n} subjects there) by STUDYID + USUBJID" in (
        result.stdout
    )
    stored = pl.DataFrame(
        db_rows(db, "SELECT patient_id, arm_id, sex, age, race FROM patients ORDER BY 1"),
        schema=["USUBJID", "TRT01P", "SEX", "AGE", "RACE"],
        orient="row",
    )
    expected = adsl.select("USUBJID", "TRT01P", "SEX", "AGE", "RACE").sort("USUBJID")
    assert stored.to_dicts() == expected.to_dicts()
    assert db_rows(db, "SELECT study_id, biomarker_id, label, unit FROM biomarkers") == [
        ("CDISCPILOT01", "ALT", "Alanine Aminotransferase (U/L)", "U/L")
    ]
    assert db_rows(db, "SELECT timepoint FROM timepoints WHERE is_baseline") == [("Baseline",)]
    # the ADSL is a source of the study's data: provenance lists it with its sha256
    sources = db_rows(db, "SELECT format, sha256, rows_read FROM imports ORDER BY import_id")
    assert sources[1:] == [("adsl", PILOT_SHA256["adsl.xpt"], n)]


def test_actual_treatment_comes_from_trt01a(run_cli, pilot_alt: Path, tmp_path: Path) -> None:
    result = run_cli(
        "import",
        pilot_alt,
        "--adsl",
        PILOT_ADSL,
        "--treatment",
        "actual",
        "--db",
        tmp_path / "t.duckdb",
    )
    assert result.returncode == 0, result.stderr
    assert "  arms from TRT01A in ADSL:" in result.stdout


def test_population_flag_keeps_flagged_subjects(run_cli, pilot_alt: Path, tmp_path: Path) -> None:
    db = tmp_path / "t.duckdb"
    result = run_cli("import", pilot_alt, "--adsl", PILOT_ADSL, "--population", "EFFFL", "--db", db)
    assert result.returncode == 0, result.stderr
    adsl = adsl_frame()
    flagged = adsl.filter(pl.col("EFFFL") == "Y")["USUBJID"].sort().to_list()
    out = adsl.height - len(flagged)
    assert out == 20  # the pilot's efficacy population leaves out 20 of 254 subjects
    assert f"left out: {2 * out} records of {out} subjects not flagged EFFFL='Y'" in (result.stdout)
    assert [r[0] for r in db_rows(db, "SELECT patient_id FROM patients ORDER BY 1")] == flagged


def test_unknown_population_flag(run_cli, one_line_error, pilot_alt: Path, tmp_path) -> None:
    result = run_cli(
        "import",
        pilot_alt,
        "--adsl",
        PILOT_ADSL,
        "--population",
        "PPROTFL",
        "--db",
        tmp_path / "t.duckdb",
    )
    one_line_error(result, str(pilot_alt), "population flag 'PPROTFL' is neither in ADSL")


RESPONSES = {
    "COMPLETE RESPONSE": "CR",
    "pr": "PR",
    "Stable Disease": "SD",
    "NON-CR/NON-PD": "SD",
    "PROGRESSIVE DISEASE": "PD",
    "NE": "NE",
    "": None,
}


def adsl_with_response(tmp_path: Path, values: list[str], name: str) -> Path:
    """The pilot ADSL as Parquet with a BESTRESP column cycling through ``values``."""
    adsl = adsl_frame()
    column = [values[i % len(values)] for i in range(adsl.height)]
    path = tmp_path / name
    adsl.with_columns(pl.Series("BESTRESP", column)).write_parquet(path)
    return path


def test_response_variable_is_mapped(run_cli, pilot_alt: Path, tmp_path: Path) -> None:
    adsl = adsl_with_response(tmp_path, list(RESPONSES), "adsl.parquet")
    db = tmp_path / "t.duckdb"
    result = run_cli("import", pilot_alt, "--adsl", adsl, "--response-var", "BESTRESP", "--db", db)
    assert result.returncode == 0, result.stderr
    source = pl.read_parquet(adsl).select("USUBJID", "BESTRESP")
    expected = {u: RESPONSES[r] for u, r in source.iter_rows()}
    stored = dict(db_rows(db, "SELECT patient_id, response FROM patients"))
    assert stored == expected
    assert "  response from BESTRESP: CR 37, PR 37, SD 72, PD 36, NE 36, missing 36" in (
        result.stdout
    )


def test_unmappable_response_names_adsl_row_and_value(
    run_cli, one_line_error, pilot_alt: Path, tmp_path: Path
) -> None:
    adsl = adsl_with_response(tmp_path, ["CR", "PR", "MIXED RESPONSE"], "adsl.parquet")
    result = run_cli(
        "import",
        pilot_alt,
        "--adsl",
        adsl,
        "--response-var",
        "BESTRESP",
        "--db",
        tmp_path / "t.duckdb",
    )
    # Parquet rows are numbered from 1: the third subject holds the first bad value.
    one_line_error(
        result,
        str(adsl),
        "row 3",
        "column 'BESTRESP'",
        "response 'MIXED RESPONSE' cannot be mapped to CR, PR, SD, PD or NE",
    )


def test_subjects_missing_from_adsl_are_named(run_cli, one_line_error, tmp_path: Path) -> None:
    subjects = [*adsl_frame()["USUBJID"].to_list()[:3], "01-999-9999"]
    xpt = tmp_path / "bds.xpt"
    pyreadstat.write_xport(alt_bds(subjects), str(xpt))
    result = run_cli("import", xpt, "--adsl", PILOT_ADSL, "--db", tmp_path / "t.duckdb")
    one_line_error(
        result, str(xpt), "row 7", "column 'USUBJID'", "subject '01-999-9999' is not in ADSL"
    )


def test_base_and_chg_disagreements_are_reported(run_cli, tmp_path: Path) -> None:
    subjects = adsl_frame()["USUBJID"].to_list()[:4]
    frame = alt_bds(subjects).with_row_index("i")
    frame = frame.with_columns(
        # subject 2's Week 2 CHG is off by one; subject 3's BASE is not its baseline AVAL
        pl.when(pl.col("i") == 3).then(pl.col("CHG") + 1).otherwise(pl.col("CHG")).alias("CHG"),
        pl.when(pl.col("i") == 5).then(pl.col("BASE") + 2).otherwise(pl.col("BASE")).alias("BASE"),
    ).drop("i")
    xpt = tmp_path / "bds.xpt"
    pyreadstat.write_xport(frame, str(xpt))
    result = run_cli("import", xpt, "--adsl", PILOT_ADSL, "--db", tmp_path / "t.duckdb")
    assert result.returncode == 0, result.stderr
    row3 = frame.row(3, named=True)
    row5 = frame.row(5, named=True)
    assert result.stderr.splitlines() == [
        "trialtui: warning: BASE/CHG check: 3 record(s) disagree",
        f"  USUBJID {subjects[1]}, PARAMCD ALT, AVISIT Week 2: AVAL - BASE = "
        f"{row3['AVAL'] - row3['BASE']:g} but CHG = {row3['CHG']:g}",
        f"  USUBJID {subjects[2]}, PARAMCD ALT, AVISIT Week 2: AVAL - BASE = "
        f"{row5['AVAL'] - row5['BASE']:g} but CHG = {row5['CHG']:g}",
        f"  USUBJID {subjects[2]}, PARAMCD ALT, AVISIT Week 2: BASE = {row5['BASE']:g} but "
        f"the baseline record's AVAL = {frame.row(4, named=True)['AVAL']:g}",
    ]


def test_units_from_avalu_else_param(run_cli, tmp_path: Path) -> None:
    rows = [
        ("S1", "S1-001", "Drug", "Baseline", "ALT", "ALT (U/L)", "IU/L", 10.0, "Y"),
        ("S1", "S1-001", "Drug", "Week 2", "ALT", "ALT (U/L)", "IU/L", 12.0, ""),
        ("S1", "S1-001", "Drug", "Baseline", "HGB", "Hemoglobin (g/dL)", "", 13.0, "Y"),
        ("S1", "S1-001", "Drug", "Week 2", "HGB", "Hemoglobin (g/dL)", "", 12.5, ""),
        ("S1", "S1-001", "Drug", "Baseline", "SCORE", "Total score", "", 3.0, "Y"),
        ("S1", "S1-001", "Drug", "Week 2", "SCORE", "Total score", "", 4.0, ""),
    ]
    frame = pl.DataFrame(
        rows,
        schema=[
            "STUDYID",
            "USUBJID",
            "TRTA",
            "AVISIT",
            "PARAMCD",
            "PARAM",
            "AVALU",
            "AVAL",
            "ABLFL",
        ],
        orient="row",
    )
    csv = tmp_path / "adlb.csv"
    frame.write_csv(csv)
    db = tmp_path / "t.duckdb"
    result = run_cli("import", csv, "--db", db)
    assert result.returncode == 0, result.stderr
    assert db_rows(db, "SELECT biomarker_id, unit FROM biomarkers ORDER BY 1") == [
        ("ALT", "IU/L"),
        ("HGB", "g/dL"),
        ("SCORE", None),
    ]
    assert "  parameters: 3: ALT (IU/L, 2), HGB (g/dL, 2), SCORE (no unit, 2)" in result.stdout


def test_adam_options_on_a_long_file_are_refused(
    run_cli, write_csv, one_line_error, tmp_path: Path
) -> None:
    long_file = write_csv(
        """\
        study_id,patient_id,arm,timepoint,is_baseline,biomarker,value
        S1,P1,A,pre,true,CD8,1
        """
    )
    result = run_cli("import", long_file, "--population", "SAFFL", "--db", tmp_path / "t.db")
    one_line_error(result, str(long_file), "row 1", "apply to CDISC ADaM BDS datasets")


def test_duplicate_adsl_subject_names_the_adsl_row(
    run_cli, one_line_error, pilot_alt: Path, tmp_path: Path
) -> None:
    adsl = adsl_frame().select("STUDYID", "USUBJID", "TRT01P", "AGE", "SEX")
    doubled = pl.concat([adsl, adsl.head(1)])
    path = tmp_path / "adsl.csv"
    doubled.write_csv(path)
    result = run_cli("import", pilot_alt, "--adsl", path, "--db", tmp_path / "t.duckdb")
    # CSV rows count the header as row 1: the repeated subject is on the last line
    one_line_error(
        result,
        str(path),
        f"row {doubled.height + 1}",
        "column 'USUBJID'",
        f"subject '{adsl['USUBJID'][0]}' appears more than once in ADSL",
    )


def test_population_with_every_subject_flagged(run_cli, pilot_alt: Path, tmp_path: Path) -> None:
    assert (adsl_frame()["SAFFL"] == "Y").all()  # the pilot's safety population is everyone
    result = run_cli(
        "validate", pilot_alt, "--adsl", PILOT_ADSL, "--population", "saffl", "--format", "adam"
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[1] == "  records: 508 read, 508 kept"
    assert lines[2] == "  population SAFFL='Y': every subject of the dataset is flagged"


def test_treatment_kind_falls_back_visibly(run_cli, tmp_path: Path) -> None:
    """Asked for the actual treatment of a dataset with only TRTP, the summary says TRTP."""
    both = bds(GOOD).with_columns(pl.lit("Drug").alias("TRTA"))
    xpt = tmp_path / "adlb.xpt"
    pyreadstat.write_xport(both, str(xpt))
    actual = run_cli("validate", xpt, "--treatment", "actual")
    assert "  arms from TRTA in the dataset: Drug (3 subjects)" in actual.stdout
    pyreadstat.write_xport(bds(GOOD), str(xpt))
    fallback = run_cli("validate", xpt, "--treatment", "actual")
    assert fallback.returncode == 0, fallback.stderr
    assert "  arms from TRTP in the dataset: Drug (1 subjects), Placebo (2 subjects)" in (
        fallback.stdout
    )
