"""CSV exports with a provenance sidecar, written atomically."""

from __future__ import annotations

import json
import os
import shlex
import sys
import tempfile
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from trialtui import __version__
from trialtui.errors import UsageError
from trialtui.store import catalog
from trialtui.store.connection import connect
from trialtui.study import StudyResults


def provenance_path(path: Path) -> Path:
    """``FILE.provenance.json`` beside ``FILE``."""
    return path.with_name(path.name + ".provenance.json")


def build_provenance(
    *,
    db_path: Path | str,
    study_id: str | None,
    level: str,
    settings: dict[str, Any],
    source_files: pl.DataFrame,
    row_count: int,
    command: list[str] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The record that lets anyone reproduce an exported table."""
    record: dict[str, Any] = {
        "trialtui_version": __version__,
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command if command is not None else sys.argv,
        "database": str(Path(db_path).resolve()),
        "study_id": study_id,
        "level": level,
        "settings": settings,
        "source_files": source_files.to_dicts(),
        "row_count": row_count,
    }
    if extra:
        record.update(extra)
    return record


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def check_targets(paths: Iterable[Path], *, force: bool = False) -> None:
    """Check that every CSV of ``paths`` and its provenance sidecar may be written.

    Commands call this before they change anything, so that a refused export writes
    nothing at all (no partial set of files, no derived tables).

    Raises
    ------
    UsageError
        A folder does not exist, or a target exists and ``force`` is not set.
    """
    for path in map(Path, paths):
        if not path.parent.is_dir():
            raise UsageError(f"{path}: folder {path.parent} does not exist")
        for target in (path, provenance_path(path)):
            if target.exists() and not force:
                raise UsageError(f"{target}: already exists (use --force to overwrite)")


def export_csv(
    frame: pl.DataFrame, path: str | Path, provenance: dict[str, Any], *, force: bool = False
) -> Path:
    """Write ``frame`` as CSV and its provenance as ``FILE.provenance.json``.

    Both files go to a temporary name first and are renamed into place. Existing files are
    replaced only with ``force``.

    Raises
    ------
    UsageError
        A target exists and ``force`` is not set, or the folder does not exist.
    """
    path = Path(path)
    check_targets([path], force=force)
    _atomic_write(path, frame.write_csv())
    _atomic_write(provenance_path(path), json.dumps(provenance, indent=2, default=str) + "\n")
    return path


def imported_sources(db_path: Path, study_id: str | None) -> pl.DataFrame:
    """The source files imported into ``db_path`` (for ``study_id``), with their sha256."""
    con = connect(db_path, read_only=True)
    try:
        return catalog.source_files(con, study_id)
    finally:
        con.close()


def _number(value: float) -> str:
    return repr(float(value))


def stats_command(db_path: Path | str, results: StudyResults, level: str) -> list[str]:
    """The ``trialtui stats`` command line that recomputes ``level`` of ``results``.

    Every setting is spelled out as resolved (timepoints, reference arm), so the command
    gives the same numbers even if the defaults would now resolve differently.
    """
    s = results.settings
    command = [
        "trialtui",
        "stats",
        "--db",
        str(Path(db_path).resolve()),
        "--study",
        results.study_id,
        "--level",
        level,
        "--baseline",
        results.pairing.baseline_timepoint,
        "--timepoint",
        results.pairing.timepoint,
        "--reference-arm",
        results.reference_arm,
        "--lloq",
        s.lloq_policy,
        "--fdr",
        s.fdr,
        "--conf-level",
        _number(s.conf_level),
    ]
    if s.pseudocount is not None:
        command += ["--pseudocount", _number(s.pseudocount)]
    return [*command, "--format", "csv"]


def query_command(
    db_path: Path | str, query: str, params: dict[str, str] | None = None
) -> list[str]:
    """The ``trialtui query`` command line that reruns a query file (name or path)."""
    command = ["trialtui", "query", query, "--db", str(Path(db_path).resolve())]
    for name, value in sorted((params or {}).items()):
        command += ["--param", f"{name}={value}"]
    return [*command, "--format", "csv"]


def shell_line(command: list[str]) -> str:
    """``command`` as one line to paste into a POSIX shell."""
    return shlex.join(command)


def results_provenance(
    db_path: Path, results: StudyResults, level: str, *, frame: pl.DataFrame | None = None
) -> dict[str, Any]:
    """Provenance of one result level of a study (``frame``: the rows actually exported).

    The source files are the imports the results were computed from (read with the data),
    not whatever the database holds at export time.
    """
    rows = frame if frame is not None else results.level(level)
    sources = results.sources
    if sources is None:
        sources = imported_sources(db_path, results.study_id)
    return build_provenance(
        db_path=db_path,
        study_id=results.study_id,
        level=level,
        settings=results.settings_used(),
        source_files=sources,
        row_count=rows.height,
        command=stats_command(db_path, results, level),
    )


def query_provenance(
    db_path: Path,
    *,
    name: str,
    sql: str,
    params: dict[str, str],
    context: dict[str, Any],
    row_count: int,
) -> dict[str, Any]:
    """Provenance of a SQL console result: the query text, its parameters, and for every
    derived table it read the ``derived_runs`` rows saying how those rows were computed.

    ``context`` comes from :func:`trialtui.store.derived.query_context`, read on the
    connection that ran the query. A query reads stored tables, not the screen, so no
    screen settings are recorded.
    """
    command = query_command(db_path, name if context.get("is_query_file") else "QUERY.sql", params)
    record = build_provenance(
        db_path=db_path,
        study_id=None,
        level=f"query:{name}",
        settings={},
        source_files=pl.DataFrame(context.get("source_files", [])),
        row_count=row_count,
        command=command,
        extra={
            "query": {"name": name, "sql": sql, "params": params},
            "derived_tables_read": context.get("derived_tables_read", []),
            "derived_runs": context.get("derived_runs", []),
        },
    )
    if not context.get("is_query_file"):
        record["command_note"] = "save query.sql from this record as QUERY.sql first"
    return record
