"""DuckDB schema of a trialtui database, its version and the migration hook."""

from __future__ import annotations

from collections.abc import Callable

import duckdb

SCHEMA_VERSION = 4

# Every (baseline, other timepoint) pair of a study; is_default marks the first timepoint
# after the baseline, the analysis default. Query files and catalog queries share it.
TIMEPOINT_PAIRS_VIEW = """
    CREATE VIEW IF NOT EXISTS timepoint_pairs AS
    SELECT b.study_id, b.timepoint AS pre_timepoint, t.timepoint AS post_timepoint,
           t.ordinal AS post_ordinal,
           coalesce(t.ordinal = min(t.ordinal) FILTER (WHERE t.ordinal > b.ordinal)
                    OVER (PARTITION BY b.study_id), false) AS is_default
    FROM timepoints b
    JOIN timepoints t ON t.study_id = b.study_id AND NOT t.is_baseline
    WHERE b.is_baseline
"""

# A biomarker is defined per study: two trials (or two labs) may measure the same marker
# with another assay, unit or LLOQ.
BIOMARKERS_TABLE = """
    CREATE TABLE IF NOT EXISTS biomarkers (
        study_id VARCHAR NOT NULL REFERENCES studies (study_id),
        biomarker_id VARCHAR NOT NULL,
        label VARCHAR,
        assay VARCHAR,
        compartment VARCHAR,
        unit VARCHAR,
        lloq DOUBLE CHECK (lloq IS NULL OR lloq > 0),
        description VARCHAR,
        PRIMARY KEY (study_id, biomarker_id)
    )
"""

# The one table that grows to millions of rows declares no keys: a primary-key index and
# foreign-key checks made loading it nine times slower and held gigabytes of memory.
# What they protected is guaranteed by the importer, the only writer:
# - (study_id, sample_id, biomarker_id) is unique: validation keeps one row per (study,
#   patient, timepoint, biomarker) of a file and refuses sample ids that name another
#   patient or timepoint (also against the database), and the insert skips a (study,
#   patient, timepoint, biomarker) the database already holds;
# - every (study_id, sample_id) is a sample and every (study_id, biomarker_id) a biomarker
#   of the study: both are inserted, in the same transaction, from the validated file the
#   measurements come from.
# ``tests/test_import_integrity.py`` checks these guarantees on real imports.
MEASUREMENTS_TABLE = """
    CREATE TABLE IF NOT EXISTS measurements (
        study_id VARCHAR NOT NULL,
        sample_id VARCHAR NOT NULL,
        biomarker_id VARCHAR NOT NULL,
        value DOUBLE,
        below_lloq BOOLEAN NOT NULL DEFAULT FALSE,
        lloq DOUBLE,
        raw_value VARCHAR,
        comment VARCHAR,
        import_id INTEGER
    )
"""

# Tables in dependency order: a table only references tables above it.
SCHEMA_SQL: tuple[str, ...] = (
    """
    CREATE TABLE IF NOT EXISTS meta (
        key VARCHAR PRIMARY KEY,
        value VARCHAR NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS studies (
        study_id VARCHAR PRIMARY KEY,
        title VARCHAR,
        indication VARCHAR,
        phase VARCHAR,
        design VARCHAR,
        source VARCHAR
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS arms (
        study_id VARCHAR NOT NULL REFERENCES studies (study_id),
        arm_id VARCHAR NOT NULL,
        label VARCHAR,
        description VARCHAR,
        is_reference BOOLEAN NOT NULL DEFAULT FALSE,
        PRIMARY KEY (study_id, arm_id)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS patients (
        study_id VARCHAR NOT NULL,
        patient_id VARCHAR NOT NULL,
        arm_id VARCHAR NOT NULL,
        sex VARCHAR,
        age DOUBLE,
        response VARCHAR CHECK (response IS NULL OR response IN ('CR', 'PR', 'SD', 'PD', 'NE')),
        race VARCHAR,
        PRIMARY KEY (study_id, patient_id),
        FOREIGN KEY (study_id, arm_id) REFERENCES arms (study_id, arm_id)
    )
    """,
    BIOMARKERS_TABLE,
    """
    CREATE TABLE IF NOT EXISTS timepoints (
        study_id VARCHAR NOT NULL REFERENCES studies (study_id),
        timepoint VARCHAR NOT NULL,
        ordinal INTEGER NOT NULL,
        is_baseline BOOLEAN NOT NULL,
        nominal_day DOUBLE,
        PRIMARY KEY (study_id, timepoint)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS samples (
        study_id VARCHAR NOT NULL,
        sample_id VARCHAR NOT NULL,
        patient_id VARCHAR NOT NULL,
        timepoint VARCHAR NOT NULL,
        collection_day DOUBLE,
        tissue VARCHAR,
        qc_flag VARCHAR,
        PRIMARY KEY (study_id, sample_id),
        FOREIGN KEY (study_id, patient_id) REFERENCES patients (study_id, patient_id),
        FOREIGN KEY (study_id, timepoint) REFERENCES timepoints (study_id, timepoint)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS imports (
        import_id INTEGER PRIMARY KEY,
        started_at TIMESTAMP NOT NULL,
        finished_at TIMESTAMP,
        source_file VARCHAR NOT NULL,
        sha256 VARCHAR NOT NULL,
        format VARCHAR NOT NULL,
        study_id VARCHAR,
        rows_read BIGINT NOT NULL,
        rows_loaded BIGINT NOT NULL,
        rows_rejected BIGINT NOT NULL,
        status VARCHAR NOT NULL,
        message VARCHAR
    )
    """,
    MEASUREMENTS_TABLE,
    """
    CREATE TABLE IF NOT EXISTS derived_runs (
        table_name VARCHAR NOT NULL,
        study_id VARCHAR NOT NULL,
        settings_json VARCHAR NOT NULL,
        trialtui_version VARCHAR NOT NULL,
        computed_at TIMESTAMP NOT NULL,
        row_count BIGINT NOT NULL,
        PRIMARY KEY (table_name, study_id)
    )
    """,
    TIMEPOINT_PAIRS_VIEW,
)

# Migration hook: MIGRATIONS[v] upgrades a database at schema version v to v + 1.
Migration = Callable[[duckdb.DuckDBPyConnection], None]


def _biomarkers_per_study(con: duckdb.DuckDBPyConnection) -> None:
    """Schema 3: biomarker definitions per (study, biomarker); patients gain ``race``.

    Each study that measured a biomarker gets a copy of its database-wide definition; a
    definition without measurements is kept for every study. Measurements are copied
    unchanged (their foreign key now names the study too, so both tables are rebuilt).
    """
    con.execute("CREATE TEMP TABLE v2_biomarkers AS SELECT * FROM biomarkers")
    con.execute("CREATE TEMP TABLE v2_measurements AS SELECT * FROM measurements")
    con.execute("DROP TABLE measurements")
    con.execute("DROP TABLE biomarkers")
    con.execute(BIOMARKERS_TABLE)
    con.execute(MEASUREMENTS_TABLE)
    con.execute(
        """
        INSERT INTO biomarkers (study_id, biomarker_id, label, assay, compartment, unit, lloq,
                                description)
        SELECT s.study_id, b.biomarker_id, b.label, b.assay, b.compartment, b.unit, b.lloq,
               b.description
        FROM v2_biomarkers b
        JOIN (SELECT DISTINCT study_id, biomarker_id FROM v2_measurements) s USING (biomarker_id)
        UNION ALL
        SELECT st.study_id, b.biomarker_id, b.label, b.assay, b.compartment, b.unit, b.lloq,
               b.description
        FROM v2_biomarkers b CROSS JOIN studies st
        WHERE b.biomarker_id NOT IN (SELECT biomarker_id FROM v2_measurements)
        """
    )
    con.execute(
        """
        INSERT INTO measurements (study_id, sample_id, biomarker_id, value, below_lloq, lloq,
                                  raw_value, comment, import_id)
        SELECT study_id, sample_id, biomarker_id, value, below_lloq, lloq, raw_value, comment,
               import_id
        FROM v2_measurements
        """
    )
    con.execute("DROP TABLE v2_measurements")
    con.execute("DROP TABLE v2_biomarkers")
    con.execute("ALTER TABLE patients ADD COLUMN race VARCHAR")


def _measurements_without_keys(con: duckdb.DuckDBPyConnection) -> None:
    """Schema 4: measurements copied into a table without key constraints."""
    con.execute(MEASUREMENTS_TABLE.replace("EXISTS measurements", "EXISTS measurements_v4"))
    con.execute(
        "INSERT INTO measurements_v4 SELECT study_id, sample_id, biomarker_id, value, "
        "below_lloq, lloq, raw_value, comment, import_id FROM measurements"
    )
    con.execute("DROP TABLE measurements")
    con.execute("ALTER TABLE measurements_v4 RENAME TO measurements")


MIGRATIONS: dict[int, Migration] = {
    1: lambda con: con.execute(TIMEPOINT_PAIRS_VIEW),
    2: _biomarkers_per_study,
    3: _measurements_without_keys,
}


def create_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create every table of a new database and record the schema version."""
    for statement in SCHEMA_SQL:
        con.execute(statement)
    con.execute(
        "INSERT INTO meta VALUES ('schema_version', ?) ON CONFLICT DO NOTHING",
        [str(SCHEMA_VERSION)],
    )


def schema_version(con: duckdb.DuckDBPyConnection) -> int | None:
    """The schema version recorded in the database, or None if it is not a trialtui database."""
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_name = 'meta' AND table_schema = 'main'"
    ).fetchall()
    if not exists or exists[0][0] == 0:
        return None
    row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
    return int(row[0][0]) if row else None


def migrate(con: duckdb.DuckDBPyConnection, from_version: int) -> None:
    """Upgrade the schema step by step from ``from_version`` to :data:`SCHEMA_VERSION`."""
    version = from_version
    while version < SCHEMA_VERSION:
        step = MIGRATIONS[version]
        con.execute("BEGIN TRANSACTION")
        try:
            step(con)
            version += 1
            con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(version)])
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
