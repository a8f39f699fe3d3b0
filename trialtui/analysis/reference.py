"""Which arm the others are compared with, and why."""

from __future__ import annotations

import re
from dataclasses import dataclass

from trialtui.analysis.settings import AnalysisSettings
from trialtui.errors import UsageError

# Names a statistician reads as the control arm (whole words, any case).
CONTROL_NAME = re.compile(
    r"\b(placebo|control|standard[\s_-]+of[\s_-]+care|soc|vehicle|observation"
    r"|best[\s_-]+supportive[\s_-]+care|bsc)\b",
    re.IGNORECASE,
)

REASON_CHOSEN = "chosen"
REASON_METADATA = "study metadata"
REASON_NAME = "name"
REASON_FIRST = "first imported"
REASON_ONLY = "only arm"


@dataclass(frozen=True)
class ReferenceArm:
    """The reference arm and the rule that chose it.

    Attributes
    ----------
    arm
        The arm every other arm is compared with.
    reason
        ``"chosen"`` (the settings or ``--reference-arm``), ``"study metadata"`` (marked in
        the database, e.g. by ``studies.json``), ``"name"`` (the arm's name says it is the
        control), ``"first imported"`` or ``"only arm"``.
    """

    arm: str
    reason: str

    def __str__(self) -> str:
        return f"{self.arm} ({self.reason})"


def is_control_name(arm: str) -> bool:
    """Whether ``arm`` names a control: placebo, control, standard of care (SOC), vehicle,
    observation or best supportive care (BSC), as whole words in any case.

    Examples
    --------
    >>> is_control_name("Placebo + gemcitabine"), is_control_name("Uncontrolled")
    (True, False)
    """
    return CONTROL_NAME.search(arm) is not None


def choose_reference_arm(
    arms: list[str], settings: AnalysisSettings, flagged: str | None = None
) -> ReferenceArm:
    """The reference arm, chosen as a statistician would.

    In order: the arm named in ``settings``; the arm ``flagged`` in the database; the first
    arm whose name says it is the control (:func:`is_control_name`); the first of ``arms``.

    Parameters
    ----------
    arms
        The study's arms in the order they were first imported.
    settings
        ``settings.reference_arm`` is an explicit choice.
    flagged
        The arm marked as reference in the database (study metadata), if any.

    Raises
    ------
    UsageError
        ``settings.reference_arm`` is not one of ``arms``, or there are no arms.

    Examples
    --------
    >>> str(choose_reference_arm(["Drug", "Placebo"], AnalysisSettings()))
    'Placebo (name)'
    >>> str(choose_reference_arm(["B", "A"], AnalysisSettings()))
    'B (first imported)'
    """
    if not arms:
        raise UsageError("the study has no arms")
    if settings.reference_arm is not None:
        if settings.reference_arm not in arms:
            raise UsageError(
                f"unknown reference arm '{settings.reference_arm}' (arms: {', '.join(arms)})"
            )
        return ReferenceArm(settings.reference_arm, REASON_CHOSEN)
    if len(arms) == 1:
        return ReferenceArm(arms[0], REASON_ONLY)
    if flagged is not None and flagged in arms:
        return ReferenceArm(flagged, REASON_METADATA)
    named = [arm for arm in arms if is_control_name(arm)]
    if named:
        return ReferenceArm(named[0], REASON_NAME)
    return ReferenceArm(arms[0], REASON_FIRST)
