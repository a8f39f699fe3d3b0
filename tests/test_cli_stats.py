"""``trialtui stats`` as a real subprocess: output formats, exact CSV columns, every number
of the bundled sample study against R, and small groups.

The CLI runs are independent and read-only, so they are started together once per module
(CLI start-up dominates the runtime) and the tests read their results.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from conftest import CLI_TIMEOUT, GOOD_LONG_CSV, build_good_db
from r_sample_reference import (
    ARM,
    ARM_R_CODE,
    ARM_REFERENCE,
    COMPARISON_R_CODE,
    COMPARISON_REFERENCE,
    CORRELATION_ADJUSTED_R_CODE,
    CORRELATION_R_CODE,
    CORRELATION_REFERENCE,
    REFERENCE_ARM,
    STUDY,
)

REL = 1e-6

# The column lists (item 2), spelled out here rather than imported from trialtui.
ARM_HEADER = (
    "study_id, biomarker, arm, unit, n_pairs, n_unpaired, mean_fc, gmean_fc, gmean_fc_lo, "
    "gmean_fc_hi, median_fc, fc_q1, fc_q3, p_wilcoxon, p_ttest, q_wilcoxon, q_ttest"
)
COMPARISON_HEADER = (
    "study_id, biomarker, arm, reference_arm, n, n_reference, gmfc_ratio, gmfc_ratio_lo, "
    "gmfc_ratio_hi, hl_shift, hl_lo, hl_hi, rank_biserial, p_mannwhitney, p_welch, "
    "q_mannwhitney, q_welch"
)
CORRELATION_HEADER = "study_id, arm, biomarker_x, biomarker_y, n, spearman_rho, p, q"

# A tiny study: arm A has two patients, arm B one. FLAT never changes (log2FC 0 for all,
# so every value of the between-arm rank test is tied).
SMALL_CSV = """\
study_id,patient_id,arm,timepoint,visit_day,is_baseline,biomarker,lloq,response,value
S2,a1,A,pre,0,true,M,1,PR,10
S2,a1,A,post,30,false,M,1,PR,40
S2,a2,A,pre,0,true,M,1,SD,8
S2,a2,A,post,30,false,M,1,SD,12
S2,b1,B,pre,0,true,M,1,PD,20
S2,b1,B,post,30,false,M,1,PD,10
S2,a1,A,pre,0,true,FLAT,1,PR,5
S2,a1,A,post,30,false,FLAT,1,PR,5
S2,a2,A,pre,0,true,FLAT,1,SD,3
S2,a2,A,post,30,false,FLAT,1,SD,3
S2,b1,B,pre,0,true,FLAT,1,PD,7
S2,b1,B,post,30,false,FLAT,1,PD,7
"""


def header(columns: str) -> list[str]:
    return columns.split(", ")


def run_together(
    commands: dict[str, list], cwd: Path, env: dict[str, str]
) -> dict[str, subprocess.CompletedProcess]:
    """Run ``python -m trialtui ARGS`` for every entry at once; wait for all."""
    started = {
        name: subprocess.Popen(
            [sys.executable, "-m", "trialtui", *map(str, args)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=cwd,
            env=env,
        )
        for name, args in commands.items()
    }
    done = {}
    for name, process in started.items():
        stdout, stderr = process.communicate(timeout=CLI_TIMEOUT)
        done[name] = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    return done


@pytest.fixture(scope="module")
def runs(
    sample_db: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, subprocess.CompletedProcess]:
    folder = tmp_path_factory.mktemp("cli_stats")
    source = folder / "small.csv"
    source.write_text(SMALL_CSV, encoding="utf-8")
    small = build_good_db(folder / "small.duckdb", source)
    env = {k: v for k, v in os.environ.items() if k not in ("TRIALTUI_DB", "TRIALTUI_DEBUG")}
    env |= {
        "XDG_DATA_HOME": str(folder / "xdg-data"),
        "XDG_CONFIG_HOME": str(folder / "xdg-config"),
        "PYTHONIOENCODING": "utf-8",
    }
    sample = ["stats", "--db", sample_db, "--study", STUDY]
    return run_together(
        {
            "arm": [*sample, "--level", "arm", "--format", "csv"],
            "comparison": [*sample, "--level", "comparison", "--format", "csv"],
            "correlation": [*sample, "--level", "correlation", "--format", "csv"],
            "arm_json": [*sample, "--level", "arm", "--format", "json"],
            "small_arm": ["stats", "--db", small, "--level", "arm", "--format", "csv"],
            "small_comparison": [
                "stats",
                "--db",
                small,
                "--level",
                "comparison",
                "--format",
                "csv",
            ],
            "small_table": ["stats", "--db", small, "--level", "arm", "--format", "table"],
        },
        folder,
        env,
    )


def output(runs: dict, name: str) -> str:
    result = runs[name]
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def csv_frame(runs: dict, name: str) -> pl.DataFrame:
    return pl.read_csv(io.StringIO(output(runs, name)), infer_schema_length=None)


def one_row(frame: pl.DataFrame, **keys) -> dict:
    hit = frame.filter(*[pl.col(k) == v for k, v in keys.items()])
    assert hit.height == 1, keys
    return hit.row(0, named=True)


def assert_matches_r(got: dict, ref: dict, skip: tuple[str, ...], codes: dict) -> None:
    checked = 0
    for column, value in ref.items():
        if column in skip or column not in got:
            continue
        if column.startswith("exact_"):
            assert got[column] is value, column  # CSV true/false
        elif isinstance(value, int):
            assert got[column] == value, column
        else:
            assert column in codes, column
            assert got[column] == pytest.approx(value, rel=REL), (ref, column)
        checked += 1
    assert checked >= 10 or "spearman_rho" in ref


# ----------------------------------------------------------------------------- columns


@pytest.mark.parametrize(
    ("name", "columns"),
    [("arm", ARM_HEADER), ("comparison", COMPARISON_HEADER), ("correlation", CORRELATION_HEADER)],
)
def test_csv_columns_are_the_documented_ones_in_order(runs, name: str, columns: str) -> None:
    first_line = output(runs, name).splitlines()[0].split(",")
    expected = header(columns)
    assert first_line[: len(expected)] == expected


# ----------------------------------------------------------------------------- against R


def test_arm_level_matches_r(runs) -> None:
    frame = csv_frame(runs, "arm")
    assert frame.height == len(ARM_REFERENCE) == 20
    assert set(frame["study_id"]) == {STUDY}
    for ref in ARM_REFERENCE:
        got = one_row(frame, biomarker=ref["biomarker"], arm=ref["arm"])
        skip = ("biomarker", "arm", "q_wilcoxon_holm", "q_ttest_holm")
        assert_matches_r(got, ref, skip, ARM_R_CODE)


def test_cd8_mean_fold_change_is_5_44_and_2_01(runs) -> None:
    frame = csv_frame(runs, "arm").filter(pl.col("biomarker") == "CD8")
    mean_fc = dict(frame.select("arm", "mean_fc").rows())
    assert mean_fc[ARM] == pytest.approx(5.44, abs=0.005)
    assert mean_fc[REFERENCE_ARM] == pytest.approx(2.01, abs=0.005)


def test_comparison_level_matches_r(runs) -> None:
    frame = csv_frame(runs, "comparison")
    assert frame.height == len(COMPARISON_REFERENCE) == 10
    assert set(frame["arm"]) == {ARM} and set(frame["reference_arm"]) == {REFERENCE_ARM}
    for ref in COMPARISON_REFERENCE:
        got = one_row(frame, biomarker=ref["biomarker"])
        assert_matches_r(got, ref, ("biomarker", "arm", "reference_arm"), COMPARISON_R_CODE)


def test_correlation_level_matches_r(runs) -> None:
    frame = csv_frame(runs, "correlation")
    assert frame.height == len(CORRELATION_REFERENCE) == 3 * 45
    assert set(frame["arm"]) == {ARM, REFERENCE_ARM, "pooled (arm-adjusted)"}
    for ref in CORRELATION_REFERENCE:
        x, y = sorted([ref["biomarker_x"], ref["biomarker_y"]])
        got = one_row(frame, arm=ref["arm"], biomarker_x=x, biomarker_y=y)
        code = (
            CORRELATION_ADJUSTED_R_CODE
            if ref["arm"] == "pooled (arm-adjusted)"
            else CORRELATION_R_CODE
        )
        assert_matches_r(got, ref, ("arm", "biomarker_x", "biomarker_y"), code)
    cd8_fap = frame.filter((pl.col("biomarker_x") == "CD8") & (pl.col("biomarker_y") == "FAP"))
    assert cd8_fap.height == 3  # per arm and pooled


# ----------------------------------------------------------------------------- formats


def test_json_holds_the_same_numbers_as_csv(runs) -> None:
    records = json.loads(output(runs, "arm_json"))
    assert isinstance(records, list) and len(records) == 20
    assert list(records[0])[: len(header(ARM_HEADER))] == header(ARM_HEADER)
    from_json = pl.DataFrame(records, infer_schema_length=None)
    from_csv = csv_frame(runs, "arm")
    for column in header(ARM_HEADER):
        assert from_json[column].to_list() == from_csv[column].to_list(), column


def test_table_format_shows_the_documented_columns(runs) -> None:
    lines = output(runs, "small_table").splitlines()
    assert lines[0].split() == header(ARM_HEADER)
    assert set(lines[1].replace(" ", "")) == {"-"}
    assert len(lines) == 2 + 4  # 2 biomarkers x 2 arms
    assert all("NA" in line for line in lines[2:])  # no p-value for n < 3, shown as NA


# ----------------------------------------------------------------------------- small n


def test_small_groups_give_empty_p_values_in_the_csv(runs) -> None:
    text = output(runs, "small_arm")
    frame = pl.read_csv(io.StringIO(text), infer_schema_length=None)
    assert frame.height == 4
    assert sorted(frame["n_pairs"].to_list()) == [1, 1, 2, 2]
    for column in ("p_wilcoxon", "p_ttest", "q_wilcoxon", "q_ttest"):
        assert frame[column].is_null().all(), column
    rows = text.splitlines()
    columns = rows[0].split(",")
    for line in rows[1:]:
        cells = line.split(",")
        for column in ("p_wilcoxon", "p_ttest", "q_wilcoxon", "q_ttest"):
            assert cells[columns.index(column)] == ""  # empty field, not NA or NaN
    m_a = one_row(frame, biomarker="M", arm="A")
    assert m_a["mean_fc"] == pytest.approx((40 / 10 + 12 / 8) / 2, rel=1e-12)
    assert "nan" not in text.lower()


def test_small_groups_and_unchanged_values_in_the_comparison(runs) -> None:
    text = output(runs, "small_comparison")
    frame = pl.read_csv(io.StringIO(text), infer_schema_length=None)
    assert frame.columns[: len(header(COMPARISON_HEADER))] == header(COMPARISON_HEADER)
    assert frame.height == 2
    assert frame["p_mannwhitney"].is_null().all() and frame["p_welch"].is_null().all()
    flat = one_row(frame, biomarker="FLAT")
    assert (flat["n"], flat["n_reference"], flat["gmfc_ratio"]) == (1, 2, 1.0)
    assert set(frame["reference_arm"]) == {"A"}  # no flagged reference: first by name
    assert "nan" not in text.lower()


def test_stats_lets_go_of_the_database_before_computing(
    sample_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """The study is read, then the database closed before the statistics are computed:
    DuckDB's buffer pool (half a gigabyte after joining 10 M measurements) is not kept
    through the computation, and a writer may open the file meanwhile. A read-write
    connection opened in the same process while the command still held its read-only
    one would be refused."""
    import duckdb

    import trialtui.study as study
    from trialtui.cli import main

    db = tmp_path / "copy.duckdb"
    db.write_bytes(sample_db.read_bytes())
    opened = []
    compute = study.compute

    def compute_after_opening_for_writing(*args, **kwargs):
        duckdb.connect(str(db), read_only=False).close()
        opened.append(True)
        return compute(*args, **kwargs)

    monkeypatch.setattr(study, "compute", compute_after_opening_for_writing)
    command = [
        "stats",
        "--db",
        str(db),
        "--study",
        "PDAC-DEF-2",
        "--level",
        "arm",
        "--format",
        "csv",
    ]
    assert main(command) == 0
    assert opened == [True]
    assert capsys.readouterr().out.startswith("study_id,")


def test_storing_every_study_lets_go_of_the_database_while_computing(
    sample_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``trialtui sample`` stores every study's results (``store_all_studies``): each is
    computed with the database closed, as ``stats`` does, and stored."""
    import duckdb

    import trialtui.study as study
    from trialtui.cli_stats import store_all_studies

    db = tmp_path / "copy.duckdb"
    db.write_bytes(sample_db.read_bytes())
    computed = []
    compute = study.compute

    def compute_after_opening_for_writing(data, *args, **kwargs):
        duckdb.connect(str(db), read_only=False).close()
        computed.append(data.study_id)
        return compute(data, *args, **kwargs)

    monkeypatch.setattr(study, "compute", compute_after_opening_for_writing)
    store_all_studies(db)
    assert sorted(computed) == ["PDAC-DEF-1", "PDAC-DEF-2"]
    con = duckdb.connect(str(db), read_only=True)
    try:
        stored = con.sql("SELECT DISTINCT study_id FROM arm_summary ORDER BY 1").fetchall()
    finally:
        con.close()
    assert stored == [("PDAC-DEF-1",), ("PDAC-DEF-2",)]


def test_results_of_data_an_import_changed_meanwhile_are_not_stored(
    sample_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """With the database closed while computing, another import may land meanwhile; it
    clears the derived tables, and results of the data read before it must not come
    back: ``stats --store`` says so in one line, fails, and stores nothing."""
    import duckdb

    import trialtui.study as study
    from trialtui.cli import main

    db = tmp_path / "copy.duckdb"
    db.write_bytes(sample_db.read_bytes())
    other = tmp_path / "other.csv"
    other.write_text(GOOD_LONG_CSV, encoding="utf-8")
    compute = study.compute

    def compute_while_another_import_lands(*args, **kwargs):
        results = compute(*args, **kwargs)
        build_good_db(db, other)
        return results

    monkeypatch.setattr(study, "compute", compute_while_another_import_lands)
    command = ["stats", "--db", str(db), "--study", "PDAC-DEF-2", "--level", "arm", "--store"]
    assert main(command) == 1
    error = capsys.readouterr().err.strip()
    assert "\n" not in error and error.startswith("trialtui: error: "), error
    assert "changed while the results were computed" in error and "nothing stored" in error
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = {row[0] for row in con.sql("SHOW TABLES").fetchall()}
        stored = (
            con.execute("SELECT count(*) FROM arm_summary").fetchone()[0]
            if ("arm_summary" in tables)
            else 0
        )
        studies = {row[0] for row in con.sql("SELECT study_id FROM studies").fetchall()}
    finally:
        con.close()
    assert stored == 0
    assert "S1" in studies  # the import itself landed


def test_results_of_unchanged_data_are_stored(sample_db: Path, tmp_path: Path) -> None:
    """The same command without an import meanwhile stores its rows."""
    import duckdb

    from trialtui.cli import main

    db = tmp_path / "copy.duckdb"
    db.write_bytes(sample_db.read_bytes())
    command = ["stats", "--db", str(db), "--study", "PDAC-DEF-2", "--level", "arm", "--store"]
    assert main(command) == 0
    con = duckdb.connect(str(db), read_only=True)
    try:
        stored = con.execute("SELECT count(*) FROM arm_summary").fetchone()[0]
    finally:
        con.close()
    assert stored > 0


@pytest.fixture(scope="module")
def wide_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Forty patients x forty biomarkers, two arms, a value missing here and there: its
    correlation level is a CSV of ~300 KB, more than a pipe holds."""
    rng = np.random.default_rng(8)
    rows = []
    for p in range(40):
        arm = "A" if p % 2 else "B"
        for b in range(40):
            for point, day, first in (("pre", 0, "true"), ("post", 30, "false")):
                if rng.random() < 0.03:
                    continue
                value = float(rng.lognormal(3, 1))
                rows.append(
                    ("S1", f"P{p:02d}", arm, point, day, first, f"M{b:02d}", "u", 0.01, "PR", value)
                )
    header = (
        "study_id,patient_id,arm,timepoint,visit_day,is_baseline,biomarker,unit,lloq,response,value"
    )
    frame = pl.DataFrame(rows, schema=header.split(","), orient="row")
    folder = tmp_path_factory.mktemp("wide")
    source = folder / "wide.csv"
    frame.write_csv(source)
    return build_good_db(folder / "wide.duckdb", source)


def test_csv_on_stdout_is_the_csv_of_the_results(wide_study: Path) -> None:
    """`stats --format csv` writes its CSV straight into stdout's bytes: the same bytes as
    the text of the frame the same settings compute in this process."""
    from trialtui.analysis import AnalysisSettings
    from trialtui.formatting import to_text
    from trialtui.store.connection import connect
    from trialtui.study import compute, load_study

    result = subprocess.run(
        [sys.executable, "-m", "trialtui", "stats", "--db", str(wide_study), "--level",
         "correlation", "--format", "csv"],
        capture_output=True, timeout=CLI_TIMEOUT, check=True,
    )  # fmt: skip
    con = connect(wide_study, read_only=True)
    try:
        data = load_study(con, "S1")
    finally:
        con.close()
    frame = compute(data, AnalysisSettings(), levels=("correlation",)).level("correlation")
    assert frame.height == 3 * 40 * 39 // 2
    assert result.stdout == to_text(frame, "csv").encode()
    assert len(result.stdout) > 2**17  # more than a pipe holds


def test_a_reader_that_stops_early_ends_the_csv_quietly(wide_study: Path) -> None:
    """`stats ... | head -1`: the reader goes after one line; trialtui stops writing and
    exits 0 with nothing on stderr (no traceback, no "Exception ignored")."""
    process = subprocess.Popen(
        [sys.executable, "-m", "trialtui", "stats", "--db", str(wide_study), "--level",
         "correlation", "--format", "csv"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.readline().startswith(b"study_id,arm,biomarker_x")
    process.stdout.close()  # the reader is gone
    err = process.stderr.read()
    assert process.wait(timeout=CLI_TIMEOUT) == 0
    assert err == b""
