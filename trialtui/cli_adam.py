"""The CDISC ADaM options of ``trialtui import`` and ``trialtui validate``."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from trialtui.store.adam import AdamOptions

TREATMENTS = ("planned", "actual")  # as trialtui.store.adam.TREATMENTS (kept light to import)


def add_adam_arguments(parser: argparse.ArgumentParser) -> None:
    """``--adsl``, ``--population``, ``--response-var`` and ``--treatment``."""
    group = parser.add_argument_group("CDISC ADaM (BDS datasets)")
    group.add_argument(
        "--adsl",
        metavar="ADSL_FILE",
        help="subject-level dataset (XPT, CSV or Parquet) merged by STUDYID + USUBJID",
    )
    group.add_argument(
        "--population",
        metavar="FLAG",
        help="keep only subjects with this flag = 'Y' (SAFFL, ITTFL, EFFFL, ...)",
    )
    group.add_argument(
        "--response-var",
        metavar="VAR",
        help="variable holding each subject's response (mapped to CR/PR/SD/PD/NE)",
    )
    group.add_argument(
        "--treatment",
        choices=TREATMENTS,
        default="planned",
        help="arm from the planned (TRTP/TRT01P) or actual (TRTA/TRT01A) treatment "
        "(default planned)",
    )


def adam_options_from(args: argparse.Namespace) -> AdamOptions:
    """The mapping options given on the command line (the ADSL read as text)."""
    from trialtui.store.adam import AdamOptions
    from trialtui.store.readers import read_source

    adsl = read_source(args.adsl) if args.adsl else None
    return AdamOptions(
        adsl=adsl,
        population=args.population.upper() if args.population else None,
        response_var=args.response_var.upper() if args.response_var else None,
        treatment=args.treatment,
    )


def print_adam_report(summary: list[str], warnings: list[str]) -> None:
    """The mapping summary on stdout (part of the report), disagreements on stderr."""
    import sys

    for line in summary:
        print(f"  {line}")
    for line in warnings:
        print(f"trialtui: warning: {line}" if not line.startswith("  ") else line, file=sys.stderr)
