"""Pairing read through DuckDB (``load_study``'s raw pairs) equals pairing in Polars.

The store joins each patient's measurements at two timepoints in SQL and returns only
those pairs (:func:`trialtui.store.catalog.raw_pairs`); :func:`trialtui.analysis.pair_samples`
pairs a frame of every measurement. Both must give the same fold-changes and counts, in
the same order, under every LLOQ policy, pseudocount and pair of timepoints: on the
sample trial, on the pairing plan of ``test_pairing`` and on a generated study with
names that sort differently by case and bytes, zeros, values below the LLOQ with their
own LLOQs, missing visits and a patient with two samples at one visit.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from conftest import build_good_db
from polars.testing import assert_frame_equal
from test_pairing import plan_csv

from trialtui.analysis import AnalysisSettings, pair_samples
from trialtui.store.connection import connect
from trialtui.study import load_study, pair_study

POLICIES = ("half", "lloq", "exclude")
PATIENTS = ("P1", "p1", "P10", "P2", "Ä1", "a_3", "Z", "z-9", "Ø", "b")
MARKERS = ("CD8", "cd8", "FAP", "Ki67", "µm-area", "pFAK")
VISITS = (("BL", 0, "true"), ("C1", 14, "false"), ("C3", 42, "false"))


def generated_csv(seed: int, visits: tuple = VISITS) -> str:
    rng = np.random.default_rng(seed)
    lines = [
        "study_id,patient_id,arm,sample_id,timepoint,visit_day,is_baseline,biomarker,lloq,"
        "response,value"
    ]
    for i, patient in enumerate(PATIENTS):
        arm = ("Drug", "control", "Ctl 2")[i % 3]
        response = ("PR", "SD", "PD", "CR")[i % 4]
        for tp, day, base in visits:
            if rng.random() < 0.15:
                continue  # the visit was missed
            for sample in (f"{patient}-{tp}",):
                for marker in MARKERS:
                    draw = rng.random()
                    if draw < 0.1:
                        continue  # not measured
                    lloq = "" if draw < 0.3 else f"{rng.choice([0.5, 1, 2])}"
                    if draw < 0.2:
                        value = "0"
                    elif lloq and draw < 0.4:
                        value = f"<{lloq}"
                    else:
                        value = f"{rng.lognormal(2, 1):.3f}"
                    lines.append(
                        f"G,{patient},{arm},{sample},{tp},{day},{base},{marker},{lloq},"
                        f"{response},{value}"
                    )
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def databases(tmp_path_factory: pytest.TempPathFactory, sample_db: Path) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("pairing_store")
    built = {"sample": sample_db}
    for name, text in (
        ("plan", plan_csv()),
        ("generated", generated_csv(7)),
        ("two_visits", generated_csv(11, VISITS[:2])),
    ):
        source = folder / f"{name}.csv"
        source.write_text(text, encoding="utf-8")
        built[name] = build_good_db(folder / f"{name}.duckdb", source)
    return built


def studies(con) -> list[str]:
    return [r[0] for r in con.execute("SELECT study_id FROM studies ORDER BY 1").fetchall()]


def cases(con, study: str):
    """(baseline, timepoint) for every ordered pair of measured timepoints."""
    points = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT s.timepoint FROM samples s JOIN measurements m "
            "USING (study_id, sample_id) WHERE s.study_id = ? ORDER BY 1",
            [study],
        ).fetchall()
    ]
    return [(b, t) for b, t in itertools.permutations(points, 2)]


@pytest.mark.parametrize("name", ["sample", "plan", "generated", "two_visits"])
def test_store_pairing_equals_polars_pairing(databases: dict[str, Path], name: str) -> None:
    con = connect(databases[name], read_only=True)
    try:
        compared = 0
        for study in studies(con):
            full = load_study(con, study, measurements=True)
            for baseline, timepoint in cases(con, study):
                data = load_study(con, study, baseline=baseline)
                assert data.measurements is None
                for policy, pseudo in itertools.product(POLICIES, (None, 0.25)):
                    settings = AnalysisSettings(
                        baseline_timepoint=baseline,
                        timepoint=timepoint,
                        lloq_policy=policy,
                        pseudocount=pseudo,
                    )
                    expected = pair_samples(full.measurements, settings)
                    got = pair_study(data, settings)
                    assert_frame_equal(got.fold_changes, expected.fold_changes)
                    assert_frame_equal(got.counts, expected.counts)
                    compared += expected.fold_changes.height
    finally:
        con.close()
    assert compared > 0


def test_generated_study_exercises_every_case(databases: dict[str, Path]) -> None:
    """The generated study holds what the comparison above must survive."""
    con = connect(databases["generated"], read_only=True)
    try:
        data = load_study(con, "G", measurements=True)
    finally:
        con.close()
    m = data.measurements
    assert m.filter(pl.col("value") == 0).height > 0
    assert m.filter(pl.col("below_lloq")).height > 0
    assert m["lloq"].n_unique() > 2
    missed = m.group_by("patient_id").agg(pl.col("timepoint").n_unique())
    assert missed["timepoint"].min() < len(VISITS)
    assert set(m["patient_id"].unique().to_list()) == set(PATIENTS)


def test_pairs_sorted_by_biomarker_arm_patient_bytewise(databases: dict[str, Path]) -> None:
    con = connect(databases["generated"], read_only=True)
    try:
        data = load_study(con, "G")
    finally:
        con.close()
    seen: set[str] = set()
    for raw in data.raw_pairs.values():
        assert not any(t == pl.String for t in raw.rows.dtypes)  # names only in the lookups
        named = raw.labelled()
        keys = named.select("biomarker", "arm", "patient_id").rows()
        as_bytes = [tuple(part.encode() for part in key) for key in keys]
        assert as_bytes == sorted(as_bytes)
        seen |= set(named["patient_id"].to_list())
    assert len(data.raw_pairs) == 2
    assert len({"Ä1", "p1", "P1", "Ø", "Z", "z-9", "b"} & seen) >= 5


def test_study_read_for_another_baseline_says_so(databases: dict[str, Path]) -> None:
    con = connect(databases["plan"], read_only=True)
    try:
        data = load_study(con, None)
    finally:
        con.close()
    with pytest.raises(Exception, match="read for baseline 'BL', not 'W4'"):
        pair_study(data, AnalysisSettings(baseline_timepoint="W4", timepoint="W12"))


@pytest.mark.parametrize("name", ["plan", "generated", "two_visits", "sample"])
def test_paired_completeness_counts_patients_from_the_measurements(
    databases: dict[str, Path], name: str
) -> None:
    """``catalog.completeness`` against counts made here from every measurement."""
    from trialtui.store import catalog

    con = connect(databases[name], read_only=True)
    try:
        study = studies(con)[0]
        data = load_study(con, study, measurements=True)
        got = catalog.completeness(con, study)
    finally:
        con.close()
    m = data.measurements
    points = data.measured_timepoints.sort("ordinal")["timepoint"].to_list()
    pre, post = points[0], points[1]
    seen = m.group_by("biomarker", "arm", "patient_id").agg(
        (pl.col("timepoint") == pre).any().alias("has_pre"),
        (pl.col("timepoint") == post).any().alias("has_post"),
    )
    counted = seen.group_by("biomarker", "arm").agg(
        pl.col("has_pre").sum().cast(pl.Int64).alias("n_baseline"),
        pl.col("has_post").sum().cast(pl.Int64).alias("n_on_treatment"),
        (pl.col("has_pre") & pl.col("has_post")).sum().cast(pl.Int64).alias("n_paired"),
    )
    arm_sizes = data.patients.group_by("arm").agg(pl.len().cast(pl.Int64).alias("n_patients"))
    grid = (
        m.select("biomarker")
        .unique()
        .join(arm_sizes, how="cross")
        .join(counted, on=["biomarker", "arm"], how="left")
        .with_columns(pl.col("n_baseline", "n_on_treatment", "n_paired").fill_null(0))
        .sort("biomarker", "arm")
    )
    assert got.select("post_timepoint").unique()["post_timepoint"].to_list() == [post]
    columns = ["biomarker", "arm", "n_patients", "n_baseline", "n_on_treatment", "n_paired"]
    assert got.select(columns).rows() == grid.select(columns).rows()
    assert (grid["n_paired"] < grid["n_patients"]).any()
    # load_study derives the same table from the pairs it read, when they are the default
    assert_frame_equal(data.completeness, got)


@pytest.mark.parametrize("case", ["dense", "repeated", "sparse"])
def test_pair_order_by_counting_equals_sorting(case: str) -> None:
    """The order of pairs by (biomarker, patient) rank, found by placing each key (dense
    keys met once) or by sorting (keys met twice, or spread too thin to place)."""
    from trialtui.store.catalog import _order_by_key

    rng = np.random.default_rng(3)
    size = 40 if case != "sparse" else 10**7
    major = rng.integers(0, 30, 500)
    minor = rng.integers(0, size, 500)
    if case == "dense":
        keys = rng.permutation(30 * size)[:500]
        major, minor = keys // size, keys % size
    order, once = _order_by_key(major, minor, size)
    expected = np.lexsort((minor, major))
    assert np.array_equal(major[order], major[expected])
    assert np.array_equal(minor[order], minor[expected])
    distinct = len(set(zip(major.tolist(), minor.tolist(), strict=True)))
    assert once == (distinct == len(major))
    assert (case == "repeated") == (not once)


def test_two_timepoint_context_equals_the_every_measurement_query(
    databases: dict[str, Path],
) -> None:
    """A study of two timepoints counts its context from the joined rows (in NumPy); the
    SQL over every measurement, used for studies of more timepoints, must agree row by
    row: patients, values below LLOQ, smallest value above zero, patients measured at
    each timepoint and at both (zeros, LLOQs and missing visits in this study)."""
    from trialtui.store import catalog

    con = connect(databases["two_visits"], read_only=True)
    try:
        study = studies(con)[0]
        (baseline, timepoint), *_ = cases(con, study)
        for pre, post in ((baseline, timepoint), (timepoint, baseline)):
            *_, got = catalog.raw_pairs(con, study, pre, post)
            expected = catalog._context_of_every_timepoint(
                con, {"study": study, "pre": pre, "post": post}
            )
            order = ["biomarker", "arm"]
            assert_frame_equal(got.sort(order), expected.sort(order), check_dtypes=False)
            assert got.height == expected.height > 0
            assert got.select(order).rows() == sorted(got.select(order).rows())
            assert got["smallest_positive"].null_count() < got.height
            assert (got["n_below_window"] > 0).any()
            assert (got["n_at_both"] < got["n_patients"]).any()
    finally:
        con.close()
