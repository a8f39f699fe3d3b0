"""The documentation stands on its own: no reference outside the repository, links that
resolve, and a data model that names every table and column of a new database."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from trialtui.store.connection import connect

REPO = Path(__file__).resolve().parents[1]
DOCS = sorted(
    [REPO / "README.md", REPO / "CONTRIBUTING.md", REPO / "CHANGELOG.md", *REPO.glob("docs/*.md")]
)
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def tracked_text_files() -> list[Path]:
    names = subprocess.run(
        ["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    suffixes = {".py", ".md", ".toml", ".sql", ".R", ".tcss", ".json", ".txt", ".cfg"}
    return [REPO / n for n in names if Path(n).suffix in suffixes]


def test_docs_exist() -> None:
    for name in ("architecture.md", "data-model.md", "statistics.md"):
        assert (REPO / "docs" / name).is_file(), name


def test_nothing_refers_outside_the_repository() -> None:
    outside = re.compile(r"\.\./shared|/work/shared|\.\./\.\./")
    offenders = [
        str(path.relative_to(REPO))
        for path in tracked_text_files()
        if path.is_file()
        and outside.search(path.read_text(encoding="utf-8", errors="replace"))
        and path.name != "test_docs.py"
    ]
    assert offenders == []


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(REPO)))
def test_relative_links_resolve(doc: Path) -> None:
    for target in LINK.findall(doc.read_text(encoding="utf-8")):
        if re.match(r"[a-z]+:", target):  # http(s):, mailto:
            continue
        assert (doc.parent / target).exists(), f"{doc.name}: broken link {target}"


def test_data_model_names_every_table_and_column(tmp_path: Path) -> None:
    text = (REPO / "docs" / "data-model.md").read_text(encoding="utf-8")
    con = connect(tmp_path / "new.duckdb", read_only=False)
    try:
        columns = con.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'main' ORDER BY table_name, ordinal_position"
        ).fetchall()
    finally:
        con.close()
    missing = [
        f"{table}.{column}"
        for table, column in columns
        if f"`{table}`" not in text or f"`{column}`" not in text
    ]
    assert missing == []
