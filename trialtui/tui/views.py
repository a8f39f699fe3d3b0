"""Which result columns the screens show, their headers, and the effects a table can lead with."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rich.text import Text

from trialtui.tui.widgets.frame_table import Column


def name_options(names: Iterable[str]) -> list[tuple[Text, str]]:
    """Options of a Select choosing among ``names`` (studies, arms, timepoints), each shown
    as it is: a plain string would be read as markup (an arm "Arm [i] x" shown "Arm  x")."""
    return [(Text(name), name) for name in names]


def ci_label(conf_level: float) -> str:
    """``95% CI`` for 0.95 (``97.5% CI`` for 0.975)."""
    return f"{100 * conf_level:g}% CI"


@dataclass(frozen=True)
class Effect:
    """One way of stating a difference: an estimate with its interval, and its test.

    The Statistics screen leads with one effect (``e`` switches); adding an effect is one
    entry in :data:`COMPARISON_EFFECTS` or :data:`WITHIN_EFFECTS`.
    """

    name: str  # the test, as in "q (Welch)"
    label: str  # the estimate, as in "GMFC ratio"
    estimate: str
    lo: str
    hi: str
    p: str
    q: str
    interval: str = "CI"  # "CI" (at the confidence level) or e.g. "IQR"
    log_scale: bool = True  # estimate is a ratio: |log2| orders it by size

    def columns(self, conf_level: float) -> list[Column]:
        """Effect (with interval), q and p columns, labelled with the test."""
        interval = ci_label(conf_level) if self.interval == "CI" else self.interval
        return [
            Column(self.estimate, f"{self.label} ({interval})", ci=(self.lo, self.hi)),
            Column(self.q, f"q ({self.name})"),
            Column(self.p, f"p ({self.name})"),
        ]


COMPARISON_EFFECTS = {
    "Welch": Effect(
        "Welch", "GMFC ratio", "gmfc_ratio", "gmfc_ratio_lo", "gmfc_ratio_hi", "p_welch", "q_welch"
    ),
    "MW": Effect(
        "MW",
        "HL shift log2",
        "hl_shift",
        "hl_lo",
        "hl_hi",
        "p_mannwhitney",
        "q_mannwhitney",
        log_scale=False,
    ),
    # baseline-adjusted: lm(log2 post ~ log2 pre + arm), 2^arm coefficient
    "ANCOVA": Effect(
        "ANCOVA", "ANCOVA ratio", "ancova_ratio", "ancova_lo", "ancova_hi", "p_ancova", "q_ancova"
    ),
}

WITHIN_EFFECTS = {
    "t": Effect("t", "GM FC", "gmean_fc", "gmean_fc_lo", "gmean_fc_hi", "p_ttest", "q_ttest"),
    "W": Effect(
        "W",
        "Median FC",
        "median_fc",
        "fc_q1",
        "fc_q3",
        "p_wilcoxon",
        "q_wilcoxon",
        interval="IQR",
    ),
}


def effect_view(effects: dict[str, Effect], lead: str, conf_level: float) -> list[Column]:
    """Key columns, the ``lead`` effect, then the other effects and counts."""
    first = effects[lead]
    columns = [Column("biomarker", "Biomarker"), Column("arm", "Arm"), *first.columns(conf_level)]
    counts = (
        [Column("n", "n"), Column("n_reference", "n ref")]
        if lead in COMPARISON_EFFECTS and effects is COMPARISON_EFFECTS
        else [Column("n_pairs", "n")]
    )
    columns += counts
    for name, effect in effects.items():
        if name != lead:
            columns += effect.columns(conf_level)
    if effects is COMPARISON_EFFECTS:
        columns.append(Column("rank_biserial", "r (rank-biserial)"))
    return columns


def arm_view(conf_level: float = 0.95) -> list[Column]:
    """Per-arm summary of every biomarker."""
    ci = ci_label(conf_level)
    return [
        Column("biomarker", "Biomarker"),
        Column("arm", "Arm"),
        Column("n_pairs", "n"),
        Column("gmean_fc", f"GM FC ({ci})", ci=("gmean_fc_lo", "gmean_fc_hi")),
        Column("q_wilcoxon", "q (W)"),
        Column("p_wilcoxon", "p (W)"),
        Column("q_ttest", "q (t)"),
        Column("p_ttest", "p (t)"),
        Column("mean_fc", "Mean FC"),
        Column("median_fc", "Median FC (IQR)", ci=("fc_q1", "fc_q3")),
        Column("n_unpaired", "unpaired"),
    ]


def comparison_view(conf_level: float = 0.95) -> list[Column]:
    """Between-arm comparison led by the Welch ratio of geometric mean FCs."""
    return effect_view(COMPARISON_EFFECTS, "Welch", conf_level)


ARM_VIEW = arm_view()
COMPARISON_VIEW = comparison_view()
WITHIN_VIEW = effect_view(WITHIN_EFFECTS, "t", 0.95)


def without(view: list[Column], *names: str) -> list[Column]:
    """``view`` minus some columns (e.g. the biomarker on a biomarker's own screen)."""
    return [c for c in view if c.name not in names]
