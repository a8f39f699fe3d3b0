"""``trialtui query``: run SQL query files read-only, list them, export their results.

Exit status: 0 success; 1 bad query file, database or SQL error (including a refused write
or file access); 2 usage error (unknown query, unknown or missing parameter, a value not of
the parameter's type).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trialtui.choices import FORMATS
from trialtui.errors import UsageError

# DuckDB and Polars load in the handler, so that `--help` and other commands start fast.
if TYPE_CHECKING:
    import polars as pl

    from trialtui.store.queryfiles import QueryFile, QueryFileError


def _warn(error: QueryFileError) -> None:
    print(f"trialtui: warning: skipped {error}", file=sys.stderr)


def parse_param_options(options: list[str] | None) -> dict[str, str]:
    """``NAME=VALUE`` strings from ``--param`` as a dict (the value may hold ``=``)."""
    given: dict[str, str] = {}
    for option in options or []:
        name, sep, value = option.partition("=")
        name = name.strip()
        if not sep or not name:
            raise UsageError(f"--param '{option}': expected NAME=VALUE")
        if name in given:
            raise UsageError(f"--param {name} given twice")
        given[name] = value
    return given


def listing_frame(queries: list[QueryFile]) -> pl.DataFrame:
    """One row per query: name, description, params (as text), origin, path."""
    import polars as pl

    return pl.DataFrame(
        {
            "name": [q.name for q in queries],
            "description": [q.description for q in queries],
            "params": [
                "; ".join(f"{p.name} {p.type} {p.default_text}" for p in q.params) for q in queries
            ],
            "origin": [q.origin for q in queries],
            "path": [str(q.path) for q in queries],
        },
        schema={name: pl.String for name in ("name", "description", "params", "origin", "path")},
    )


def listing_text(queries: list[QueryFile]) -> str:
    """The human-readable ``--list``: each query, its description and its parameters."""
    if not queries:
        return "no query files found\n"
    out: list[str] = []
    for query in queries:
        where = "" if query.origin == "bundled" else f"  [{query.origin}: {query.path}]"
        out.append(f"{query.name}{where}")
        if query.description:
            out.append(f"    {query.description}")
        for param in query.params:
            if param.required:
                default = "required"
            elif param.default is None:
                default = "optional"
            else:
                default = f"default {param.default_text}"
            text = f"    --param {param.name}=<{param.type}>  ({default})"
            out.append(f"{text}  {param.description}".rstrip())
        out.append("")
    return "\n".join(out)


def cmd_query(args: argparse.Namespace) -> int:
    from trialtui.cli import _db_path, _ensure_default_db
    from trialtui.formatting import flatten_nested, to_text
    from trialtui.store import catalog
    from trialtui.store.paged import PagedResult
    from trialtui.store.queryfiles import (
        KEEP_ROWS,
        QUERY_MEMORY,
        bind_params,
        discover_queries,
        find_query,
        open_query_connection,
        run_query,
    )

    extra = tuple(args.queries or ())
    if args.list:
        if args.query is not None:
            raise UsageError("give a query or --list, not both")
        queries = discover_queries(extra, on_error=_warn)
        if args.format == "table":
            sys.stdout.write(listing_text(queries))
        else:
            sys.stdout.write(to_text(listing_frame(queries), args.format))
        return 0
    if args.query is None:
        raise UsageError("name a query or a .sql file (list them with --list)")

    query = find_query(args.query, extra, on_error=_warn)
    bound = bind_params(query, parse_param_options(args.param))
    path = _db_path(args)
    if args.db is None:
        _ensure_default_db(path)
    if args.output:  # refuse before running anything
        from trialtui.export import check_targets

        check_targets([args.output], force=args.force, protect=[path])
    # CSV, to a file or stdout, is written from rows kept in DuckDB when there are many:
    # memory stays bounded whatever the result's size (the same bytes as from a frame)
    streamed = bool(args.output) or args.format == "csv"
    con = open_query_connection(path, memory_limit=QUERY_MEMORY if streamed else None)
    result = None
    try:
        # what the export records of the database, read before a kept result lets go of it
        study = bound.get("study") if isinstance(bound.get("study"), str) else None
        sources = catalog.source_files(con, study) if args.output else []
        result = run_query(
            con, query, bound, timeout=args.timeout, keep_above=KEEP_ROWS if streamed else None
        )
    finally:
        if not isinstance(result, PagedResult):
            con.close()  # (a kept result owns its connection)
    try:
        if args.output:
            from trialtui.export import export_csv

            provenance = _provenance(path, query, bound, result.height, study, sources)
            export_csv(result, args.output, provenance, force=args.force, protect=[path])
            print(f"wrote {result.height} rows to {args.output} (+ provenance)", file=sys.stderr)
        elif args.format == "csv":
            from trialtui.cli_stats import write_csv_out

            write_csv_out(result if isinstance(result, PagedResult) else flatten_nested(result))
        else:
            shown = result if args.format == "json" else flatten_nested(result)
            sys.stdout.write(to_text(shown, args.format))
    finally:
        if isinstance(result, PagedResult):
            result.close()
    return 0


def _provenance(
    db_path: Path,
    query: QueryFile,
    bound: dict[str, Any],
    row_count: int,
    study: str | None,
    sources: Any,
) -> dict[str, Any]:
    """Provenance of a query export: the bound parameters as settings, and the SQL text."""
    from trialtui.export import build_provenance

    return build_provenance(
        db_path=db_path,
        study_id=study,
        level=f"query:{query.name}",
        settings={name: _plain(value) for name, value in bound.items()},
        source_files=sources,
        row_count=row_count,
        extra={
            "query": {
                "name": query.name,
                "description": query.description,
                "file": str(query.path) if query.path else None,
                "origin": query.origin,
                "sql": query.sql,
            }
        },
    )


def _plain(value: Any) -> Any:
    """A bound value as JSON (dates as ISO text)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds >= 0")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    from trialtui.cli import _add_db, output_file

    p = sub.add_parser(
        "query",
        help="run a SQL query file read-only (by name or path); --list shows them",
        description="Run a bundled or user SQL query file read-only against a database. "
        "Parameters are bound by DuckDB, never pasted into the SQL. Exit status: 0 success, "
        "1 query file, database or SQL error (including refused writes or file access), "
        "2 usage error (unknown query, unknown or missing parameter, wrong type).",
    )
    p.add_argument("query", nargs="?", metavar="FILE_OR_NAME", help="query name or .sql file")
    _add_db(p)
    p.add_argument(
        "--param",
        "-p",
        action="append",
        metavar="NAME=VALUE",
        help="value of a query parameter (repeatable)",
    )
    p.add_argument("--format", choices=FORMATS, default="table", help="output format")
    p.add_argument(
        "-o", "--output", type=output_file, help="write CSV + provenance JSON to this file"
    )
    p.add_argument("--force", action="store_true", help="overwrite an existing output file")
    p.add_argument(
        "--queries",
        action="append",
        type=Path,
        metavar="DIR",
        help="extra folder of query files (repeatable; overrides queries of the same name)",
    )
    p.add_argument(
        "--list", action="store_true", help="list the available queries and their parameters"
    )
    p.add_argument(
        "--timeout",
        type=_seconds,
        default=60.0,
        metavar="SECONDS",
        help="stop a query that runs longer than this (default 60; 0: no limit)",
    )
    p.set_defaults(handler=cmd_query)
