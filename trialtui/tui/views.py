"""Which result columns the screens show, and their headers."""

from __future__ import annotations

from dataclasses import dataclass

from trialtui.tui.widgets.frame_table import Column

ARM_VIEW = [
    Column("biomarker", "Biomarker"),
    Column("arm", "Arm"),
    Column("n_pairs", "n"),
    Column("n_unpaired", "unp"),
    Column("mean_fc", "Mean FC"),
    Column("gmean_fc", "GM FC"),
    Column("gmean_fc_lo", "lo"),
    Column("gmean_fc_hi", "hi"),
    Column("median_fc", "Median"),
    Column("p_wilcoxon", "p (W)"),
    Column("q_wilcoxon", "q (W)"),
    Column("p_ttest", "p (t)"),
    Column("q_ttest", "q (t)"),
]

COMPARISON_VIEW = [
    Column("biomarker", "Biomarker"),
    Column("arm", "Arm"),
    Column("n", "n"),
    Column("n_reference", "n ref"),
    Column("gmfc_ratio", "GMFC ratio"),
    Column("gmfc_ratio_lo", "lo"),
    Column("gmfc_ratio_hi", "hi"),
    Column("hl_shift", "HL log2"),
    Column("rank_biserial", "r_rb"),
    Column("p_welch", "p (Welch)"),
    Column("q_welch", "q (Welch)"),
    Column("p_mannwhitney", "p (MW)"),
    Column("q_mannwhitney", "q (MW)"),
]

WITHIN_VIEW = [
    Column("biomarker", "Biomarker"),
    Column("arm", "Arm"),
    Column("n_pairs", "n"),
    Column("gmean_fc", "GM FC"),
    Column("gmean_fc_lo", "lo"),
    Column("gmean_fc_hi", "hi"),
    Column("p_ttest", "p (t)"),
    Column("q_ttest", "q (t)"),
    Column("p_wilcoxon", "p (W)"),
    Column("q_wilcoxon", "q (W)"),
]


@dataclass(frozen=True)
class Effect:
    """One between-arm effect estimate the Statistics screen can show, sort and plot."""

    label: str
    estimate: str
    lo: str
    hi: str
    p: str
    q: str
    ratio: bool  # a ratio (plotted and sorted as log2) or already on the log2 scale
    axis: str  # volcano x-axis label
    test: str  # the test giving p and q, for labels


EFFECTS: dict[str, Effect] = {
    "welch": Effect(
        "Welch ratio",
        "gmfc_ratio",
        "gmfc_ratio_lo",
        "gmfc_ratio_hi",
        "p_welch",
        "q_welch",
        ratio=True,
        axis="log2 ratio of geometric mean FC",
        test="Welch",
    ),
    "hl": Effect(
        "HL shift",
        "hl_shift",
        "hl_lo",
        "hl_hi",
        "p_mannwhitney",
        "q_mannwhitney",
        ratio=False,
        axis="Hodges-Lehmann shift of log2 FC",
        test="Mann-Whitney",
    ),
    "ancova": Effect(
        "ANCOVA ratio",
        "ancova_ratio",
        "ancova_lo",
        "ancova_hi",
        "p_ancova",
        "q_ancova",
        ratio=True,
        axis="log2 baseline-adjusted ratio (ANCOVA)",
        test="ANCOVA",
    ),
}


def comparison_view(effect: str) -> list[Column]:
    """The between-arm columns with ``effect``'s estimate, interval, p and q up front."""
    if effect == "welch":
        return COMPARISON_VIEW
    chosen = EFFECTS[effect]
    headers = {"hl": ("HL log2", "p (MW)", "q (MW)"), "ancova": ("ANCOVA", "p (ANC)", "q (ANC)")}
    name, p_header, q_header = headers[effect]
    return [
        *COMPARISON_VIEW[:4],
        Column(chosen.estimate, name),
        Column(chosen.lo, "lo"),
        Column(chosen.hi, "hi"),
        Column(chosen.p, p_header),
        Column(chosen.q, q_header),
        Column("gmfc_ratio", "GMFC ratio"),
        Column("q_welch", "q (Welch)"),
        *([Column("hl_shift", "HL log2")] if effect != "hl" else []),
        Column(
            "q_mannwhitney" if effect != "hl" else "rank_biserial",
            "q (MW)" if effect != "hl" else "r_rb",
        ),
    ]


def without(view: list[Column], *names: str) -> list[Column]:
    """``view`` minus some columns (e.g. the biomarker on a biomarker's own screen)."""
    return [c for c in view if c.name not in names]
