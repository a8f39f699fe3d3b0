"""Ctrl-C and SIGKILL at random moments of a large import, a long query and an export.

Ctrl-C gives one line and exit 130 ("interrupted; nothing was written" or "interrupted after
commit; the import is complete"), never "internal error". Whatever the moment, the database
holds either all of the import or none of it, and an export folder holds only complete,
matching CSV/provenance pairs.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import polars as pl
import pytest

ROWS = 120_000
SEED = 20261125
NOTHING = "trialtui: interrupted; nothing was written"
COMPLETE = "trialtui: interrupted after commit; the import is complete"


def _default_sigint() -> None:
    # A child started from a shell's background job inherits SIGINT ignored; restore the
    # default so that Python turns Ctrl-C into KeyboardInterrupt as in a terminal.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(cwd: Path, env: dict[str, str], *args: str | Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "trialtui", *map(str, args)],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_default_sigint,
    )


def signal_after(process: subprocess.Popen, delay: float, signum: int) -> tuple[int, str]:
    time.sleep(delay)
    if process.poll() is None:
        process.send_signal(signum)
    _, err = process.communicate(timeout=120)
    return process.returncode, err


def counts(db: Path) -> tuple[int, int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        row = con.execute(
            "SELECT (SELECT count(*) FROM measurements), (SELECT count(*) FROM imports)"
        ).fetchall()[0]
        return int(row[0]), int(row[1])
    finally:
        con.close()


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A long-format file of ROWS measurements (study BIG, 10 biomarkers, 2 timepoints)."""
    path = tmp_path_factory.mktemp("big") / "big.csv"
    i = pl.int_range(ROWS, eager=True)
    pl.DataFrame(
        {
            "study_id": "BIG",
            "patient_id": "P" + (i // 20).cast(pl.String),
            "arm": pl.Series(["A", "B"])[((i // 20) % 2).to_list()],
            "timepoint": pl.Series(["pre", "post"])[(i % 2).to_list()],
            "visit_day": (i % 2) * 28,
            "biomarker": "M" + ((i % 20) // 2).cast(pl.String),
            "value": (i % 97).cast(pl.Float64) + 0.5,
        }
    ).write_csv(path)
    return path


def moments(count: int, longest: float) -> list[float]:
    rng = random.Random(SEED + count)
    return sorted(rng.uniform(0.2, longest) for _ in range(count))


def full_run_seconds(tmp_path: Path, cli_env, good_db: Path, big_csv: Path) -> float:
    db = tmp_path / "timing.duckdb"
    shutil.copy(good_db, db)
    started = time.monotonic()
    process = start(tmp_path, cli_env, "import", big_csv, "--db", db)
    _, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    assert counts(db) == (8 + ROWS, 2)
    return time.monotonic() - started


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGKILL], ids=["sigint", "sigkill"])
def test_an_import_is_all_or_nothing_whenever_it_is_stopped(
    tmp_path: Path, cli_env, good_db: Path, big_csv: Path, signum: int
) -> None:
    longest = full_run_seconds(tmp_path, cli_env, good_db, big_csv) * 1.1
    outcomes = []
    for n, delay in enumerate(moments(5, longest)):
        db = tmp_path / f"run{n}.duckdb"
        shutil.copy(good_db, db)
        code, err = signal_after(
            start(tmp_path, cli_env, "import", big_csv, "--db", db), delay, signum
        )
        assert "Traceback" not in err and "internal error" not in err, err
        after = counts(db)
        assert after in ((8, 1), (8 + ROWS, 2)), (delay, code, err, after)
        if signum == signal.SIGINT and code == 130:
            assert err.strip() in (NOTHING, COMPLETE), err
            assert (err.strip() == COMPLETE) == (after == (8 + ROWS, 2)), (err, after)
        elif code == 0:
            assert after == (8 + ROWS, 2)
        else:
            assert code in (-signal.SIGKILL, -signal.SIGINT), (code, err)
        outcomes.append(after[1])
    assert 1 in outcomes  # at least one stop landed before the commit


def test_ctrl_c_during_a_long_query_is_one_line(sample_db: Path, tmp_path: Path, cli_env):
    query = tmp_path / "long.sql"
    query.write_text("SELECT count(*) FROM range(1000000000000::BIGINT) t(i) WHERE i % 7 = 3\n")
    process = start(tmp_path, cli_env, "query", query, "--db", sample_db, "--timeout", "0")
    code, err = signal_after(process, 3.0, signal.SIGINT)
    assert code == 130, err
    assert err.strip() == NOTHING


def _check_pairs(folder: Path) -> int:
    """Every visible CSV has its provenance, and the provenance names that CSV's content."""
    pairs = 0
    for csv_path in folder.glob("*.csv"):
        record = json.loads(Path(f"{csv_path}.provenance.json").read_text(encoding="utf-8"))
        data = csv_path.read_bytes()
        assert record["file"]["sha256"] == hashlib.sha256(data).hexdigest(), csv_path
        pairs += 1
    return pairs


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGKILL], ids=["sigint", "sigkill"])
def test_an_export_leaves_only_matching_pairs(
    sample_db: Path, tmp_path: Path, cli_env, signum: int
) -> None:
    db = tmp_path / "trial.duckdb"
    shutil.copy(sample_db, db)
    args = ("export", "--db", db, "--study", "PDAC-DEF-1", "--force")
    for n, delay in enumerate(moments(4, 6.0)):
        out = tmp_path / f"out{n}"
        out.mkdir()
        first = start(tmp_path, cli_env, *args, "-o", out)
        assert first.wait(timeout=300) == 0
        code, err = signal_after(start(tmp_path, cli_env, *args, "-o", out), delay, signum)
        assert "Traceback" not in err and "internal error" not in err, err
        if code == 130:
            assert len(err.strip().splitlines()) == 1 and "interrupted" in err, err
        _check_pairs(out)
