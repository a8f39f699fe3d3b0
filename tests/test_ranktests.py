"""Wilcoxon signed-rank and rank-sum tests against R's ``wilcox.test``.

Expected values come from R (``tests/r_reference.py``, made by ``tests/r/make_reference.R``,
and ``tests/r_sample_reference.py``, made by ``tests/r/make_sample_reference.R``); each case
carries the R code that produced it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from r_reference import RANKSUM_CASES, SIGNRANK_CASES
from r_sample_reference import (
    QNORM_CASES,
    QNORM_R_CODE,
    TIED_RANKSUM_CASES,
    TIED_RANKSUM_R_CODE,
)

from trialtui.analysis.ranktests import (
    _tie_term,
    qnorm,
    rank_sum,
    signed_rank,
    signrank_p,
)

REL = 1e-6  # the tolerance against R


def ids(cases: list[dict]) -> list[str]:
    return [c["name"] for c in cases]


# ----------------------------------------------------------------------------- signed rank


@pytest.mark.parametrize("case", SIGNRANK_CASES, ids=ids(SIGNRANK_CASES))
def test_signed_rank_matches_r(case: dict) -> None:
    assert case["r_code"] == "wilcox.test(x)"
    result = signed_rank(np.array(case["x"]))
    assert result.statistic == case["statistic"]  # V: sum of positive ranks, as R
    assert result.p_value == pytest.approx(case["p_value"], rel=REL)
    assert result.exact is case["exact"]
    assert result.n == sum(1 for v in case["x"] if v != 0)  # zeros dropped


def test_signed_rank_vectorised_p_matches_r_for_all_cases_at_once() -> None:
    """``signrank_p`` (used by the per-arm summaries for all biomarkers in one call)."""
    v, n, ties, exact = [], [], [], []
    for case in SIGNRANK_CASES:
        x = np.array(case["x"])
        nonzero = x[x != 0]
        tie_term = _tie_term(np.abs(nonzero))
        v.append(case["statistic"])
        n.append(len(nonzero))
        ties.append(tie_term)
        exact.append(len(nonzero) < 50 and tie_term == 0 and len(nonzero) == len(x))
    p = signrank_p(np.array(v), np.array(n), np.array(ties), np.array(exact))
    assert [bool(e) for e in exact] == [c["exact"] for c in SIGNRANK_CASES]
    for got, case in zip(p, SIGNRANK_CASES, strict=True):
        assert got == pytest.approx(case["p_value"], rel=REL), case["name"]


def test_signed_rank_reports_r_v_not_scipys_smaller_sum() -> None:
    # n7_all_negative: R's V is 0 (no positive ranks); the mirror image gives V = 28.
    case = next(c for c in SIGNRANK_CASES if c["name"] == "n7_all_negative")
    mirrored = signed_rank(-np.array(case["x"]))
    n = len(case["x"])
    assert mirrored.statistic == n * (n + 1) / 2 - case["statistic"]
    assert mirrored.p_value == pytest.approx(case["p_value"], rel=REL)


def test_signed_rank_without_data_gives_nan_not_an_error() -> None:
    for x in ([], [0.0, 0.0, 0.0], [float("nan")]):
        result = signed_rank(np.array(x, dtype=float))
        assert math.isnan(result.p_value)
        assert result.n == 0


# ----------------------------------------------------------------------------- rank sum


@pytest.mark.parametrize("case", RANKSUM_CASES, ids=ids(RANKSUM_CASES))
def test_rank_sum_matches_r(case: dict) -> None:
    assert case["r_code"].startswith("wilcox.test(x, y, conf.int = TRUE")
    x, y = np.array(case["x"]), np.array(case["y"])
    result = rank_sum(x, y, conf_level=case["conf_level"])
    assert result.statistic == case["statistic"]
    assert result.p_value == pytest.approx(case["p_value"], rel=REL)
    assert result.exact is case["exact"]
    # Hodges-Lehmann estimate and interval: on the normal-approximation path these come
    # from R's uniroot on a step function; the port of zeroin follows R step by step.
    assert result.estimate == pytest.approx(case["estimate"], rel=REL)
    assert result.conf_low == pytest.approx(case["conf_low"], rel=REL)
    assert result.conf_high == pytest.approx(case["conf_high"], rel=REL)
    # rank-biserial correlation from R's W: 2 W / (n_x n_y) - 1
    expected_rb = 2 * case["statistic"] / (len(x) * len(y)) - 1
    assert result.rank_biserial == pytest.approx(expected_rb, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("case", TIED_RANKSUM_CASES, ids=ids(TIED_RANKSUM_CASES))
def test_rank_sum_with_all_values_or_each_sample_tied(case: dict) -> None:
    """Unchanged biomarkers give all-equal log2FC: R's p-value is NaN when every value is
    tied; it must be NaN here too, not a ZeroDivisionError. With each sample constant the
    shift is the one pairwise difference (R stops computing its interval there)."""
    assert TIED_RANKSUM_R_CODE == "wilcox.test(x, y)$p.value"
    x, y = np.array(case["x"]), np.array(case["y"])
    result = rank_sum(x, y)
    if math.isnan(case["p_value"]):
        assert math.isnan(result.p_value)
    else:
        assert result.p_value == pytest.approx(case["p_value"], rel=REL)
    shift = x[0] - y[0]
    assert (result.estimate, result.conf_low, result.conf_high) == (shift, shift, shift)


def test_rank_sum_with_an_empty_sample_gives_nan() -> None:
    result = rank_sum(np.array([1.0, 2.0, 3.0]), np.array([]))
    assert math.isnan(result.p_value)
    assert math.isnan(result.estimate)


# ----------------------------------------------------------------------------- qnorm


@pytest.mark.parametrize(
    "case", QNORM_CASES, ids=[f"{c['p']:.3g}-{c['lower_tail']}" for c in QNORM_CASES]
)
def test_qnorm_is_rs_to_the_bit(case: dict) -> None:
    """The normal quantile of the approximate Hodges-Lehmann interval must be R's exactly:
    the interval is a root of a step function, and the root R's zeroin reaches depends on
    the last bits of the quantile (SciPy's ``norm.ppf`` differs there)."""
    assert QNORM_R_CODE == "qnorm(p, lower.tail = lower_tail)"
    assert qnorm(case["p"], lower_tail=case["lower_tail"]) == case["q"]


def test_qnorm_boundaries() -> None:
    assert qnorm(0.0) == -math.inf
    assert qnorm(1.0) == math.inf
    assert qnorm(0.0, lower_tail=False) == math.inf
    assert math.isnan(qnorm(1.5))
