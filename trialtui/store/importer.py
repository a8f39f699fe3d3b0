"""Import validated files into a trialtui database in one transaction (all or nothing)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl

from trialtui.errors import InputError, Interrupted, StoreError, first_line, is_interrupt
from trialtui.store.adam import AdamOptions
from trialtui.store.crossimport import ENTITIES
from trialtui.store.derived import drop_derived
from trialtui.store.readers import ROW, read_source
from trialtui.store.sql import fetch_row, fetch_value, interruptible, release_memory
from trialtui.store.validate import ImportPlan, Problem, validate_source

Progress = Callable[[str], None]


@dataclass
class FileResult:
    """What happened to one file."""

    path: Path
    sha256: str
    status: str  # "loaded", "unchanged" (everything already in the database), "valid" (dry run)
    format: str = ""
    study_id: str | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_skipped: int = 0
    import_id: int | None = None
    message: str = ""
    summary: list[str] = field(default_factory=list)  # how an ADaM dataset was mapped
    warnings: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    """The outcome of one import command."""

    files: list[FileResult] = field(default_factory=list)
    dry_run: bool = False


def validate_files(
    paths: Sequence[str | Path],
    *,
    fmt: str = "auto",
    study: str | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    limit: int = 50,
    update_subject_data: bool = False,
    adam: AdamOptions | None = None,
) -> tuple[list[ImportPlan], list[Problem]]:
    """Read and validate files without writing anything; collect up to ``limit`` problems."""
    plans: list[ImportPlan] = []
    problems: list[Problem] = []
    for path in paths:
        try:
            source = read_source(path)
        except InputError as exc:
            problems.append(Problem(Path(path), str(exc).removeprefix(f"{path}: ")))
            continue
        plan = validate_source(
            source,
            fmt=fmt,
            study=study,
            con=con,
            limit=limit,
            update_subject_data=update_subject_data,
            adam=adam,
        )
        plans.append(plan)
        problems.extend(plan.problems)
    return plans, problems[:limit]


def _first_error(problems: list[Problem], limit: int) -> InputError:
    first = str(problems[0])
    more = len(problems) - 1
    if more:
        extra = f"{more}+" if len(problems) >= limit else str(more)
        first += f" (and {extra} more; `trialtui validate` lists them)"
    return InputError(first)


def import_files(
    con: duckdb.DuckDBPyConnection,
    paths: Sequence[str | Path],
    *,
    fmt: str = "auto",
    study: str | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
    limit: int = 50,
    update_subject_data: bool = False,
    adam: AdamOptions | None = None,
) -> ImportReport:
    """Validate and load files; on any problem raise and leave the database unchanged.

    All files of one call load in a single transaction, each checked against the database
    and the files before it (:mod:`trialtui.store.crossimport`). A file whose content is
    already in the database is reported ``"unchanged"`` and leaves no trace: no import
    record, derived tables kept.

    Parameters
    ----------
    update_subject_data
        Let the files change patients' sex, age and response stored by earlier imports;
        each change is listed in the import record.

    Raises
    ------
    InputError
        The first problem found (file, row, column, what is wrong), with a count of the rest.
    StoreError
        The database refused the write (for example a damaged file); nothing was written.
    Interrupted
        Ctrl-C: the message says whether the import was committed before it arrived.
    """
    report = ImportReport(dry_run=dry_run)
    say = progress or (lambda _msg: None)
    database = _database_label(con)
    con.execute("BEGIN TRANSACTION")
    try:
        with interruptible(con):  # Ctrl-C stops a long statement, not only the next one
            _import_each(
                con,
                paths,
                report,
                fmt=fmt,
                study=study,
                dry_run=dry_run,
                say=say,
                limit=limit,
                update_subject_data=update_subject_data,
                adam=adam,
            )
        con.execute("ROLLBACK" if dry_run else "COMMIT")
    except BaseException as exc:
        _rollback(con)
        if is_interrupt(exc):
            if _committed(con, report):
                raise Interrupted(
                    "interrupted after commit; the import is complete", written=True
                ) from None
            raise Interrupted("interrupted; nothing was written") from None
        if isinstance(exc, duckdb.Error):
            raise StoreError(
                f"{database}: the import failed and nothing was written: {first_line(exc)}"
            ) from None
        raise
    return report


def _import_each(
    con: duckdb.DuckDBPyConnection,
    paths: Sequence[str | Path],
    report: ImportReport,
    *,
    fmt: str,
    study: str | None,
    dry_run: bool,
    say: Progress,
    limit: int,
    update_subject_data: bool,
    adam: AdamOptions | None,
) -> None:
    """Read, validate and load each file in turn inside the open transaction."""
    for path in paths:
        say(f"reading {path}")
        source = read_source(path)
        say(f"validating {path} ({source.data.height} rows)")
        plan = validate_source(
            source,
            fmt=fmt,
            study=study,
            con=con,
            limit=limit,
            update_subject_data=update_subject_data,
            adam=adam,
        )
        del source  # what the load needs is in the plan; free the rest of the file first
        if not plan.ok:
            raise _first_error(plan.problems, limit)
        if dry_run:
            report.files.append(_result(plan, "valid", None, 0))
            continue
        if not any(f.status == "loaded" for f in report.files):
            # and what checking it against the database held (only while nothing is
            # written: uncommitted rows would have to be moved out of memory instead)
            release_memory(con)
        assert plan.measurements is not None
        if plan.stored is not None and plan.stored.height:
            # measurements declares no key (see schema.py): a (study, patient, timepoint,
            # biomarker) the database already holds is skipped, never inserted twice
            plan.measurements = plan.measurements.join(plan.stored, on=ROW, how="anti")
        plan.measurements = plan.measurements.select(INCOMING_COLUMNS)
        say(f"loading {path}")
        report.files.append(_load(con, plan))


def _committed(con: duckdb.DuckDBPyConnection, report: ImportReport) -> bool:
    """Whether the import records of ``report`` are in the database (after an interrupt)."""
    ids = [f.import_id for f in report.files if f.status == "loaded"]
    if not ids:
        return False
    # A Ctrl-C that reached DuckDB after the statement it was meant for can stop this
    # query too; ask again rather than report a committed import as not written.
    for _ in range(3):
        try:
            found = fetch_value(con, "SELECT count(*) FROM imports WHERE import_id = ?", [ids[0]])
            return bool(found)
        except (duckdb.Error, RuntimeError, KeyboardInterrupt):
            continue
    return False


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back the open transaction, if there still is one (keeping the first error)."""
    with contextlib.suppress(duckdb.Error, RuntimeError):
        con.execute("ROLLBACK")


def _database_label(con: duckdb.DuckDBPyConnection) -> str:
    """The database file of ``con`` for messages (``:memory:`` for an in-memory one)."""
    path = fetch_value(
        con, "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    )
    return str(path) if path else ":memory:"


def _counted(count: int, plural: str) -> str:
    """``count`` and the noun, singular for one ("1 study", "2 studies")."""
    if count != 1:
        return f"{count} {plural}"
    return f"1 {'study' if plural == 'studies' else plural.removesuffix('s')}"


def _result(
    plan: ImportPlan,
    status: str,
    import_id: int | None,
    loaded: int,
    *,
    added: str = "",
) -> FileResult:
    parts = [f"{_counted(plan.rows_read, 'rows')} read ({plan.format} format)"]
    if plan.rows_derived:
        parts.append(
            f"{plan.rows_derived} ADaM records left out (derived, not for analysis or "
            "outside the population)"
        )
    if plan.rows_skipped:
        parts.append(f"{plan.rows_skipped} without a value skipped")
    if plan.rows_duplicate:
        parts.append(f"{plan.rows_duplicate} exact duplicates collapsed")
    if status == "loaded":
        parts.append(f"{_counted(loaded, 'measurements')} loaded")
        if added:
            parts.append(added)
        changed = [c for c in plan.changes if c.old is not None]
        filled = [c for c in plan.changes if c.old is None]
        if changed:
            parts.append(
                "changed with --update-subject-data: " + ", ".join(str(c) for c in changed)
            )
        if filled:
            parts.append("filled in: " + ", ".join(str(c) for c in filled))
    return FileResult(
        path=plan.path,
        sha256=plan.sha256,
        status=status,
        format=plan.format,
        study_id=plan.study_id,
        rows_read=plan.rows_read,
        rows_loaded=loaded,
        rows_skipped=plan.rows_skipped,
        import_id=import_id,
        message="; ".join(parts),
        summary=plan.summary,
        warnings=plan.warnings,
    )


# The columns of a validated measurement frame the load reads (the rest stay in Polars).
INCOMING_COLUMNS = (
    "study_id",
    "patient_id",
    "timepoint",
    "sample_id",
    "biomarker",
    "value",
    "below_lloq",
    "lloq",
    "raw_value",
    "comment",
)

# Tables an import adds rows to, in the order they are filled.
LOADED_TABLES = ("studies", "arms", "patients", "biomarkers", "timepoints", "samples")


def _load(con: duckdb.DuckDBPyConnection, plan: ImportPlan) -> FileResult:
    """Write one validated file; a file that adds and changes nothing leaves no trace."""
    assert plan.measurements is not None and plan.timepoints is not None
    started = datetime.now(UTC).replace(tzinfo=None)
    before = _counts(con)
    import_id = int(fetch_value(con, "SELECT coalesce(max(import_id), 0) + 1 FROM imports"))
    frames = {
        "incoming": plan.measurements.select(INCOMING_COLUMNS),
        "incoming_timepoints": plan.timepoints,
        **{f"incoming_{name}": frame for name, frame in plan.entities.items()},
    }
    for name, frame in frames.items():
        # Arrow string views as Polars holds them: converting to Arrow's classic strings
        # copied every text column (0.8 s per million rows); DuckDB reads views directly
        con.register(name, frame.to_arrow(compat_level=pl.CompatLevel.newest()))
    try:
        _insert(con, plan, import_id)
        _apply_changes(con, plan)
        after = _counts(con)
        loaded = after["measurements"] - before["measurements"]
        added = {t: after[t] - before[t] for t in LOADED_TABLES if after[t] != before[t]}
        if not loaded and not added and not plan.changes:
            return _unchanged(con, plan)
        for study_id in plan.entities["patient"]["study_id"].unique(maintain_order=True):
            drop_derived(con, study_id)
    finally:
        for name in frames:
            with contextlib.suppress(duckdb.Error):  # keep the real error, if any
                con.unregister(name)
    new_rows = ", ".join(_counted(count, table) for table, count in added.items())
    result = _result(
        plan, "loaded", import_id, loaded, added=f"new: {new_rows}" if new_rows else ""
    )
    finished = datetime.now(UTC).replace(tzinfo=None)
    con.execute(
        "INSERT INTO imports VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'loaded', ?)",
        [
            import_id,
            started,
            finished,
            str(plan.path.resolve()),
            plan.sha256,
            plan.format,
            plan.study_id,
            plan.rows_read,
            loaded,
            0,
            "; ".join([result.message, *plan.summary]),
        ],
    )
    if plan.adsl is not None:
        _record_adsl(con, plan, import_id, finished)
    return result


def _record_adsl(
    con: duckdb.DuckDBPyConnection, plan: ImportPlan, import_id: int, finished: datetime
) -> None:
    """The ADSL an ADaM import merged, as a source of its own (for provenance)."""
    assert plan.adsl is not None
    con.execute(
        "INSERT INTO imports VALUES (?, ?, ?, ?, ?, 'adsl', ?, ?, 0, 0, 'loaded', ?)",
        [
            import_id + 1,
            finished,
            finished,
            str(plan.adsl.path.resolve()),
            plan.adsl.sha256,
            plan.study_id,
            plan.adsl.frame.height,
            f"subject-level data merged into import #{import_id} ({plan.path.name})",
        ],
    )


def _insert(con: duckdb.DuckDBPyConnection, plan: ImportPlan, import_id: int) -> None:
    con.execute(
        "INSERT INTO studies (study_id, source) SELECT DISTINCT study_id, ? "
        "FROM incoming_patient ON CONFLICT DO NOTHING",
        [plan.path.name],
    )
    con.execute(
        # in order of first appearance: with no other rule, the first arm imported is the
        # reference arm (not ON CONFLICT, whose merge loses the order). A patient's first
        # row is the first of its arm's rows it holds, so the arm's first row is the least
        # of its patients' first rows
        "INSERT INTO arms (study_id, arm_id, label) SELECT study_id, arm, arm "
        "FROM incoming_patient i WHERE NOT EXISTS (SELECT 1 FROM arms a "
        "WHERE a.study_id = i.study_id AND a.arm_id = i.arm) "
        f"GROUP BY study_id, arm ORDER BY min({ROW})"
    )
    con.execute(
        "INSERT INTO patients (study_id, patient_id, arm_id, sex, age, response, race) "
        "SELECT study_id, patient_id, arm, sex, age, response, race FROM incoming_patient "
        "ON CONFLICT DO NOTHING"
    )
    con.execute(
        """
        INSERT INTO biomarkers (study_id, biomarker_id, label, assay, compartment, unit,
                                lloq, description)
        SELECT study_id, biomarker, biomarker_label, assay, compartment, unit,
               coalesce(lloq, censored_lloq), description
        FROM incoming_biomarker
        ON CONFLICT DO NOTHING
        """
    )
    con.execute(
        "INSERT INTO timepoints SELECT study_id, timepoint, ordinal, is_baseline, "
        "nominal_day FROM incoming_timepoints ON CONFLICT DO NOTHING"
    )
    con.execute(
        """
        INSERT INTO samples (study_id, sample_id, patient_id, timepoint, collection_day,
                             tissue, qc_flag)
        SELECT study_id, sample_id, patient_id, timepoint, visit_day, tissue, qc_flag
        FROM incoming_sample
        ON CONFLICT DO NOTHING
        """
    )
    con.execute(
        """
        INSERT INTO measurements (study_id, sample_id, biomarker_id, value, below_lloq,
                                  lloq, raw_value, comment, import_id)
        SELECT i.study_id, i.sample_id, i.biomarker, i.value, i.below_lloq, i.lloq,
               i.raw_value, i.comment, ?
        FROM incoming i
        """,
        [import_id],
    )


def _apply_changes(con: duckdb.DuckDBPyConnection, plan: ImportPlan) -> None:
    """Set the attributes validation accepted as fills or requested changes."""
    wanted = {(c.entity, c.column) for c in plan.changes}
    for entity in ENTITIES:
        join = " AND ".join(f"{entity.table}.{stored} = e.{col}" for col, stored in entity.keys)
        for attribute in entity.attributes:
            if (entity.name, attribute.column) not in wanted:
                continue
            column, stored = attribute.column, attribute.stored
            con.execute(
                f"UPDATE {entity.table} SET {stored} = e.{column} "
                f"FROM incoming_{entity.name} e WHERE {join} AND e.{column} IS NOT NULL "
                f"AND {entity.table}.{stored} IS DISTINCT FROM e.{column}"
            )


def _unchanged(con: duckdb.DuckDBPyConnection, plan: ImportPlan) -> FileResult:
    """The result for a file whose every row is already in the database."""
    ids = [] if plan.stored is None else plan.stored["import_id"].unique().sort().to_list()
    earlier = con.execute(
        "SELECT import_id, CAST(finished_at AS VARCHAR) FROM imports "
        "WHERE list_contains(?, import_id) ORDER BY 1",
        [ids],
    ).fetchall()
    if len(earlier) == 1:
        message = f"already imported as import #{earlier[0][0]} at {earlier[0][1]}"
    elif earlier:
        message = "already imported by imports " + ", ".join(f"#{i}" for i, _ in earlier)
    else:
        message = "no measurements to load"
    result = _result(plan, "unchanged", earlier[0][0] if earlier else None, 0)
    result.message = f"{message}; nothing changed"
    return result


def _counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    tables = (*LOADED_TABLES, "measurements")
    row = fetch_row(con, "SELECT " + ", ".join(f"(SELECT count(*) FROM {t})" for t in tables))
    assert row is not None
    return dict(zip(tables, map(int, row), strict=True))


def apply_study_metadata(con: duckdb.DuckDBPyConnection, path: str | Path) -> None:
    """Set study titles, arm descriptions and reference arms from a ``studies.json`` file.

    The file holds ``{"studies": [{"study_id", "title", "indication", "phase", "design",
    "source", "reference_arm", "arms": [{"arm", "description"}], "biomarkers": [{"biomarker",
    "label", "assay", "compartment", "unit", "lloq"}]}]}``; a biomarker entry fills in the
    study's definition of a biomarker it measured (for wide files, which carry none).
    """
    path = Path(path)
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: cannot read study metadata: {exc}") from None
    con.execute("BEGIN TRANSACTION")
    try:
        for study in spec.get("studies", []):
            sid = study["study_id"]
            con.execute(
                "UPDATE studies SET title = ?, indication = ?, phase = ?, design = ?, "
                "source = ? WHERE study_id = ?",
                [
                    study.get("title"),
                    study.get("indication"),
                    study.get("phase"),
                    study.get("design"),
                    study.get("source"),
                    sid,
                ],
            )
            for arm in study.get("arms", []):
                con.execute(
                    "UPDATE arms SET description = ? WHERE study_id = ? AND arm_id = ?",
                    [arm.get("description"), sid, arm["arm"]],
                )
            for marker in study.get("biomarkers", []):
                con.execute(
                    "UPDATE biomarkers SET label = coalesce(?, label), "
                    "assay = coalesce(?, assay), compartment = coalesce(?, compartment), "
                    "unit = coalesce(?, unit), lloq = coalesce(?, lloq) "
                    "WHERE study_id = ? AND biomarker_id = ?",
                    [
                        marker.get("label"),
                        marker.get("assay"),
                        marker.get("compartment"),
                        marker.get("unit"),
                        marker.get("lloq"),
                        sid,
                        marker["biomarker"],
                    ],
                )
            reference = study.get("reference_arm")
            if reference:
                set_reference_arm(con, sid, reference)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def set_reference_arm(con: duckdb.DuckDBPyConnection, study_id: str, arm: str) -> None:
    """Mark ``arm`` as the study's reference arm (and no other)."""
    con.execute("UPDATE arms SET is_reference = (arm_id = ?) WHERE study_id = ?", [arm, study_id])
