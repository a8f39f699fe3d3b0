"""The ``trialtui`` command line. Thin: parse, call store/analysis/export, print.

Data goes to stdout, diagnostics to stderr. Exit status: 0 success, 1 bad input or
database problem, 2 usage error, 3 internal error (a bug; set TRIALTUI_DEBUG=1 to see it).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from trialtui import __version__
from trialtui.choices import FORMATS
from trialtui.cli_adam import add_adam_arguments
from trialtui.errors import (
    Interrupted,
    TrialtuiError,
    UsageError,
    first_line,
    is_interrupt,
    printable,
)
from trialtui.paths import default_db_path

Handler = Callable[[argparse.Namespace], int]

# Ctrl-C where a command has not said otherwise: commands that write either finish their
# all-or-nothing step or raise Interrupted with what was written.
INTERRUPTED = "interrupted; nothing was written"


class _Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors (exit status 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def database_argument(text: str) -> Path:
    """``--db``: a local database file (not ``:memory:``, ``md:...`` or a URL)."""
    from trialtui.store.connection import special_database_name

    problem = special_database_name(text)
    if problem:
        raise argparse.ArgumentTypeError(f"'{text}': {problem}")
    return Path(text)


def output_file(text: str) -> Path:
    """``-o FILE``: a file name (``DIR/`` with a trailing separator names a folder)."""
    if not text or text.endswith(("/", os.sep)):
        raise argparse.ArgumentTypeError(f"'{text}' names a folder; give a file name")
    return Path(text)


def _add_db(parser: argparse.ArgumentParser, *, help_text: str | None = None) -> None:
    """A command's ``--db``: absent from the namespace unless given, so that it never
    replaces a ``--db`` given before the command (``trialtui --db X import F``)."""
    parser.add_argument(
        "--db",
        type=database_argument,
        default=argparse.SUPPRESS,
        help=help_text or "database file (default: the trialtui database in your data directory)",
    )


def _merge_db(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """One ``args.db`` from ``trialtui --db X COMMAND`` and ``trialtui COMMAND --db X``."""
    before = args.__dict__.pop("db_before_command", None)
    after = getattr(args, "db", None)
    if before is not None and after is not None and before != after:
        parser.error(f"--db names two databases: '{before}' and '{after}'; give one")
    args.db = after if after is not None else before


def _add_update_subject_data(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--update-subject-data",
        action="store_true",
        help="let the files change a patient's sex, age or response stored by an earlier "
        "import (each change is recorded in the import's audit record)",
    )


def _db_path(args: argparse.Namespace) -> Path:
    return args.db if args.db is not None else default_db_path()


def _ensure_default_db(path: Path) -> Path:
    """Create the default database from the bundled sample on first use."""
    if not path.exists():
        print(f"trialtui: creating {path} from the bundled sample trial", file=sys.stderr)
        _build_sample(path, force=False)
    return path


def _build_sample(path: Path, *, force: bool) -> Path:
    """The sample database with its derived result tables."""
    from trialtui.cli_stats import store_all_studies
    from trialtui.store.sample import build_sample_database

    build_sample_database(path, force=force)
    try:
        store_all_studies(path)
    except BaseException as exc:
        if is_interrupt(exc):
            raise Interrupted(
                f"interrupted after {path} was written; its stored results are incomplete "
                "(run `trialtui stats --store`)"
            ) from None
        raise
    return path


def _open_read_only(args: argparse.Namespace):
    from trialtui.store.connection import connect

    path = _db_path(args)
    if args.db is None:
        _ensure_default_db(path)
    return connect(path, read_only=True)


# ----------------------------------------------------------------------------- commands


def cmd_import(args: argparse.Namespace) -> int:
    from trialtui.cli_adam import adam_options_from, print_adam_report
    from trialtui.store.connection import connect
    from trialtui.store.importer import import_files

    path = _db_path(args)
    new = not path.exists()
    # A dry run against a database that does not exist yet checks the files against an
    # empty in-memory database instead of creating the file.
    con = connect(":memory:" if new and args.dry_run else path, read_only=False)
    try:
        report = import_files(
            con,
            args.files,
            fmt=args.format,
            study=args.study,
            dry_run=args.dry_run,
            update_subject_data=args.update_subject_data,
            adam=adam_options_from(args),
        )
    except BaseException as exc:
        con.close()
        committed = isinstance(exc, Interrupted) and exc.written
        if new and not committed:  # a failed import leaves no empty database behind
            for leftover in (path, Path(f"{path}.wal")):
                leftover.unlink(missing_ok=True)
        raise
    try:
        con.close()
        for result in report.files:
            verb = {"loaded": "imported", "valid": "valid (dry run, nothing written)"}.get(
                result.status, "unchanged"
            )
            print(f"{result.path}: {verb}: {result.message}")
            print_adam_report(result.summary, result.warnings)
    except KeyboardInterrupt:  # the transaction is already committed (or was a dry run)
        if args.dry_run or not any(r.status == "loaded" for r in report.files):
            raise Interrupted(INTERRUPTED) from None
        raise Interrupted(
            "interrupted after commit; the import is complete", written=True
        ) from None
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from trialtui.cli_adam import adam_options_from, print_adam_report
    from trialtui.store.importer import validate_files

    adam = adam_options_from(args)
    con = None
    if args.db is not None:
        from trialtui.store.connection import connect

        con = connect(args.db, read_only=True)
    try:
        plans, problems = validate_files(
            args.files,
            fmt=args.format,
            study=args.study,
            con=con,
            limit=args.limit,
            update_subject_data=args.update_subject_data,
            adam=adam,
        )
    finally:
        if con is not None:
            con.close()
    for problem in problems:
        print(problem)
    if problems:
        shown = len(problems)
        more = " (limit reached)" if shown >= args.limit else ""
        print(f"{shown} problem(s) found{more}", file=sys.stderr)
        return 1
    for plan in plans:
        print(
            f"{plan.path}: valid ({plan.format} format, {plan.rows_read} rows, "
            f"study {plan.study_id})"
        )
        print_adam_report(plan.summary, plan.warnings)
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    path = _build_sample(_db_path(args), force=args.force)
    print(f"wrote the sample trial to {path}")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from trialtui.formatting import render_table
    from trialtui.store import catalog

    con = _open_read_only(args)
    try:
        studies = catalog.studies(con)
        if args.study is not None:
            catalog.resolve_study(con, args.study)
            studies = studies.filter(studies["study_id"] == args.study)
        out = [f"database: {_db_path(args)}", ""]
        for study_id in studies["study_id"].to_list():
            row = studies.filter(studies["study_id"] == study_id).row(0, named=True)
            out.append(f"study {study_id}: {row['title'] or ''}".rstrip())
            out.append(render_table(catalog.arms(con, study_id).drop("study_id", "description")))
            out.append("")
            out.append(render_table(catalog.timepoints(con, study_id).drop("study_id")))
            out.append("")
            out.append(render_table(catalog.biomarkers(con, study_id).drop("study_id")))
            out.extend(catalog.describe_unit_differences(con, study_id))
            out.append("")
            out.append("paired completeness (baseline vs first on-treatment timepoint):")
            out.append(render_table(catalog.completeness(con, study_id)))
            out.append("")
    finally:
        con.close()
    print("\n".join(out).rstrip())
    return 0


# ----------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="trialtui",
        description="Explore paired pre/post-treatment biopsy biomarkers from clinical trials. "
        "Without a command, opens the terminal UI.",
    )
    parser.add_argument("--version", action="version", version=f"trialtui {__version__}")
    parser.add_argument(
        "--db",
        dest="db_before_command",
        type=database_argument,
        default=None,
        help="database file (default: the trialtui database in your data directory)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("import", help="import CSV or Parquet files (all or nothing)")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")
    _add_db(p)
    p.add_argument("--study", help="study id for files without a study_id column")
    p.add_argument("--format", choices=("auto", "long", "wide", "adam"), default="auto")
    p.add_argument("--dry-run", action="store_true", help="validate only; write nothing")
    _add_update_subject_data(p)
    add_adam_arguments(p)
    p.set_defaults(handler=cmd_import)

    p = sub.add_parser("validate", help="report every problem in files without writing")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")
    _add_db(p, help_text="also check against this database (optional)")
    p.add_argument("--study", help="study id for files without a study_id column")
    p.add_argument("--format", choices=("auto", "long", "wide", "adam"), default="auto")
    p.add_argument("--limit", type=int, default=50, help="stop after this many problems")
    _add_update_subject_data(p)
    add_adam_arguments(p)
    p.set_defaults(handler=cmd_validate)

    p = sub.add_parser("sample", help="write the bundled synthetic sample trial to a database")
    _add_db(p)
    p.add_argument("--force", action="store_true", help="replace an existing file")
    p.set_defaults(handler=cmd_sample)

    p = sub.add_parser("info", help="studies, arms, biomarkers and paired completeness")
    _add_db(p)
    p.add_argument("--study", help="show one study only")
    p.set_defaults(handler=cmd_info)

    # stats, export and query live in their own modules (they import this one's helpers)
    from trialtui import cli_query, cli_stats

    cli_stats.register(sub)
    cli_query.register(sub)
    return parser


def run_app(args: argparse.Namespace) -> int:
    from trialtui.store.connection import connect

    path = _db_path(args)
    if args.db is None:
        _ensure_default_db(path)
    connect(path, read_only=True).close()  # fail early with a one-line message
    from trialtui.tui.app import TrialApp

    TrialApp(db_path=path).run()
    return 0


def _is_database_fault(exc: BaseException) -> bool:
    """A DuckDB error caused by the database file (damaged, unreadable), not by trialtui."""
    if "duckdb" not in type(exc).__module__:
        return False
    text = first_line(exc).lower()
    return type(exc).__name__ == "IOException" or any(
        word in text for word in ("corrupt", "could not read", "checksum", "not a valid duckdb")
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``trialtui`` console script."""
    try:
        return _main(argv)
    except KeyboardInterrupt:  # while parsing arguments or reporting an error
        print(f"trialtui: {INTERRUPTED}", file=sys.stderr)
        return 130


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _merge_db(parser, args)
    try:
        if args.command is None:
            return run_app(args)
        handler: Handler = args.handler
        return handler(args)
    except Interrupted as exc:
        print(f"trialtui: {exc}", file=sys.stderr)
        return exc.exit_code
    except TrialtuiError as exc:
        print(f"trialtui: error: {printable(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"trialtui: {INTERRUPTED}", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except OSError as exc:  # disk full, permission denied, read-only file system
        if os.environ.get("TRIALTUI_DEBUG"):
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"trialtui: error: {where}{exc.strerror or first_line(exc)}", file=sys.stderr)
        return 1
    except Exception as exc:
        if is_interrupt(exc):  # DuckDB reports Ctrl-C during a query as an exception
            print(f"trialtui: {INTERRUPTED}", file=sys.stderr)
            return 130
        if os.environ.get("TRIALTUI_DEBUG"):
            raise
        if _is_database_fault(exc):
            db = getattr(args, "db", None) or default_db_path()
            print(
                f"trialtui: error: {db}: the database cannot be read: {printable(first_line(exc))}",
                file=sys.stderr,
            )
            return 1
        print(
            f"trialtui: internal error: {type(exc).__name__}: {printable(first_line(exc))} "
            "(set TRIALTUI_DEBUG=1 for details)",
            file=sys.stderr,
        )
        return 3


__all__ = ["FORMATS", "UsageError", "build_parser", "main"]
