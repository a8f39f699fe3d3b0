"""Benjamini-Hochberg and Holm adjustment against R's ``p.adjust``."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from r_reference import PADJUST_CASES

from trialtui.analysis.multiplicity import adjust_within, p_adjust

REL = 1e-6
METHODS = {"BH": "bh", "holm": "holm"}


def expected(case: dict) -> list[float]:
    return [math.nan if v is None else v for v in case["adjusted"]]


@pytest.mark.parametrize("case", PADJUST_CASES, ids=[c["name"] for c in PADJUST_CASES])
def test_p_adjust_matches_r(case: dict) -> None:
    assert case["r_code"] == f'p.adjust(p, method = "{case["method"]}")'
    got = p_adjust(case["p"], METHODS[case["method"]])
    assert len(got) == len(case["p"])
    for g, e in zip(got, expected(case), strict=True):
        if math.isnan(e):
            assert math.isnan(g)  # R's NA stays missing and is not counted as a test
        else:
            assert g == pytest.approx(e, rel=REL, abs=1e-300)


def test_p_adjust_accepts_numpy_nan_like_none() -> None:
    case = next(c for c in PADJUST_CASES if c["name"] == "with_na_BH")
    as_nan = np.array([np.nan if v is None else v for v in case["p"]])
    np.testing.assert_allclose(p_adjust(as_nan, "bh"), expected(case), rtol=REL)


def test_p_adjust_empty_and_all_missing() -> None:
    assert p_adjust([], "bh").shape == (0,)
    assert np.isnan(p_adjust([None, None], "holm")).all()


def test_p_adjust_rejects_unknown_method() -> None:
    with pytest.raises(ValueError, match="bh, holm"):
        p_adjust([0.1, 0.2], "bonferroni")


@pytest.mark.parametrize("method", ["BH", "holm"])
def test_adjust_within_adjusts_each_family_separately(method: str) -> None:
    """Two families interleaved row by row (as arms are in the per-arm table) must each be
    adjusted on their own, in their rows' order, with missing p-values left missing."""
    one = next(c for c in PADJUST_CASES if c["name"] == f"six_distinct_{method}")
    two = next(c for c in PADJUST_CASES if c["name"] == f"with_na_{method}")
    rows = []
    for i in range(max(len(one["p"]), len(two["p"]))):
        for family, case in (("a", one), ("b", two)):
            if i < len(case["p"]):
                rows.append((family, i, case["p"][i], expected(case)[i]))
    frame = pl.DataFrame(
        rows, schema=["family", "i", "p", "r_q"], orient="row", strict=False
    ).with_columns(pl.col("p", "r_q").cast(pl.Float64))
    out = adjust_within(frame, "p", "q", ["family"], METHODS[method])
    assert out.height == frame.height
    for row in out.iter_rows(named=True):
        if math.isnan(row["r_q"]):
            assert row["q"] is None  # null, not NaN, in result frames
        else:
            assert row["q"] == pytest.approx(row["r_q"], rel=REL)
