"""The bad-input corpus (``tests/corpus/``): each file is refused with its expected one-line
error and the database is left unchanged; ``validate`` names every file at once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trialtui.errors import InputError
from trialtui.store.connection import connect
from trialtui.store.importer import import_files

CORPUS = Path(__file__).parent / "corpus"
EXPECTED: dict[str, dict] = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))


def test_every_corpus_file_has_an_expected_error() -> None:
    files = {p.name for p in CORPUS.iterdir() if p.name not in ("expected.json", "README.md")}
    assert files == set(EXPECTED)
    assert len(files) >= 45


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_file_is_refused_with_one_line(name: str, good_db: Path, db_snapshot) -> None:
    before = db_snapshot(good_db)
    con = connect(good_db, read_only=False)
    try:
        with pytest.raises(InputError) as caught:
            import_files(con, [CORPUS / name])
    finally:
        con.close()
    message = str(caught.value)
    assert "\n" not in message and "\x00" not in message and len(message) < 2000, message
    assert message.startswith(f"{CORPUS / name}:"), message
    for fragment in EXPECTED[name]["fragments"]:
        assert fragment in message, (fragment, message)
    assert db_snapshot(good_db) == before


def test_validate_names_every_corpus_file(good_db: Path, run_cli) -> None:
    files = [CORPUS / name for name in sorted(EXPECTED)]
    result = run_cli("validate", *files, "--db", good_db, "--limit", "1000")
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    for path in files:
        assert str(path) in result.stdout, path
