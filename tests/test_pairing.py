"""Pairing of baseline and on-treatment values: timepoints, unpaired counts, LLOQ, zeros.

The data go through the real importer into a real DuckDB file and are read back with the
same functions the CLI uses (:func:`trialtui.study.load_study`). Expected values are read off
the input table below (or the bundled sample files), never from trialtui's output.
"""

from __future__ import annotations

import csv
import math
import subprocess
from pathlib import Path

import polars as pl
import pytest
from conftest import build_good_db

from trialtui.analysis import AnalysisSettings, pair_samples
from trialtui.errors import UsageError
from trialtui.resources import sample_data_dir
from trialtui.store.connection import connect
from trialtui.study import StudyData, load_study

# Study T1: arms A and B; timepoints BL (baseline), W4, W12; biomarkers M1 (LLOQ 1) and
# M2 (LLOQ 0.5). "-" = no sample at that timepoint (no rows); "<1" = below the LLOQ.
#            M1: BL    W4    W12      M2: BL   W4   W12
PLAN = {
    "a1": ("A", "PR", ("10", "<1", "30"), ("2.0", "4.0", "1.0")),
    "a2": ("A", "SD", ("20", "40", "50"), ("1.6", "0", "0.8")),
    "a3": ("A", "CR", ("5", "-", "15"), ("3.0", "-", "6.0")),
    "a4": ("A", "NE", ("8", "-", "-"), ("2.4", "-", "-")),
    "a5": ("A", "PD", ("12", "24", "6"), ("1.2", "2.4", "3.6")),
    "b1": ("B", "PR", ("<1", "6", "9"), ("4.0", "2.0", "1.0")),
    "b2": ("B", "SD", ("7", "14", "-"), ("0", "1.6", "-")),
    "b3": ("B", "PD", ("9", "3", "27"), ("2.0", "5.0", "2.5")),
}
TIMEPOINTS = (("BL", 0, "true"), ("W4", 28, "false"), ("W12", 84, "false"))
LLOQ = {"M1": 1.0, "M2": 0.5}
SMALLEST_POSITIVE_M2 = 0.8  # the default pseudocount for M2's zeros is half of this


def plan_csv() -> str:
    lines = [
        "study_id,patient_id,arm,timepoint,visit_day,is_baseline,biomarker,lloq,response,value"
    ]
    for patient, (arm, response, m1, m2) in PLAN.items():
        for (tp, day, base), v1, v2 in zip(TIMEPOINTS, m1, m2, strict=True):
            for marker, value in (("M1", v1), ("M2", v2)):
                if value != "-":
                    lines.append(
                        f"T1,{patient},{arm},{tp},{day},{base},{marker},{LLOQ[marker]},"
                        f"{response},{value}"
                    )
    return "\n".join(lines) + "\n"


def raw(patient: str, marker: str, timepoint: str) -> str:
    index = [t[0] for t in TIMEPOINTS].index(timepoint)
    return PLAN[patient][2 if marker == "M1" else 3][index]


@pytest.fixture(scope="module")
def plan_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pairing")
    source = folder / "t1.csv"
    source.write_text(plan_csv(), encoding="utf-8")
    return build_good_db(folder / "t1.duckdb", source)


@pytest.fixture(scope="module")
def plan_data(plan_db: Path) -> StudyData:
    con = connect(plan_db, read_only=True)
    try:
        return load_study(con, None, measurements=True)
    finally:
        con.close()


def pairs(data: StudyData, **settings) -> tuple[pl.DataFrame, pl.DataFrame]:
    pairing = pair_samples(data.measurements, AnalysisSettings(**settings))
    return pairing.fold_changes, pairing.counts


def row(frame: pl.DataFrame, **keys) -> dict:
    hit = frame.filter(*[pl.col(k) == v for k, v in keys.items()])
    assert hit.height == 1, (keys, hit)
    return hit.row(0, named=True)


def count(counts: pl.DataFrame, marker: str, arm: str) -> dict:
    return row(counts, biomarker=marker, arm=arm)


# ----------------------------------------------------------------------------- timepoints


def test_default_pairs_baseline_with_first_timepoint_after_it(plan_data: StudyData) -> None:
    pairing = pair_samples(plan_data.measurements, AnalysisSettings())
    assert (pairing.baseline_timepoint, pairing.timepoint) == ("BL", "W4")
    fc = pairing.fold_changes
    assert set(fc["pre_timepoint"]) == {"BL"} and set(fc["post_timepoint"]) == {"W4"}
    got = row(fc, patient_id="a2", biomarker="M1")
    assert (got["pre"], got["post"]) == (20.0, 40.0)
    assert got["fc"] == 2.0
    assert got["log2fc"] == 1.0
    assert got["arm"] == "A" and got["response"] == "SD"


def test_patient_without_the_on_treatment_sample_is_unpaired_not_paired_elsewhere(
    plan_data: StudyData,
) -> None:
    fc, counts = pairs(plan_data)
    # a3 has BL and W12 but no W4: unpaired at W4, never paired with W12 instead.
    assert fc.filter(pl.col("patient_id") == "a3").is_empty()
    assert fc.filter(pl.col("patient_id") == "a4").is_empty()  # baseline only
    for marker in ("M1", "M2"):
        assert count(counts, marker, "A")["n_pairs"] == 3  # a1, a2, a5
        assert count(counts, marker, "A")["n_unpaired"] == 2  # a3, a4
        assert count(counts, marker, "B")["n_pairs"] == 3
        assert count(counts, marker, "B")["n_unpaired"] == 0
    assert sorted(fc.filter(pl.col("biomarker") == "M1")["patient_id"]) == [
        "a1",
        "a2",
        "a5",
        "b1",
        "b2",
        "b3",
    ]


def test_choosing_a_later_timepoint(plan_data: StudyData) -> None:
    fc, counts = pairs(plan_data, timepoint="W12")
    assert set(fc["post_timepoint"]) == {"W12"}
    got = row(fc, patient_id="a3", biomarker="M1")
    assert (got["pre"], got["post"], got["fc"]) == (5.0, 15.0, 3.0)
    assert row(fc, patient_id="a5", biomarker="M1")["post"] == float(raw("a5", "M1", "W12"))
    assert fc.filter(pl.col("patient_id") == "b2").is_empty()  # no W12 sample
    assert (count(counts, "M1", "A")["n_pairs"], count(counts, "M1", "A")["n_unpaired"]) == (4, 1)
    assert (count(counts, "M1", "B")["n_pairs"], count(counts, "M1", "B")["n_unpaired"]) == (2, 1)


def test_choosing_the_baseline_too(plan_data: StudyData) -> None:
    pairing = pair_samples(
        plan_data.measurements, AnalysisSettings(baseline_timepoint="W4", timepoint="W12")
    )
    assert (pairing.baseline_timepoint, pairing.timepoint) == ("W4", "W12")
    got = row(pairing.fold_changes, patient_id="a2", biomarker="M1")
    assert (got["pre"], got["post"]) == (40.0, 50.0)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"timepoint": "W99"}, "unknown timepoint 'W99' (timepoints: BL, W4, W12)"),
        ({"baseline_timepoint": "D0"}, "unknown baseline timepoint 'D0'"),
        ({"timepoint": "BL"}, "'BL' is the baseline"),
    ],
)
def test_bad_timepoints_are_usage_errors(plan_data: StudyData, settings, message) -> None:
    with pytest.raises(UsageError) as info:
        pair_samples(plan_data.measurements, AnalysisSettings(**settings))
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_no_timepoint_after_the_baseline_is_a_usage_error(plan_data: StudyData) -> None:
    with pytest.raises(UsageError, match="no timepoint after the baseline 'W12'"):
        pair_samples(plan_data.measurements, AnalysisSettings(baseline_timepoint="W12"))


# ----------------------------------------------------------------------------- LLOQ


def test_lloq_half_is_the_default(plan_data: StudyData) -> None:
    fc, counts = pairs(plan_data)
    a1 = row(fc, patient_id="a1", biomarker="M1")
    assert (a1["pre"], a1["post"]) == (10.0, LLOQ["M1"] / 2)
    assert (a1["pre_imputed"], a1["post_imputed"]) == (False, True)
    assert a1["fc"] == 0.05
    b1 = row(fc, patient_id="b1", biomarker="M1")
    assert (b1["pre"], b1["post"]) == (LLOQ["M1"] / 2, 6.0)
    assert (b1["pre_imputed"], b1["post_imputed"]) == (True, False)
    assert count(counts, "M1", "A")["n_imputed"] == 1
    assert count(counts, "M1", "B")["n_imputed"] == 1
    assert count(counts, "M1", "A")["n_excluded"] == 0
    untouched = fc.filter(~pl.col("patient_id").is_in(["a1", "b1"]) & (pl.col("biomarker") == "M1"))
    assert not untouched["pre_imputed"].any() and not untouched["post_imputed"].any()


def test_lloq_policy_lloq(plan_data: StudyData) -> None:
    fc, counts = pairs(plan_data, lloq_policy="lloq")
    assert row(fc, patient_id="a1", biomarker="M1")["post"] == LLOQ["M1"]
    assert row(fc, patient_id="b1", biomarker="M1")["pre"] == LLOQ["M1"]
    assert row(fc, patient_id="a1", biomarker="M1")["post_imputed"] is True
    assert count(counts, "M1", "A")["n_imputed"] == 1
    assert count(counts, "M1", "A")["n_pairs"] == 3


def test_lloq_policy_exclude_drops_the_pair_and_counts_it(plan_data: StudyData) -> None:
    fc, counts = pairs(plan_data, lloq_policy="exclude")
    m1 = fc.filter(pl.col("biomarker") == "M1")
    assert sorted(m1["patient_id"]) == ["a2", "a5", "b2", "b3"]
    assert not m1["pre_imputed"].any() and not m1["post_imputed"].any()
    a, b = count(counts, "M1", "A"), count(counts, "M1", "B")
    assert (a["n_pairs"], a["n_unpaired"], a["n_excluded"], a["n_imputed"]) == (2, 3, 1, 0)
    assert (b["n_pairs"], b["n_unpaired"], b["n_excluded"], b["n_imputed"]) == (2, 1, 1, 0)
    # M2 has no censored value: unchanged (its zeros are still replaced)
    assert count(counts, "M2", "A")["n_pairs"] == 3
    assert count(counts, "M2", "A")["n_excluded"] == 0


@pytest.mark.parametrize("policy", ["half", "lloq", "exclude"])
def test_imputed_counts_match_the_flags_of_the_analysed_pairs(
    plan_data: StudyData, policy: str
) -> None:
    """n_imputed counts the substituted values among the values analysed, for every
    timepoint choice (W12: b2's zero at BL belongs to no pair and must not count)."""
    for timepoint in ("W4", "W12"):
        fc, counts = pairs(plan_data, lloq_policy=policy, timepoint=timepoint)
        flags = fc.group_by("biomarker", "arm").agg(
            (pl.col("pre_imputed").sum() + pl.col("post_imputed").sum()).alias("flags")
        )
        joined = counts.join(flags, on=["biomarker", "arm"], how="left").with_columns(
            pl.col("flags").fill_null(0)
        )
        assert joined["n_imputed"].to_list() == joined["flags"].to_list(), (timepoint, joined)
    _, counts = pairs(plan_data, timepoint="W12")
    assert count(counts, "M2", "B")["n_imputed"] == 0
    assert count(counts, "M1", "B")["n_imputed"] == 1  # b1's BL below LLOQ, paired with W12


# ----------------------------------------------------------------------------- zeros


def test_zero_gets_half_the_smallest_positive_value_by_default(plan_data: StudyData) -> None:
    fc, counts = pairs(plan_data)
    pseudo = SMALLEST_POSITIVE_M2 / 2
    a2 = row(fc, patient_id="a2", biomarker="M2")
    assert (a2["pre"], a2["post"], a2["post_imputed"], a2["pre_imputed"]) == (
        1.6,
        pseudo,
        True,
        False,
    )
    assert a2["fc"] == pytest.approx(pseudo / 1.6, rel=1e-15)
    assert a2["log2fc"] == pytest.approx(math.log2(pseudo) - math.log2(1.6), rel=1e-14)
    b2 = row(fc, patient_id="b2", biomarker="M2")
    assert (b2["pre"], b2["pre_imputed"]) == (pseudo, True)
    assert count(counts, "M2", "A")["n_imputed"] == 1
    assert count(counts, "M2", "B")["n_imputed"] == 1
    assert fc.filter(pl.col("pre").is_in([0.0]) | pl.col("post").is_in([0.0])).is_empty()
    assert fc["log2fc"].is_finite().all()


def test_explicit_pseudocount(plan_data: StudyData) -> None:
    fc, _ = pairs(plan_data, pseudocount=0.01)
    assert row(fc, patient_id="a2", biomarker="M2")["post"] == 0.01
    assert row(fc, patient_id="b2", biomarker="M2")["pre"] == 0.01
    # values below the LLOQ are not zeros: they keep the LLOQ policy
    assert row(fc, patient_id="a1", biomarker="M1")["post"] == LLOQ["M1"] / 2


def test_settings_reject_bad_values() -> None:
    with pytest.raises(ValueError, match="lloq_policy"):
        AnalysisSettings(lloq_policy="zero")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="pseudocount"):
        AnalysisSettings(pseudocount=0)
    with pytest.raises(ValueError, match="fdr"):
        AnalysisSettings(fdr="bonferroni")  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- sample trial


def wide_values(marker: str) -> dict[tuple[str, str], float]:
    """(patient, timepoint) -> value of one biomarker, read from the bundled wide file."""
    path = sample_data_dir() / "pdac_gemcitabine_wide.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        return {(r["patient_id"], r["timepoint"]): float(r[marker]) for r in csv.DictReader(handle)}


@pytest.fixture(scope="module")
def def1(sample_db: Path) -> StudyData:
    con = connect(sample_db, read_only=True)
    try:
        return load_study(con, "PDAC-DEF-1", measurements=True)
    finally:
        con.close()


@pytest.mark.parametrize(
    ("timepoint", "missing", "present"),
    [(None, "DPG-13", "DPG-06"), ("C2D1", "DPG-13", "DPG-06"), ("Surgery", "DPG-06", "DPG-13")],
)
def test_sample_pdac_def_1_timepoints(def1: StudyData, timepoint, missing, present) -> None:
    """DPG-13 has no C2D1 biopsy and DPG-06 no Surgery sample (sample_data/README.md)."""
    pairing = pair_samples(def1.measurements, AnalysisSettings(timepoint=timepoint))
    post = timepoint or "C2D1"
    assert pairing.timepoint == post
    cd8 = pairing.fold_changes.filter(pl.col("biomarker") == "CD8")
    assert missing not in cd8["patient_id"].to_list()
    assert present in cd8["patient_id"].to_list()
    c = row(pairing.counts, biomarker="CD8")
    assert (c["n_pairs"], c["n_unpaired"]) == (13, 1)
    values = wide_values("CD8")
    for r in cd8.iter_rows(named=True):
        assert r["pre"] == values[(r["patient_id"], "Baseline")]
        assert r["post"] == values[(r["patient_id"], post)]


def test_sample_pdac_def_2_unpaired_patients(sample_db: Path) -> None:
    con = connect(sample_db, read_only=True)
    try:
        data = load_study(con, "PDAC-DEF-2", measurements=True)
    finally:
        con.close()
    pairing = pair_samples(data.measurements, AnalysisSettings())
    assert pairing.timepoint == "Surgery"
    assert pairing.counts["n_pairs"].to_list() == [18] * 20
    assert pairing.counts["n_unpaired"].to_list() == [2] * 20
    absent = {"DP-02", "DP-19", "P-04", "P-18"}
    assert absent.isdisjoint(pairing.fold_changes["patient_id"].to_list())


# ----------------------------------------------------------------------------- CLI errors


def assert_usage_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "Traceback" not in output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert result.stdout == ""


def test_cli_unknown_timepoint_and_reference_arm(run_cli, plan_db: Path) -> None:
    common = ("stats", "--db", plan_db, "--format", "csv")
    assert_usage_error(
        run_cli(*common, "--level", "patient", "--timepoint", "W99"),
        "unknown timepoint 'W99'",
        "BL, W4, W12",
    )
    assert_usage_error(
        run_cli(*common, "--level", "comparison", "--reference-arm", "Placebo"),
        "unknown reference arm 'Placebo'",
        "A, B",
    )


def _frame(patients: list[str], biomarkers: list[str], arms: dict[str, str]) -> pl.DataFrame:
    rows = []
    for biomarker in biomarkers:
        for i, patient in enumerate(patients):
            for timepoint, ordinal in (("BL", 0), ("W4", 1)):
                rows.append(
                    {
                        "study_id": "S",
                        "patient_id": patient,
                        "arm": arms[patient],
                        "response": "PR",
                        "timepoint": timepoint,
                        "ordinal": ordinal,
                        "is_baseline": ordinal == 0,
                        "biomarker": biomarker,
                        "value": float(i + 1 + 10 * ordinal),
                        "below_lloq": False,
                        "lloq": 0.1,
                    }
                )
    return pl.DataFrame(rows)


def test_pairs_come_sorted_by_study_biomarker_arm_and_patient_as_strings() -> None:
    # Byte-wise string order, not numeric or case-folded: "P1" < "p10" < "p9"; "B" < "a".
    patients = ["p9", "p10", "P1", "z"]
    arms = {"p9": "a", "p10": "B", "P1": "a", "z": "B"}
    measured = _frame(patients, ["m2", "M10", "m1"], arms).sample(
        fraction=1.0, shuffle=True, seed=3
    )
    pairs = pair_samples(measured, AnalysisSettings()).fold_changes
    expected = [
        (biomarker, arm, patient)
        for biomarker in ["M10", "m1", "m2"]
        for arm in ["B", "a"]
        for patient in sorted(p for p in patients if arms[p] == arm)
    ]
    assert list(zip(pairs["biomarker"], pairs["arm"], pairs["patient_id"], strict=True)) == expected
    # each pair's values come from its own patient (value i + 1 at BL, i + 11 at W4)
    index = {p: i for i, p in enumerate(patients)}
    for row in pairs.iter_rows(named=True):
        i = index[row["patient_id"]]
        assert (row["pre"], row["post"]) == (i + 1.0, i + 11.0)


def test_pairing_without_string_keys_gives_the_same_pairs() -> None:
    # A missing arm (null) cannot be encoded; the pairing then joins on the columns themselves.
    patients = ["p2", "p1", "p3"]
    measured = _frame(patients, ["m1", "m2"], {"p1": "A", "p2": "A", "p3": "B"})
    with_null = measured.with_columns(
        pl.when(pl.col("patient_id") == "p3").then(None).otherwise(pl.col("arm")).alias("arm")
    )
    encoded = pair_samples(measured.filter(pl.col("patient_id") != "p3"), AnalysisSettings())
    plain = pair_samples(with_null, AnalysisSettings())
    assert plain.fold_changes.filter(pl.col("arm").is_not_null()).equals(encoded.fold_changes)
    assert plain.fold_changes["patient_id"].to_list() == ["p1", "p2", "p1", "p2"]
