"""Mutated valid CSVs (bytes, rows, columns) never crash the import: the outcome is success or
a one-line input error, and after an error the database is exactly as it was."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import GOOD_LONG_CSV, snapshot_tables
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trialtui.errors import TrialtuiError
from trialtui.store.connection import connect
from trialtui.store.importer import import_files

# The second file: new patients of study S1 restating the first file's definitions.
SECOND = """\
study_id,patient_id,arm,sample_id,timepoint,visit_day,is_baseline,biomarker,unit,lloq,sex,age,response,value
S1,P3,A,S3a,pre,0,true,CD8,cells/mm2,1,F,64,PR,12
S1,P3,A,S3b,post,30,false,CD8,cells/mm2,1,F,64,PR,<1
S1,P4,B,S4a,pre,0,true,FAP,% area,0.1,M,58,SD,21
S1,P4,B,S4b,post,30,false,FAP,% area,0.1,M,58,SD,19.5
S1,P1,A,P1@pre,pre,0,true,TREG,,,,,PR,4
"""

TOKENS = [
    b",",
    b"\n",
    b"\r",
    b'"',
    b"",
    b" ",
    b"-",
    b"=",
    b"NA",
    b"<",
    b"1e-400",
    b"\x00",
    b"\xff",
    b"true",
    b"P2",
    b"B",
    b"post",
    b"CD8",
    b"9" * 40,
    b"\t",
    b"1e400",
]


def _rows(data: bytes) -> list[bytes]:
    return data.split(b"\n")


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """SECOND with a few random edits of its bytes, rows or columns."""
    data = SECOND.encode()
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["byte", "token", "drop_row", "dup_row", "drop_col", "swap"]))
        rows = _rows(data)
        if kind == "byte" and data:
            at = draw(st.integers(0, len(data) - 1))
            data = data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1 :]
        elif kind == "token":
            at = draw(st.integers(0, len(data)))
            cut = draw(st.integers(0, 6))
            data = data[:at] + draw(st.sampled_from(TOKENS)) + data[at + cut :]
        elif kind == "drop_row" and len(rows) > 1:
            del rows[draw(st.integers(0, len(rows) - 1))]
            data = b"\n".join(rows)
        elif kind == "dup_row" and rows:
            row = rows[draw(st.integers(0, len(rows) - 1))]
            rows.insert(draw(st.integers(0, len(rows))), row)
            data = b"\n".join(rows)
        elif kind in ("drop_col", "swap"):
            cells = [r.split(b",") for r in rows]
            width = max(len(c) for c in cells)
            i, j = draw(st.integers(0, width - 1)), draw(st.integers(0, width - 1))
            for c in cells:
                if kind == "drop_col" and i < len(c):
                    del c[i]
                elif kind == "swap" and max(i, j) < len(c):
                    c[i], c[j] = c[j], c[i]
            data = b"\n".join(b",".join(c) for c in cells)
    return data


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fuzz")
    first = folder / "first.csv"
    first.write_text(GOOD_LONG_CSV, encoding="utf-8")
    db = folder / "template.duckdb"
    con = connect(db, read_only=False)
    try:
        import_files(con, [first])
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return db


@settings(
    max_examples=120,
    deadline=None,
    derandomize=True,  # the same 120 files on every run, so a red run is repeatable
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=mutated())
def test_a_mutated_file_loads_or_is_refused_cleanly(
    data: bytes, template: Path, tmp_path: Path
) -> None:
    db = tmp_path / "fuzz.duckdb"
    shutil.copy(template, db)
    before = snapshot_tables(db)
    source = tmp_path / "mutated.csv"
    source.write_bytes(data)
    con = connect(db, read_only=False)
    try:
        import_files(con, [source])
    except TrialtuiError as exc:  # anything else is a bug and fails the test
        assert exc.exit_code == 1, exc
        message = str(exc)
        assert "\n" not in message and message.startswith(str(source)), message
        refused = True
    else:
        refused = False
    finally:
        con.close()
    if refused:
        assert snapshot_tables(db) == before
    else:
        after = snapshot_tables(db)
        assert len(after["measurements"]) >= len(before["measurements"])
        kept = set(before["measurements"])
        assert kept <= set(after["measurements"])  # nothing loaded earlier is lost or changed
