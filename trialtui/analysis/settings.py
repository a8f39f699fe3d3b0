"""The one settings object that drives every analysis."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

from trialtui.choices import FDR_METHODS, LLOQ_POLICIES

LloqPolicy = Literal["half", "lloq", "exclude"]
FdrMethod = Literal["bh", "holm"]


@dataclass(frozen=True)
class AnalysisSettings:
    """How pairs are formed and tests are run.

    Attributes
    ----------
    baseline_timepoint
        Pre-treatment timepoint; None means the study's baseline (``is_baseline``).
    timepoint
        On-treatment timepoint paired with the baseline; None means the first timepoint
        after the baseline. Patients without a sample at this timepoint are unpaired: they
        are never paired with another timepoint instead.
    lloq_policy
        Values below the lower limit of quantification become LLOQ/2 (``"half"``), the LLOQ
        (``"lloq"``), or are left out (``"exclude"``).
    pseudocount
        Replacement for zeros without an LLOQ flag; None means half of the biomarker's
        smallest positive value in the study.
    reference_arm
        Arm every other arm is compared with; None means the arm marked as reference in
        the database, else an arm named as a control, else the first arm imported (see
        :func:`trialtui.analysis.reference.choose_reference_arm`).
    fdr
        Multiplicity adjustment across biomarkers: Benjamini-Hochberg (``"bh"``) or Holm.
    conf_level
        Confidence level of every interval.
    """

    baseline_timepoint: str | None = None
    timepoint: str | None = None
    lloq_policy: LloqPolicy = "half"
    pseudocount: float | None = None
    reference_arm: str | None = None
    fdr: FdrMethod = "bh"
    conf_level: float = 0.95

    def __post_init__(self) -> None:
        if self.lloq_policy not in LLOQ_POLICIES:
            raise ValueError(f"lloq_policy must be one of {', '.join(LLOQ_POLICIES)}")
        if self.fdr not in FDR_METHODS:
            raise ValueError(f"fdr must be one of {', '.join(FDR_METHODS)}")
        if not 0 < self.conf_level < 1:
            raise ValueError("conf_level must lie between 0 and 1")
        if self.pseudocount is not None and not self.pseudocount > 0:
            raise ValueError("pseudocount must be positive")

    def to_dict(self) -> dict[str, Any]:
        """Plain dict, for provenance records."""
        return asdict(self)

    def with_changes(self, **changes: Any) -> AnalysisSettings:
        """A copy with some fields changed."""
        return replace(self, **changes)
