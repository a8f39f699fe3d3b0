"""Messages posted by workers to the app."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import polars as pl
from textual.message import Message

if TYPE_CHECKING:
    from trialtui.study import StudyData, StudyResults


@dataclass
class ComputeProgress(Message, bubble=False):
    """Progress of the analysis worker (fraction in 0..1)."""

    text: str
    fraction: float

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ComputeProgress)


@dataclass
class CatalogReady(Message, bubble=False):
    """The open study's catalog facts, read before its measurements and statistics.

    One catalog query each: the screens show them at once, never waiting for the analysis.
    """

    study_id: str
    study: dict
    arms: pl.DataFrame  # catalog.arms
    timepoints: pl.DataFrame  # catalog.timepoints
    studies: list[str]
    # set once the facts are on screen (or will not be drawn): the worker waits for it
    drawn: threading.Event = field(default_factory=threading.Event, compare=False, repr=False)


@dataclass
class ResultsReady(Message, bubble=False):
    """A study was loaded and analysed."""

    data: StudyData
    results: StudyResults
    studies: list[str]
    notes: list[str] = field(default_factory=list)  # settings reset, database changed
    store_error: str | None = None  # why the results could not be stored
    stored: bool = False  # the results were to be stored (Apply)


@dataclass
class ComputeFailed(Message, bubble=False):
    """Loading or analysing failed; ``error`` is a one-line message."""

    error: str
