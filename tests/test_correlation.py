"""Spearman correlation of changes (:func:`correlate_changes`) against R's
``cor.test(x, y, method = "spearman", exact = FALSE)`` per arm, and the arm-adjusted pooled
(partial Spearman given arm) correlation against its definition computed in R."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from r_partial_spearman_reference import PARTIAL_SPEARMAN_CASES, PARTIAL_SPEARMAN_R_CODE
from r_reference import SPEARMAN_CASES
from r_sample_reference import (
    CORRELATION_ADJUSTED_R_CODE,
    CORRELATION_R_CODE,
    CORRELATION_REFERENCE,
    STUDY,
)

from trialtui.analysis import AnalysisSettings, Pairing, correlate_changes
from trialtui.analysis.correlation import CORRELATION_COLUMNS, POOLED
from trialtui.analysis.multiplicity import p_adjust
from trialtui.store.connection import connect
from trialtui.study import compute, load_study

REL = 1e-6


def pairing_from_rows(rows: list[tuple[str, str, str, float]]) -> Pairing:
    """A Pairing from (arm, patient, biomarker, log2fc) rows."""
    frame = pl.DataFrame(
        rows, schema=["arm", "patient_id", "biomarker", "log2fc"], orient="row"
    ).with_columns(
        pl.lit("S").alias("study_id"),
        (2.0 ** pl.col("log2fc")).alias("fc"),
        pl.lit("PR").alias("response"),
    )
    counts = frame.group_by("study_id", "biomarker", "arm").agg(pl.len().alias("n_pairs"))
    return Pairing(frame, counts, "BL", "W4")


def one_row(frame: pl.DataFrame, **keys) -> dict:
    hit = frame.filter(*[pl.col(k) == v for k, v in keys.items()])
    assert hit.height == 1, keys
    return hit.row(0, named=True)


def case_rows() -> list[tuple[str, str, str, float]]:
    """Every R case in an arm of its own, plus patients with only one of the two changes
    (left out pairwise) and a third biomarker W, a monotone transform of Y measured on a
    subset of the patients."""
    rows = []
    for case in SPEARMAN_CASES:
        arm = case["name"]
        for i, (x, y) in enumerate(zip(case["x"], case["y"], strict=True)):
            rows.append((arm, f"{arm}-{i}", "X", x))
            rows.append((arm, f"{arm}-{i}", "Y", y))
            if i % 3 != 0:
                rows.append((arm, f"{arm}-{i}", "W", float(np.exp(y))))
        rows.append((arm, f"{arm}-only-x", "X", 100.0))
        rows.append((arm, f"{arm}-only-y1", "Y", -100.0))
        rows.append((arm, f"{arm}-only-y2", "Y", 50.0))
    return rows


@pytest.fixture(scope="module")
def case_frame() -> pl.DataFrame:
    return correlate_changes(pairing_from_rows(case_rows()), AnalysisSettings())


@pytest.mark.parametrize("case", SPEARMAN_CASES, ids=[c["name"] for c in SPEARMAN_CASES])
def test_spearman_matches_r(case_frame: pl.DataFrame, case: dict) -> None:
    assert case["r_code"] == 'cor.test(x, y, method = "spearman", exact = FALSE)'
    got = one_row(case_frame, arm=case["name"], biomarker_x="X", biomarker_y="Y")
    assert got["n"] == len(case["x"])  # the one-sided patients are left out
    assert got["spearman_rho"] == pytest.approx(case["rho"], rel=REL)
    assert got["p"] == pytest.approx(case["p_value"], rel=REL)


def test_pairwise_complete_on_a_subset(case_frame: pl.DataFrame) -> None:
    for case in SPEARMAN_CASES:
        arm = case["name"]
        w_patients = sum(1 for i in range(len(case["x"])) if i % 3 != 0)
        wy = one_row(case_frame, arm=arm, biomarker_x="W", biomarker_y="Y")
        assert wy["n"] == w_patients
        assert wy["spearman_rho"] == pytest.approx(1.0, rel=1e-12)  # W = exp(Y)
        assert one_row(case_frame, arm=arm, biomarker_x="W", biomarker_y="X")["n"] == w_patients


def test_rows_are_ordered_pairs_with_q_per_arm(case_frame: pl.DataFrame) -> None:
    assert case_frame.columns[: len(CORRELATION_COLUMNS)] == list(CORRELATION_COLUMNS)
    assert (case_frame["biomarker_x"] < case_frame["biomarker_y"]).all()
    assert case_frame.height == 3 * (len(SPEARMAN_CASES) + 1)  # 3 pairs per arm and pooled
    for (arm,), part in case_frame.group_by("arm"):
        expected = p_adjust(part["p"].to_numpy(), "bh")
        np.testing.assert_allclose(part["q"].to_numpy(), expected, rtol=1e-12, err_msg=arm)
    pooled = case_frame.filter(pl.col("arm") == POOLED)
    total = sum(len(c["x"]) for c in SPEARMAN_CASES)
    assert one_row(pooled, biomarker_x="X", biomarker_y="Y")["n"] == total


def test_fewer_than_three_patients_give_no_p_value() -> None:
    rows = [
        ("A", "p1", "X", 0.1),
        ("A", "p1", "Y", 0.4),
        ("A", "p2", "X", 0.5),
        ("A", "p2", "Y", 0.2),
        ("B", "q1", "X", 1.0),
        ("B", "q1", "Y", 2.0),
    ]
    frame = correlate_changes(pairing_from_rows(rows), AnalysisSettings())
    two = one_row(frame, arm="A")
    assert (two["n"], two["p"], two["q"]) == (2, None, None)
    assert two["spearman_rho"] == pytest.approx(-1.0, rel=1e-12)
    one = one_row(frame, arm="B")
    assert one["n"] == 1 and one["spearman_rho"] is None and one["p"] is None
    pooled = one_row(frame, arm=POOLED)
    assert pooled["n"] == 3 and pooled["p"] is None  # 3 - 2 - (2 - 1) = 0 df


def test_one_biomarker_gives_an_empty_frame() -> None:
    frame = correlate_changes(
        pairing_from_rows([("A", "p1", "X", 0.1), ("A", "p2", "X", 0.3)]), AnalysisSettings()
    )
    assert frame.is_empty()
    assert frame.columns[: len(CORRELATION_COLUMNS)] == list(CORRELATION_COLUMNS)
    assert "lloq_policy" in frame.columns  # the settings are recorded on every level


def test_sample_correlations_match_r(sample_db: Path) -> None:
    """All 45 biomarker pairs per arm and pooled, with BH q over the pairs of one arm."""
    con = connect(sample_db, read_only=True)
    try:
        data = load_study(con, STUDY)
    finally:
        con.close()
    frame = compute(data, AnalysisSettings(), levels=("correlation",)).level("correlation")
    assert frame.height == len(CORRELATION_REFERENCE)
    for ref in CORRELATION_REFERENCE:
        x, y = sorted([ref["biomarker_x"], ref["biomarker_y"]])
        got = one_row(frame, arm=ref["arm"], biomarker_x=x, biomarker_y=y)
        assert got["n"] == ref["n"]
        code = CORRELATION_ADJUSTED_R_CODE if ref["arm"] == POOLED else CORRELATION_R_CODE
        for column in ("spearman_rho", "p", "q"):
            assert code[column]
            assert got[column] == pytest.approx(ref[column], rel=REL), (ref, column)
    for arm in ("Defactinib + Pembrolizumab", POOLED):
        rho = one_row(frame, arm=arm, biomarker_x="CD8", biomarker_y="FAP")["spearman_rho"]
        assert rho < -0.4  # the sample's designed FAP vs CD8 anticorrelation


# ----------------------------------------------------------------------------- arm-adjusted


def pairing_from_cases(cases: list[dict], extra: bool = True) -> Pairing:
    """Each R case as a study of its own (X, Y by arm); with ``extra``, patients with only
    one of the two changes, which the pairwise-complete correlation leaves out."""
    rows = []
    for case in cases:
        study = case["name"]
        for i, (arm, x, y) in enumerate(zip(case["arm"], case["x"], case["y"], strict=True)):
            rows += [(study, arm, f"p{i}", "X", x), (study, arm, f"p{i}", "Y", y)]
        if extra:
            rows += [(study, case["arm"][0], "only-x", "X", 99.0)]
            rows += [(study, case["arm"][-1], "only-y", "Y", -99.0)]
    frame = pl.DataFrame(
        rows, schema=["study_id", "arm", "patient_id", "biomarker", "log2fc"], orient="row"
    ).with_columns((2.0 ** pl.col("log2fc")).alias("fc"), pl.lit("PR").alias("response"))
    counts = frame.group_by("study_id", "biomarker", "arm").agg(pl.len().alias("n_pairs"))
    return Pairing(frame, counts, "BL", "W4")


@pytest.mark.parametrize("extra", [False, True], ids=["complete", "with-unpaired"])
def test_arm_adjusted_pooled_matches_r(extra: bool) -> None:
    assert "resid(lm(rank(x) ~ factor(arm)))" in PARTIAL_SPEARMAN_R_CODE
    frame = correlate_changes(pairing_from_cases(PARTIAL_SPEARMAN_CASES, extra), AnalysisSettings())
    for case in PARTIAL_SPEARMAN_CASES:
        got = one_row(frame, study_id=case["name"], arm=POOLED)
        assert got["n"] == len(case["x"])
        assert got["spearman_rho"] == pytest.approx(case["rho"], rel=1e-10), case["name"]
        assert got["p"] == pytest.approx(case["p"], rel=1e-8), case["name"]
        # the adjustment matters in every case: the plain pooled rho is another number
        assert abs(got["spearman_rho"] - case["unadjusted_rho"]) > 0.05


def test_arm_adjusted_compiled_path_matches_r() -> None:
    """Many missingness patterns take the compiled pair loop: same numbers."""
    case = next(c for c in PARTIAL_SPEARMAN_CASES if c["name"] == "three_arms")
    n = len(case["x"])
    rng = np.random.default_rng(7)
    matrix = np.column_stack([case["x"], case["y"]] + [rng.normal(size=n) for _ in range(20)])
    for j in range(2, matrix.shape[1]):
        matrix[rng.integers(0, n), j] = np.nan  # a distinct pattern per column
    from trialtui.analysis.correlation import spearman_matrix

    groups = np.unique(case["arm"], return_inverse=True)[1]
    rho, count, n_groups = spearman_matrix(matrix, groups, block_pairs_only=0)
    assert rho[0, 1] == pytest.approx(case["rho"], rel=1e-10)
    assert (count[0, 1], n_groups[0, 1]) == (n, 3)


def test_single_arm_study_has_no_pooled_rows() -> None:
    case = PARTIAL_SPEARMAN_CASES[0]
    one_arm = dict(case, arm=["only"] * len(case["arm"]))
    frame = correlate_changes(pairing_from_cases([one_arm], extra=False), AnalysisSettings())
    assert set(frame["arm"]) == {"only"}


def test_compiled_path_re_ranks_each_pair_as_pairwise_complete_spearman() -> None:
    """Values missing one at a time (a pattern per column) and ties: each pair's rho is
    Spearman's on the rows both columns have, ranked afresh, as R's
    cor(use = "pairwise.complete.obs", method = "spearman")."""
    from scipy import stats

    from trialtui.analysis.correlation import spearman_matrix

    rng = np.random.default_rng(11)
    n, k = 40, 24
    matrix = rng.integers(0, 6, size=(n, k)).astype(float)  # many ties
    matrix[rng.random((n, k)) < 0.2] = np.nan
    rho, count, _ = spearman_matrix(matrix, block_pairs_only=0)
    for i in range(k):
        for j in range(k):
            both = ~np.isnan(matrix[:, i]) & ~np.isnan(matrix[:, j])
            assert count[i, j] == both.sum()
            expected = stats.spearmanr(matrix[both, i], matrix[both, j]).statistic
            assert rho[i, j] == pytest.approx(expected, rel=1e-12, abs=1e-14), (i, j)
