"""Baseline-adjusted comparison (:func:`trialtui.analysis.ancova.ancova`) against R's
``lm(log2(post) ~ log2(pre) + arm)``, ``confint``, ``anova`` and ``p.adjust``."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from r_ancova_reference import ANCOVA_CASES, ANCOVA_R_CODE

from trialtui.analysis import AnalysisSettings, compare_arms, pair_samples
from trialtui.analysis.ancova import ANCOVA_COLUMNS, ancova
from trialtui.store.connection import connect
from trialtui.study import compute, load_study

REL = 1e-9


def measurements(case: dict) -> pl.DataFrame:
    """The pre/post values of a reference case as the store returns them."""
    rows = []
    for i, (biomarker, arm, pre, post) in enumerate(
        zip(case["biomarker"], case["arm"], case["pre"], case["post"], strict=True)
    ):
        for timepoint, ordinal, value in (("BL", 0, pre), ("C2", 1, post)):
            rows.append(
                {
                    "study_id": "S",
                    "patient_id": f"{arm}-{i:03d}",
                    "arm": arm,
                    "response": "SD",
                    "timepoint": timepoint,
                    "ordinal": ordinal,
                    "is_baseline": ordinal == 0,
                    "biomarker": biomarker,
                    "value": value,
                    "below_lloq": False,
                    "lloq": 0.01,
                }
            )
    return pl.DataFrame(rows)


def settings_of(case: dict) -> AnalysisSettings:
    return AnalysisSettings(
        conf_level=case["conf_level"], fdr=case["fdr"], reference_arm=case["reference_arm"]
    )


@pytest.mark.parametrize("case", ANCOVA_CASES, ids=[c["name"] for c in ANCOVA_CASES])
def test_ancova_matches_r(case: dict) -> None:
    assert ANCOVA_R_CODE
    settings = settings_of(case)
    got = ancova(pair_samples(measurements(case), settings), settings, case["reference_arm"])
    assert got.height == len(case["expected"])
    for expected in case["expected"]:
        hit = got.filter(
            (pl.col("biomarker") == expected["biomarker"]) & (pl.col("arm") == expected["arm"])
        )
        assert hit.height == 1
        row = hit.row(0, named=True)
        for column, value in expected.items():
            if column in ("biomarker", "arm"):
                continue
            assert column in row, f"reference column {column} missing from the output"
            if value is None:
                assert row[column] is None, (expected["biomarker"], expected["arm"], column)
            else:
                assert row[column] == pytest.approx(value, rel=REL), (
                    expected["biomarker"],
                    expected["arm"],
                    column,
                )


def test_every_ancova_column_has_a_reference() -> None:
    checked = {c for case in ANCOVA_CASES for row in case["expected"] for c in row}
    assert set(ANCOVA_COLUMNS) <= checked


@pytest.mark.parametrize("case", ANCOVA_CASES[:2], ids=[c["name"] for c in ANCOVA_CASES[:2]])
def test_comparison_level_carries_ancova(case: dict) -> None:
    settings = settings_of(case)
    pairing = pair_samples(measurements(case), settings)
    comparison = compare_arms(pairing, settings, case["reference_arm"])
    alone = ancova(pairing, settings, case["reference_arm"])
    joined = comparison.select("biomarker", "arm", *ANCOVA_COLUMNS).sort("biomarker", "arm")
    assert_frame_equal(
        joined, alone.select("biomarker", "arm", *ANCOVA_COLUMNS).sort("biomarker", "arm")
    )
    assert comparison["ancova_ratio"].null_count() == 0


def test_less_than_three_pairs_in_the_reference_gives_empty_values() -> None:
    case = {
        "biomarker": ["M"] * 6,
        "arm": ["R", "R", "T", "T", "T", "T"],
        "pre": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        "post": [2.0, 3.0, 5.0, 4.0, 9.0, 7.0],
    }
    settings = AnalysisSettings()
    got = ancova(pair_samples(measurements(case), settings), settings, "R")
    assert got.height == 1
    assert all(got[c][0] is None for c in ANCOVA_COLUMNS)


def test_sample_study_has_ancova_in_every_comparison_row(sample_db) -> None:
    con = connect(sample_db, read_only=True)
    try:
        results = compute(load_study(con, "PDAC-DEF-2"), AnalysisSettings(), levels=("comparison",))
    finally:
        con.close()
    frame = results.level("comparison")
    assert frame["ancova_ratio"].null_count() == 0
    assert frame["p_ancova_overall"].null_count() == frame.height  # two arms: no F-test
    assert (frame["ancova_lo"] < frame["ancova_ratio"]).all()
    assert (frame["ancova_ratio"] < frame["ancova_hi"]).all()


def test_swapping_the_reference_inverts_the_ratio() -> None:
    """With two arms the model is the same whichever arm is the base level: the ratio and
    its interval invert, the p-value stays."""
    case = ANCOVA_CASES[0]
    pairing = pair_samples(measurements(case), settings_of(case))
    forward = ancova(pairing, settings_of(case), "Control").sort("biomarker")
    backward = ancova(pairing, settings_of(case), "Treated").sort("biomarker")
    assert (forward["ancova_ratio"] * backward["ancova_ratio"]).to_list() == pytest.approx(
        [1.0] * forward.height, rel=1e-12
    )
    assert (forward["ancova_lo"] * backward["ancova_hi"]).to_list() == pytest.approx(
        [1.0] * forward.height, rel=1e-12
    )
    assert backward["p_ancova"].to_list() == pytest.approx(forward["p_ancova"].to_list(), rel=1e-12)
