"""Hypothesis properties of the analysis on small random trials built here.

- swapping pre and post negates log2FC (FC becomes 1/FC) and leaves two-sided tests alone;
- scaling all values of a biomarker (and its LLOQ) by a positive constant leaves FC and
  log2FC unchanged, and the per-arm p-values too;
- reordering the rows (patients) changes nothing in any level's output;
- q-values are >= p-values and monotone in p within a family.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal
from scipy.stats import rankdata

from trialtui.analysis import (
    AnalysisSettings,
    compare_arms,
    compare_response,
    correlate_changes,
    p_adjust,
    pair_samples,
    summarise_arms,
)
from trialtui.analysis.common import MIN_N_FOR_P

PROPERTY_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
MARKERS = ("M1", "M2", "M3")
TIMEPOINTS = (("BL", 0, True), ("W4", 1, False))
SCHEMA = {
    "study_id": pl.String,
    "patient_id": pl.String,
    "arm": pl.String,
    "response": pl.String,
    "timepoint": pl.String,
    "ordinal": pl.Int32,
    "is_baseline": pl.Boolean,
    "biomarker": pl.String,
    "value": pl.Float64,
    "below_lloq": pl.Boolean,
    "lloq": pl.Float64,
}
positive = st.floats(min_value=0.01, max_value=1000.0, allow_nan=False, allow_infinity=False)
kinds = st.sampled_from(["value"] * 7 + ["below", "zero", "missing"])


@st.composite
def trials(draw: st.DrawFn, min_patients: int = 1) -> pl.DataFrame:
    """Measurements of a two-arm trial as the store returns them: values, values below
    the LLOQ, zeros and missing samples, 1-3 biomarkers, two timepoints (arm A has at
    least one patient, so that both timepoints exist)."""
    markers = MARKERS[: draw(st.integers(1, 3))]
    lloq = {m: draw(st.sampled_from([0.05, 0.5, 1.0, 2.0])) for m in markers}
    rows = []
    for arm in ("A", "B"):
        for i in range(draw(st.integers(max(min_patients, arm == "A"), 7))):
            response = draw(st.sampled_from(["CR", "PR", "SD", "PD", "NE"]))
            for marker in markers:
                for timepoint, ordinal, baseline in TIMEPOINTS:
                    # the first patient's first biomarker anchors both timepoints
                    anchor = arm == "A" and i == 0 and marker == markers[0]
                    kind = "value" if anchor else draw(kinds)
                    if kind == "missing":
                        continue
                    value = {"value": None, "below": None, "zero": 0.0}[kind]
                    if kind == "value":
                        value = draw(positive)
                    rows.append(
                        ("S", f"{arm}{i:02d}", arm, response, timepoint, ordinal, baseline,
                         marker, value, kind == "below", lloq[marker])
                    )  # fmt: skip
    return pl.DataFrame(rows, schema=SCHEMA, orient="row")


def all_levels(measurements: pl.DataFrame, analysis: AnalysisSettings) -> dict[str, pl.DataFrame]:
    pairing = pair_samples(measurements, analysis)
    return {
        "patient": pairing.fold_changes,
        "counts": pairing.counts,
        "arm": summarise_arms(pairing, analysis),
        "comparison": compare_arms(pairing, analysis, "A"),
        "correlation": correlate_changes(pairing, analysis),
        "response": compare_response(pairing, analysis),
    }


def swap_pre_post(measurements: pl.DataFrame) -> pl.DataFrame:
    """Each BL value becomes the W4 value and the other way round."""
    return measurements.with_columns(
        pl.when(pl.col("timepoint") == "BL").then(pl.lit("W4")).otherwise(pl.lit("BL"))
        .alias("timepoint"),
        (1 - pl.col("ordinal")).alias("ordinal"),
        ~pl.col("is_baseline"),
    )  # fmt: skip


def close(a: float | None, b: float | None, rel: float = 1e-9, abs_: float = 1e-12) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


# ----------------------------------------------------------------------------- swap


@PROPERTY_SETTINGS
@given(trials())
def test_swapping_pre_and_post_negates_log2fc(measurements: pl.DataFrame) -> None:
    analysis = AnalysisSettings()
    before = all_levels(measurements, analysis)
    after = all_levels(swap_pre_post(measurements), analysis)

    keys = ["biomarker", "arm", "patient_id"]
    fc = before["patient"].join(after["patient"], on=keys, suffix="_swapped", how="full")
    assert fc.height == before["patient"].height == after["patient"].height
    assert (fc["pre"] == fc["post_swapped"]).all() and (fc["post"] == fc["pre_swapped"]).all()
    assert (fc["log2fc_swapped"] == -fc["log2fc"]).all()  # exactly: a - b == -(b - a)
    assert (fc["pre_imputed"] == fc["post_imputed_swapped"]).all()
    for f, g in zip(fc["fc"], fc["fc_swapped"], strict=True):
        assert math.isclose(f * g, 1.0, rel_tol=1e-12)
    assert_frame_equal(before["counts"], after["counts"])

    arms = before["arm"].join(after["arm"], on=["biomarker", "arm"], suffix="_s")
    for r in arms.iter_rows(named=True):
        assert r["p_wilcoxon"] == r["p_wilcoxon_s"]  # V -> n(n+1)/2 - V, same two-sided p
        assert close(r["p_ttest"], r["p_ttest_s"], rel=1e-9)
        if r["gmean_fc"] is not None:
            assert math.isclose(r["gmean_fc"] * r["gmean_fc_s"], 1.0, rel_tol=1e-9)
        if r["gmean_fc_lo"] is not None:
            assert math.isclose(r["gmean_fc_lo"] * r["gmean_fc_hi_s"], 1.0, rel_tol=1e-9)
    cmp = before["comparison"].join(after["comparison"], on=["biomarker", "arm"], suffix="_s")
    for r in cmp.iter_rows(named=True):
        assert r["p_mannwhitney"] == r["p_mannwhitney_s"]
        assert close(r["p_welch"], r["p_welch_s"], rel=1e-9)
        assert close(
            r["rank_biserial"], -r["rank_biserial_s"] if r["rank_biserial_s"] is not None else None
        )
    cor = before["correlation"].join(
        after["correlation"], on=["arm", "biomarker_x", "biomarker_y"], suffix="_s"
    )
    for r in cor.iter_rows(named=True):
        assert close(r["spearman_rho"], r["spearman_rho_s"], rel=1e-9)


# ----------------------------------------------------------------------------- scale


def tie_pattern(values: list[float]) -> tuple:
    """What rank tests see: the ranks of the values, of their magnitudes, and the zeros."""
    x = np.asarray(values, dtype=float)
    return (tuple(rankdata(x)), tuple(rankdata(np.abs(x))), tuple(x == 0))


def patterns(fold_changes: pl.DataFrame) -> dict:
    out = {}
    ordered = fold_changes.sort("biomarker", "arm", "patient_id")
    for (marker, arm), part in ordered.group_by("biomarker", "arm", maintain_order=True):
        out[(marker, arm)] = tie_pattern(part["log2fc"].to_list())
    for (marker,), part in ordered.group_by("biomarker", maintain_order=True):
        out[(marker, "pooled")] = tie_pattern(part["log2fc"].to_list())
    return out


@PROPERTY_SETTINGS
@given(
    trials(),
    st.sampled_from(MARKERS),
    st.floats(min_value=1e-3, max_value=1e3).filter(lambda c: c != 1.0),
)
def test_scaling_a_biomarker_leaves_fold_changes_and_p_values(
    measurements: pl.DataFrame, marker: str, factor: float
) -> None:
    analysis = AnalysisSettings()
    scaled = measurements.with_columns(
        pl.when(pl.col("biomarker") == marker)
        .then(pl.col(c) * factor)
        .otherwise(pl.col(c))
        .alias(c)
        for c in ("value", "lloq")
    )
    before = pair_samples(measurements, analysis)
    after = pair_samples(scaled, analysis)
    assert_frame_equal(before.counts, after.counts)
    keys = ["biomarker", "arm", "patient_id"]
    fc = before.fold_changes.join(after.fold_changes, on=keys, suffix="_s", how="full")
    assert fc.height == before.fold_changes.height
    for r in fc.iter_rows(named=True):
        assert math.isclose(r["fc"], r["fc_s"], rel_tol=1e-12)
        assert math.isclose(r["log2fc"], r["log2fc_s"], rel_tol=1e-9, abs_tol=1e-12)
        assert (r["pre_imputed"], r["post_imputed"]) == (r["pre_imputed_s"], r["post_imputed_s"])
        if r["biomarker"] == marker:
            assert math.isclose(r["pre_s"], r["pre"] * factor, rel_tol=1e-12)

    # Rank tests depend on ties between log2FCs; equal ratios from different values tie
    # or not depending on the last bit of log2 (in R as here), so compare p-values where
    # scaling kept the tie pattern.
    assume(patterns(before.fold_changes) == patterns(after.fold_changes))
    arms = summarise_arms(before, analysis).join(
        summarise_arms(after, analysis), on=["biomarker", "arm"], suffix="_s"
    )
    for r in arms.iter_rows(named=True):
        assert r["p_wilcoxon"] == r["p_wilcoxon_s"]
        assert r["exact_wilcoxon"] == r["exact_wilcoxon_s"]
        assert close(r["p_ttest"], r["p_ttest_s"], rel=1e-6, abs_=1e-9)
        assert close(r["mean_fc"], r["mean_fc_s"])
        assert close(r["median_fc"], r["median_fc_s"])
    cmp = compare_arms(before, analysis, "A").join(
        compare_arms(after, analysis, "A"), on=["biomarker", "arm"], suffix="_s"
    )
    for r in cmp.iter_rows(named=True):
        assert r["p_mannwhitney"] == r["p_mannwhitney_s"]
        assert close(r["p_welch"], r["p_welch_s"], rel=1e-6, abs_=1e-9)


# ----------------------------------------------------------------------------- reorder

FAMILIES = (
    ("arm", "p_wilcoxon", "q_wilcoxon"),
    ("arm", "p_ttest", "q_ttest"),
    ("comparison", "p_mannwhitney", "q_mannwhitney"),
    ("comparison", "p_welch", "q_welch"),
    ("correlation", "p", "q"),
    ("response", "p_mannwhitney", "q_mannwhitney"),
)


@PROPERTY_SETTINGS
@given(trials(), st.sampled_from(["bh", "holm"]), st.data())
def test_row_order_changes_nothing(
    measurements: pl.DataFrame, fdr: str, data: st.DataObject
) -> None:
    order = data.draw(st.permutations(list(range(measurements.height))))
    shuffled = measurements[order]
    analysis = AnalysisSettings(fdr=fdr)
    before = all_levels(measurements, analysis)
    after = all_levels(shuffled, analysis)
    for level, frame in before.items():
        assert_frame_equal(frame, after[level], check_exact=False, rel_tol=1e-9, abs_tol=1e-12)

    # On the way: small groups get no p-value (and raise nothing), results hold no NaN,
    # and q-values are monotone within each family of tests.
    arms = before["arm"].filter(pl.col("n_pairs") < MIN_N_FOR_P)
    assert arms["p_wilcoxon"].is_null().all() and arms["p_ttest"].is_null().all()
    cmp = before["comparison"].filter(
        (pl.col("n") < MIN_N_FOR_P) | (pl.col("n_reference") < MIN_N_FOR_P)
    )
    assert cmp["p_mannwhitney"].is_null().all() and cmp["p_welch"].is_null().all()
    assert before["correlation"].filter(pl.col("n") < MIN_N_FOR_P)["p"].is_null().all()
    for frame in before.values():
        floats = [c for c, t in frame.schema.items() if t == pl.Float64]
        assert not any(frame.select(pl.col(floats).is_nan().any()).row(0)) if floats else True
    for level, p, q in FAMILIES:
        for _, part in before[level].group_by("study_id", "arm"):
            assert_monotone_family(
                part[p].cast(pl.Float64).fill_null(np.nan).to_numpy(),
                part[q].cast(pl.Float64).fill_null(np.nan).to_numpy(),
            )


# ----------------------------------------------------------------------------- q-values

p_values = st.lists(
    st.one_of(st.floats(min_value=0.0, max_value=1.0), st.none(), st.sampled_from([0.01, 0.05])),
    max_size=30,
)


def assert_monotone_family(p: np.ndarray, q: np.ndarray) -> None:
    present = ~np.isnan(p)
    assert (np.isnan(q) == ~present).all()
    p, q = p[present], q[present]
    assert (q >= p).all() and (q <= 1.0).all()
    for i in range(len(p)):
        for j in range(len(p)):
            if p[i] < p[j]:
                assert q[i] <= q[j]
            elif p[i] == p[j]:
                assert q[i] == q[j]


@settings(max_examples=50, deadline=None)
@given(p_values, st.sampled_from(["bh", "holm"]))
def test_q_values_are_at_least_p_and_monotone(p: list[float | None], method: str) -> None:
    values = np.array([np.nan if v is None else v for v in p], dtype=float)
    assert_monotone_family(values, p_adjust(p, method))
