"""What a file may say about things the database already holds: the cross-import rules.

Every rule lives here, so that one import and a series of imports are judged alike. A file
may restate anything the database holds, add studies, arms, patients, timepoints, samples,
biomarkers and measurements, and fill in an attribute the database has no value for. It may
not contradict the database:

- a patient's arm (an import never moves a patient to another arm);
- a patient's sex, age, race or response: changed only when the import is asked to
  (``update_subject_data``); each change is listed in the import audit;
- a sample's patient or timepoint (a sample never moves), collection day, tissue or QC flag;
- a biomarker's unit, assay, compartment or LLOQ within its study (another study may
  measure the same biomarker differently);
- a measurement's value (checked here) and the study's baseline timepoint (checked with the
  timepoints in :mod:`trialtui.store.validate`).

A contradiction is a problem naming the file, the row, the column, the stored value and the
new one. The entity frames built here (one row per patient, sample and biomarker) are also
what the importer loads, so that what is checked is exactly what is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import duckdb
import numpy as np
import polars as pl

from trialtui.store.readers import ROW
from trialtui.store.sql import fetch_frame

VALUE_COL = "_col"  # name of the column a measurement's value came from (long: "value")


def row_key(frame: pl.DataFrame, columns: Sequence[str]) -> np.ndarray | None:
    """One integer per row, equal exactly for rows whose ``columns`` hold equal values.

    Each column's values are numbered 0 to n - 1 in order of first appearance (a fresh
    categorical mapping, exact, not a hash) and the numbers combined as the digits of one
    integer. None when a column has a missing value or the combinations do not fit in 62
    bits: group by the columns themselves then.
    """
    combined = np.zeros(frame.height, dtype=np.int64)
    space = 1
    for column in columns:
        codes = frame[column].cast(pl.Categorical(pl.Categories.random())).to_physical()
        if codes.null_count() or frame.height == 0:
            return None
        count = int(codes.max()) + 1  # type: ignore[arg-type]
        space *= count
        if space >= 2**62:
            return None
        combined *= count
        combined += codes.to_numpy()
    return combined


@dataclass(frozen=True)
class Attribute:
    """One stored attribute of an entity that a file can restate."""

    entity: str  # "patient", "sample", "biomarker"
    column: str  # the column in the entity frame and the file
    stored: str  # the column in the database table
    changeable: bool = False  # may change with update_subject_data
    phrase: str = ""  # how a message states it ("is in arm"); default "has COLUMN"

    @property
    def says(self) -> str:
        return self.phrase or f"has {self.column}"


@dataclass(frozen=True)
class Entity:
    """A table whose rows files restate, with the columns that identify a row."""

    name: str
    table: str
    keys: tuple[tuple[str, str], ...]  # (entity frame column, table column)
    attributes: tuple[Attribute, ...]


PATIENT = Entity(
    "patient",
    "patients",
    (("study_id", "study_id"), ("patient_id", "patient_id")),
    (
        Attribute("patient", "arm", "arm_id", phrase="is in arm"),
        Attribute("patient", "sex", "sex", changeable=True),
        Attribute("patient", "age", "age", changeable=True),
        Attribute("patient", "response", "response", changeable=True),
        Attribute("patient", "race", "race", changeable=True),
    ),
)
SAMPLE = Entity(
    "sample",
    "samples",
    (("study_id", "study_id"), ("sample_id", "sample_id")),
    (
        Attribute("sample", "patient_id", "patient_id", phrase="belongs to patient"),
        Attribute("sample", "timepoint", "timepoint", phrase="was taken at"),
        Attribute("sample", "visit_day", "collection_day"),
        Attribute("sample", "tissue", "tissue"),
        Attribute("sample", "qc_flag", "qc_flag"),
    ),
)
BIOMARKER = Entity(
    "biomarker",
    "biomarkers",
    # a biomarker's definition belongs to its study: another study may measure it differently
    (("study_id", "study_id"), ("biomarker", "biomarker_id")),
    (
        Attribute("biomarker", "unit", "unit"),
        Attribute("biomarker", "assay", "assay"),
        Attribute("biomarker", "compartment", "compartment"),
        Attribute("biomarker", "lloq", "lloq"),
    ),
)
ENTITIES = (PATIENT, SAMPLE, BIOMARKER)


@dataclass(frozen=True)
class Change:
    """An attribute an import sets: filled in (stored value missing) or changed."""

    entity: str
    key: str  # the patient, sample or biomarker id
    column: str
    old: str | None
    new: str

    def __str__(self) -> str:
        if self.old is None:
            return f"{self.entity} '{self.key}' {self.column} set to '{self.new}'"
        return f"{self.entity} '{self.key}' {self.column} '{self.old}' -> '{self.new}'"


def _first(frame: pl.DataFrame, column: str) -> pl.Expr:
    """A group's first value of ``column`` that is not missing (a column without any
    value gives its missing value without a look at the rows)."""
    if frame[column].null_count() == frame.height:
        return pl.lit(None, dtype=frame.schema[column]).alias(column)
    return pl.col(column).drop_nulls().first()


def _first_row(frame: pl.DataFrame, column: str) -> pl.Expr:
    """The row of a group's first value of ``column`` (:func:`_first`)."""
    if frame[column].null_count() == frame.height:
        return pl.lit(None, dtype=frame.schema[ROW]).alias(f"{column}{ROW}")
    return pl.col(ROW).filter(pl.col(column).is_not_null()).first().alias(f"{column}{ROW}")


def entity_frames(frame: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """One row per patient, sample and biomarker of a validated measurement frame.

    An attribute takes its first non-missing value in file order (validation has already
    refused a second, different value where one is not allowed); ``COLUMN_row`` is the row
    it came from. A sample's collection day is its earliest visit day. A biomarker's ``lloq``
    is the declared one (the one compared with the database); ``censored_lloq`` is the
    smallest LLOQ of its censored values, stored when none is declared.
    """
    ordered = frame.sort(ROW)
    patients = grouped(
        ordered,
        ("study_id", "patient_id"),
        pl.col(ROW).first(),
        *[_first(ordered, a.column) for a in PATIENT.attributes],
        *[_first_row(ordered, a.column) for a in PATIENT.attributes],
    )
    samples = grouped(
        ordered,
        ("study_id", "sample_id"),
        pl.col(ROW).first(),
        *[_first(ordered, c) for c in ("patient_id", "timepoint", "tissue", "qc_flag")],
        pl.col("visit_day").min(),
        *[_first_row(ordered, a.column) for a in SAMPLE.attributes],
    )
    biomarkers = grouped(
        ordered,
        ("study_id", "biomarker"),
        pl.col(ROW).first(),
        *[
            _first(ordered, c)
            for c in ("biomarker_label", "assay", "compartment", "unit", "description")
        ],
        _first(ordered, "_declared_lloq").alias("lloq"),
        pl.col("lloq").min().alias("censored_lloq"),
        *[_first_row(ordered, c) for c in ("unit", "assay", "compartment")],
        _first_row(ordered, "_declared_lloq").alias(f"lloq{ROW}"),
    )
    # in order of first appearance (a group's ROW is its first row)
    return {
        "patient": patients.sort(ROW),
        "sample": samples.sort(ROW),
        "biomarker": biomarkers.sort(ROW),
    }


def grouped(frame: pl.DataFrame, keys: Sequence[str], *aggs: pl.Expr) -> pl.DataFrame:
    """``frame.group_by(keys).agg(*aggs)``, in groups of unspecified order, computed by
    Polars' streaming engine: the same result as the eager one in a fraction of its
    memory (its hash tables hold every row's key; at ten million rows, gigabytes)."""
    return frame.lazy().group_by(keys).agg(*aggs).collect(engine="streaming")


class Problems(Protocol):
    """Where :func:`check_against_database` reports (validate's problem collector)."""

    limit: int

    @property
    def full(self) -> bool: ...

    def add(self, message: str, row: int | None = None, column: str | None = None) -> None: ...


def check_against_database(
    frame: pl.DataFrame,
    entities: dict[str, pl.DataFrame],
    found: Problems,
    con: duckdb.DuckDBPyConnection,
    *,
    update_subject_data: bool = False,
) -> tuple[list[Change], pl.DataFrame | None]:
    """Check a validated file against earlier imports.

    Contradictions are added to ``found``. Returns the attributes the file would set
    (fills of missing stored values and, with ``update_subject_data``, changes of
    patients' sex, age and response) and the file's measurements the database already
    holds (ROW and the import that loaded each; None when the database holds none of its
    studies' measurements): the load skips those.
    """
    changes: list[Change] = []
    for entity in ENTITIES:
        changes.extend(
            _check_entity(entity, entities[entity.name], found, con, update_subject_data)
        )
    stored = None
    if not found.full:
        stored = _check_values(frame, found, con)
    return changes, stored


def _check_entity(
    entity: Entity,
    incoming: pl.DataFrame,
    found: Problems,
    con: duckdb.DuckDBPyConnection,
    update_subject_data: bool,
) -> list[Change]:
    changes: list[Change] = []
    name = f"incoming_{entity.name}"
    con.register(name, incoming.to_arrow(compat_level=pl.CompatLevel.newest()))
    try:
        join = " AND ".join(f"s.{stored} = e.{column}" for column, stored in entity.keys)
        key = entity.keys[-1][0]
        for attribute in entity.attributes:
            column, stored = attribute.column, attribute.stored
            rows = con.execute(
                f"""
                SELECT e."{column}{ROW}", e.{key}, CAST(s.{stored} AS VARCHAR),
                       CAST(e.{column} AS VARCHAR), e.study_id
                FROM {name} e JOIN {entity.table} s ON {join}
                WHERE e.{column} IS NOT NULL AND s.{stored} IS DISTINCT FROM e.{column}
                ORDER BY e."{column}{ROW}"
                """
            ).fetchall()
            for row, ident, old, new, study in rows:
                if old is None or (attribute.changeable and update_subject_data):
                    changes.append(Change(entity.name, ident, column, old, new))
                    continue
                hint = (
                    " (to change it, import with --update-subject-data)"
                    if attribute.changeable
                    else ""
                )
                # a biomarker is defined per study: say which study's definition differs
                stored_in = (
                    f"the database (study '{study}')" if entity is BIOMARKER else "the database"
                )
                found.add(
                    f"{entity.name} '{ident}' {attribute.says} '{old}' in {stored_in} but "
                    f"'{new}' here{hint}",
                    row,
                    column,
                )
                if found.full:
                    return changes
    finally:
        con.unregister(name)
    return changes


def _check_values(
    frame: pl.DataFrame, found: Problems, con: duckdb.DuckDBPyConnection
) -> pl.DataFrame | None:
    """A measurement already loaded for the patient, timepoint and biomarker must agree.

    Returns the file's rows the database already holds (ROW, import_id), found by the
    same join (one pass over the stored measurements for the check and the load)."""
    studies = frame["study_id"].unique().to_list()
    stored = con.execute(
        "SELECT count(*) FROM (SELECT 1 FROM measurements WHERE list_contains(?, study_id) "
        "LIMIT 1)",
        [studies],
    ).fetchall()
    if not stored[0][0]:
        return None  # a new study: nothing to disagree with
    con.register(
        "incoming_values",
        frame.select(
            ROW, "study_id", "patient_id", "timepoint", "biomarker", "value", "below_lloq"
        ).to_arrow(compat_level=pl.CompatLevel.newest()),
    )
    try:
        matched = fetch_frame(
            con,
            f"""
            SELECT i.{ROW}, m.import_id,
                   CASE WHEN m.value IS DISTINCT FROM i.value OR m.below_lloq <> i.below_lloq
                        THEN coalesce(m.raw_value, CAST(m.value AS VARCHAR)) END AS differs
            FROM incoming_values i
            JOIN samples s ON s.study_id = i.study_id AND s.patient_id = i.patient_id
                          AND s.timepoint = i.timepoint
            JOIN measurements m ON m.study_id = s.study_id AND m.sample_id = s.sample_id
                               AND m.biomarker_id = i.biomarker
            """,
        )
    finally:
        con.unregister("incoming_values")
    clashes = matched.filter(pl.col("differs").is_not_null()).sort(ROW).head(found.limit)
    if clashes.height:
        named = frame.join(clashes, on=ROW).sort(ROW)
        for r in named.iter_rows(named=True):
            found.add(
                f"'{r['biomarker']}' for patient '{r['patient_id']}' at '{r['timepoint']}' "
                f"differs from the value '{r['differs']}' loaded by import #{r['import_id']}",
                r[ROW],
                r[VALUE_COL],
            )
    return matched.select(ROW, "import_id")
