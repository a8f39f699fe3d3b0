"""Change by clinical response (:func:`compare_response`): responders (CR/PR) against
non-responders (SD/PD), per arm and pooled, against R's ``wilcox.test(r, nr)``."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from r_reference import RANKSUM_CASES
from r_sample_reference import RESPONSE_R_CODE, RESPONSE_REFERENCE, STUDY

from trialtui.analysis import AnalysisSettings, Pairing, compare_response
from trialtui.analysis.response import RESPONSE_COLUMNS
from trialtui.store.connection import connect
from trialtui.study import compute, load_study

REL = 1e-6


def pairing_from_rows(rows: list[tuple[str, str, str, float]]) -> Pairing:
    """A Pairing from (arm, response, biomarker, log2fc) rows, one patient per row."""
    frame = pl.DataFrame(
        rows, schema=["arm", "response", "biomarker", "log2fc"], orient="row"
    ).with_columns(
        pl.lit("S").alias("study_id"),
        pl.format("p{}", pl.int_range(pl.len())).alias("patient_id"),
        (2.0 ** pl.col("log2fc")).alias("fc"),
    )
    counts = frame.group_by("study_id", "biomarker", "arm").agg(pl.len().alias("n_pairs"))
    return Pairing(frame, counts, "BL", "W4")


def one_row(frame: pl.DataFrame, **keys) -> dict:
    hit = frame.filter(*[pl.col(k) == v for k, v in keys.items()])
    assert hit.height == 1, keys
    return hit.row(0, named=True)


def test_sample_response_comparison_matches_r(sample_db: Path) -> None:
    con = connect(sample_db, read_only=True)
    try:
        data = load_study(con, STUDY)
    finally:
        con.close()
    frame = compute(data, AnalysisSettings(), levels=("response",)).level("response")
    assert frame.columns[: len(RESPONSE_COLUMNS)] == list(RESPONSE_COLUMNS)
    assert frame.height == len(RESPONSE_REFERENCE)  # 10 biomarkers x (2 arms + pooled)
    for ref in RESPONSE_REFERENCE:
        got = one_row(frame, arm=ref["arm"], biomarker=ref["biomarker"])
        for column, value in ref.items():
            if column in ("arm", "biomarker"):
                continue
            assert RESPONSE_R_CODE[column]
            if isinstance(value, int):
                assert got[column] == value, (ref, column)
            else:
                assert got[column] == pytest.approx(value, rel=REL), (ref, column)
    # 9/20 responders with the combination; 2 of its patients (DP-02, DP-19) are unpaired
    cd8 = one_row(frame, arm="all", biomarker="CD8")
    assert cd8["n_responders"] + cd8["n_nonresponders"] == 36


@pytest.mark.parametrize(
    "case",
    [c for c in RANKSUM_CASES if c["conf_level"] == 0.95 and min(len(c["x"]), len(c["y"])) >= 3],
    ids=lambda c: c["name"],
)
def test_responders_against_non_responders_matches_r(case: dict) -> None:
    """x are responders (split over CR and PR), y non-responders (SD and PD)."""
    rows = [("A", "CR" if i % 2 else "PR", "M", v) for i, v in enumerate(case["x"])]
    rows += [("A", "SD" if i % 2 else "PD", "M", v) for i, v in enumerate(case["y"])]
    frame = compare_response(pairing_from_rows(rows), AnalysisSettings())
    got = one_row(frame, arm="A", biomarker="M")
    assert (got["n_responders"], got["n_nonresponders"]) == (len(case["x"]), len(case["y"]))
    assert got["p_mannwhitney"] == pytest.approx(case["p_value"], rel=REL)
    assert got["hl_shift"] == pytest.approx(case["estimate"], rel=REL)  # responders - non
    assert got["hl_lo"] == pytest.approx(case["conf_low"], rel=REL)
    assert got["hl_hi"] == pytest.approx(case["conf_high"], rel=REL)
    pooled = one_row(frame, arm="all", biomarker="M")
    assert pooled["p_mannwhitney"] == got["p_mannwhitney"]


def test_not_evaluable_and_unknown_responses_are_left_out() -> None:
    rows = [
        ("A", "CR", "M", 2.0),
        ("A", "PR", "M", 3.0),
        ("A", "PR", "M", 1.0),
        ("A", "SD", "M", 0.5),
        ("A", "PD", "M", -1.0),
        ("A", "PD", "M", 0.0),
        ("A", "NE", "M", 9.0),
        ("A", None, "M", -9.0),
    ]
    got = one_row(compare_response(pairing_from_rows(rows), AnalysisSettings()), arm="A")
    assert (got["n_responders"], got["n_nonresponders"]) == (3, 3)
    assert got["median_log2fc_responders"] == 2.0
    assert got["median_log2fc_nonresponders"] == 0.0


def test_small_groups_give_null_p_values() -> None:
    rows = [
        ("A", "PR", "M", 1.0),
        ("A", "PR", "M", 2.0),
        ("A", "SD", "M", 0.1),
        ("A", "PD", "M", 0.2),
        ("A", "SD", "M", 0.3),
        ("B", "SD", "M", 0.4),
    ]
    frame = compare_response(pairing_from_rows(rows), AnalysisSettings())
    for arm in ("A", "B"):
        got = one_row(frame, arm=arm)
        assert got["p_mannwhitney"] is None and got["q_mannwhitney"] is None
    b = one_row(frame, arm="B")
    assert (b["n_responders"], b["median_log2fc_responders"]) == (0, None)
    pooled = one_row(frame, arm="all")
    assert (pooled["n_responders"], pooled["n_nonresponders"]) == (2, 4)
