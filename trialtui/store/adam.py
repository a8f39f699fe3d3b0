"""CDISC ADaM: map a BDS dataset (one AVAL per subject, parameter and visit) to long rows.

Subject-level variables come from ADSL when one is given (``--adsl``), merged by STUDYID and
USUBJID as in every ADaM workflow: the treatment (TRT01P/TRT01A) when the BDS has no
record-level TRTP/TRTA, AGE, SEX, RACE, population flags and a response variable. The
mapping keeps observed analysis records only and reports, as a summary, what it read, kept
and left out and why. Where BASE and CHG are present it checks them against AVAL and
against the baseline the analysis will use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

import polars as pl

from trialtui.store.readers import ROW, SourceTable

# BDS variables and the long-format columns they fill (the treatment is chosen separately).
BDS_COLUMNS = {
    "STUDYID": "study_id",
    "USUBJID": "patient_id",
    "AVISIT": "timepoint",
    "PARAMCD": "biomarker",
    "PARAM": "biomarker_label",
    "AVAL": "value",
    "ADY": "visit_day",
    "ABLFL": "is_baseline",
}
# Subject-level variables: from ADSL when given, else from the BDS's own copies.
SUBJECT_COLUMNS = {"AGE": "age", "SEX": "sex", "RACE": "race"}
BDS_REQUIRED = ("USUBJID", "PARAMCD", "AVAL", "AVISIT")
# Treatment variables by preference: record-level in the BDS, then subject-level.
TREATMENT_VARIABLES = {
    "planned": ("TRTP", "TRT01P", "ARM"),
    "actual": ("TRTA", "TRT01A", "ACTARM"),
}
TREATMENTS = ("planned", "actual")
# Response values (RECIST 1.1 wording and codes) and the category they map to.
RESPONSE_MAP = {
    "CR": "CR",
    "COMPLETE RESPONSE": "CR",
    "PR": "PR",
    "PARTIAL RESPONSE": "PR",
    "SD": "SD",
    "STABLE DISEASE": "SD",
    "NON-CR/NON-PD": "SD",
    "NON-CR/NON-PROGRESSIVE DISEASE": "SD",
    "PD": "PD",
    "PROGRESSIVE DISEASE": "PD",
    "NE": "NE",
    "NOT EVALUABLE": "NE",
    "NOT EVALUATED": "NE",
    "NOT ASSESSABLE": "NE",
    "UNABLE TO EVALUATE": "NE",
}
UNIT_IN_PARAM = r"\(([^()]+)\)\s*$"  # "Alanine Aminotransferase (U/L)" -> "U/L"
DISAGREEMENTS_SHOWN = 20
_TOLERANCE = 1e-7  # relative: XPT stores IBM floats, CHG may be rounded by the sponsor


class ProblemSink(Protocol):
    """Where problems go (the validator's collector)."""

    full: bool

    def add(
        self,
        message: str,
        row: int | None = None,
        column: str | None = None,
        path: Path | None = None,
    ) -> None: ...


@dataclass(frozen=True)
class AdamOptions:
    """How a BDS dataset is mapped.

    Attributes
    ----------
    adsl
        The subject-level dataset (XPT, CSV or Parquet), read as text.
    population
        A population flag variable (SAFFL, ITTFL, EFFFL, ...): only subjects flagged "Y"
        are kept.
    response_var
        Variable holding each subject's response (e.g. BESTRESP), mapped to CR, PR, SD,
        PD or NE.
    treatment
        Arm from the planned (TRTP, TRT01P, ARM) or actual (TRTA, TRT01A, ACTARM)
        treatment.
    """

    adsl: SourceTable | None = None
    population: str | None = None
    response_var: str | None = None
    treatment: Literal["planned", "actual"] = "planned"


@dataclass
class AdamMapping:
    """A BDS dataset as long-format rows, with what the mapping did."""

    frame: pl.DataFrame
    rows_left_out: int = 0
    summary: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _text(name: str) -> pl.Expr:
    return pl.col(name).str.strip_chars().replace("", None)


def unit_from_param(param: pl.Expr) -> pl.Expr:
    """The unit in a trailing parenthesis of PARAM, e.g. "ALT (U/L)" -> "U/L"."""
    return param.str.extract(UNIT_IN_PARAM, 1).str.strip_chars()


def _subject_key(bds: pl.DataFrame, adsl: pl.DataFrame) -> list[str]:
    both = "STUDYID" in bds.columns and "STUDYID" in adsl.columns
    return ["STUDYID", "USUBJID"] if both else ["USUBJID"]


def _adsl_subjects(adsl: SourceTable, key: list[str], found: ProblemSink) -> pl.DataFrame | None:
    """ADSL with one row per subject, or None (problems recorded) if it cannot be used."""
    frame = adsl.frame.with_columns(_text(c).alias(c) for c in adsl.frame.columns if c != ROW)
    missing = [c for c in key if c not in frame.columns]
    if missing:
        found.add(f"ADSL has no variable {missing[0]}", 1, None, adsl.path)
        return None
    repeats = frame.sort(ROW).filter(~pl.struct(key).is_first_distinct())
    if repeats.height:
        row = repeats.row(0, named=True)
        found.add(
            f"subject '{row['USUBJID']}' appears more than once in ADSL",
            int(row[ROW]),
            "USUBJID",
            adsl.path,
        )
        return None
    return frame


def map_bds(raw: pl.DataFrame, options: AdamOptions, found: ProblemSink) -> AdamMapping | None:
    """Map a BDS dataset (all columns text) to long-format columns.

    Returns None, with problems recorded, when the dataset cannot be mapped: required
    variables missing, subjects missing from ADSL, an unknown population flag or response
    variable, response values that do not map, or a parameter without a baseline record.
    """
    raw = raw.with_columns(_text(c).alias(c) for c in raw.columns if c != ROW)
    missing = [c for c in BDS_REQUIRED if c not in raw.columns]
    if missing:
        names = ", ".join(f"'{c}'" for c in missing)
        found.add(f"missing required ADaM variable(s) {names}", row=1)
        return None
    read = raw.height
    summary: list[str] = []

    # Observed analysis records only: derived records (DTYPE, e.g. LOCF) are imputations,
    # and records without the analysis flag (ANL01FL) are superseded within their window.
    derived = pl.col("DTYPE").is_not_null() if "DTYPE" in raw.columns else pl.lit(False)
    uses_anl = "ANL01FL" in raw.columns and (raw["ANL01FL"] == "Y").any()
    not_analysis = (pl.col("ANL01FL").fill_null("") != "Y") if uses_anl else pl.lit(False)
    n_derived = raw.filter(derived).height
    n_not_analysis = raw.filter(~derived & not_analysis).height
    frame = raw.filter(~derived & ~not_analysis)

    adsl = options.adsl
    subjects = None
    key = ["USUBJID"]
    if adsl is not None:
        key = _subject_key(frame, adsl.frame)
        subjects = _adsl_subjects(adsl, key, found)
        if subjects is None:
            return None
        unknown = (
            frame.join(subjects.select(key), on=key, how="anti")
            .group_by(key)
            .agg(pl.col(ROW).min())
            .sort(ROW)
        )
        for row in unknown.iter_rows(named=True):
            found.add(
                f"subject '{row['USUBJID']}' is not in ADSL {adsl.path.name}",
                int(row[ROW]),
                "USUBJID",
            )
        if unknown.height:
            return None

    def source_of(variable: str) -> str | None:
        """'bds' or 'adsl': where a variable comes from (ADSL first for subject data)."""
        if subjects is not None and variable in subjects.columns:
            return "adsl"
        return "bds" if variable in frame.columns else None

    # Treatment: record-level in the BDS first, then the subject-level variable.
    arm_variable, arm_source = _choose_treatment(frame, subjects, options.treatment)
    if arm_variable is None:
        every = (*TREATMENT_VARIABLES["planned"], *TREATMENT_VARIABLES["actual"])
        where = "the dataset or ADSL" if subjects is not None else "the dataset (or give --adsl)"
        found.add(f"no treatment variable ({'/'.join(every)}) in {where}", row=1)
        return None

    subject_vars = {v: n for v, n in SUBJECT_COLUMNS.items() if source_of(v) is not None}
    wanted_from_adsl = [v for v in subject_vars if source_of(v) == "adsl"]
    if options.population is not None and source_of(options.population) is None:
        found.add(
            f"population flag '{options.population}' is neither in ADSL nor in the dataset",
            row=1,
        )
        return None
    if options.response_var is not None and source_of(options.response_var) is None:
        found.add(
            f"response variable '{options.response_var}' is neither in ADSL nor in the dataset",
            row=1,
        )
        return None
    extra = [
        v
        for v in (options.population, options.response_var)
        if v is not None and source_of(v) == "adsl"
    ]
    if arm_source == "adsl":
        extra.append(arm_variable)
    adsl_columns = list(dict.fromkeys([*wanted_from_adsl, *extra]))
    if subjects is not None and adsl_columns:
        frame = frame.drop([c for c in adsl_columns if c in frame.columns]).join(
            subjects.select(*key, *adsl_columns, pl.col(ROW).alias("_adsl_row")),
            on=key,
            how="left",
        )

    population_line = population_note = None
    if options.population is not None:
        flag = options.population
        inside = pl.col(flag).fill_null("") == "Y"
        outside = frame.filter(~inside)
        n_out_subjects = outside["USUBJID"].n_unique()
        population_line = (
            f"{outside.height} records of {n_out_subjects} subjects not flagged {flag}='Y'"
            if outside.height
            else None
        )
        if not outside.height:
            population_note = f"population {flag}='Y': every subject of the dataset is flagged"
        frame = frame.filter(inside)
    else:
        outside = frame.clear()

    response = None
    if options.response_var is not None:
        response = _map_response(frame, options, found, source_of(options.response_var))
        if response is None:
            return None
        frame = frame.with_columns(response)

    units = _units(frame)
    if not _every_parameter_has_a_baseline(frame, found):
        return None

    renames = {c: n for c, n in BDS_COLUMNS.items() if c in frame.columns}
    renames |= {v: n for v, n in subject_vars.items()}
    renames[arm_variable] = "arm"
    columns = [pl.col(ROW), *[pl.col(c).alias(n) for c, n in renames.items()], units]
    if response is not None:
        columns.append(pl.col("response"))
    mapped = frame.select(columns)
    if hasattr(found, "aliases"):
        found.aliases = {internal: source for source, internal in renames.items()}

    kept = mapped.height
    left_out = [f"{n_derived} derived (DTYPE)"] if n_derived else []
    if n_not_analysis:
        left_out.append(f"{n_not_analysis} not flagged ANL01FL='Y'")
    if population_line is not None:
        left_out.append(population_line)
    summary.append(
        f"records: {read} read, {kept} kept"
        + (f"; left out: {', '.join(left_out)}" if left_out else "")
    )
    if population_note is not None:
        summary.append(population_note)
    summary.append(_parameters_line(mapped))
    summary.append("visits: " + ", ".join(_ordered_visits(mapped)))
    summary.append(_arms_line(mapped, arm_variable, arm_source))
    if subjects is not None:
        merged = mapped["patient_id"].n_unique()
        from_adsl = ", ".join([*wanted_from_adsl, *extra]) or "nothing"
        summary.append(
            f"subjects: {merged} merged with ADSL ({subjects.height} subjects there) by "
            f"{' + '.join(key)}; from ADSL: {from_adsl}"
        )
    if options.response_var is not None:
        counts = (
            mapped.group_by("patient_id").agg(pl.col("response").first()).group_by("response").len()
        )
        found_counts = dict(counts.iter_rows())
        order = [*dict.fromkeys(RESPONSE_MAP.values()), None]
        shown = ", ".join(f"{r or 'missing'} {found_counts[r]}" for r in order if r in found_counts)
        summary.append(f"response from {options.response_var}: {shown}")
    return AdamMapping(
        frame=mapped,
        rows_left_out=n_derived + n_not_analysis + outside.height,
        summary=summary,
        warnings=describe_disagreements(baseline_disagreements(frame)),
    )


def _choose_treatment(
    frame: pl.DataFrame, subjects: pl.DataFrame | None, treatment: str
) -> tuple[str | None, str | None]:
    """The treatment variable and where it comes from; the other kind if the chosen is
    missing everywhere."""
    other = "actual" if treatment == "planned" else "planned"
    for kind in (treatment, other):
        for variable in TREATMENT_VARIABLES[kind]:
            if variable in frame.columns:
                return variable, "bds"
            if subjects is not None and variable in subjects.columns:
                return variable, "adsl"
    return None, None


def _units(frame: pl.DataFrame) -> pl.Expr:
    from_param = (
        unit_from_param(pl.col("PARAM"))
        if "PARAM" in frame.columns
        else pl.lit(None, dtype=pl.String)
    )
    if "AVALU" in frame.columns:
        return pl.coalesce(pl.col("AVALU"), from_param).alias("unit")
    return from_param.alias("unit")


def _map_response(
    frame: pl.DataFrame, options: AdamOptions, found: ProblemSink, source: str | None
) -> pl.Expr | None:
    variable = options.response_var
    assert variable is not None
    mapped = pl.col(variable).str.to_uppercase().replace_strict(RESPONSE_MAP, default=None)
    bad = frame.filter(pl.col(variable).is_not_null() & mapped.is_null())
    if bad.height:
        row_col = "_adsl_row" if source == "adsl" else ROW
        first = bad.sort(row_col).unique(subset=[variable], keep="first", maintain_order=True)
        for row in first.iter_rows(named=True):
            message = (
                f"response '{row[variable]}' cannot be mapped to CR, PR, SD, PD or NE "
                f"(subject '{row['USUBJID']}')"
            )
            if source == "adsl" and options.adsl is not None:
                found.add(message, int(row[row_col]), variable, options.adsl.path)
            else:
                found.add(message, int(row[row_col]), variable)
        return None
    return mapped.alias("response")


def _every_parameter_has_a_baseline(frame: pl.DataFrame, found: ProblemSink) -> bool:
    """Each parameter needs baseline records (ABLFL = 'Y') to pair changes with."""
    if "ABLFL" not in frame.columns:
        names = ", ".join(f"'{p}'" for p in frame["PARAMCD"].unique(maintain_order=True))
        found.add(
            f"parameter {names} has no baseline record: the dataset has no ABLFL variable "
            "(changes from baseline need records flagged ABLFL = 'Y')",
            row=1,
        )
        return False
    flagged = pl.col("ABLFL") == "Y"
    per_parameter = (
        frame.group_by("PARAMCD")
        .agg(flagged.any().alias("_has"), pl.col(ROW).min().alias("_row"))
        .filter(~pl.col("_has"))
        .sort("_row")
    )
    for row in per_parameter.iter_rows(named=True):
        found.add(
            f"parameter '{row['PARAMCD']}' has no baseline record (ABLFL = 'Y'); "
            "changes from baseline need one",
            int(row["_row"]),
            "ABLFL",
        )
    return per_parameter.height == 0


def _parameters_line(mapped: pl.DataFrame) -> str:
    per = (
        mapped.group_by("biomarker")
        .agg(pl.col("unit").drop_nulls().first(), pl.len())
        .sort("biomarker")
    )
    shown = [f"{marker} ({unit or 'no unit'}, {n})" for marker, unit, n in per.head(12).iter_rows()]
    more = f" and {per.height - 12} more" if per.height > 12 else ""
    return f"parameters: {per.height}: " + ", ".join(shown) + more


def _ordered_visits(mapped: pl.DataFrame) -> list[str]:
    order = [pl.col(ROW).min().alias("_first")]
    if "visit_day" in mapped.columns:
        order.insert(0, pl.col("visit_day").cast(pl.Float64, strict=False).median().alias("_d"))
    visits = mapped.group_by("timepoint").agg(order)
    by = ["_d", "_first"] if "_d" in visits.columns else ["_first"]
    return visits.sort(by, nulls_last=True)["timepoint"].to_list()


def _arms_line(mapped: pl.DataFrame, variable: str, source: str | None) -> str:
    per = mapped.group_by("arm").agg(pl.col("patient_id").n_unique()).sort("arm")
    where = "ADSL" if source == "adsl" else "the dataset"
    shown = ", ".join(f"{arm} ({n} subjects)" for arm, n in per.iter_rows())
    return f"arms from {variable} in {where}: {shown}"


def _close(a: pl.Expr, b: pl.Expr) -> pl.Expr:
    scale = pl.max_horizontal(a.abs(), b.abs(), pl.lit(1.0))
    return (a - b).abs() <= _TOLERANCE * scale


def _number_text(x: float) -> str:
    return f"{x:.10g}"


def baseline_disagreements(frame: pl.DataFrame) -> list[str]:
    """Kept records whose CHG is not AVAL - BASE, or whose BASE is not the subject's
    baseline AVAL (the value the analysis pairs with); one line each, in record order."""
    if "BASE" not in frame.columns:
        return []
    number = pl.Float64
    values = frame.with_columns(
        pl.col("AVAL").cast(number, strict=False).alias("_aval"),
        pl.col("BASE").cast(number, strict=False).alias("_base"),
        (
            pl.col("CHG").cast(number, strict=False)
            if "CHG" in frame.columns
            else pl.lit(None, dtype=number)
        ).alias("_chg"),
    )
    flag = (pl.col("ABLFL") == "Y") if "ABLFL" in frame.columns else pl.lit(False)
    baseline = (
        values.filter(flag)
        .group_by("USUBJID", "PARAMCD")
        .agg(pl.col("_aval").first().alias("_tool_base"))
    )
    values = values.join(baseline, on=["USUBJID", "PARAMCD"], how="left")
    chg_wrong = (
        pl.col("_chg").is_not_null()
        & pl.col("_base").is_not_null()
        & pl.col("_aval").is_not_null()
        & ~_close(pl.col("_aval") - pl.col("_base"), pl.col("_chg"))
    )
    base_wrong = pl.col("_base").is_not_null() & (
        pl.col("_tool_base").is_null() | ~_close(pl.col("_tool_base"), pl.col("_base"))
    )
    bad = values.filter(chg_wrong | base_wrong).with_columns(
        chg_wrong.alias("_chg_wrong"), base_wrong.alias("_base_wrong")
    )
    lines = []
    for row in bad.sort(ROW).iter_rows(named=True):
        where = f"USUBJID {row['USUBJID']}, PARAMCD {row['PARAMCD']}, AVISIT {row['AVISIT']}"
        if row["_chg_wrong"]:
            lines.append(
                f"{where}: AVAL - BASE = {_number_text(row['_aval'] - row['_base'])} "
                f"but CHG = {_number_text(row['_chg'])}"
            )
        if row["_base_wrong"] and row["_tool_base"] is None:
            lines.append(
                f"{where}: BASE = {_number_text(row['_base'])} but the subject has no "
                "baseline record (ABLFL = 'Y')"
            )
        elif row["_base_wrong"]:
            lines.append(
                f"{where}: BASE = {_number_text(row['_base'])} but the baseline record's "
                f"AVAL = {_number_text(row['_tool_base'])}"
            )
    return lines


def describe_disagreements(lines: list[str]) -> list[str]:
    """Warnings for the import report: the first few disagreements and how many in all."""
    if not lines:
        return []
    head = [f"BASE/CHG check: {len(lines)} record(s) disagree"]
    head += [f"  {line}" for line in lines[:DISAGREEMENTS_SHOWN]]
    if len(lines) > DISAGREEMENTS_SHOWN:
        head.append(f"  ... and {len(lines) - DISAGREEMENTS_SHOWN} more")
    return head
