"""Which result columns the screens show, and their headers."""

from __future__ import annotations

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


def without(view: list[Column], *names: str) -> list[Column]:
    """``view`` minus some columns (e.g. the biomarker on a biomarker's own screen)."""
    return [c for c in view if c.name not in names]
