"""DuckDB storage: schema, connections, import and read-side queries. No UI imports here.

The submodules load on first use, so that a command which only reads (or only checks a
file name) does not pay for the importer's validation machinery.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["connect", "import_files", "validate_files"]

_HOMES = {
    "connect": "trialtui.store.connection",
    "import_files": "trialtui.store.importer",
    "validate_files": "trialtui.store.importer",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'trialtui.store' has no attribute {name!r}")
