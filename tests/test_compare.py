"""Between-arm comparisons (:func:`compare_arms`) against R's ``t.test(x, y)``,
``wilcox.test(x, y, conf.int = TRUE)`` and ``kruskal.test``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from r_reference import KRUSKAL_CASES, RANKSUM_CASES, WELCH_CASES
from r_sample_reference import (
    ARM,
    COMPARISON_R_CODE,
    COMPARISON_REFERENCE,
    RAW_CASES,
    RAW_COMPARISON_R_CODE,
    REFERENCE_ARM,
    STUDY,
)
from test_paired import pairing_from_log2fc, raw_measurements

from trialtui.analysis import AnalysisSettings, compare_arms, pair_samples
from trialtui.analysis.compare import COMPARISON_COLUMNS, welch
from trialtui.store.connection import connect
from trialtui.study import compute, load_study

REL = 1e-6


def one_row(frame: pl.DataFrame, **keys) -> dict:
    hit = frame.filter(*[pl.col(k) == v for k, v in keys.items()])
    assert hit.height == 1, keys
    return hit.row(0, named=True)


# ----------------------------------------------------------------------------- Welch


@pytest.mark.parametrize("case", WELCH_CASES, ids=[c["name"] for c in WELCH_CASES])
def test_welch_function_matches_r(case: dict) -> None:
    x, y = np.array(case["x"]), np.array(case["y"])
    got = welch(
        np.array([x.mean()]),
        np.array([x.var(ddof=1)]),
        np.array([float(len(x))]),
        np.array([y.mean()]),
        np.array([y.var(ddof=1)]),
        np.array([float(len(y))]),
        case["conf_level"],
    )
    assert got["diff"][0] == pytest.approx(case["estimate"], rel=REL)
    assert got["t"][0] == pytest.approx(case["statistic"], rel=REL)
    assert got["df"][0] == pytest.approx(case["df"], rel=REL)
    assert got["p"][0] == pytest.approx(case["p_value"], rel=REL)
    assert got["lo"][0] == pytest.approx(case["conf_low"], rel=REL)
    assert got["hi"][0] == pytest.approx(case["conf_high"], rel=REL)


@pytest.mark.parametrize("case", WELCH_CASES, ids=[c["name"] for c in WELCH_CASES])
def test_welch_ratio_of_geometric_means_matches_r(case: dict) -> None:
    """x is the arm, y the reference: gmfc_ratio = 2^(mean x - mean y) with 2^CI."""
    pairing = pairing_from_log2fc({("M", "X"): case["x"], ("M", "Ref"): case["y"]})
    settings = AnalysisSettings(conf_level=case["conf_level"])
    got = one_row(compare_arms(pairing, settings, "Ref"), biomarker="M")
    assert (got["arm"], got["reference_arm"]) == ("X", "Ref")
    assert (got["n"], got["n_reference"]) == (len(case["x"]), len(case["y"]))
    assert got["gmfc_ratio"] == pytest.approx(2 ** case["estimate"], rel=REL)
    assert got["gmfc_ratio_lo"] == pytest.approx(2 ** case["conf_low"], rel=REL)
    assert got["gmfc_ratio_hi"] == pytest.approx(2 ** case["conf_high"], rel=REL)
    assert got["t_welch"] == pytest.approx(case["statistic"], rel=REL)
    assert got["df_welch"] == pytest.approx(case["df"], rel=REL)
    if min(len(case["x"]), len(case["y"])) >= 3:
        assert got["p_welch"] == pytest.approx(case["p_value"], rel=REL)
    else:
        assert got["p_welch"] is None and got["q_welch"] is None


# ----------------------------------------------------------------------------- rank sum


@pytest.mark.parametrize("case", RANKSUM_CASES, ids=[c["name"] for c in RANKSUM_CASES])
def test_mann_whitney_and_hodges_lehmann_match_r(case: dict) -> None:
    pairing = pairing_from_log2fc({("M", "X"): case["x"], ("M", "Ref"): case["y"]})
    settings = AnalysisSettings(conf_level=case["conf_level"])
    got = one_row(compare_arms(pairing, settings, "Ref"), biomarker="M")
    assert got["hl_shift"] == pytest.approx(case["estimate"], rel=REL)
    assert got["hl_lo"] == pytest.approx(case["conf_low"], rel=REL)
    assert got["hl_hi"] == pytest.approx(case["conf_high"], rel=REL)
    assert got["exact_mannwhitney"] is case["exact"]
    rb = 2 * case["statistic"] / (len(case["x"]) * len(case["y"])) - 1
    assert got["rank_biserial"] == pytest.approx(rb, rel=1e-12, abs=1e-15)
    if min(len(case["x"]), len(case["y"])) >= 3:
        assert got["p_mannwhitney"] == pytest.approx(case["p_value"], rel=REL)
    else:
        assert got["p_mannwhitney"] is None


def test_all_rank_sum_cases_at_once_with_q_values() -> None:
    """One frame, one biomarker per case (equal conf level): rows must not mix up."""
    cases = [c for c in RANKSUM_CASES if c["conf_level"] == 0.95]
    groups = {}
    for c in cases:
        groups[(c["name"], "X")] = c["x"]
        groups[(c["name"], "Ref")] = c["y"]
    frame = compare_arms(pairing_from_log2fc(groups), AnalysisSettings(), "Ref")
    assert frame.height == len(cases)
    for c in cases:
        got = one_row(frame, biomarker=c["name"])
        assert got["hl_lo"] == pytest.approx(c["conf_low"], rel=REL), c["name"]
        if min(len(c["x"]), len(c["y"])) >= 3:
            assert got["p_mannwhitney"] == pytest.approx(c["p_value"], rel=REL), c["name"]
    p = frame["p_mannwhitney"].drop_nulls().to_numpy()
    q = frame["q_mannwhitney"].drop_nulls().to_numpy()
    order = np.argsort(p)
    assert (q >= p - 1e-15).all()
    assert (np.diff(q[order]) >= -1e-15).all()


# ----------------------------------------------------------------------------- Kruskal-Wallis


def test_kruskal_wallis_with_three_arms_matches_r() -> None:
    groups = {}
    for case in KRUSKAL_CASES:
        assert case["r_code"] == "kruskal.test(list(g1, g2, g3))"
        for arm, values in zip(("g1", "g2", "g3"), case["groups"], strict=True):
            groups[(case["name"], arm)] = values
    frame = compare_arms(pairing_from_log2fc(groups), AnalysisSettings(), "g1")
    assert sorted(set(frame["arm"])) == ["g2", "g3"]
    for case in KRUSKAL_CASES:
        rows = frame.filter(pl.col("biomarker") == case["name"])
        assert rows.height == 2
        for p in rows["p_kruskal"]:
            assert p == pytest.approx(case["p_value"], rel=REL), case["name"]


def test_no_kruskal_wallis_with_two_arms() -> None:
    case = KRUSKAL_CASES[0]
    pairing = pairing_from_log2fc({("M", "g1"): case["groups"][0], ("M", "g2"): case["groups"][1]})
    frame = compare_arms(pairing, AnalysisSettings(), "g1")
    assert frame["p_kruskal"].to_list() == [None]


# ----------------------------------------------------------------------------- raw values


@pytest.mark.parametrize("case", RAW_CASES, ids=[c["name"] for c in RAW_CASES])
def test_pipeline_from_raw_values_matches_r(case: dict) -> None:
    """Arm B against reference A after R-side LLOQ/zero handling; "integer_hscores" and
    "ratio_ties" take the normal approximation with ties, where the Hodges-Lehmann limits
    are roots of a step function (R's qnorm and zeroin must be followed to the bit)."""
    settings = AnalysisSettings()
    pairing = pair_samples(raw_measurements(case), settings)
    got = one_row(compare_arms(pairing, settings, "A"), arm="B")
    for column, value in case["comparison"].items():
        assert RAW_COMPARISON_R_CODE[column]
        if isinstance(value, bool):
            assert got[column] is value, column
        else:
            assert got[column] == pytest.approx(value, rel=REL), column


# ----------------------------------------------------------------------------- reference arm


def test_reference_arm_without_pairs_gives_no_test() -> None:
    pairing = pairing_from_log2fc(
        {("M", "X"): [0.1, 0.5, 0.9], ("M", "Ref"): [0.2, 0.3, 0.4], ("N", "X"): [1.0, 2.0, 3.0]}
    )
    frame = compare_arms(pairing, AnalysisSettings(), "Ref")
    n = one_row(frame, biomarker="N")
    assert (n["n"], n["n_reference"]) == (3, 0)
    assert n["p_mannwhitney"] is None and n["p_welch"] is None and n["gmfc_ratio"] is None
    assert one_row(frame, biomarker="M")["p_welch"] is not None


def test_small_arms_give_null_p_values_not_errors() -> None:
    pairing = pairing_from_log2fc(
        {("M", "X"): [0.5], ("M", "Ref"): [0.1, 0.2], ("N", "X"): [0.4, 0.6], ("N", "Ref"): [1.0]}
    )
    frame = compare_arms(pairing, AnalysisSettings(), "Ref")
    assert frame.height == 2
    for column in ("p_mannwhitney", "p_welch", "q_mannwhitney", "q_welch"):
        assert frame[column].to_list() == [None, None], column
    floats = [c for c, t in frame.schema.items() if t == pl.Float64]
    assert not any(frame.select(pl.col(floats).is_nan().any()).row(0))


def test_unchanged_biomarker_in_every_arm_gives_no_p_value_and_no_error() -> None:
    """All log2FC 0 (e.g. every value below the LLOQ at both timepoints): every value tied,
    so R's rank-sum p-value is NaN; here it is null and the other rows are unaffected."""
    pairing = pairing_from_log2fc(
        {
            ("flat", "X"): [0.0, 0.0, 0.0],
            ("flat", "Ref"): [0.0, 0.0, 0.0, 0.0],
            ("one", "X"): [1.5],
            ("one", "Ref"): [1.5],
            ("M", "X"): [0.3, 1.1, 0.8],
            ("M", "Ref"): [0.1, -0.2, 0.05],
        }
    )
    frame = compare_arms(pairing, AnalysisSettings(), "Ref")
    flat = one_row(frame, biomarker="flat")
    assert flat["p_mannwhitney"] is None and flat["p_welch"] is None
    assert (flat["hl_shift"], flat["gmfc_ratio"], flat["rank_biserial"]) == (0.0, 1.0, 0.0)
    assert one_row(frame, biomarker="one")["p_mannwhitney"] is None
    assert one_row(frame, biomarker="M")["p_mannwhitney"] is not None


# ----------------------------------------------------------------------------- sample trial


def test_sample_comparison_matches_r(sample_db: Path) -> None:
    con = connect(sample_db, read_only=True)
    try:
        data = load_study(con, STUDY)
    finally:
        con.close()
    results = compute(data, AnalysisSettings(), levels=("comparison",))
    assert results.reference_arm == REFERENCE_ARM  # flagged in the database
    frame = results.level("comparison")
    assert frame.columns[: len(COMPARISON_COLUMNS)] == list(COMPARISON_COLUMNS)
    assert frame.height == len(COMPARISON_REFERENCE)
    for ref in COMPARISON_REFERENCE:
        got = one_row(frame, biomarker=ref["biomarker"], arm=ARM)
        for column, value in ref.items():
            if column in ("biomarker", "arm", "reference_arm"):
                assert got[column] == value
            elif column in got:
                assert column in COMPARISON_R_CODE or column == "exact_mannwhitney"
                if isinstance(value, bool | int):
                    assert got[column] == value, (ref["biomarker"], column)
                else:
                    assert got[column] == pytest.approx(value, rel=REL), (ref["biomarker"], column)
