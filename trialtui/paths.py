"""Where trialtui keeps its files by default."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP = "trialtui"


def default_db_path() -> Path:
    """The default database: ``$TRIALTUI_DB``, else ``trialtui.duckdb`` in the user data dir."""
    override = os.environ.get("TRIALTUI_DB")
    if override:
        return Path(override)
    return Path(platformdirs.user_data_dir(APP)) / "trialtui.duckdb"


def user_queries_dir() -> Path:
    """Extra SQL query files of the user (``queries/`` in the user config dir)."""
    return Path(platformdirs.user_config_dir(APP)) / "queries"


def history_path() -> Path:
    """Persisted SQL console history."""
    return Path(platformdirs.user_data_dir(APP)) / "query_history.jsonl"
