"""``trialtui stats`` and ``trialtui export``: analysis results on the command line."""

from __future__ import annotations

import argparse
import contextlib
import errno
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from trialtui.choices import FDR_METHODS, FORMATS, LEVELS, LLOQ_POLICIES, TIMEPOINT_ALL
from trialtui.errors import UsageError

# Analysis modules load SciPy; import them in the handlers so `--help` and the other
# commands start fast.
if TYPE_CHECKING:
    import polars as pl

    from trialtui.analysis.settings import AnalysisSettings
    from trialtui.study import StudyResults


def add_settings_arguments(parser: argparse.ArgumentParser) -> None:
    """The analysis settings options shared by ``stats`` and ``export``."""
    parser.add_argument("--study", help="study id (optional when the database holds one)")
    parser.add_argument(
        "--timepoint",
        help="on-treatment timepoint (default: first after baseline); 'all': every timepoint "
        "after baseline, one block of rows per timepoint",
    )
    parser.add_argument("--baseline", help="baseline timepoint (default: the study's baseline)")
    parser.add_argument("--reference-arm", help="arm the others are compared with")
    parser.add_argument(
        "--lloq",
        choices=LLOQ_POLICIES,
        default="half",
        help="values below LLOQ: LLOQ/2 (half), LLOQ, or exclude",
    )
    parser.add_argument(
        "--pseudocount",
        type=float,
        help="replacement for zeros (default: half the smallest positive value)",
    )
    parser.add_argument(
        "--fdr", choices=FDR_METHODS, default="bh", help="multiplicity adjustment across biomarkers"
    )
    parser.add_argument("--conf-level", type=float, default=0.95, help="confidence level")
    parser.add_argument(
        "--store",
        action="store_true",
        help="also write the results into the database's derived tables",
    )


def settings_from(args: argparse.Namespace) -> AnalysisSettings:
    from trialtui.analysis.settings import AnalysisSettings

    try:
        return AnalysisSettings(
            baseline_timepoint=args.baseline,
            timepoint=args.timepoint,
            lloq_policy=args.lloq,
            pseudocount=args.pseudocount,
            reference_arm=args.reference_arm,
            fdr=args.fdr,
            conf_level=args.conf_level,
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None


class TerminalProgress:
    """What a long computation is doing and how far it got, on one line of ``stream``
    rewritten in place (at most every ``interval`` seconds), and that line wiped when
    done: for a terminal only, so that output piped or redirected carries no progress."""

    def __init__(self, stream: TextIO, interval: float = 0.2) -> None:
        self.stream = stream
        self.interval = interval
        self.shown_at = -interval
        self.width = 0

    def __call__(self, message: str, fraction: float) -> None:
        now = time.monotonic()
        if now - self.shown_at < self.interval:
            return
        self.shown_at = now
        text = f"{message} {fraction:4.0%}"
        self.stream.write("\r" + text.ljust(self.width))
        self.stream.flush()
        self.width = len(text)

    def clear(self) -> None:
        if self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()
            self.width = 0


def _results(args: argparse.Namespace, levels: tuple[str, ...]) -> tuple[StudyResults, Path]:
    """Compute ``levels``; nothing is written (see :func:`store_results`). On a terminal,
    stderr tells what is being done meanwhile."""
    from trialtui.cli import _db_path, _open_read_only
    from trialtui.study import compute, load_study

    settings = settings_from(args)
    progress = TerminalProgress(sys.stderr) if sys.stderr.isatty() else None
    con = _open_read_only(args)
    try:
        if progress is not None:
            progress("reading the study", 0.0)
        try:
            data = load_study(con, args.study, completeness=False)
        finally:
            # closed before computing: DuckDB's buffer pool keeps what the join of the
            # measurements used (half a gigabyte at 10 M rows) until the database closes
            con.close()
        results = compute(data, settings, levels=levels, progress=progress)
    finally:
        if progress is not None:
            progress.clear()
    return results, _db_path(args)


def store_results(db_path: Path, results: StudyResults) -> None:
    """Write every computed level into its derived table."""
    from trialtui.study import store_results as store

    store(db_path, results)


def store_all_studies(db_path: Path) -> None:
    """Compute every study with default settings and store the derived tables."""
    from trialtui.analysis.settings import AnalysisSettings
    from trialtui.store import catalog
    from trialtui.store.connection import connect
    from trialtui.study import compute, load_study

    con = connect(db_path, read_only=True)
    try:
        studies = catalog.studies(con)["study_id"].to_list()
    finally:
        con.close()
    results = []
    for study in studies:
        con = connect(db_path, read_only=True)
        try:
            data = load_study(con, study)
        finally:
            con.close()  # as in _results: DuckDB's buffer pool not kept while computing
        results.append(compute(data, AnalysisSettings()))
    for result in results:
        store_results(db_path, result)


@contextlib.contextmanager
def _stored_with_files(db_path: Path, results: StudyResults) -> Iterator[None]:
    """Store the results while the block writes the exported files; they are committed
    once the files are safely written (never when writing them failed)."""
    from trialtui.errors import Interrupted, is_interrupt
    from trialtui.study import storing_results

    files_written = False
    try:
        with storing_results(db_path, results):
            yield
            files_written = True
    except BaseException as exc:
        if files_written and is_interrupt(exc):
            raise Interrupted(
                "interrupted after the files were written; the results stored in the "
                "database were not updated"
            ) from None
        raise


def describe_columns(levels: list[str], fmt: str) -> str:
    """The column dictionary of ``levels`` as text (table), CSV or JSON."""
    from trialtui.columns import describe_columns as dictionary
    from trialtui.formatting import to_text

    frame = dictionary(levels)
    if fmt != "table":
        return to_text(frame, fmt)
    out = []
    for level in levels:
        out.append(f"{level} level (--level {level}):")
        for row in frame.filter(frame["level"] == level).iter_rows(named=True):
            detail = "; ".join(
                part
                for part in (
                    row["scale"],
                    f"sign: {row['sign']}" if row["sign"] else "",
                    f"R: {row['r']}" if row["r"] else "",
                )
                if part
            )
            out.append(f"  {row['column']}: {row['meaning']}" + (f" [{detail}]" if detail else ""))
        out.append("")
    return "\n".join(out)


def cmd_stats(args: argparse.Namespace) -> int:
    from trialtui.cli import _db_path
    from trialtui.export import check_targets, export_csv, results_provenance
    from trialtui.formatting import to_text
    from trialtui.study import LEADING_COLUMNS

    if args.describe_columns:
        levels = [args.level] if args.level else list(LEVELS)
        sys.stdout.write(describe_columns(levels, args.format))
        return 0
    args.level = args.level or "arm"
    if args.emit_r and not args.output:
        raise UsageError("--emit-r needs -o FILE.csv: the script checks the written table")
    if args.output:  # refuse before computing anything
        check_targets([args.output], force=args.force, protect=[_db_path(args)])
        _check_emit_r(args)
    results, path = _results(args, (args.level,))
    frame = results.level(args.level)
    if args.output:
        with _stored_with_files(path, results):
            export_csv(
                frame,
                args.output,
                results_provenance(path, results, args.level),
                force=args.force,
                protect=[path],
            )
        print(f"wrote {frame.height} rows to {args.output} (+ provenance)", file=sys.stderr)
        _emit_r(args, path, results, {args.level: args.output})
        return 0
    if args.store:
        store_results(path, results)
    if args.format == "table":
        lead = LEADING_COLUMNS[args.level]
        every = args.timepoint == TIMEPOINT_ALL and args.level != "friedman"
        when = "post_timepoint" if args.level == "patient" else "timepoint"
        frame = frame.select(*lead, *([when] if every and when not in lead else []))
    if args.format == "csv":
        write_csv_out(frame)
    else:
        sys.stdout.write(to_text(frame, args.format))
    return 0


def write_csv_out(frame: pl.DataFrame) -> None:
    """``frame`` as CSV on stdout, written by Polars straight into its bytes: no copy of
    the whole text in memory (172 MB for the correlations of 1,000 biomarkers), the same
    bytes as :func:`trialtui.formatting.to_text`. A reader gone (``| head``) is a broken
    pipe, as for any other write."""
    sys.stdout.flush()
    try:
        frame.write_csv(sys.stdout.buffer)
    except OSError as exc:  # Polars reports the pipe's end as a plain OSError
        if exc.errno == errno.EPIPE or f"os error {errno.EPIPE})" in str(exc):
            raise BrokenPipeError(errno.EPIPE, "Broken pipe") from exc
        raise


def cmd_export(args: argparse.Namespace) -> int:
    from trialtui.export import check_targets, export_tables, results_provenance

    folder: Path = args.output
    if not folder.is_dir():
        raise UsageError(f"{folder}: not a folder (create it first)")
    levels = tuple(args.levels or LEVELS)
    results, path = _results(args, levels)
    targets = {level: folder / f"{results.study_id}_{level}.csv" for level in levels}
    check_targets(targets.values(), force=args.force, protect=[path])
    _check_emit_r(args)
    with _stored_with_files(path, results):
        export_tables(
            [
                (results.level(level), target, results_provenance(path, results, level))
                for level, target in targets.items()
            ],
            force=args.force,
            protect=[path],
        )  # all or nothing
    for level, target in targets.items():
        print(f"{target}: {results.level(level).height} rows")
    _emit_r(args, path, results, targets)
    return 0


def _check_emit_r(args: argparse.Namespace) -> None:
    if args.emit_r:
        from trialtui.rscript import check_script_targets

        check_script_targets(args.emit_r, force=args.force)


def _emit_r(
    args: argparse.Namespace, db_path: Path, results: StudyResults, tables: dict[str, Path]
) -> None:
    """Write the R verification script of ``--emit-r`` (after the tables)."""
    if not args.emit_r:
        return
    from trialtui.rscript import write_verification

    written = write_verification(
        db_path, results, tables, args.emit_r, command=sys.argv, force=args.force
    )
    print(
        f"wrote {written[0]} and {written[1].name}: check with Rscript {written[0]}",
        file=sys.stderr,
    )


def register(sub: argparse._SubParsersAction) -> None:
    from trialtui.cli import _add_db, output_file

    p = sub.add_parser(
        "stats",
        help="per-patient, per-arm, between-arm, correlation, response and Friedman statistics",
    )
    _add_db(p)
    add_settings_arguments(p)
    p.add_argument("--level", choices=LEVELS, help="which table (default arm)")
    p.add_argument("--format", choices=FORMATS, default="table", help="output format")
    p.add_argument(
        "-o", "--output", type=output_file, help="write CSV + provenance JSON to this file"
    )
    p.add_argument("--force", action="store_true", help="overwrite an existing output file")
    p.add_argument(
        "--describe-columns",
        action="store_true",
        help="describe every output column of --level (default: of every level) and exit",
    )
    _add_emit_r(p)
    p.set_defaults(handler=cmd_stats)

    p = sub.add_parser(
        "export", help="write every result table of a study as CSV with provenance into a folder"
    )
    _add_db(p)
    add_settings_arguments(p)
    p.add_argument("-o", "--output", type=Path, required=True, help="target folder")
    p.add_argument(
        "--level",
        dest="levels",
        action="append",
        choices=LEVELS,
        help="only this level (repeatable; default all)",
    )
    p.add_argument("--force", action="store_true", help="overwrite existing files")
    _add_emit_r(p)
    p.set_defaults(handler=cmd_export)


def _add_emit_r(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--emit-r",
        type=Path,
        metavar="FILE.R",
        help="also write a standalone R script (and FILE.data.csv beside it) that recomputes "
        "every numeric column with R's own functions; Rscript FILE.R exits 1 on a difference",
    )
