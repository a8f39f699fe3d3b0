"""The DuckDB schema, its version and migration hook, and opening databases safely."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from trialtui.errors import StoreError
from trialtui.store import schema
from trialtui.store.connection import connect

EXPECTED_TABLES = {
    "meta",
    "studies",
    "arms",
    "patients",
    "biomarkers",
    "timepoints",
    "samples",
    "measurements",
    "imports",
}


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
    ).fetchall()
    return {r[0] for r in rows}


def _version(path: Path) -> str:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()[0][0]
    finally:
        con.close()


@pytest.fixture
def new_db(tmp_path: Path) -> Path:
    path = tmp_path / "sub" / "new.duckdb"
    connect(path, read_only=False).close()
    return path


# A minimal valid row for each keyed table, in dependency order.
ROWS = {
    "studies": "INSERT INTO studies (study_id) VALUES ('S1')",
    "arms": "INSERT INTO arms (study_id, arm_id) VALUES ('S1', 'A')",
    "patients": "INSERT INTO patients (study_id, patient_id, arm_id) VALUES ('S1', 'P1', 'A')",
    "biomarkers": "INSERT INTO biomarkers (study_id, biomarker_id) VALUES ('S1', 'CD8')",
    "timepoints": "INSERT INTO timepoints (study_id, timepoint, ordinal, is_baseline) "
    "VALUES ('S1', 'pre', 0, true)",
    "samples": "INSERT INTO samples (study_id, sample_id, patient_id, timepoint) "
    "VALUES ('S1', 'P1-pre', 'P1', 'pre')",
    "measurements": "INSERT INTO measurements (study_id, sample_id, biomarker_id, value) "
    "VALUES ('S1', 'P1-pre', 'CD8', 1.0)",
    "imports": "INSERT INTO imports VALUES (1, now()::TIMESTAMP, NULL, 'f.csv', 'abc', 'long', "
    "'S1', 1, 1, 0, 'loaded', NULL)",
}


def _fill(con: duckdb.DuckDBPyConnection) -> None:
    for statement in ROWS.values():
        con.execute(statement)


# ----------------------------------------------------------------------------- creation


def test_read_write_connect_creates_schema_and_version(new_db: Path) -> None:
    con = duckdb.connect(str(new_db), read_only=True)
    try:
        assert _tables(con) >= EXPECTED_TABLES
        assert schema.schema_version(con) == schema.SCHEMA_VERSION
    finally:
        con.close()
    assert _version(new_db) == str(schema.SCHEMA_VERSION)


def test_reopening_keeps_data_and_version(new_db: Path) -> None:
    con = connect(new_db, read_only=False)
    con.execute("INSERT INTO studies (study_id) VALUES ('S1')")
    con.close()
    con = connect(new_db, read_only=False)
    try:
        assert con.execute("SELECT study_id FROM studies").fetchall() == [("S1",)]
        rows = con.execute("SELECT count(*) FROM meta WHERE key = 'schema_version'").fetchall()
        assert rows == [(1,)]
    finally:
        con.close()


def test_schema_version_is_none_for_foreign_database(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "other.duckdb"))
    try:
        con.execute("CREATE TABLE foo (x INTEGER)")
        assert schema.schema_version(con) is None
    finally:
        con.close()


# ----------------------------------------------------------------------------- keys


# measurements declares no keys (see trialtui/store/schema.py); the importer guarantees
# them, which tests/test_import_integrity.py checks.
KEYED_TABLES = [t for t in ROWS if t != "measurements"]


@pytest.mark.parametrize("table", KEYED_TABLES)
def test_duplicate_primary_key_is_rejected(new_db: Path, table: str) -> None:
    con = connect(new_db, read_only=False)
    try:
        _fill(con)
        with pytest.raises(duckdb.ConstraintException):
            con.execute(ROWS[table])
    finally:
        con.close()


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO arms (study_id, arm_id) VALUES ('NOPE', 'A')",
        "INSERT INTO patients (study_id, patient_id, arm_id) VALUES ('S1', 'P9', 'NOPE')",
        "INSERT INTO samples (study_id, sample_id, patient_id, timepoint) "
        "VALUES ('S1', 'X', 'P1', 'NOPE')",
        "INSERT INTO samples (study_id, sample_id, patient_id, timepoint) "
        "VALUES ('S1', 'X', 'NOPE', 'pre')",
        "INSERT INTO biomarkers (study_id, biomarker_id) VALUES ('NOPE', 'CD8')",
    ],
)
def test_foreign_keys_are_enforced(new_db: Path, statement: str) -> None:
    con = connect(new_db, read_only=False)
    try:
        _fill(con)
        with pytest.raises(duckdb.ConstraintException):
            con.execute(statement)
    finally:
        con.close()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE patients SET response = 'GOOD'",
        "UPDATE biomarkers SET lloq = 0",
        "UPDATE biomarkers SET lloq = -1",
    ],
)
def test_check_constraints(new_db: Path, statement: str) -> None:
    con = connect(new_db, read_only=False)
    try:
        _fill(con)
        with pytest.raises(duckdb.ConstraintException):
            con.execute(statement)
    finally:
        con.close()


# ----------------------------------------------------------------------------- connections


def test_read_only_connection_refuses_writes(new_db: Path) -> None:
    con = connect(new_db, read_only=True)
    try:
        with pytest.raises(duckdb.Error, match="read-only"):
            con.execute("INSERT INTO studies (study_id) VALUES ('S1')")
        with pytest.raises(duckdb.Error, match="read-only"):
            con.execute("CREATE TABLE extra (x INTEGER)")
    finally:
        con.close()
    assert snapshot_studies(new_db) == []


def snapshot_studies(path: Path) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("SELECT * FROM studies").fetchall()
    finally:
        con.close()


def test_missing_file_read_only_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "missing.duckdb"
    with pytest.raises(StoreError) as info:
        connect(path, read_only=True)
    message = str(info.value)
    assert str(path) in message and "no such database" in message
    assert "\n" not in message
    assert not path.exists()


@pytest.mark.parametrize("read_only", [True, False])
def test_foreign_duckdb_file_is_a_store_error(tmp_path: Path, read_only: bool) -> None:
    path = tmp_path / "other.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE foo AS SELECT 1 AS x")
    con.close()
    with pytest.raises(StoreError) as info:
        connect(path, read_only=read_only)
    message = str(info.value)
    assert message == f"{path}: not a trialtui database"
    con = duckdb.connect(str(path), read_only=True)
    try:
        assert _tables(con) == {"foo"}  # untouched: no trialtui tables added
    finally:
        con.close()


def test_empty_duckdb_file_opened_read_only_is_not_a_trialtui_database(tmp_path: Path) -> None:
    path = tmp_path / "empty.duckdb"
    duckdb.connect(str(path)).close()
    with pytest.raises(StoreError, match="not a trialtui database"):
        connect(path, read_only=True)


def test_non_duckdb_file_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.duckdb"
    path.write_text("this is not a database\n" * 100)
    with pytest.raises(StoreError) as info:
        connect(path, read_only=True)
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    assert "\n" not in message


def test_newer_schema_version_is_refused(new_db: Path) -> None:
    con = duckdb.connect(str(new_db))
    con.execute(
        "UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(schema.SCHEMA_VERSION + 1)]
    )
    con.close()
    for read_only in (True, False):
        with pytest.raises(StoreError, match="newer trialtui"):
            connect(new_db, read_only=read_only)


# ----------------------------------------------------------------------------- migrations


def _set_version(path: Path, version: int) -> None:
    con = duckdb.connect(str(path))
    con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(version)])
    con.close()


def test_older_schema_needs_read_write_to_migrate(
    new_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    older = schema.SCHEMA_VERSION - 1
    _set_version(new_db, older)

    def add_table(con: duckdb.DuckDBPyConnection) -> None:
        con.execute("CREATE TABLE migrated_marker (x INTEGER)")

    monkeypatch.setitem(schema.MIGRATIONS, older, add_table)
    with pytest.raises(StoreError, match="needs an upgrade"):
        connect(new_db, read_only=True)
    con = connect(new_db, read_only=False)
    try:
        assert "migrated_marker" in _tables(con)
        assert schema.schema_version(con) == schema.SCHEMA_VERSION
    finally:
        con.close()
    connect(new_db, read_only=True).close()  # now readable


def test_failed_migration_rolls_back(new_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    older = schema.SCHEMA_VERSION - 1
    _set_version(new_db, older)

    def broken(con: duckdb.DuckDBPyConnection) -> None:
        con.execute("CREATE TABLE half_done (x INTEGER)")
        raise RuntimeError("migration failed")

    monkeypatch.setitem(schema.MIGRATIONS, older, broken)
    with pytest.raises(RuntimeError, match="migration failed"):
        connect(new_db, read_only=False)
    con = duckdb.connect(str(new_db), read_only=True)
    try:
        assert "half_done" not in _tables(con)
        assert schema.schema_version(con) == older
    finally:
        con.close()


# ----------------------------------------------------------------------------- locking

HOLD_SCRIPT = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("locked", flush=True)
sys.stdin.read()  # hold the lock until the test closes stdin
con.close()
"""


@pytest.fixture
def locked_db(new_db: Path):
    """``new_db`` held open read-write by another process for the duration of the test."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_SCRIPT, str(new_db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        yield new_db
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        try:
            holder.wait(timeout=30)
        except subprocess.TimeoutExpired:
            holder.kill()
            holder.wait()


@pytest.mark.parametrize("read_only", [True, False])
def test_locked_database_api_gives_store_error(locked_db: Path, read_only: bool) -> None:
    start = time.monotonic()
    with pytest.raises(StoreError) as info:
        connect(locked_db, read_only=read_only)
    message = str(info.value)
    assert message.startswith(f"{locked_db}: ")
    assert "locked by another process" in message
    assert "\n" not in message
    assert time.monotonic() - start < 30


@pytest.mark.parametrize("command", ["info", "import", "validate"])
def test_locked_database_cli_one_line_error(
    locked_db: Path, command: str, run_cli, write_csv, one_line_error
) -> None:
    if command == "info":
        result = run_cli("info", "--db", locked_db)
    else:
        csv_path = write_csv(
            """\
            study_id,patient_id,arm,timepoint,is_baseline,biomarker,value
            S1,P1,A,pre,true,CD8,1
            """
        )
        result = run_cli(command, csv_path, "--db", locked_db)
    one_line_error(result, str(locked_db), "locked by another process")


# ----------------------------------------------------------------------------- old releases

# tests/data/schema_v2_database: a database written by the release with schema 2 (see the
# README there), exported with DuckDB's EXPORT DATABASE: its DDL and rows exactly.
SCHEMA_V2 = Path(__file__).parent / "data" / "schema_v2_database"


@pytest.fixture
def v2_db(tmp_path: Path) -> Path:
    """A schema-2 database rebuilt from the release's own export."""
    path = tmp_path / "v2.duckdb"
    con = duckdb.connect(str(path))
    try:
        con.execute(f"IMPORT DATABASE '{SCHEMA_V2}'")
    finally:
        con.close()
    assert _version(path) == "2"
    return path


def _rows(path: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


MEASUREMENT_ROWS = (
    "SELECT study_id, sample_id, biomarker_id, value, below_lloq, lloq, raw_value, comment, "
    "import_id FROM measurements ORDER BY ALL"
)


def test_version_1_database_gains_timepoint_pairs_view(v2_db: Path) -> None:
    """A database written before the timepoint_pairs view migrates when opened read-write."""
    con = duckdb.connect(str(v2_db))
    con.execute("DROP VIEW timepoint_pairs")
    con.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    con.close()
    with pytest.raises(StoreError, match="needs an upgrade"):
        connect(v2_db, read_only=True)
    con = connect(v2_db, read_only=False)
    try:
        con.execute("INSERT INTO studies (study_id) VALUES ('S9')")
        con.execute(
            "INSERT INTO timepoints VALUES ('S9', 'screen', 0, false, -14), "
            "('S9', 'base', 1, true, 0), ('S9', 'w4', 2, false, 28), ('S9', 'w8', 3, false, 56)"
        )
        pairs = con.execute(
            "SELECT pre_timepoint, post_timepoint, is_default FROM timepoint_pairs "
            "WHERE study_id = 'S9' ORDER BY post_ordinal"
        ).fetchall()
    finally:
        con.close()
    assert _version(v2_db) == str(schema.SCHEMA_VERSION)
    # the default is the first timepoint after the baseline, not merely the first non-baseline
    assert pairs == [("base", "screen", False), ("base", "w4", True), ("base", "w8", False)]


def test_version_2_database_keeps_every_row(v2_db: Path) -> None:
    before = {t: _rows(v2_db, f"SELECT * FROM {t} ORDER BY ALL") for t in EXPECTED_TABLES}
    measurements_before = _rows(v2_db, MEASUREMENT_ROWS)
    derived_before = _rows(v2_db, "SELECT * FROM arm_summary ORDER BY ALL")
    with pytest.raises(StoreError, match="needs an upgrade"):
        connect(v2_db, read_only=True)
    connect(v2_db, read_only=False).close()
    assert _version(v2_db) == str(schema.SCHEMA_VERSION)
    for table in ("studies", "arms", "timepoints", "samples", "imports"):
        assert _rows(v2_db, f"SELECT * FROM {table} ORDER BY ALL") == before[table], table
    assert _rows(v2_db, MEASUREMENT_ROWS) == measurements_before
    assert _rows(v2_db, "SELECT * FROM arm_summary ORDER BY ALL") == derived_before
    patients = _rows(
        v2_db,
        "SELECT study_id, patient_id, arm_id, sex, age, response, race FROM patients ORDER BY ALL",
    )
    assert patients == [(*row, None) for row in before["patients"]]
    # each study that measured a biomarker gets the definition it was loaded with
    assert _rows(
        v2_db,
        "SELECT study_id, biomarker_id, label, assay, compartment, unit, lloq, description "
        "FROM biomarkers ORDER BY ALL",
    ) == [
        ("S1", "CD8", "CD8+ T cells", "IHC", "tumour", "cells/mm2", 1.0, None),
        ("S1", "FAP", "FAP+ fibroblasts", "mIF", "stroma", "% area", None, None),
        ("S2", "CD8", "CD8+ T cells", "IHC", "tumour", "cells/mm2", 1.0, None),
    ]
    assert len(before["biomarkers"]) == 2


def test_migrated_database_takes_a_study_with_other_units(
    v2_db: Path, run_cli, write_csv, one_line_error
) -> None:
    connect(v2_db, read_only=False).close()
    other_lab = write_csv(
        """\
        study_id,patient_id,arm,timepoint,is_baseline,biomarker,unit,value
        S3,R1,A,pre,true,CD8,% area,2.5
        S3,R1,A,post,false,CD8,% area,5
        """
    )
    result = run_cli("import", other_lab, "--db", v2_db)
    assert result.returncode == 0, result.stderr
    units = _rows(
        v2_db, "SELECT study_id, unit FROM biomarkers WHERE biomarker_id = 'CD8' ORDER BY 1"
    )
    assert units == [("S1", "cells/mm2"), ("S2", "cells/mm2"), ("S3", "% area")]
    same_study = write_csv(
        """\
        study_id,patient_id,arm,timepoint,is_baseline,biomarker,unit,value
        S1,P9,Drug,pre,true,CD8,% area,2.5
        """,
        name="clash.csv",
    )
    result = run_cli("import", same_study, "--db", v2_db)
    one_line_error(
        result, "row 2", "column 'unit'", "biomarker 'CD8' has unit 'cells/mm2'", "study 'S1'"
    )
    stats = run_cli("stats", "--db", v2_db, "--study", "S1", "--level", "arm", "--format", "csv")
    assert stats.returncode == 0, stats.stderr
    assert "cells/mm2" in stats.stdout and "% area" in stats.stdout


def test_migration_to_4_keeps_measurements_and_drops_their_keys(new_db: Path) -> None:
    """A schema-3 database (measurements with primary and foreign keys) migrates to 4."""
    con = duckdb.connect(str(new_db))
    con.execute("DROP TABLE measurements")
    con.execute(
        """
        CREATE TABLE measurements (
            study_id VARCHAR NOT NULL, sample_id VARCHAR NOT NULL,
            biomarker_id VARCHAR NOT NULL,
            value DOUBLE, below_lloq BOOLEAN NOT NULL DEFAULT FALSE, lloq DOUBLE,
            raw_value VARCHAR, comment VARCHAR, import_id INTEGER,
            PRIMARY KEY (study_id, sample_id, biomarker_id),
            FOREIGN KEY (study_id, sample_id) REFERENCES samples (study_id, sample_id),
            FOREIGN KEY (study_id, biomarker_id) REFERENCES biomarkers (study_id, biomarker_id))
        """
    )
    _fill(con)
    con.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    con.close()
    con = connect(new_db, read_only=False)
    try:
        assert schema.schema_version(con) == 4
        rows = con.execute("SELECT study_id, sample_id, biomarker_id, value FROM measurements")
        assert rows.fetchall() == [("S1", "P1-pre", "CD8", 1.0)]
        kinds = con.execute(
            "SELECT constraint_type FROM duckdb_constraints() WHERE table_name = 'measurements'"
        ).fetchall()
        assert {k for (k,) in kinds} <= {"NOT NULL"}
        with pytest.raises(duckdb.ConstraintException):  # NOT NULL stays
            con.execute("INSERT INTO measurements (study_id, sample_id) VALUES ('S1', 'x')")
    finally:
        con.close()
