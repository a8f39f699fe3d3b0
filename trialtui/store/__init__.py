"""DuckDB storage: schema, connections, import and read-side queries. No UI imports here."""

from trialtui.store.connection import connect
from trialtui.store.importer import import_files, validate_files

__all__ = ["connect", "import_files", "validate_files"]
