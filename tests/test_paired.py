"""Per-arm summaries and within-arm tests (:func:`summarise_arms`) against R.

Three kinds of reference: R's ``t.test(x)`` and ``wilcox.test(x)`` on log2FC lists
(``tests/r_reference.py``), whole-pipeline cases where R also does the LLOQ / zero
substitution and log2 (``RAW_CASES``), and the bundled sample study (``ARM_REFERENCE``).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from r_reference import SIGNRANK_CASES, TTEST_ONE_CASES
from r_sample_reference import ARM_R_CODE, ARM_REFERENCE, RAW_ARM_R_CODE, RAW_CASES, STUDY

from trialtui.analysis import AnalysisSettings, Pairing, pair_samples, summarise_arms
from trialtui.analysis.multiplicity import p_adjust
from trialtui.analysis.paired import ARM_COLUMNS
from trialtui.store.connection import connect
from trialtui.study import compute, load_study

REL = 1e-6


def pairing_from_log2fc(groups: dict[tuple[str, str], list[float]]) -> Pairing:
    """A Pairing whose fold_changes hold the given log2FC per (biomarker, arm)."""
    rows = []
    for (biomarker, arm), values in groups.items():
        for i, v in enumerate(values):
            rows.append(
                {
                    "study_id": "S",
                    "patient_id": f"{arm}-{i:03d}",
                    "arm": arm,
                    "biomarker": biomarker,
                    "pre": 1.0,
                    "post": 2.0**v,
                    "fc": 2.0**v,
                    "log2fc": v,
                    "pre_imputed": False,
                    "post_imputed": False,
                    "response": "PR",
                    "pre_timepoint": "BL",
                    "post_timepoint": "W4",
                }
            )
    fold_changes = pl.DataFrame(rows)
    counts = (
        fold_changes.group_by("study_id", "biomarker", "arm")
        .agg(pl.len().cast(pl.Int64).alias("n_pairs"))
        .with_columns(
            pl.lit(0, dtype=pl.Int64).alias("n_unpaired"),
            pl.lit(0, dtype=pl.Int64).alias("n_imputed"),
            pl.lit(0, dtype=pl.Int64).alias("n_excluded"),
        )
    )
    return Pairing(fold_changes, counts, "BL", "W4")


def one_row(frame: pl.DataFrame, **keys) -> dict:
    hit = frame.filter(*[pl.col(k) == v for k, v in keys.items()])
    assert hit.height == 1, keys
    return hit.row(0, named=True)


# ----------------------------------------------------------------------------- t-test


def test_ratio_paired_t_test_matches_r_for_all_cases_in_one_frame() -> None:
    """Every t.test(x) case is one biomarker of the same arm: one vectorised call."""
    pairing = pairing_from_log2fc({(c["name"], "A"): c["x"] for c in TTEST_ONE_CASES})
    arms = summarise_arms(pairing, AnalysisSettings())
    for case in TTEST_ONE_CASES:
        assert case["r_code"] == "t.test(x)"
        got = one_row(arms, biomarker=case["name"])
        n = len(case["x"])
        assert got["n_pairs"] == n
        assert got["gmean_fc"] == pytest.approx(2 ** case["estimate"], rel=REL)
        assert got["gmean_fc_lo"] == pytest.approx(2 ** case["conf_low"], rel=REL)
        assert got["gmean_fc_hi"] == pytest.approx(2 ** case["conf_high"], rel=REL)
        assert got["df_ttest"] == case["df"]
        if n >= 3:
            assert got["p_ttest"] == pytest.approx(case["p_value"], rel=REL)
            assert got["t_ttest"] == pytest.approx(case["statistic"], rel=REL)
        else:  # small n is shown (with its interval), but gets no p-value
            assert got["p_ttest"] is None and got["t_ttest"] is None


# ----------------------------------------------------------------------------- signed rank


def test_signed_rank_matches_r_for_all_cases_in_one_frame() -> None:
    """The vectorised V / tie / zero bookkeeping over many biomarkers at once."""
    pairing = pairing_from_log2fc({(c["name"], "A"): c["x"] for c in SIGNRANK_CASES})
    arms = summarise_arms(pairing, AnalysisSettings())
    for case in SIGNRANK_CASES:
        got = one_row(arms, biomarker=case["name"])
        assert got["v_wilcoxon"] == case["statistic"], case["name"]
        assert got["p_wilcoxon"] == pytest.approx(case["p_value"], rel=REL), case["name"]
        assert got["exact_wilcoxon"] is case["exact"], case["name"]


def test_q_values_adjust_across_the_biomarkers_of_one_arm() -> None:
    groups = {(c["name"], arm): c["x"] for c in SIGNRANK_CASES[:6] for arm in ("A", "B")}
    groups[("extra", "B")] = [0.5, 1.5, 2.5, 3.5]
    arms = summarise_arms(pairing_from_log2fc(groups), AnalysisSettings(fdr="holm"))
    for arm, size in (("A", 6), ("B", 7)):
        part = arms.filter(pl.col("arm") == arm)
        assert part.height == size
        for p, q in (("p_wilcoxon", "q_wilcoxon"), ("p_ttest", "q_ttest")):
            expected = p_adjust(part[p].to_numpy(), "holm")
            np.testing.assert_allclose(part[q].to_numpy(), expected, rtol=1e-12)
    assert set(arms["fdr_method"]) == {"holm"}


# ----------------------------------------------------------------------------- small n


def test_small_groups_give_null_p_values_not_errors() -> None:
    groups = {
        ("M", "one"): [1.3],
        ("M", "two"): [0.4, 1.9],
        ("M", "three"): [0.8123, -0.2311, 1.4417],
        ("Z", "three"): [0.0, 0.0, 0.0],  # all unchanged: no test possible
    }
    arms = summarise_arms(pairing_from_log2fc(groups), AnalysisSettings())
    for arm in ("one", "two"):
        got = one_row(arms, biomarker="M", arm=arm)
        for column in ("p_wilcoxon", "p_ttest", "q_wilcoxon", "q_ttest"):
            assert got[column] is None, (arm, column)
    assert one_row(arms, arm="one")["gmean_fc_lo"] is None  # no spread from one value
    assert one_row(arms, arm="one")["gmean_fc"] == pytest.approx(2**1.3)
    three = one_row(arms, biomarker="M", arm="three")
    r_case = next(c for c in SIGNRANK_CASES if c["name"] == "n3_no_ties")
    assert three["p_wilcoxon"] == pytest.approx(r_case["p_value"], rel=REL)
    zeros = one_row(arms, biomarker="Z")
    assert zeros["p_wilcoxon"] is None and zeros["p_ttest"] is None
    assert zeros["gmean_fc"] == 1.0
    # nothing is NaN: missing results are nulls
    floats = [c for c, t in arms.schema.items() if t == pl.Float64]
    assert arms.select(pl.col(floats).is_nan().any()).row(0) == (False,) * len(floats)


def test_arm_with_no_pairs_is_listed_with_zero_pairs() -> None:
    pairing = pairing_from_log2fc({("M", "A"): [0.5, 1.0, 1.5]})
    counts = pl.concat(
        [
            pairing.counts,
            pl.DataFrame(
                {
                    "study_id": ["S"],
                    "biomarker": ["M"],
                    "arm": ["B"],
                    "n_pairs": [0],
                    "n_unpaired": [4],
                    "n_imputed": [0],
                    "n_excluded": [0],
                }
            ),
        ],
        how="diagonal_relaxed",
    )
    arms = summarise_arms(Pairing(pairing.fold_changes, counts, "BL", "W4"), AnalysisSettings())
    empty = one_row(arms, arm="B")
    assert (empty["n_pairs"], empty["n_unpaired"]) == (0, 4)
    assert empty["p_wilcoxon"] is None and empty["mean_fc"] is None


# ----------------------------------------------------------------------------- raw values


def raw_measurements(case: dict) -> pl.DataFrame:
    """The measurements of a RAW_CASES entry, as the store returns them."""
    rows = []
    for i, arm in enumerate(case["arm"]):
        for timepoint, ordinal, base, prefix in (("BL", 0, True, "pre"), ("W6", 1, False, "post")):
            rows.append(
                {
                    "study_id": "S",
                    "patient_id": f"p{i:02d}",
                    "arm": arm,
                    "response": "PR",
                    "timepoint": timepoint,
                    "ordinal": ordinal,
                    "is_baseline": base,
                    "biomarker": "M",
                    "value": case[f"{prefix}_value"][i],
                    "below_lloq": case[f"{prefix}_below"][i],
                    "lloq": case["lloq"],
                }
            )
    return pl.DataFrame(rows, schema_overrides={"value": pl.Float64})


@pytest.mark.parametrize("case", RAW_CASES, ids=[c["name"] for c in RAW_CASES])
def test_pipeline_from_raw_values_matches_r(case: dict) -> None:
    """R substitutes LLOQ/2 and the zero pseudocount and takes log2 itself. Equal ratios
    from different values (H-scores 120 -> 60 and 90 -> 45) tie in R exactly when C's log2
    makes them equal, which decides between the exact and the approximate test."""
    settings = AnalysisSettings()
    pairing = pair_samples(raw_measurements(case), settings)
    fc = pairing.fold_changes.sort("patient_id")
    assert fc["pre"].to_list() == pytest.approx(case["pre"], rel=1e-15)
    assert fc["post"].to_list() == pytest.approx(case["post"], rel=1e-15)
    assert fc["fc"].to_list() == pytest.approx(case["fc"], rel=1e-12)
    assert fc["log2fc"].to_list() == pytest.approx(case["log2fc"], rel=1e-12)
    arms = summarise_arms(pairing, settings)
    for arm, expected in case["arms"].items():
        got = one_row(arms, arm=arm)
        for column, value in expected.items():
            assert RAW_ARM_R_CODE[column]
            if isinstance(value, bool):
                assert got[column] is value, (arm, column)
            else:
                assert got[column] == pytest.approx(value, rel=REL), (arm, column)


# ----------------------------------------------------------------------------- sample trial


@pytest.fixture(scope="module")
def sample_arms(sample_db: Path) -> pl.DataFrame:
    con = connect(sample_db, read_only=True)
    try:
        data = load_study(con, STUDY)
    finally:
        con.close()
    return compute(data, AnalysisSettings(), levels=("arm",)).level("arm")


def test_sample_arm_summaries_match_r(sample_arms: pl.DataFrame) -> None:
    assert sample_arms.columns[: len(ARM_COLUMNS)] == list(ARM_COLUMNS)
    assert sample_arms.height == len(ARM_REFERENCE)
    for ref in ARM_REFERENCE:
        got = one_row(sample_arms, biomarker=ref["biomarker"], arm=ref["arm"])
        for column, value in ref.items():
            if column in ("biomarker", "arm") or column.endswith("_holm"):
                continue
            assert column in ARM_R_CODE or column == "exact_wilcoxon"
            if isinstance(value, bool | int):
                assert got[column] == value, (ref["biomarker"], ref["arm"], column)
            else:
                assert got[column] == pytest.approx(value, rel=REL), (ref["biomarker"], column)


def test_sample_cd8_mean_fold_changes_are_the_published_ones(sample_arms: pl.DataFrame) -> None:
    cd8 = dict(sample_arms.filter(pl.col("biomarker") == "CD8").select("arm", "mean_fc").rows())
    assert cd8["Defactinib + Pembrolizumab"] == pytest.approx(5.44, abs=0.005)
    assert cd8["Pembrolizumab"] == pytest.approx(2.01, abs=0.005)
    assert math.isfinite(cd8["Pembrolizumab"])
