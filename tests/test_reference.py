"""The reference arm: an explicit choice, then study metadata, then an arm named as the
control, then the first arm imported; always with its reason."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from trialtui.analysis import AnalysisSettings, choose_reference_arm
from trialtui.analysis.reference import ReferenceArm, is_control_name
from trialtui.errors import UsageError
from trialtui.store.connection import connect
from trialtui.study import compute, load_study

DEFAULT = AnalysisSettings()


@pytest.mark.parametrize(
    ("arms", "expected"),
    [
        (["Drug", "Placebo"], ReferenceArm("Placebo", "name")),
        (["Placebo", "Drug"], ReferenceArm("Placebo", "name")),
        (["A", "B"], ReferenceArm("A", "first imported")),
        (["B", "A"], ReferenceArm("B", "first imported")),
        (["New", "Standard of care"], ReferenceArm("Standard of care", "name")),
        (["Nivolumab + chemo", "SOC chemo"], ReferenceArm("SOC chemo", "name")),
        (["High dose", "vehicle"], ReferenceArm("vehicle", "name")),
        (["Drug", "Best supportive care"], ReferenceArm("Best supportive care", "name")),
        (["Drug", "standard-of-care"], ReferenceArm("standard-of-care", "name")),
        (["Uncontrolled dose", "Socratic"], ReferenceArm("Uncontrolled dose", "first imported")),
        (["Only"], ReferenceArm("Only", "only arm")),
    ],
)
def test_rules(arms: list[str], expected: ReferenceArm) -> None:
    assert choose_reference_arm(arms, DEFAULT) == expected


def test_explicit_choice_and_metadata_come_first() -> None:
    arms = ["Drug", "Placebo", "Control"]
    assert choose_reference_arm(arms, DEFAULT, "Drug") == ReferenceArm("Drug", "study metadata")
    chosen = AnalysisSettings(reference_arm="Control")
    assert choose_reference_arm(arms, chosen, "Drug") == ReferenceArm("Control", "chosen")
    assert choose_reference_arm(arms, DEFAULT) == ReferenceArm("Placebo", "name")
    assert str(choose_reference_arm(arms, DEFAULT)) == "Placebo (name)"


def test_unknown_explicit_arm_is_an_error() -> None:
    with pytest.raises(UsageError, match=r"unknown reference arm 'X' \(arms: Drug, Placebo\)"):
        choose_reference_arm(["Drug", "Placebo"], AnalysisSettings(reference_arm="X"))


def test_whole_words_only() -> None:
    assert is_control_name("PLACEBO")
    assert is_control_name("Placebo + gemcitabine")
    assert not is_control_name("Controlled release")
    assert not is_control_name("Association")


TWO_ARMS = """\
study_id,patient_id,arm,timepoint,is_baseline,biomarker,value
S,P1,{first},pre,true,M,10
S,P1,{first},post,false,M,20
S,P2,{second},pre,true,M,10
S,P2,{second},post,false,M,5
S,P3,{first},pre,true,M,12
S,P3,{first},post,false,M,30
S,P4,{second},pre,true,M,9
S,P4,{second},post,false,M,4
"""


@pytest.mark.parametrize(
    ("first", "second", "reference", "reason"),
    [
        ("Drug", "Placebo", "Placebo", "name"),
        ("B", "A", "B", "first imported"),
        ("New", "Standard of care", "Standard of care", "name"),
    ],
)
def test_imported_study_gets_the_reference_with_its_reason(
    tmp_path: Path,
    write_csv: Callable[..., Path],
    run_cli: Callable[..., subprocess.CompletedProcess],
    first: str,
    second: str,
    reference: str,
    reason: str,
) -> None:
    db = tmp_path / "t.duckdb"
    source = write_csv(TWO_ARMS.format(first=first, second=second))
    assert run_cli("import", source, "--db", db).returncode == 0
    con = connect(db, read_only=True)
    try:
        data = load_study(con, "S")
    finally:
        con.close()
    assert data.arm_names == [first, second]  # the order of the import, not of the alphabet
    results = compute(data, DEFAULT, levels=("comparison",))
    assert (results.reference_arm, results.reference_reason) == (reference, reason)
    assert results.settings_used()["reference_arm_reason"] == reason
    comparison = results.level("comparison")
    assert set(comparison["reference_arm"]) == {reference}
    assert set(comparison["arm"]) == {first if reference == second else second}
    out = run_cli("stats", "--db", db, "--level", "comparison", "--format", "csv")
    assert out.returncode == 0, out.stderr
    assert f",{reference}," in out.stdout.splitlines()[1]
