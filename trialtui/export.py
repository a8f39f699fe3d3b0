"""CSV exports with a provenance sidecar, published together and never half-written."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shlex
import sys
import tempfile
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from trialtui import __version__
from trialtui.errors import OutputError, UsageError, first_line
from trialtui.formatting import flatten_nested
from trialtui.store import catalog
from trialtui.store.connection import connect
from trialtui.study import StudyResults

if TYPE_CHECKING:
    from trialtui.store.paged import PagedResult


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


def _file_mode() -> int:
    """Permissions for a new export file: 0666 less the process's umask (as ``open`` does)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # no other portable way to read it
    os.umask(mask)
    return 0o666 & ~mask


def _stage(target: Path, data: bytes, mode: int) -> Path:
    """Write ``data`` to a new temporary file beside ``target``, flushed to disk."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def _stage_csv(target: Path, frame: pl.DataFrame | PagedResult, mode: int) -> Path:
    """Write ``frame`` as CSV to a new temporary file beside ``target``, flushed to disk
    (written by Polars straight to the file: a large table never sits in memory as text)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.fchmod(fd, mode)
        os.close(fd)
        if isinstance(frame, pl.DataFrame):
            frame = flatten_nested(frame)  # lists and structs as JSON text
        frame.write_csv(tmp)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def _size_and_sha256(path: Path) -> tuple[int, str]:
    with open(path, "rb") as handle:
        digest = hashlib.file_digest(handle, "sha256")
    return path.stat().st_size, digest.hexdigest()


def publish(staged: Path, target: Path, *, force: bool) -> None:
    """Move a staged file to ``target``: replacing it with ``force``, else only if absent.

    Without ``force`` the check and the creation are one step (a hard link, which fails if
    ``target`` exists), so a file created meanwhile by someone else is never replaced.

    Raises
    ------
    UsageError
        ``target`` exists and ``force`` is not set.
    """
    if force:
        os.replace(staged, target)
        return
    try:
        os.link(staged, target)
    except FileExistsError:
        raise UsageError(f"{target}: already exists (use --force to overwrite)") from None
    except OSError:  # no hard links here: reserve the name exclusively, then move
        try:
            os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except FileExistsError:
            raise UsageError(f"{target}: already exists (use --force to overwrite)") from None
        os.replace(staged, target)
        return
    staged.unlink()


def _fsync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform can open a folder
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def check_targets(
    paths: Iterable[Path], *, force: bool = False, protect: Iterable[Path] = ()
) -> None:
    """Check that every CSV of ``paths`` and its provenance sidecar may be written.

    Commands call this before they compute or change anything, so that a refused export
    writes nothing at all. ``protect`` lists files that must never be replaced (the database).

    Raises
    ------
    UsageError
        A folder does not exist, a target is a folder or a protected file, or a target
        exists and ``force`` is not set.
    """
    protected = {Path(p).resolve() for p in protect}
    protected |= {p.with_name(p.name + ".wal") for p in protected}
    for path in map(Path, paths):
        if not path.parent.is_dir():
            raise UsageError(f"{path}: folder {path.parent} does not exist")
        for target in (path, provenance_path(path)):
            if target.is_dir():
                raise UsageError(f"{target}: is a folder; give a file name")
            if target.resolve() in protected:
                raise UsageError(f"{target}: is the database; choose another file name")
            if target.exists() and not force:
                raise UsageError(f"{target}: already exists (use --force to overwrite)")


def export_tables(
    exports: Sequence[tuple[pl.DataFrame | PagedResult, Path, dict[str, Any]]],
    *,
    force: bool = False,
    protect: Iterable[Path] = (),
) -> list[Path]:
    """Write several CSV files with their provenance sidecars, all or nothing.

    Every file is first written in full to a temporary name beside its target and flushed
    to disk; only then are they renamed into place, each provenance file before its CSV.
    Each provenance records the CSV's name, size and sha256, so that a reader can check
    that a pair belongs together. A failure while writing (disk full, no permission)
    publishes nothing and leaves no temporary file. Without ``force`` a target that exists
    (checked again at the rename, so no race) is never replaced.

    Raises
    ------
    UsageError
        A target exists and ``force`` is not set, a folder is missing, a target is a folder
        or a protected file.
    OutputError
        The files cannot be written (one line naming the file).
    """
    paths = [Path(path) for _, path, _ in exports]
    check_targets(paths, force=force, protect=protect)
    mode = _file_mode()
    staged: list[tuple[Path, Path]] = []  # (temporary file, target), publishing order
    temporary: list[Path] = []  # CSV files written but not yet staged
    published: list[Path] = []
    current = paths[0] if paths else Path()
    try:
        for frame, path, provenance in exports:
            current = path
            table = _stage_csv(path, frame, mode)
            temporary.append(table)
            size, digest = _size_and_sha256(table)
            record = dict(provenance)
            record["file"] = {"name": path.name, "bytes": size, "sha256": digest}
            text = json.dumps(record, indent=2, default=str) + "\n"
            current = provenance_path(path)
            staged.append((_stage(current, text.encode("utf-8"), mode), current))
            staged.append((table, path))
        for tmp, target in staged:
            current = target
            publish(tmp, target, force=force)
            published.append(target)
        for folder in {p.parent for p in paths}:
            _fsync_folder(folder)
    except BaseException as exc:
        for tmp in [*temporary, *(tmp for tmp, _ in staged)]:
            tmp.unlink(missing_ok=True)
        if not force:  # files this call created; with force the old ones are gone anyway
            for target in published:
                target.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise OutputError(
                f"{current}: cannot write: {exc.strerror or first_line(exc)}; nothing was exported"
            ) from None
        raise
    return paths


def export_csv(
    frame: pl.DataFrame | PagedResult,
    path: str | Path,
    provenance: dict[str, Any],
    *,
    force: bool = False,
    protect: Iterable[Path] = (),
) -> Path:
    """Write ``frame`` as CSV and its provenance as ``FILE.provenance.json``.

    See :func:`export_tables` (this is the one-file case).
    """
    return export_tables([(frame, Path(path), provenance)], force=force, protect=protect)[0]


def write_text_atomically(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to a temporary file beside ``path``, flushed, then renamed into
    place (replacing ``path``; callers check their targets first).

    Raises
    ------
    OutputError
        The file cannot be written (one line naming it).
    """
    path = Path(path)
    try:
        publish(_stage(path, text.encode("utf-8"), _file_mode()), path, force=True)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write: {exc.strerror or first_line(exc)}") from None


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
    full = results.frames.get(level)
    rows = frame if frame is not None else results.level(level)
    sources = results.sources
    if sources is None:
        sources = imported_sources(db_path, results.study_id)
    extra = None
    if full is not None and rows.height != full.height:
        extra = {
            "rows_note": f"{rows.height} of the {full.height} rows the command writes "
            "(chosen on screen)"
        }
    return build_provenance(
        db_path=db_path,
        study_id=results.study_id,
        level=level,
        settings=results.settings_used(),
        source_files=sources,
        row_count=rows.height,
        command=stats_command(db_path, results, level),
        extra=extra,
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
