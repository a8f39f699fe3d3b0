"""CSV exports with provenance: ``trialtui stats -o FILE`` and ``trialtui export -o DIR``,
run as real subprocesses on copies of the sample database, and the derived tables they
write back into DuckDB."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import threading
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest
from conftest import CLI_TIMEOUT
from polars.testing import assert_frame_equal
from r_sample_reference import ARM_REFERENCE, STUDY

from trialtui.analysis.settings import AnalysisSettings
from trialtui.export import export_csv
from trialtui.resources import sample_data_dir

REL = 1e-6
PROVENANCE_KEYS = {
    "trialtui_version",
    "database",
    "source_files",
    "study_id",
    "settings",
    "command",
    "created_utc",
    "row_count",
}
SETTINGS_KEYS = {f.name for f in fields(AnalysisSettings)}
# The column lists (item 2)
HEADERS = {
    "patient": "study_id,patient_id,arm,biomarker,unit,pre,post,fc,log2fc,pre_imputed,post_imputed",
    "arm": "study_id,biomarker,arm,unit,n_pairs,n_unpaired,mean_fc,gmean_fc,gmean_fc_lo,"
    "gmean_fc_hi,median_fc,fc_q1,fc_q3,p_wilcoxon,p_ttest,q_wilcoxon,q_ttest",
    "comparison": "study_id,biomarker,arm,reference_arm,n,n_reference,gmfc_ratio,gmfc_ratio_lo,"
    "gmfc_ratio_hi,hl_shift,hl_lo,hl_hi,rank_biserial,p_mannwhitney,p_welch,q_mannwhitney,q_welch",
    "correlation": "study_id,arm,biomarker_x,biomarker_y,n,spearman_rho,p,q",
    "response": "study_id,arm,biomarker,n_responders,n_nonresponders,median_log2fc_responders,"
    "median_log2fc_nonresponders,p_mannwhitney,q_mannwhitney",
    "friedman": "study_id,biomarker,arm,n_complete,n_timepoints,friedman_chisq,p_friedman,"
    "q_friedman",
}
TABLES = {
    "patient": "fold_changes",
    "arm": "arm_summary",
    "comparison": "arm_comparison",
    "correlation": "change_correlation",
    "response": "response_comparison",
    "friedman": "timepoint_friedman",
}


def trialtui(*args, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "trialtui", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=CLI_TIMEOUT,
        check=False,
    )


def db_state(path: Path) -> dict[str, list[tuple]]:
    """Every derived table and the derived_runs log (read with plain DuckDB)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        return {
            name: sorted(con.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr)
            for name in names
            if name in (*TABLES.values(), "derived_runs")
        }
    finally:
        con.close()


def read_table(path: Path, table: str) -> pl.DataFrame:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.sql(f'SELECT * FROM "{table}" WHERE study_id = ?', params=[STUDY]).pl()
    finally:
        con.close()


def derived_run(path: Path, table: str) -> dict:
    con = duckdb.connect(str(path), read_only=True)
    try:
        settings, rows = con.execute(
            "SELECT settings_json, row_count FROM derived_runs "
            "WHERE table_name = ? AND study_id = ?",
            [table, STUDY],
        ).fetchone()
    finally:
        con.close()
    return {"settings": json.loads(settings), "row_count": rows}


@pytest.fixture(scope="module")
def exports(sample_db: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Two independent command sequences on two copies of the sample, run side by side.

    stats: write the patient level to out.csv; try to write the arm level (holm) over it
    without --force (refused); then with --force. export: into a folder that already holds
    one of the five files (refused), then with --force.
    """
    root = tmp_path_factory.mktemp("export")
    env = {k: v for k, v in os.environ.items() if k not in ("TRIALTUI_DB", "TRIALTUI_DEBUG")}
    env |= {"XDG_DATA_HOME": str(root / "xdg"), "XDG_CONFIG_HOME": str(root / "xdg-config")}
    state: dict = {"root": root}

    def stats_sequence() -> None:
        db = root / "stats.duckdb"
        shutil.copy(sample_db, db)
        out = root / "out" / "result.csv"
        out.parent.mkdir()
        common = ["stats", "--db", db, "--study", STUDY]
        state["stats_db"], state["stats_out"] = db, out
        state["first"] = trialtui(*common, "--level", "patient", "-o", out, cwd=root, env=env)
        state["first_csv"] = out.read_bytes()
        state["first_provenance"] = Path(f"{out}.provenance.json").read_bytes()
        state["first_db"] = db_state(db)
        holm = [*common, "--level", "arm", "--fdr", "holm", "-o", out]
        state["refused"] = trialtui(*holm, cwd=root, env=env)
        state["refused_db"] = db_state(db)
        state["refused_csv"] = out.read_bytes()
        state["refused_provenance"] = Path(f"{out}.provenance.json").read_bytes()
        state["forced"] = trialtui(*holm, "--force", cwd=root, env=env)

    def export_sequence() -> None:
        db = root / "export.duckdb"
        shutil.copy(sample_db, db)
        folder = root / "exported"
        folder.mkdir()
        (folder / f"{STUDY}_response.csv").write_text("keep me\n", encoding="utf-8")
        command = ["export", "--db", db, "--study", STUDY, "-o", folder]
        state["export_db"], state["export_dir"] = db, folder
        state["export_refused"] = trialtui(*command, cwd=root, env=env)
        state["export_refused_files"] = sorted(p.name for p in folder.iterdir())
        state["export_refused_db"] = db_state(db)
        state["export"] = trialtui(*command, "--force", cwd=root, env=env)

    threads = [threading.Thread(target=f) for f in (stats_sequence, export_sequence)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return state


def ok(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


def refused(result: subprocess.CompletedProcess, *fragments: str) -> None:
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "Traceback" not in output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ----------------------------------------------------------------------------- stats -o


def test_stats_output_writes_csv_and_provenance(exports: dict) -> None:
    ok(exports["first"])
    assert exports["first"].stdout == ""  # the data went to the file
    assert "wrote 360 rows" in exports["first"].stderr
    text = exports["first_csv"].decode("utf-8")
    assert text.splitlines()[0].startswith(HEADERS["patient"])
    frame = pl.read_csv(io.StringIO(text))
    assert frame.height == 360  # 10 biomarkers x 36 paired patients

    record = json.loads(exports["first_provenance"])
    assert set(record) >= PROVENANCE_KEYS
    assert record["row_count"] == 360
    assert record["study_id"] == STUDY
    assert record["level"] == "patient"
    assert record["database"] == str(exports["stats_db"].resolve())
    assert record["trialtui_version"]
    assert "stats" in record["command"] and "patient" in record["command"]
    created = datetime.fromisoformat(record["created_utc"])
    assert created.utcoffset() is not None and created.utcoffset().total_seconds() == 0
    assert abs((datetime.now(UTC) - created).total_seconds()) < 600
    settings = record["settings"]
    assert set(settings) >= SETTINGS_KEYS  # every setting
    assert settings["lloq_policy"] == "half" and settings["fdr"] == "bh"
    assert settings["conf_level"] == 0.95 and settings["pseudocount"] is None
    assert settings["reference_arm"] == "Pembrolizumab"
    assert (settings["baseline_timepoint"], settings["timepoint"]) == ("Baseline", "Surgery")
    bundled = sample_data_dir() / "pdac_defactinib_long.csv"
    hashes = {Path(s["source_file"]).name: s["sha256"] for s in record["source_files"]}
    assert hashes == {bundled.name: sha256(bundled)}


def test_stats_output_stores_the_derived_table(exports: dict) -> None:
    ok(exports["first"])
    table = read_table(exports["stats_db"], "fold_changes")
    written = pl.read_csv(io.BytesIO(exports["first_csv"]), infer_schema_length=None)
    assert_frame_equal(
        table.sort("biomarker", "arm", "patient_id"),
        written.sort("biomarker", "arm", "patient_id"),
        check_dtypes=False,
        check_exact=False,
        rel_tol=1e-12,
    )
    run = exports["first_db"]["derived_runs"]
    assert [r[:2] for r in run] == [("fold_changes", STUDY)]
    recorded = derived_run(exports["stats_db"], "fold_changes")
    assert recorded["row_count"] == 360
    provenance = json.loads(exports["first_provenance"])["settings"]
    assert recorded["settings"] == provenance  # the settings the rows were computed with


def test_stats_output_refuses_to_overwrite_without_force(exports: dict) -> None:
    refused(exports["refused"], "already exists", "--force")
    assert exports["refused_csv"] == exports["first_csv"]
    assert exports["refused_provenance"] == exports["first_provenance"]
    # a refused command leaves the database as it was, too
    assert exports["refused_db"] == exports["first_db"]


def test_stats_output_with_force_overwrites(exports: dict) -> None:
    ok(exports["forced"])
    out = exports["stats_out"]
    text = out.read_text(encoding="utf-8")
    assert text.splitlines()[0].startswith(HEADERS["arm"])
    frame = pl.read_csv(io.StringIO(text), infer_schema_length=None)
    for ref in ARM_REFERENCE:  # R's p.adjust(method = "holm") within each arm
        got = frame.filter(
            (pl.col("biomarker") == ref["biomarker"]) & (pl.col("arm") == ref["arm"])
        )
        assert got["q_wilcoxon"][0] == pytest.approx(ref["q_wilcoxon_holm"], rel=REL)
        assert got["q_ttest"][0] == pytest.approx(ref["q_ttest_holm"], rel=REL)
    record = json.loads(Path(f"{out}.provenance.json").read_text(encoding="utf-8"))
    assert record["level"] == "arm" and record["row_count"] == 20
    assert record["settings"]["fdr"] == "holm"
    table = read_table(exports["stats_db"], "arm_summary")
    assert table.height == 20
    assert_frame_equal(
        table.sort("biomarker", "arm"),
        frame.sort("biomarker", "arm"),
        check_dtypes=False,
        check_exact=False,
        rel_tol=1e-12,
    )
    recorded = derived_run(exports["stats_db"], "arm_summary")
    assert recorded["settings"]["fdr"] == "holm" and recorded["row_count"] == 20
    assert set(table["fdr_method"]) == {"holm"}


# ----------------------------------------------------------------------------- export -o DIR


def test_export_refuses_existing_files_and_writes_nothing(exports: dict) -> None:
    refused(exports["export_refused"], f"{STUDY}_response.csv", "already exists")
    assert exports["export_refused_files"] == [f"{STUDY}_response.csv"]  # no partial export
    assert exports["export_refused_db"] == {"derived_runs": []}  # and no derived tables


def test_export_writes_every_level(exports: dict) -> None:
    ok(exports["export"])
    folder: Path = exports["export_dir"]
    names = sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))
    expected = sorted(
        name
        for level in HEADERS
        for name in (f"{STUDY}_{level}.csv", f"{STUDY}_{level}.csv.provenance.json")
    )
    assert names == expected
    rows = {"patient": 360, "arm": 20, "comparison": 10, "correlation": 135, "response": 30}
    rows["friedman"] = 20
    for level, columns in HEADERS.items():
        path = folder / f"{STUDY}_{level}.csv"
        text = path.read_text(encoding="utf-8")
        assert text.splitlines()[0].split(",")[: columns.count(",") + 1] == columns.split(","), (
            level
        )
        frame = pl.read_csv(io.StringIO(text), infer_schema_length=None)
        assert frame.height == rows[level], level
        record = json.loads(Path(f"{path}.provenance.json").read_text(encoding="utf-8"))
        assert set(record) >= PROVENANCE_KEYS
        assert (record["level"], record["row_count"], record["study_id"]) == (
            level,
            rows[level],
            STUDY,
        )
        assert set(record["settings"]) >= SETTINGS_KEYS
        assert f"{path}: {rows[level]} rows" in exports["export"].stdout
        # written back into DuckDB with the same rows and the settings used
        table = read_table(exports["export_db"], TABLES[level])
        keys = [c for c in frame.columns[:4] if frame.schema[c] == pl.String]
        assert_frame_equal(
            table.sort(keys),
            frame.sort(keys),
            check_dtypes=False,
            check_exact=False,
            rel_tol=1e-12,
        )
        recorded = derived_run(exports["export_db"], TABLES[level])
        assert recorded["row_count"] == rows[level]
        assert recorded["settings"] == record["settings"]


# ----------------------------------------------------------------------------- export_csv


def test_export_csv_is_atomic_and_respects_force(tmp_path: Path) -> None:
    frame = pl.DataFrame({"a": [1, 2], "b": [0.5, None]})
    target = tmp_path / "t.csv"
    export_csv(frame, target, {"row_count": 2})
    assert target.read_text(encoding="utf-8") == "a,b\n1,0.5\n2,\n"
    assert json.loads(Path(f"{target}.provenance.json").read_text())["row_count"] == 2
    from trialtui.errors import UsageError

    with pytest.raises(UsageError, match="already exists"):
        export_csv(frame.head(1), target, {"row_count": 1})
    assert target.read_text(encoding="utf-8") == "a,b\n1,0.5\n2,\n"
    export_csv(frame.head(1), target, {"row_count": 1}, force=True)
    assert target.read_text(encoding="utf-8") == "a,b\n1,0.5\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv", "t.csv.provenance.json"]
    with pytest.raises(UsageError, match="does not exist"):
        export_csv(frame, tmp_path / "missing" / "t.csv", {})
