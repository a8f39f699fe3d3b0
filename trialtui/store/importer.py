"""Import validated files into a trialtui database in one transaction (all or nothing)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from trialtui.errors import InputError
from trialtui.store.adam import AdamOptions
from trialtui.store.derived import drop_derived
from trialtui.store.readers import read_source
from trialtui.store.sql import fetch_row, fetch_value
from trialtui.store.validate import ImportPlan, Problem, validate_source

Progress = Callable[[str], None]


@dataclass
class FileResult:
    """What happened to one file."""

    path: Path
    sha256: str
    status: str  # "loaded", "unchanged" (same file imported before), "valid" (dry run)
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
        plan = validate_source(source, fmt=fmt, study=study, con=con, limit=limit, adam=adam)
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


def previous_import(con: duckdb.DuckDBPyConnection, sha256: str) -> tuple[int, str] | None:
    """The id and time of an earlier successful import of the same file content."""
    row = fetch_row(
        con,
        "SELECT import_id, CAST(finished_at AS VARCHAR) FROM imports "
        "WHERE sha256 = ? AND status = 'loaded' ORDER BY import_id LIMIT 1",
        [sha256],
    )
    return (int(row[0]), str(row[1])) if row else None


def import_files(
    con: duckdb.DuckDBPyConnection,
    paths: Sequence[str | Path],
    *,
    fmt: str = "auto",
    study: str | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
    limit: int = 50,
    adam: AdamOptions | None = None,
) -> ImportReport:
    """Validate and load files; on any problem raise and leave the database unchanged.

    All files of one call load in a single transaction. A file whose sha256 matches an
    earlier successful import is skipped (status ``"unchanged"``).

    Raises
    ------
    InputError
        The first problem found (file, row, column, what is wrong), with a count of the rest.
    """
    report = ImportReport(dry_run=dry_run)
    say = progress or (lambda _msg: None)
    con.execute("BEGIN TRANSACTION")
    try:
        for path in paths:
            say(f"reading {path}")
            source = read_source(path)
            seen = previous_import(con, source.sha256)
            if seen is not None:
                report.files.append(
                    FileResult(
                        path=source.path,
                        sha256=source.sha256,
                        status="unchanged",
                        import_id=seen[0],
                        rows_read=source.frame.height,
                        message=f"already imported as import #{seen[0]} at {seen[1]}; "
                        "nothing changed",
                    )
                )
                continue
            say(f"validating {path} ({source.frame.height} rows)")
            plan = validate_source(source, fmt=fmt, study=study, con=con, limit=limit, adam=adam)
            if not plan.ok:
                raise _first_error(plan.problems, limit)
            if dry_run:
                report.files.append(_result(plan, "valid", None, 0))
                continue
            say(f"loading {path}")
            import_id, loaded = _load(con, plan)
            report.files.append(_result(plan, "loaded", import_id, loaded))
        if dry_run:
            con.execute("ROLLBACK")
        else:
            con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return report


def _result(plan: ImportPlan, status: str, import_id: int | None, loaded: int) -> FileResult:
    parts = [f"{plan.rows_read} rows read ({plan.format} format)"]
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
        parts.append(f"{loaded} measurements loaded")
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


def _load(con: duckdb.DuckDBPyConnection, plan: ImportPlan) -> tuple[int, int]:
    assert plan.measurements is not None and plan.timepoints is not None
    started = datetime.now(UTC).replace(tzinfo=None)
    import_id = int(fetch_value(con, "SELECT coalesce(max(import_id), 0) + 1 FROM imports"))
    con.register("incoming", plan.measurements.to_arrow())
    con.register("incoming_timepoints", plan.timepoints.to_arrow())
    try:
        con.execute(
            "INSERT INTO studies (study_id, source) SELECT DISTINCT study_id, ? FROM incoming "
            "ON CONFLICT DO NOTHING",
            [plan.path.name],
        )
        con.execute(
            "INSERT INTO arms (study_id, arm_id, label) SELECT DISTINCT study_id, arm, arm "
            "FROM incoming ON CONFLICT DO NOTHING"
        )
        con.execute(
            """
            INSERT INTO patients (study_id, patient_id, arm_id, sex, age, response, race)
            SELECT study_id, patient_id, any_value(arm), any_value(sex), any_value(age),
                   any_value(response), any_value(race)
            FROM incoming GROUP BY study_id, patient_id
            ON CONFLICT DO NOTHING
            """
        )
        con.execute(
            """
            INSERT INTO biomarkers (study_id, biomarker_id, label, assay, compartment, unit,
                                    lloq, description)
            SELECT study_id, biomarker, any_value(biomarker_label), any_value(assay),
                   any_value(compartment), any_value(unit),
                   coalesce(any_value(_declared_lloq), min(lloq)), any_value(description)
            FROM incoming GROUP BY study_id, biomarker
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
            SELECT study_id, sample_id, any_value(patient_id), any_value(timepoint),
                   min(visit_day), any_value(tissue), any_value(qc_flag)
            FROM incoming GROUP BY study_id, sample_id
            ON CONFLICT DO NOTHING
            """
        )
        before = _count(con, "measurements")
        con.execute(
            """
            INSERT INTO measurements (study_id, sample_id, biomarker_id, value, below_lloq,
                                      lloq, raw_value, comment, import_id)
            SELECT i.study_id, i.sample_id, i.biomarker, i.value, i.below_lloq, i.lloq,
                   i.raw_value, i.comment, ?
            FROM incoming i
            WHERE NOT EXISTS (
                SELECT 1 FROM measurements m JOIN samples s USING (study_id, sample_id)
                WHERE m.study_id = i.study_id AND s.patient_id = i.patient_id
                  AND s.timepoint = i.timepoint AND m.biomarker_id = i.biomarker
            )
            """,
            [import_id],
        )
        loaded = _count(con, "measurements") - before
        for (study_id,) in con.execute("SELECT DISTINCT study_id FROM incoming").fetchall():
            drop_derived(con, study_id)
    finally:
        con.unregister("incoming")
        con.unregister("incoming_timepoints")
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
            "; ".join([_result(plan, "loaded", import_id, loaded).message, *plan.summary]),
        ],
    )
    if plan.adsl is not None:
        _record_adsl(con, plan, import_id, finished)
    return import_id, loaded


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


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return int(fetch_value(con, f"SELECT count(*) FROM {table}"))


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
