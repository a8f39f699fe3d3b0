"""Names shared by the command line and the app, kept import-light for fast start-up."""

from __future__ import annotations

FORMATS: tuple[str, ...] = ("table", "csv", "json")
LEVELS: tuple[str, ...] = (
    "patient",
    "arm",
    "comparison",
    "correlation",
    "response",
    "friedman",
)
TIMEPOINT_ALL = "all"  # --timepoint all: the baseline paired with every later timepoint
LLOQ_POLICIES: tuple[str, ...] = ("half", "lloq", "exclude")
FDR_METHODS: tuple[str, ...] = ("bh", "holm")
