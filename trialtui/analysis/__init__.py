"""Pure analysis functions: Polars frames in, Polars frames out. No I/O, no UI, no DuckDB.

Typical use::

    pairing = pair_samples(measurements, settings)
    arms = summarise_arms(pairing, settings)
    comparison = compare_arms(pairing, settings, reference_arm)
"""

from trialtui.analysis.compare import compare_arms
from trialtui.analysis.correlation import correlate_changes
from trialtui.analysis.multiplicity import p_adjust
from trialtui.analysis.paired import summarise_arms
from trialtui.analysis.pairing import PATIENT_COLUMNS, Pairing, pair_samples
from trialtui.analysis.ranktests import rank_sum, signed_rank
from trialtui.analysis.reference import ReferenceArm, choose_reference_arm
from trialtui.analysis.response import compare_response
from trialtui.analysis.settings import AnalysisSettings

__all__ = [
    "PATIENT_COLUMNS",
    "AnalysisSettings",
    "Pairing",
    "ReferenceArm",
    "choose_reference_arm",
    "compare_arms",
    "compare_response",
    "correlate_changes",
    "p_adjust",
    "pair_samples",
    "rank_sum",
    "signed_rank",
    "summarise_arms",
]
