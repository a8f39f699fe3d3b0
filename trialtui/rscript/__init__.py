"""A standalone R script that recomputes exported result tables with R's own functions.

``trialtui stats ... -o FILE.csv --emit-r CHECK.R`` (and ``export --emit-r``) writes
``CHECK.R`` and, beside it, ``CHECK.data.csv``: every measurement of the study with the
value analysed (LLOQ and zero rules applied). ``Rscript CHECK.R`` needs base R and its
``stats`` package only; it pairs the values, recomputes every numeric column of each
exported table (``t.test``, ``wilcox.test``, ``lm``, ``friedman.test``, ``cor.test``,
``kruskal.test``, ``p.adjust``, ...), prints the largest relative difference per column
and exits with status 1 when one exceeds :data:`TOLERANCE`.

The R code lives in the ``*.R`` files of this package, one per result level, so it can be
read and reviewed as R.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from trialtui import __version__
from trialtui.analysis.correlation import POOLED as POOLED_CORRELATION
from trialtui.analysis.pairing import usable_values
from trialtui.analysis.response import POOLED as POOLED_RESPONSE
from trialtui.errors import UsageError
from trialtui.export import write_text_atomically
from trialtui.store import catalog
from trialtui.store.connection import connect
from trialtui.study import StudyResults

TOLERANCE = 1e-9
ZERO_NOISE = 1e-15  # absolute differences at double-precision noise around zero
_HERE = Path(__file__).resolve().parent

LEVEL_KEYS: dict[str, tuple[str, ...]] = {
    "patient": ("patient_id", "biomarker", "post_timepoint"),
    "arm": ("biomarker", "arm", "timepoint"),
    "comparison": ("biomarker", "arm", "timepoint"),
    "correlation": ("arm", "biomarker_x", "biomarker_y", "timepoint"),
    "response": ("arm", "biomarker", "timepoint"),
    "friedman": ("biomarker", "arm"),
}
LEVEL_TITLES = {
    "patient": "patient level: pairs and fold-changes",
    "arm": "arm level: summaries, t.test and wilcox.test of log2FC per arm",
    "comparison": "comparison level: t.test, wilcox.test, lm (ANCOVA), kruskal.test",
    "correlation": "correlation level: cor.test(method = 'spearman', exact = FALSE)",
    "response": "response level: wilcox.test of responders against non-responders",
    "friedman": "friedman level: friedman.test across all timepoints",
}


def data_path(script: Path) -> Path:
    """``CHECK.data.csv`` beside ``CHECK.R``."""
    return script.with_name(f"{script.stem}.data.csv")


def check_script_targets(script: Path, *, force: bool = False) -> None:
    """Check that the script and its data file may be written (before anything is).

    Raises
    ------
    UsageError
        Not an ``.R`` file, a folder that does not exist, or a target exists without
        ``force``.
    """
    script = Path(script)
    if script.suffix.lower() != ".r":
        raise UsageError(f"{script}: the R script's name must end in .R")
    for target in (script, data_path(script)):
        if not target.parent.is_dir():
            raise UsageError(f"{target}: folder {target.parent} does not exist")
        if target.exists() and not force:
            raise UsageError(f"{target}: already exists (use --force to overwrite)")


def analysed_values(db_path: Path, results: StudyResults) -> pl.DataFrame:
    """Every measurement of the study with the value the analysis used.

    Columns: study_id, patient_id, arm, response, timepoint, biomarker, value (null when
    excluded below the LLOQ), imputed (substituted below LLOQ or for a zero), excluded.
    """
    con = connect(db_path, read_only=True)
    try:
        measurements = catalog.measurements(con, results.study_id)
    finally:
        con.close()
    return (
        usable_values(measurements, results.settings)
        .select(
            "study_id",
            "patient_id",
            "arm",
            "response",
            "timepoint",
            "biomarker",
            pl.col("used").alias("value"),
            "imputed",
            "excluded",
        )
        .sort("biomarker", "patient_id", "timepoint")
    )


def _r(value: object) -> str:
    """An R literal for a Python string, float or list of strings."""
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "c(" + ", ".join(_r(v) for v in value) + ")"
    if value is None:
        return "NA"
    return repr(value)


def render_script(
    results: StudyResults, tables: Mapping[str, str], data_name: str, command: list[str]
) -> str:
    """The text of the verification script.

    Parameters
    ----------
    results
        The results whose exported tables are checked (settings, timepoints).
    tables
        Level -> CSV path relative to the script's folder.
    data_name
        The analysed-values CSV, relative to the script's folder.
    command
        The command line that wrote the files (recorded in the header).
    """
    settings = results.settings
    timepoints = [results.pairing.baseline_timepoint] + [
        p.timepoint for p in results.timepoint_pairings
    ]
    header = [
        "#!/usr/bin/env Rscript",
        "# Independent check of trialtui results with R's own functions (base R + stats).",
        "#",
        f"# Written by trialtui {__version__} on "
        f"{datetime.now(UTC).isoformat(timespec='seconds')} by:",
        f"#     {' '.join(command)}",
        "#",
        f"# Study {results.study_id}. Run it with:  Rscript <this file>",
        "# It reads the data file and the exported tables beside it, recomputes every numeric",
        "# column, prints the largest relative difference per column and exits with status 1",
        f"# when any exceeds {TOLERANCE:g} (0 otherwise).",
        "#",
        f"# Values below the LLOQ: {settings.lloq_policy} ('half' = LLOQ/2); zeros: "
        + (
            f"pseudocount {settings.pseudocount!r}"
            if settings.pseudocount is not None
            else "half the biomarker's smallest positive value"
        )
        + ".",
        "# The data file holds the values after these rules.",
        "",
        "## ---------------------------------------------------------------------------",
        "## Settings (as in the export's provenance file)",
        "## ---------------------------------------------------------------------------",
        f"DATA_FILE <- {_r(data_name)}",
        f"BASELINE <- {_r(results.pairing.baseline_timepoint)}",
        f"TIMEPOINTS <- {_r(timepoints)}  # the baseline, then every later timepoint",
        f"REFERENCE_ARM <- {_r(results.reference_arm)}",
        f"CONF <- {settings.conf_level!r}  # confidence level of every interval",
        "PSEUDOCOUNT <- "
        + (repr(settings.pseudocount) if settings.pseudocount is not None else "NA_real_")
        + "  # replacement for zeros (NA: half the smallest positive value)",
        f"FDR <- {_r('BH' if settings.fdr == 'bh' else 'holm')}  # p.adjust method",
        "MIN_N <- 3  # fewer observations per group: no p-value",
        f"POOLED_CORRELATION <- {_r(POOLED_CORRELATION)}  # arm label: arm-adjusted pooled",
        f"POOLED_RESPONSE <- {_r(POOLED_RESPONSE)}  # arm label: every arm together",
        f"TOLERANCE <- {TOLERANCE!r}  # largest relative difference accepted",
        f"ZERO_NOISE <- {ZERO_NOISE!r}  # absolute differences below this count as none",
        "",
    ]
    parts = ["\n".join(header), (_HERE / "common.R").read_text(encoding="utf-8")]
    for level, name in tables.items():
        rule = "## " + "-" * 75
        keys = _r(list(LEVEL_KEYS[level]))
        parts.append(
            "\n".join(
                [
                    rule,
                    f"## {LEVEL_TITLES[level]}",
                    rule,
                    (_HERE / f"{level}.R").read_text(encoding="utf-8").rstrip(),
                    f"got <- read_table({_r(name)})",
                    f"check_table({_r(name)}, got, {level}_expected(got), {keys})",
                    "",
                ]
            )
        )
    parts.append((_HERE / "footer.R").read_text(encoding="utf-8"))
    return "\n".join(parts)


def write_verification(
    db_path: Path,
    results: StudyResults,
    tables: Mapping[str, Path],
    script: Path,
    *,
    command: list[str],
    force: bool = False,
) -> list[Path]:
    """Write the R script and the analysed values beside it; return both paths.

    ``tables`` maps each exported level to its CSV file. Files are written atomically and
    replaced only with ``force``.

    Raises
    ------
    UsageError
        A target exists without ``force``, or its folder does not exist.
    """
    script = Path(script)
    data_file = data_path(script)
    check_script_targets(script, force=force)
    relative = {
        level: os.path.relpath(Path(path).resolve(), script.parent.resolve())
        for level, path in tables.items()
    }
    values = analysed_values(db_path, results)
    write_text_atomically(data_file, values.write_csv())
    text = render_script(results, relative, data_file.name, command)
    write_text_atomically(script, text)
    return [script, data_file]
