"""Locate the bundled sample data and query files.

In a wheel they ship as package data under ``trialtui/_bundled``; in a source checkout they
are the top-level ``sample_data/`` and ``queries/`` folders.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _bundled(name: str) -> Path:
    packaged = _PACKAGE / "_bundled" / name
    if packaged.is_dir():
        return packaged
    return _PACKAGE.parent / name


def sample_data_dir() -> Path:
    """Folder holding the bundled sample trial files."""
    return _bundled("sample_data")


def queries_dir() -> Path:
    """Folder holding the bundled SQL query files."""
    return _bundled("queries")
