"""Build a database holding the bundled synthetic sample trial."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from trialtui.errors import UsageError
from trialtui.resources import sample_data_dir
from trialtui.store.connection import connect
from trialtui.store.importer import apply_study_metadata, import_files

SAMPLE_FILES = ("pdac_defactinib_long.csv", "pdac_gemcitabine_wide.csv")


def sample_files() -> list[Path]:
    """The bundled sample input files, in import order."""
    folder = sample_data_dir()
    return [folder / name for name in SAMPLE_FILES]


def build_sample_database(path: str | Path, *, force: bool = False) -> Path:
    """Write the sample trial to a new database at ``path``.

    The database is built in a temporary file beside ``path`` and renamed into place, so a
    failure never leaves a half-built file. An existing file is replaced only with ``force``.
    """
    path = Path(path)
    if path.exists() and not force:
        raise UsageError(f"{path}: already exists (use --force to replace it)")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".trialtui-sample-", suffix=".duckdb", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # DuckDB must create the file itself
    try:
        con = connect(tmp, read_only=False)
        try:
            import_files(con, sample_files())
            apply_study_metadata(con, sample_data_dir() / "studies.json")
            con.execute("CHECKPOINT")
        finally:
            con.close()
        os.replace(tmp, path)
    finally:
        for leftover in (tmp, Path(f"{tmp}.wal")):
            leftover.unlink(missing_ok=True)
    return path
