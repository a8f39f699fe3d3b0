"""Correlation of changes with missing values against R, pair by pair.

tests/data/correlation_missing_*.csv come from tests/r/make_correlation_reference.R: three
studies whose biomarkers miss values the ways trials do (whole patients: columns sharing a
pattern, ranked as blocks; single values: a pattern per column, ranked pair by pair;
both), with ties, constant columns and pairs of fewer than three patients. R ranks every
pair on the rows both biomarkers have (``cor(use = "pairwise.complete.obs")``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from conftest import loaded_modules
from scipy import stats

from trialtui.analysis import AnalysisSettings, Pairing, correlate_changes, correlation
from trialtui.analysis.correlation import (
    MAX_BLOCKS,
    MIN_BLOCK,
    POOLED,
    spearman_matrix,
)
from trialtui.store.connection import connect
from trialtui.study import compute, load_study, with_levels

DATA = Path(__file__).parent / "data"
KEYS = ["study_id", "arm", "biomarker_x", "biomarker_y"]


def pairing_from(frame: pl.DataFrame) -> Pairing:
    frame = frame.with_columns(
        (2.0 ** pl.col("log2fc")).alias("fc"), pl.lit("PR").alias("response")
    )
    counts = frame.group_by("study_id", "biomarker", "arm").agg(pl.len().alias("n_pairs"))
    return Pairing(frame, counts, "BL", "W4")


@pytest.fixture(scope="module")
def reference() -> pl.DataFrame:
    return pl.read_csv(DATA / "correlation_missing_reference.csv", infer_schema_length=None)


@pytest.fixture(scope="module", params=["default", "compiled", "blocks"])
def ours(request: pytest.FixtureRequest) -> pl.DataFrame:
    """Our frame as the defaults route each study, with every column outside the larger
    blocks through the compiled loop, and with every pattern a block."""
    data = pl.read_csv(DATA / "correlation_missing_input.csv")
    only = {"default": correlation.BLOCK_PAIRS_ONLY, "compiled": 0, "blocks": 10**9}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(correlation, "BLOCK_PAIRS_ONLY", only[request.param])
        return correlate_changes(pairing_from(data), AnalysisSettings())


def test_the_studies_miss_values_every_way(reference: pl.DataFrame) -> None:
    """The reference holds what the paths must get right: undefined rho, n below 3,
    and pairs ranked on fewer rows than either biomarker has."""
    data = pl.read_csv(DATA / "correlation_missing_input.csv")
    per_column = data.group_by("study_id", "biomarker").agg(pl.col("patient_id").sort())
    for study in ("blocks", "scattered", "mixed"):
        patterns = per_column.filter(pl.col("study_id") == study)["patient_id"].to_list()
        distinct = {tuple(p) for p in patterns}
        assert 2 < len(distinct) < len(patterns) or study == "scattered", study
    assert reference["spearman_rho"].null_count() > 0
    assert (reference["n"] < 3).any()
    assert reference.filter(pl.col("arm") == POOLED).height > 0


def test_every_pair_matches_r(reference: pl.DataFrame, ours: pl.DataFrame) -> None:
    joined = reference.join(ours, on=KEYS, how="left", suffix="_ours")
    assert joined["n_ours"].null_count() == 0  # every R pair is in our frame
    assert (joined["n"] == joined["n_ours"]).all()
    for row in joined.iter_rows(named=True):
        where = f"{row['study_id']} {row['arm']} {row['biomarker_x']}-{row['biomarker_y']}"
        for column, rel in (("spearman_rho", 1e-12), ("p", 1e-10), ("q", 1e-10)):
            expected, got = row[column], row[f"{column}_ours"]
            if expected is None:
                assert got is None, (where, column, got)
            else:
                assert got == pytest.approx(expected, rel=rel, abs=1e-14), (where, column)


def test_pairs_r_leaves_out_have_no_correlation(
    reference: pl.DataFrame, ours: pl.DataFrame
) -> None:
    """R has no value for a pair without shared patients (cor() stops) nor, pooled, for a
    biomarker constant within every arm (lm leaves rounding residuals): we give none."""
    extra = ours.join(reference, on=KEYS, how="anti")
    per_arm = extra.filter(pl.col("arm") != POOLED)
    assert (per_arm["n"] == 0).all()
    pooled = extra.filter(pl.col("arm") == POOLED)
    assert pooled.height > 0  # the constant B05 of "blocks"
    assert pooled["spearman_rho"].null_count() == pooled.height
    assert pooled["p"].null_count() == pooled.height


def test_rows_come_sorted(ours: pl.DataFrame) -> None:
    assert ours.equals(ours.sort(KEYS))


def pairwise_reference(matrix: np.ndarray, groups: np.ndarray | None) -> np.ndarray:
    """Each pair ranked on its shared rows with SciPy, the arm's mean rank removed."""
    k = matrix.shape[1]
    out = np.full((k, k), np.nan)
    for i in range(k):
        for j in range(i, k):
            ok = ~np.isnan(matrix[:, i]) & ~np.isnan(matrix[:, j])
            rx = stats.rankdata(matrix[ok, i])
            ry = stats.rankdata(matrix[ok, j])
            if groups is not None:
                for g in np.unique(groups[ok]):
                    at = groups[ok] == g
                    rx[at] -= rx[at].mean()
                    ry[at] -= ry[at].mean()
            if ok.sum() > 2 and rx.std() > 0 and ry.std() > 0:
                out[i, j] = out[j, i] = np.corrcoef(rx, ry)[0, 1]
    return out


@pytest.mark.parametrize("arms", [None, 3], ids=["one-arm", "arm-adjusted"])
def test_more_blocks_than_are_paired_as_blocks(arms: int | None) -> None:
    """Beyond MAX_BLOCKS blocks the smaller ones go through the compiled loop: blocks
    against blocks, columns against blocks and columns against columns agree with SciPy."""
    rng = np.random.default_rng(5)
    n, blocks = 30, MAX_BLOCKS + 4
    matrix = rng.integers(0, 8, size=(n, MIN_BLOCK * blocks + 3)).astype(float)  # ties
    for b in range(blocks):
        rows = rng.choice(n, size=1 + b % 3, replace=False)
        matrix[np.ix_(rows, range(MIN_BLOCK * b, MIN_BLOCK * (b + 1)))] = np.nan
    matrix[rng.integers(0, n), -2] = np.nan  # two columns of their own
    matrix[rng.integers(0, n), -1] = np.nan
    groups = None if arms is None else rng.integers(0, arms, size=n)
    rho, count, n_groups = spearman_matrix(matrix, groups)
    expected = pairwise_reference(matrix, groups)
    present = (~np.isnan(matrix)).astype(int)
    np.testing.assert_array_equal(count, present.T @ present)
    defined = ~np.isnan(expected)
    assert defined.mean() > 0.9
    np.testing.assert_array_equal(np.isnan(rho[defined]), False)
    np.testing.assert_allclose(rho[defined], expected[defined], rtol=1e-12, atol=1e-14)
    if groups is not None:
        assert (n_groups[~np.eye(len(rho), dtype=bool)] == arms).all()


@pytest.mark.parametrize("arms", [None, 2, 3], ids=["one-arm", "two-arms", "three-arms"])
def test_compiled_loop_over_many_patients_matches_scipy(arms: int | None) -> None:
    """Thousands of patients with values missing one at a time (a pattern per column: the
    compiled loop ranks every pair, its columns shared between threads), ties in some
    columns, a constant column and, with arms, one constant within each arm."""
    rng = np.random.default_rng(17)
    n, k = 2_000, 30
    matrix = rng.normal(size=(n, k))
    matrix[:, ::4] = np.round(matrix[:, ::4], 1)  # ties
    matrix[:, 5] = 2.0
    groups = None if arms is None else rng.integers(0, arms, size=n)
    if groups is not None:
        matrix[:, 6] = groups
    matrix[rng.random(matrix.shape) < 0.03] = np.nan
    rho, count, n_groups = spearman_matrix(matrix, groups, block_pairs_only=0)
    expected = pairwise_reference(matrix, groups)
    present = (~np.isnan(matrix)).astype(int)
    np.testing.assert_array_equal(count, present.T @ present)
    assert np.isnan(rho[5]).all()  # constant: no correlation
    if groups is not None:
        assert np.isnan(rho[6]).all()  # nothing left once each arm's mean is removed
        assert (n_groups == arms).all()
    assert (~np.isnan(expected)).sum() > 0.8 * k * k
    np.testing.assert_allclose(rho, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("arms", [None, 2, 4], ids=["one-arm", "two-arms", "four-arms"])
def test_compiled_loop_and_blocks_agree(arms: int | None) -> None:
    """The two ways to rank pairs give the same rho, n and groups on every pattern: blocks
    of columns missing the same patients, values missing one at a time, heavy ties,
    columns with fewer than three values or none, and arms missing from a pair's rows."""
    rng = np.random.default_rng(23)
    n, k = 120, 40
    matrix = rng.integers(0, 9, size=(n, k)).astype(float)
    matrix[:, 1::3] = rng.normal(size=(n, len(range(1, k, 3))))
    matrix[rng.random(matrix.shape) < 0.15] = np.nan
    matrix[rng.choice(n, 30, replace=False)[:, None], np.arange(8)[None, :]] = np.nan  # a block
    matrix[:, 9] = np.nan
    matrix[:2, 9] = [1.0, 2.0]  # two values
    matrix[:, 10] = np.nan  # none
    groups = None if arms is None else np.repeat(np.arange(arms), n // arms)
    if groups is not None:
        matrix[groups == 0, 11] = np.nan  # a column the first arm lacks
    compiled = spearman_matrix(matrix, groups, block_pairs_only=0)
    blocks = spearman_matrix(matrix, groups, block_pairs_only=10**9)
    for ours, theirs in zip(compiled, blocks, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-13, atol=1e-15)
    assert np.isnan(compiled[0][10]).all() and (compiled[1][10] == 0).all()
    assert np.isnan(compiled[0]).mean() < 0.1


def test_numba_is_loaded_only_for_many_missingness_patterns() -> None:
    """A study whose biomarkers miss a few patients the same way (every pattern a block)
    never pays for loading the compiled loop; values missing one at a time do."""
    setup = (
        "import numpy as np; from trialtui.analysis.correlation import spearman_matrix; "
        "rng = np.random.default_rng(1); m = rng.normal(size=(60, 40)); "
    )
    few = loaded_modules(setup + "m[::7, :] = np.nan; m[3, :20] = np.nan; spearman_matrix(m)")
    assert "trialtui.analysis.correlation" in few
    assert "numba" not in few and "trialtui.analysis.rankpairs" not in few
    many = loaded_modules(setup + "m[rng.random(m.shape) < 0.1] = np.nan; spearman_matrix(m)")
    assert "trialtui.analysis.rankpairs" in many


def test_progress_follows_the_work_to_the_end() -> None:
    """Correlations tell their progress: rising, from the compiled loop's threads within
    each set of pairs (not only between the two arms and the pooled set), ending at 1; the
    frame is the one computed without progress."""
    rng = np.random.default_rng(41)
    rows = [
        {
            "study_id": "S",
            "arm": arm,
            "patient_id": f"{arm}{p}",
            "biomarker": f"B{b:02d}",
            "log2fc": float(rng.normal()),
        }
        for arm in ("A", "B")
        for p in range(30)
        for b in range(40)
        if rng.random() > 0.05  # values missing one at a time: the compiled loop
    ]
    pairing = pairing_from(pl.DataFrame(rows))
    told: list[float] = []
    frame = correlate_changes(pairing, AnalysisSettings(), told.append)
    assert frame.equals(correlate_changes(pairing, AnalysisSettings()))
    assert told == sorted(told) and told[-1] == 1.0 and told[0] >= 0
    between_sets = 3  # arm A, arm B, pooled
    assert len(told) > 2 * between_sets
    assert any(0.0 < f < 0.2 for f in told)  # within arm A's share (~1/4 of the work)


def test_the_app_path_tells_correlation_progress_within_its_step(sample_db: Path) -> None:
    """Adding the correlation level to results (as the Correlations screen asks for it)
    moves the progress bar within the step, between 0.1 and 1, before saying done."""
    con = connect(sample_db, read_only=True)
    try:
        data = load_study(con, "PDAC-DEF-2")
    finally:
        con.close()
    results = compute(data, AnalysisSettings(), levels=("patient",))
    said: list[tuple[str, float]] = []
    extended = with_levels(results, ("correlation",), progress=lambda t, f: said.append((t, f)))
    steps = [f for text, f in said if text == "computing correlation results"]
    assert steps == sorted(steps) and steps[0] == pytest.approx(0.1) and steps[-1] == 1.0
    assert len(set(steps)) >= 3  # the two arms and the pooled set
    assert said[-1] == ("done", 1.0)
    assert extended.level("correlation").height > 0


def test_more_rows_than_the_loop_sums_exactly_are_refused(monkeypatch) -> None:
    """Past MAX_ROWS rows the loop's 64-bit sums could wrap: an error, not a wrong rho."""
    from trialtui.analysis import rankpairs

    rng = np.random.default_rng(2)
    matrix = rng.normal(size=(40, 6))
    matrix[rng.random(matrix.shape) < 0.2] = np.nan
    monkeypatch.setattr(rankpairs, "MAX_ROWS", 39)
    with pytest.raises(ValueError, match="40 rows, more than 39"):
        spearman_matrix(matrix, block_pairs_only=0)
    monkeypatch.setattr(rankpairs, "MAX_ROWS", 40)
    rho, _, _ = spearman_matrix(matrix, block_pairs_only=0)
    assert np.isfinite(rho).all()


def test_two_arms_summed_in_the_pass_equal_the_pass_over_each_arm() -> None:
    """Two arms take the loop's shortcut (each arm's rank sums counted during the second
    pass); the same arms labelled 0 and 2, with an empty arm 1 between them, take the
    general pass over each arm's rows. The results are the same to the bit: ties across
    the arms' seam, a column one arm lacks, values missing one at a time."""
    from trialtui.analysis.rankpairs import rank_pairs

    rng = np.random.default_rng(31)
    n, k = 300, 14
    values = rng.integers(0, 7, size=(k, n)).astype(float)  # ties everywhere
    values[1::2] = rng.normal(size=(k // 2, n))
    values[rng.random(values.shape) < 0.1] = np.nan
    values[3, :150] = np.nan  # the first arm lacks this one
    codes = np.repeat([0, 1], n // 2)  # rows sorted by arm, as the loop wants them
    order, ties = correlation._sorted_rows(values)
    at = ties.position == ties.start
    runs = np.column_stack([ties.row[at], ties.start[at], ties.end[at]])

    def run(group: np.ndarray) -> tuple[np.ndarray, ...]:
        rho = np.full((k, k), np.nan)
        count = np.zeros((k, k), dtype=np.int64)
        seen = np.ones((k, k), dtype=np.int64)
        rank_pairs(values, order, runs, group, np.arange(k), k, rho, count, seen, 2)
        return rho, count, seen

    shortcut = run(codes)
    general = run(codes * 2)
    for ours, theirs in zip(shortcut, general, strict=True):
        np.testing.assert_array_equal(ours, theirs)
    assert np.isfinite(shortcut[0]).mean() > 0.9 and (shortcut[2] == 2).sum() > k * (k - 2)


def test_compiled_row_order_is_numpys_stable_argsort() -> None:
    """The compiled loop's rows are sorted by a radix sort of their bit patterns: the same
    order as NumPy's stable argsort and the same values in it, bit for bit, for NaN of
    either sign and any payload, -0.0 beside 0.0, infinities, subnormals, extremes, ties,
    rows of no value or one, on one thread and on two."""
    from trialtui.analysis.rankpairs import argsort_rows

    rng = np.random.default_rng(17)
    payload_nan = np.array([0x7FF8000000000001, 0xFFF0000000000002], dtype=np.uint64)
    specials = np.r_[
        np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, 5e-324, -5e-324, 1.0, -1.0,
        np.finfo(float).max, -np.finfo(float).max, payload_nan.view(np.float64),
    ]  # fmt: skip
    for trial in range(400):
        width, n = int(rng.integers(1, 6)), int(rng.integers(0, 300))
        if trial % 2:
            values = rng.normal(size=(width, n)) * 10.0 ** float(rng.integers(-300, 300))
        else:
            values = rng.integers(-3, 4, size=(width, n)).astype(float)  # ties everywhere
        special = rng.random((width, n)) < rng.random() * 0.5
        values[special] = rng.choice(specials, size=int(special.sum()))
        order, ordered = argsort_rows(values, 1 + trial % 2)
        expected = np.argsort(values, axis=1, kind="stable")
        np.testing.assert_array_equal(order, expected, err_msg=str(trial))
        sorted_bits = np.take_along_axis(values, expected, axis=1).view(np.uint64)
        np.testing.assert_array_equal(ordered.view(np.uint64), sorted_bits)
