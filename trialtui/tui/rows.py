"""One patient's or one biomarker's measurements, read from the database when a screen needs
them: the app does not hold a study's measurements in memory (millions of rows at scale)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl
from textual.message import Message

from trialtui.errors import TrialtuiError
from trialtui.store import catalog
from trialtui.store.connection import connect


def read_measurements(
    db_path: Path, study_id: str, *, patient_id: str | None = None, biomarker: str | None = None
) -> tuple[pl.DataFrame, tuple[int, int]]:
    """The study's measurements of one patient or one biomarker (see
    :func:`trialtui.store.catalog.measurements`) and the database's data version, read in
    one transaction: the version tells whether the rows are those the results came from.

    Raises
    ------
    TrialtuiError
        The database cannot be opened now.
    """
    con = connect(db_path, read_only=True)
    try:
        con.execute("BEGIN TRANSACTION")
        try:
            rows = catalog.measurements(con, study_id, patient_id=patient_id, biomarker=biomarker)
            version = catalog.data_version(con)
        finally:
            con.execute("ROLLBACK")
    finally:
        con.close()
    return rows, version


@dataclass
class RowsRead(Message, bubble=False):
    """A detail screen's measurements, read in a worker (``error``: why they could not be)."""

    rows: pl.DataFrame | None
    version: tuple[int, int] | None
    generation: int  # the screen's request this answers
    error: str | None = None


def read_rows(
    db_path: Path,
    study_id: str,
    generation: int,
    *,
    patient_id: str | None = None,
    biomarker: str | None = None,
) -> RowsRead:
    """:func:`read_measurements` as a message for the screen that asked (in a worker)."""
    try:
        rows, version = read_measurements(
            db_path, study_id, patient_id=patient_id, biomarker=biomarker
        )
    except TrialtuiError as exc:
        return RowsRead(None, None, generation, error=str(exc))
    except Exception as exc:  # a bug: one line on screen, the app stays alive
        return RowsRead(None, None, generation, error=f"{type(exc).__name__}: {exc}")
    return RowsRead(rows, version, generation)
