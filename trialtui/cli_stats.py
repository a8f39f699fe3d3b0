"""``trialtui stats`` and ``trialtui export``: analysis results on the command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from trialtui.choices import FDR_METHODS, FORMATS, LEVELS, LLOQ_POLICIES, TIMEPOINT_ALL
from trialtui.errors import UsageError

# Analysis modules load SciPy; import them in the handlers so `--help` and the other
# commands start fast.
if TYPE_CHECKING:
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


def _results(args: argparse.Namespace, levels: tuple[str, ...]) -> tuple[StudyResults, Path]:
    """Compute ``levels``; nothing is written (see :func:`store_results`)."""
    from trialtui.cli import _db_path, _open_read_only
    from trialtui.study import compute, load_study

    settings = settings_from(args)
    con = _open_read_only(args)
    try:
        data = load_study(con, args.study)
        results = compute(data, settings, levels=levels)
    finally:
        con.close()
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
        results = [compute(load_study(con, s), AnalysisSettings()) for s in studies]
    finally:
        con.close()
    for result in results:
        store_results(db_path, result)


def cmd_stats(args: argparse.Namespace) -> int:
    from trialtui.export import check_targets, export_csv, results_provenance
    from trialtui.formatting import to_text
    from trialtui.study import LEADING_COLUMNS

    results, path = _results(args, (args.level,))
    frame = results.level(args.level)
    if args.output:
        check_targets([args.output], force=args.force)  # before the database is written
    if args.store or args.output:
        store_results(path, results)
    if args.output:
        export_csv(
            frame, args.output, results_provenance(path, results, args.level), force=args.force
        )
        print(f"wrote {frame.height} rows to {args.output} (+ provenance)", file=sys.stderr)
        return 0
    if args.format == "table":
        lead = LEADING_COLUMNS[args.level]
        every = args.timepoint == TIMEPOINT_ALL and args.level != "friedman"
        frame = frame.select(*lead, *(["timepoint"] if every else []))
    sys.stdout.write(to_text(frame, args.format))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from trialtui.export import check_targets, export_csv, results_provenance

    folder: Path = args.output
    if not folder.is_dir():
        raise UsageError(f"{folder}: not a folder (create it first)")
    levels = tuple(args.levels or LEVELS)
    results, path = _results(args, levels)
    targets = {level: folder / f"{results.study_id}_{level}.csv" for level in levels}
    check_targets(targets.values(), force=args.force)  # all or nothing
    store_results(path, results)
    for level, target in targets.items():
        export_csv(
            results.level(level), target, results_provenance(path, results, level), force=args.force
        )
        print(f"{target}: {results.level(level).height} rows")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    from trialtui.cli import _add_db

    p = sub.add_parser(
        "stats",
        help="per-patient, per-arm, between-arm, correlation, response and Friedman statistics",
    )
    _add_db(p)
    add_settings_arguments(p)
    p.add_argument("--level", choices=LEVELS, default="arm", help="which table (default arm)")
    p.add_argument("--format", choices=FORMATS, default="table", help="output format")
    p.add_argument("-o", "--output", type=Path, help="write CSV + provenance JSON to this file")
    p.add_argument("--force", action="store_true", help="overwrite an existing output file")
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
    p.set_defaults(handler=cmd_export)
